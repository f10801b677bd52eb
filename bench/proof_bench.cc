// bench/proof: latency of inclusion proofs from the stored tree of a 10M-leaf log (RocksDB),
// next to the latency of one RocksDB point read of a tree node measured in the same run.
//
//   build/bench/proof_bench [--leaves N] [--dir DIR] [--proofs K]
//
// The log is built directly through LogStorage::Commit with small leaves and without signing:
// proofs read only tree nodes and leaves, so what a leaf says does not matter here. DIR is kept
// and reused when it already holds N leaves.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "bench/bench_util.h"
#include "core/merkle.h"
#include "eventstore/rocksdb_storage.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;
using namespace vaxledger::bench;

int main(int argc, char** argv) {
  uint64_t leaves = 10'000'000;
  size_t proofs = 20000;
  std::string dir = (std::filesystem::temp_directory_path() / "vaxledger-bench-proof").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--leaves")) leaves = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--proofs")) proofs = std::strtoull(argv[i + 1], nullptr, 10);
  }
  uint64_t have = 0;
  {
    RocksDbStorageOptions o;
    o.read_only = true;
    auto s = OpenRocksDbStorage(dir, o);
    if (s.ok()) have = *(*s)->RecordCount();
  }
  if (have != leaves) {
    std::filesystem::remove_all(dir);
    RocksDbStorageOptions o;
    o.create_if_missing = true;
    o.sync = false;
    auto storage = OpenRocksDbStorage(dir, o);
    if (!storage.ok()) return 1;
    auto t0 = Clock::now();
    merkle::CompactRange range;
    for (uint64_t p = 0; p < leaves;) {
      CommitBatch b;
      for (uint64_t end = std::min(leaves, p + 10000); p < end; ++p) {
        StoredRecord r;
        r.position = p;
        r.leaf = Bytes(reinterpret_cast<const uint8_t*>(&p), sizeof p);
        range.Append(LeafHash(r.leaf), [&](uint8_t level, uint64_t index, const Hash& h) {
          if (level >= kMinStoredTreeLevel) b.tree_nodes.push_back({level, index, h});
        });
        b.records.push_back(std::move(r));
      }
      if (!(*storage)->Commit(b).ok()) return 1;
    }
    std::printf("built a %lu-leaf tree in %.1f s\n", static_cast<unsigned long>(leaves),
                Seconds(Clock::now() - t0));
  }
  RocksDbStorageOptions o;
  o.read_only = true;
  auto storage = OpenRocksDbStorage(dir, o);
  if (!storage.ok()) return 1;
  auto reader = TreeNodeReader(**storage);
  auto root = merkle::RootAt(leaves, reader);
  if (!root.ok()) {
    std::printf("root: %s\n", root.status().ToString().c_str());
    return 1;
  }

  std::mt19937_64 rng(42);
  // Baseline: one point read of a random stored tree node.
  std::vector<double> reads;
  for (size_t i = 0; i < proofs; ++i) {
    uint64_t index = rng() % (leaves / 2);
    auto t0 = Clock::now();
    auto h = (*storage)->ReadTreeNode(kMinStoredTreeLevel, index >> kMinStoredTreeLevel);
    reads.push_back(Seconds(Clock::now() - t0) * 1e3);
    if (!h.ok()) {
      std::printf("read: %s\n", h.status().ToString().c_str());
      return 1;
    }
  }
  std::vector<double> latencies;
  size_t proof_nodes = 0;
  for (size_t i = 0; i < proofs; ++i) {
    uint64_t index = rng() % leaves;
    auto t0 = Clock::now();
    auto proof = merkle::InclusionProof(index, leaves, reader);
    latencies.push_back(Seconds(Clock::now() - t0) * 1e3);
    if (!proof.ok()) {
      std::printf("proof: %s\n", proof.status().ToString().c_str());
      return 1;
    }
    auto leaf = reader(0, index);
    if (!leaf.ok() || !merkle::VerifyInclusion(index, leaves, *leaf, *proof, *root).ok()) {
      std::printf("proof %lu does not verify\n", static_cast<unsigned long>(index));
      return 1;
    }
    proof_nodes += proof->size();
  }
  std::printf("baseline: one tree-node point read: p50 %.4f ms, p99 %.4f ms\n",
              Percentile(reads, 50), Percentile(reads, 99));
  std::printf(
      "inclusion proof in a %lu-leaf tree (%.1f hashes each): p50 %.4f ms, p99 %.4f ms "
      "(%zu proofs, each verified)\n",
      static_cast<unsigned long>(leaves), double(proof_nodes) / proofs, Percentile(latencies, 50),
      Percentile(latencies, 99), proofs);
}
