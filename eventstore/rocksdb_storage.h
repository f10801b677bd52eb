// LogStorage on RocksDB. docs/storage.md gives the column families, keys and values.
//
// Durability: with `sync` (the default) Commit returns only after RocksDB has synced its
// write-ahead log, so a committed batch survives kill -9 and power loss; recovery uses
// RocksDB's point-in-time WAL recovery, which drops only a torn, unacknowledged tail.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "eventstore/log_storage.h"

namespace vaxledger::eventstore {

struct RocksDbStorageOptions {
  // Create the database when it does not exist (only `vaxledger init` does this). Default: false,
  // so that a mistyped --data directory is an error instead of a new empty registry.
  bool create_if_missing = false;
  // Sync the WAL before Commit returns. Default: true. Only benchmarks of the non-durable path
  // turn it off.
  bool sync = true;
  // Open without the write lock (for verify and export while a server runs). Commit then fails.
  bool read_only = false;
};

// FailedPrecondition when the directory has no database (and create_if_missing is false);
// DataLoss when the database is of an unknown format version.
Result<std::unique_ptr<LogStorage>> OpenRocksDbStorage(const std::string& path,
                                                       RocksDbStorageOptions options = {});

}  // namespace vaxledger::eventstore
