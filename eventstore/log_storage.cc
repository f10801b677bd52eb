#include "eventstore/log_storage.h"

#include <cstring>

namespace vaxledger::eventstore {

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
