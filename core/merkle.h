// RFC 6962 / RFC 9162 Merkle tree math with SHA-256: hashing, roots, inclusion and consistency
// proofs (generation and verification), and the compact range that keeps a growing tree's root
// up to date in O(log n) per leaf. No storage and no clock: nodes come from a NodeReader.
//
//   leaf hash = SHA-256(0x00 || leaf)
//   node hash = SHA-256(0x01 || left || right)
//   root of the empty tree = SHA-256("")
//
// A "perfect node" (level, index) is the root of the perfect subtree over leaves
// [index * 2^level, (index + 1) * 2^level); level 0 is a leaf hash.
//
// Thread-safety: pure functions; CompactRange is a value.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger::merkle {

Hash HashLeaf(ByteView leaf);
Hash HashChildren(const Hash& left, const Hash& right);
Hash EmptyRoot();

// Returns the perfect node (level, index). Only called for nodes inside the tree asked about.
using NodeReader = std::function<Result<Hash>(uint8_t level, uint64_t index)>;

// The root of the tree of the first `size` leaves. O(log size) reads.
Result<Hash> RootAt(uint64_t size, const NodeReader& read);

// RFC 6962 audit path for leaf `index` in the tree of `size` leaves, leaf side first.
// InvalidArgument unless index < size. O(log size) reads.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read);

// RFC 6962 consistency proof between sizes `size1` and `size2`. InvalidArgument unless
// size1 <= size2. Empty when size1 == 0 or size1 == size2. O(log size2) reads.
Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2, const NodeReader& read);

// RFC 9162 §2.1.3.2. OK, or InvalidArgument saying why the proof does not verify.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root);

// RFC 9162 §2.1.4.2, with size1 == size2 (empty proof, equal roots) and size1 == 0 (empty
// proof) accepted. OK, or InvalidArgument saying why.
Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         const std::vector<Hash>& proof);

// The right edge of a tree: the roots of the perfect subtrees that make up `size` leaves, from
// the biggest to the smallest (one per set bit of size).
class CompactRange {
 public:
  CompactRange() = default;
  // Reads the edge of an existing tree of `size` leaves: popcount(size) reads.
  static Result<CompactRange> Load(uint64_t size, const NodeReader& read);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& hashes() const { return hashes_; }

  // Appends a leaf hash. `on_node(level, index, hash)` is called for every perfect node the leaf
  // completes, level 0 (the leaf itself) first; it may be empty.
  void Append(const Hash& leaf_hash,
              const std::function<void(uint8_t, uint64_t, const Hash&)>& on_node = {});

  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace vaxledger::merkle
