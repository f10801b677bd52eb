#include "core/merkle.h"

#include <bit>
#include <string>

namespace vaxledger::merkle {
namespace {

// The largest power of two smaller than n. Requires n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Root of the subtree over leaves [begin, end). Requires begin < end, and the subtree to be one
// the tree of `end` leaves has (begin aligned to the split structure), as every caller's is.
Result<Hash> SubtreeHash(uint64_t begin, uint64_t end, const NodeReader& read) {
  const uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    return read(static_cast<uint8_t>(std::countr_zero(n)), begin / n);
  }
  const uint64_t k = SplitPoint(n);
  VX_ASSIGN_OR_RETURN(Hash left, SubtreeHash(begin, begin + k, read));
  VX_ASSIGN_OR_RETURN(Hash right, SubtreeHash(begin + k, end, read));
  return HashChildren(left, right);
}

// RFC 6962 PATH(m, D[begin:end]).
Status Path(uint64_t m, uint64_t begin, uint64_t end, const NodeReader& read,
            std::vector<Hash>& out) {
  const uint64_t n = end - begin;
  if (n == 1) return Status::Ok();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    VX_RETURN_IF_ERROR(Path(m, begin, begin + k, read, out));
    VX_ASSIGN_OR_RETURN(Hash sibling, SubtreeHash(begin + k, end, read));
    out.push_back(sibling);
  } else {
    VX_RETURN_IF_ERROR(Path(m - k, begin + k, end, read, out));
    VX_ASSIGN_OR_RETURN(Hash sibling, SubtreeHash(begin, begin + k, read));
    out.push_back(sibling);
  }
  return Status::Ok();
}

// RFC 6962 SUBPROOF(m, D[begin:end], b).
Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool b, const NodeReader& read,
                std::vector<Hash>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!b) {
      VX_ASSIGN_OR_RETURN(Hash h, SubtreeHash(begin, end, read));
      out.push_back(h);
    }
    return Status::Ok();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    VX_RETURN_IF_ERROR(SubProof(m, begin, begin + k, b, read, out));
    VX_ASSIGN_OR_RETURN(Hash sibling, SubtreeHash(begin + k, end, read));
    out.push_back(sibling);
  } else {
    VX_RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, read, out));
    VX_ASSIGN_OR_RETURN(Hash sibling, SubtreeHash(begin, begin + k, read));
    out.push_back(sibling);
  }
  return Status::Ok();
}

Status ProofFails(const std::string& why) { return InvalidArgument("proof: " + why, "proof"); }

}  // namespace

Hash HashLeaf(ByteView leaf) {
  static constexpr uint8_t kPrefix[1] = {0x00};
  return Sha256(ByteView(kPrefix, 1), leaf);
}

Hash HashChildren(const Hash& left, const Hash& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  return Sha256(ByteView(buf, sizeof buf));
}

Hash EmptyRoot() { return Sha256(ByteView()); }

Result<Hash> RootAt(uint64_t size, const NodeReader& read) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(0, size, read);
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read) {
  if (index >= size) {
    return InvalidArgument(
        "index: " + std::to_string(index) + " is not below the tree size " + std::to_string(size),
        "index");
  }
  std::vector<Hash> out;
  VX_RETURN_IF_ERROR(Path(index, 0, size, read, out));
  return out;
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2, const NodeReader& read) {
  if (size1 > size2) {
    return InvalidArgument(
        "from: " + std::to_string(size1) + " is larger than to " + std::to_string(size2), "from");
  }
  std::vector<Hash> out;
  if (size1 == 0 || size1 == size2) return out;
  VX_RETURN_IF_ERROR(SubProof(size1, 0, size2, true, read, out));
  return out;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return ProofFails("index is not below the tree size");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return ProofFails("longer than the tree is deep");
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("shorter than the tree is deep");
  if (r != root) return ProofFails("does not lead to the root");
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         const std::vector<Hash>& proof) {
  if (size1 > size2) return ProofFails("the first tree is larger than the second");
  if (size1 == size2) {
    if (!proof.empty()) return ProofFails("must be empty for trees of equal size");
    if (root1 != root2) return ProofFails("trees of equal size have different roots");
    return Status::Ok();
  }
  if (size1 == 0) {
    if (!proof.empty()) return ProofFails("must be empty from the empty tree");
    return Status::Ok();
  }
  if (proof.empty()) return ProofFails("is empty for a tree that grew");
  std::vector<Hash> path;
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return ProofFails("longer than the trees are deep");
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("shorter than the trees are deep");
  if (fr != root1) return ProofFails("does not lead to the first root");
  if (sr != root2) return ProofFails("does not lead to the second root");
  return Status::Ok();
}

Result<CompactRange> CompactRange::Load(uint64_t size, const NodeReader& read) {
  CompactRange range;
  range.size_ = size;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t n = uint64_t{1} << level;
    if (!(size & n)) continue;
    VX_ASSIGN_OR_RETURN(Hash h, read(static_cast<uint8_t>(level), begin / n));
    range.hashes_.push_back(h);
    begin += n;
  }
  return range;
}

void CompactRange::Append(const Hash& leaf_hash,
                          const std::function<void(uint8_t, uint64_t, const Hash&)>& on_node) {
  Hash carry = leaf_hash;
  uint64_t index = size_;
  uint8_t level = 0;
  if (on_node) on_node(0, index, carry);
  // Each set low bit of size_ is a perfect subtree the new leaf completes a bigger one with.
  while (size_ & (uint64_t{1} << level)) {
    carry = HashChildren(hashes_.back(), carry);
    hashes_.pop_back();
    ++level;
    index >>= 1;
    if (on_node) on_node(level, index, carry);
  }
  hashes_.push_back(carry);
  ++size_;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Hash root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) root = HashChildren(hashes_[i], root);
  return root;
}

}  // namespace vaxledger::merkle
