#include "core/merkle.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace vaxledger::merkle {
namespace {

nlohmann::json Vectors() {
  std::ifstream in(std::string(VX_VECTORS_DIR) + "/merkle.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

Hash H(const std::string& hex) {
  auto bytes = HexDecode(hex);
  REQUIRE(bytes.ok());
  REQUIRE(bytes->size() == 32);
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::vector<Hash> Hashes(const nlohmann::json& list) {
  std::vector<Hash> out;
  for (const auto& s : list) out.push_back(H(s.get<std::string>()));
  return out;
}

// The naive tree: MTH straight from RFC 6962 over a list of leaf hashes.
Hash NaiveRoot(const std::vector<Hash>& leaves, size_t begin, size_t end) {
  if (end == begin) return EmptyRoot();
  if (end - begin == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return HashChildren(NaiveRoot(leaves, begin, begin + k), NaiveRoot(leaves, begin + k, end));
}

// A NodeReader over a list of leaf hashes that computes each perfect node naively and counts reads.
struct ListReader {
  const std::vector<Hash>* leaves;
  int reads = 0;
  NodeReader reader() {
    return [this](uint8_t level, uint64_t index) -> Result<Hash> {
      ++reads;
      size_t begin = index << level, end = (index + 1) << level;
      if (end > leaves->size()) return Internal("read outside the tree");
      return NaiveRoot(*leaves, begin, end);
    };
  }
};

std::vector<Hash> MakeLeaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) {
    std::string data = "leaf " + std::to_string(i);
    leaves.push_back(HashLeaf(AsBytes(data)));
  }
  return leaves;
}

TEST_CASE("leaf hashes and roots of every size match the RFC 6962 vectors") {
  auto v = Vectors();
  std::vector<Hash> leaves;
  for (size_t i = 0; i < v["leaves_hex"].size(); ++i) {
    auto data = HexDecode(v["leaves_hex"][i].get<std::string>());
    REQUIRE(data.ok());
    leaves.push_back(HashLeaf(*data));
    CHECK(leaves.back() == H(v["leaf_hashes_hex"][i]));
  }
  ListReader list{&leaves};
  CompactRange range;
  CHECK(range.Root() == H(v["roots_by_size_hex"][0]));
  for (size_t size = 0; size < v["roots_by_size_hex"].size(); ++size) {
    auto root = RootAt(size, list.reader());
    REQUIRE(root.ok());
    CHECK(*root == H(v["roots_by_size_hex"][size]));
    if (size > 0) {
      range.Append(leaves[size - 1]);
      CHECK(range.Root() == H(v["roots_by_size_hex"][size]));
    }
  }
}

TEST_CASE("inclusion and consistency vectors: our proofs equal theirs and verify") {
  auto v = Vectors();
  std::vector<Hash> leaves = Hashes(v["leaf_hashes_hex"]);
  ListReader list{&leaves};
  for (const auto& t : v["inclusion"]) {
    uint64_t index = t["index"], size = t["tree_size"];
    INFO("inclusion " << index << " in " << size);
    auto proof = InclusionProof(index, size, list.reader());
    REQUIRE(proof.ok());
    CHECK(*proof == Hashes(t["proof"]));
    CHECK(VerifyInclusion(index, size, H(t["leaf_hash"]), Hashes(t["proof"]), H(t["root"])).ok());
  }
  for (const auto& t : v["consistency"]) {
    uint64_t size1 = t["size1"], size2 = t["size2"];
    INFO("consistency " << size1 << " to " << size2);
    auto proof = ConsistencyProof(size1, size2, list.reader());
    REQUIRE(proof.ok());
    CHECK(*proof == Hashes(t["proof"]));
    CHECK(VerifyConsistency(size1, size2, H(t["root1"]), H(t["root2"]), Hashes(t["proof"])).ok());
  }
}

TEST_CASE("every must_reject vector is rejected") {
  auto v = Vectors();
  REQUIRE(v["must_reject"].size() >= 10);
  for (const auto& t : v["must_reject"]) {
    INFO(t["kind"].get<std::string>() << ": " << t["why"].get<std::string>());
    Status s;
    if (t["kind"] == "inclusion") {
      s = VerifyInclusion(t["index"], t["tree_size"], H(t["leaf_hash"]), Hashes(t["proof"]),
                          H(t["root"]));
    } else {
      s = VerifyConsistency(t["size1"], t["size2"], H(t["root1"]), H(t["root2"]),
                            Hashes(t["proof"]));
    }
    CHECK(s.code() == Code::kInvalidArgument);
  }
}

TEST_CASE("every inclusion and consistency proof up to size 300 matches a naive tree") {
  constexpr size_t kMax = 300;
  std::vector<Hash> leaves = MakeLeaves(kMax);
  ListReader list{&leaves};
  std::vector<Hash> roots(kMax + 1);
  for (size_t n = 0; n <= kMax; ++n) roots[n] = NaiveRoot(leaves, 0, n);

  CompactRange range;
  std::map<std::pair<uint8_t, uint64_t>, Hash> emitted;
  for (size_t n = 1; n <= kMax; ++n) {
    range.Append(leaves[n - 1], [&](uint8_t level, uint64_t index, const Hash& h) {
      emitted[{level, index}] = h;
    });
    REQUIRE(range.Root() == roots[n]);
    for (uint64_t i = 0; i < n; ++i) {
      list.reads = 0;
      auto proof = InclusionProof(i, n, list.reader());
      REQUIRE(proof.ok());
      REQUIRE(list.reads <= 2 * 9);  // O(log n): one perfect node per level, plus one edge
      REQUIRE(VerifyInclusion(i, n, leaves[i], *proof, roots[n]).ok());
      // The same proof fails for a neighbouring leaf.
      if (n > 1) REQUIRE_FALSE(VerifyInclusion(i, n, leaves[(i + 1) % n], *proof, roots[n]).ok());
    }
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = ConsistencyProof(m, n, list.reader());
      REQUIRE(proof.ok());
      REQUIRE(VerifyConsistency(m, n, roots[m], roots[n], *proof).ok());
      if (m > 0 && m < n)
        REQUIRE_FALSE(VerifyConsistency(m, n, roots[m - 1], roots[n], *proof).ok());
    }
  }
  // The nodes the compact range emitted are exactly the perfect nodes of the tree.
  for (const auto& [key, h] : emitted) {
    auto [level, index] = key;
    REQUIRE(h == NaiveRoot(leaves, index << level, (index + 1) << level));
  }
  CHECK(emitted.size() == 2 * kMax - std::popcount(kMax));
  auto loaded = CompactRange::Load(kMax, list.reader());
  REQUIRE(loaded.ok());
  CHECK(loaded->Root() == roots[kMax]);
  CHECK(loaded->hashes() == range.hashes());
}

TEST_CASE("proof requests outside the tree are refused") {
  std::vector<Hash> leaves = MakeLeaves(5);
  ListReader list{&leaves};
  CHECK(InclusionProof(5, 5, list.reader()).status().field() == "index");
  CHECK(ConsistencyProof(6, 5, list.reader()).status().field() == "from");
}

}  // namespace
}  // namespace vaxledger::merkle
