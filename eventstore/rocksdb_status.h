// The one place RocksDB errors become our Status (used by the log's storage and by the views'
// stores in projections/).
//
//   Corruption -> DataLoss; NotFound -> NotFound; Busy, TimedOut, TryAgain, IOError ->
//   Unavailable; NotSupported, InvalidArgument -> FailedPrecondition; anything else -> Internal.
//
// Thread-safety: a pure function.
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "core/status.h"

namespace vaxledger::eventstore {

// OK for an OK `s`; otherwise "what: <RocksDB's message>" with the code above.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

}  // namespace vaxledger::eventstore
