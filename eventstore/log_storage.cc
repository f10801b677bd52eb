#include "eventstore/log_storage.h"

#include <cstring>

#include "eventstore/leaf.h"

namespace vaxledger::eventstore {

merkle::NodeReader TreeNodeReader(LogStorage& storage) {
  return [&storage](uint8_t level, uint64_t index) -> Result<Hash> {
    if (level >= kMinStoredTreeLevel) return storage.ReadTreeNode(level, index);
    // Below the stored levels: hash the 2^level leaves the node covers, read in one range.
    const uint64_t width = uint64_t{1} << level;
    VX_ASSIGN_OR_RETURN(auto records, storage.ReadRecords(index * width, width, /*forward=*/true));
    if (records.size() != width) {
      return DataLoss("tree: leaf " + std::to_string(index * width + records.size()) +
                      " is missing");
    }
    merkle::CompactRange range;
    for (const auto& r : records) range.Append(LeafHash(r.leaf));
    return range.Root();
  };
}

Result<std::vector<std::pair<Position, NoteVerifierKey>>> ReadKeySchedule(LogStorage& storage) {
  std::vector<std::pair<Position, NoteVerifierKey>> out;
  VX_ASSIGN_OR_RETURN(auto first, storage.ReadFirstKey());
  if (!first) return out;
  auto key = NoteVerifierKey::Parse(*first);
  if (!key.ok()) return DataLoss("first key: " + key.status().message());
  out.emplace_back(0, *key);
  VX_ASSIGN_OR_RETURN(auto positions, storage.ReadStreamPositions(kKeysStream, 0, SIZE_MAX, true));
  for (Position p : positions) {
    VX_ASSIGN_OR_RETURN(auto records, storage.ReadRecords(p, 1, true));
    if (records.size() != 1) return DataLoss("key rotation " + std::to_string(p) + " is missing");
    VX_ASSIGN_OR_RETURN(auto text, ReadKeyRotation(records[0].leaf));
    if (!text) return DataLoss("position " + std::to_string(p) + " is not a key rotation");
    key = NoteVerifierKey::Parse(*text);
    if (!key.ok())
      return DataLoss("key rotation " + std::to_string(p) + ": " + key.status().message());
    out.emplace_back(p + 1, *key);
  }
  return out;
}

Bytes EncodeRecordValue(const StoredRecord& record) {
  Bytes value;
  value.reserve(kRecordHeaderSize + record.leaf.size());
  value.push_back(kRecordFormat);
  value.append(record.key_id.data(), record.key_id.size());
  value.append(record.signature.data(), record.signature.size());
  value.append(record.leaf);
  return value;
}

Status DecodeRecordValue(ByteView value, StoredRecord* record) {
  if (value.size() < kRecordHeaderSize) return DataLoss("record: shorter than its header");
  if (value[0] != kRecordFormat) {
    return DataLoss("record: unknown format byte " + std::to_string(value[0]));
  }
  std::memcpy(record->key_id.data(), value.data() + 1, 4);
  std::memcpy(record->signature.data(), value.data() + 5, 64);
  record->leaf.assign(value.data() + kRecordHeaderSize, value.size() - kRecordHeaderSize);
  return Status::Ok();
}

}  // namespace vaxledger::eventstore
