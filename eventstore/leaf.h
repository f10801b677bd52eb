// The leaf: the FlatBuffers bytes of one event (schema eventstore/event.fbs, identifier "VXE1").
//
// A leaf is built in two steps so that the expensive part runs in the caller's thread:
// BuildLeaf encodes everything the caller chose, with the log-assigned fields zero;
// StampLeaf, in the log's single writer, overwrites those fields in place (same size).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "core/encoding.h"
#include "eventstore/event.h"

namespace vaxledger::eventstore {

// Validates `event` and encodes it. InvalidArgument names the field and rule; a leaf larger
// than `max_leaf_bytes` is refused with InvalidArgument naming the size and the limit.
Result<Bytes> BuildLeaf(const NewEvent& event, size_t max_leaf_bytes);

// Writes the fields the log assigns. Requires `leaf` to come from BuildLeaf.
void StampLeaf(Bytes& leaf, Position position, uint64_t stream_version, int64_t recorded_at_us,
               const Hash& prev_leaf_hash);

// The log-assigned fields of a leaf, read without copying the rest.
struct LeafHeader {
  Position position = 0;
  uint64_t stream_version = 0;
  int64_t recorded_at_us = 0;
  Hash prev_leaf_hash{};
};

// DataLoss when `leaf` is not a well-formed VXE1 event (FlatBuffers verifier, field sizes).
// `leaf` must be 8-byte aligned (a copy in a Bytes is).
Result<LeafHeader> ReadLeafHeader(ByteView leaf);

// The payload of a key rotation leaf (the new verifier key's text), or nullopt for any other
// leaf. DataLoss as ReadLeafHeader.
Result<std::optional<std::string>> ReadKeyRotation(ByteView leaf);

// Decodes every field. DataLoss as ReadLeafHeader. Fills all of RecordedEvent except key_id and
// signature.
Result<RecordedEvent> DecodeLeaf(Bytes leaf);

}  // namespace vaxledger::eventstore
