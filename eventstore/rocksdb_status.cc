#include "eventstore/rocksdb_status.h"

#include <string>

namespace vaxledger::eventstore {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return DataLoss(msg);
  if (s.IsNotFound()) return NotFound(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIOError()) return Unavailable(msg);
  if (s.IsNotSupported() || s.IsInvalidArgument()) return FailedPrecondition(msg);
  return Internal(msg);
}

}  // namespace vaxledger::eventstore
