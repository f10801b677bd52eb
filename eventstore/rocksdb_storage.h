// LogStorage on RocksDB. docs/storage.md gives the column families, keys and values.
//
// Durability: with `sync` (the default) Commit returns only after RocksDB has synced its
// write-ahead log, so a committed batch survives kill -9 and power loss. Recovery uses RocksDB's
// kTolerateCorruptedTailRecords WAL mode: an incomplete last record (a write torn by a crash,
// never acknowledged) is dropped, and any other damage (a checksum mismatch anywhere) refuses
// the open with DataLoss instead of dropping what follows. A WAL cut at a record boundary is
// invisible to RocksDB: EventLog's checkpoint file catches that (event_log.h). Every read
// verifies RocksDB's block checksums; paranoid checks are on.
//
// The database directory is created with mode 0700.
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
  // Free space (bytes, for an unprivileged user) the file system of the database must keep:
  // below it Commit refuses (ResourceExhausted) before RocksDB writes anything, and the log
  // accepts commits again by itself once space is back. It must cover a memtable flush and a
  // compaction (RocksDB itself stops, and recovers once space is back, when those hit a full
  // disk; a write-ahead-log write that fails on a full disk would stop the log until restart).
  // Default: 256 MiB.
  uint64_t min_free_bytes = uint64_t{256} << 20;
};

// FailedPrecondition when the directory has no database (and create_if_missing is false);
// DataLoss when the database is of an unknown format version or RocksDB finds it damaged (the
// message names the file); ResourceExhausted when a writable open finds less free space than
// min_free_bytes (RocksDB writes at open).
Result<std::unique_ptr<LogStorage>> OpenRocksDbStorage(const std::string& path,
                                                       RocksDbStorageOptions options = {});

}  // namespace vaxledger::eventstore
