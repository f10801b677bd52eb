// The persistent store of one view (membership, requests, vaccinations, stock): a RocksDB
// database holding the view's records and the log position the view has applied.
//
// Layout under the views directory (docs/storage.md, "Views"):
//
//   VIEWS/<name>.current       the current generation, as decimal text (replaced by rename)
//   VIEWS/<name>.<generation>/ a RocksDB database:
//       "!position" -> decimal: the next log position to apply (every event below it is in)
//       "!schema"   -> decimal: the schema version of the records
//       <record key> -> the record (JSON), keys as the view names them ("e/<id>", "v/<id>", ...)
//
// A Write puts records, position and schema in one atomic RocksDB write, so a view is never
// half-applied: after a crash it holds exactly the events below its position. Live writes are
// not synced (a crash loses at most a suffix, which the view applies again from the log).
//
// A rebuild fills a new generation (CreateNext) and makes it current (Publish) only when it is
// complete; until then, and if the rebuild is interrupted, the old generation stays current.
// Generations that are not current are removed by RemoveStale (run when views are opened).
//
// Records are read one at a time (Get) or by key prefix (Scan), at the latest state or at a
// Snapshot, through a block cache that all view stores of the process share (SetCacheBytes):
// nothing reads all records unless asked to (ForEachRecord).
//
// Thread-safety: a ViewStore is thread-safe (RocksDB is); Publish and RemoveStale need the
// caller to serialise them with other opens of the same view.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace vaxledger::projections {

class ViewStore {
 public:
  ~ViewStore();
  ViewStore(const ViewStore&) = delete;
  ViewStore& operator=(const ViewStore&) = delete;

  // Opens the current generation of `name`; NotFound when it has never been built (a rebuild
  // creates it). A read-only open works beside a writer.
  static Result<std::unique_ptr<ViewStore>> Open(const std::string& views_dir,
                                                 const std::string& name, bool read_only = false);
  // Creates the next generation, empty and not current, for a rebuild. Its writes skip the WAL;
  // Publish flushes them.
  static Result<std::unique_ptr<ViewStore>> CreateNext(const std::string& views_dir,
                                                       const std::string& name);
  // The current generation, or 0 when the view has none.
  static Result<uint64_t> CurrentGeneration(const std::string& views_dir, const std::string& name);
  // Removes every generation directory of `name` but the current one (and the one in use by a
  // running server, which RocksDB's lock protects: it is skipped).
  static Status RemoveStale(const std::string& views_dir, const std::string& name);

  // Flushes and syncs this generation, then makes it current (atomic rename of the pointer file,
  // directory synced). Only for a store from CreateNext.
  Status Publish();

  const std::string& name() const { return name_; }
  uint64_t generation() const { return generation_; }
  // nullopt when no Write set it (an empty or unfinished store).
  std::optional<uint64_t> position() const { return position_; }
  std::optional<int> schema() const { return schema_; }

  // The size of the block cache that view stores opened from now on share (compressed and
  // uncompressed blocks, index and filter blocks). Process-wide; default 64 MiB.
  static void SetCacheBytes(size_t bytes);

  // A consistent state of the store, for reads that must not see later writes.
  class Snapshot;
  std::shared_ptr<const Snapshot> TakeSnapshot() const;

  // The record at `key` (nullopt when none), at `at` or at the latest state.
  Result<std::optional<std::string>> Get(const std::string& key,
                                         const Snapshot* at = nullptr) const;
  // f(key, value) for the records whose key starts with `prefix` and is >= `start`, in key
  // order, until f returns false.
  Status Scan(const std::string& prefix, const std::string& start,
              const std::function<bool(const std::string&, const std::string&)>& f,
              const Snapshot* at = nullptr) const;
  // Records read so far through Get, Scan and ForEachRecord (for tests: what an open costs).
  uint64_t records_read() const;

  // Writes the memtable to files and rewrites the files that hold keys starting with `prefix`
  // (empty: every key) down to the last level, so that no older version of those records stays
  // in the store's files (erasure, issue 16). Versions a live snapshot still sees are kept by
  // RocksDB until it is released.
  Status Compact(const std::string& prefix);

  // Calls `f` for every record, in key order.
  Status ForEachRecord(const std::function<Status(const std::string&, const std::string&)>& f);

  // Writes `records` (nullopt deletes) and, when `position` is set, the position and schema,
  // atomically.
  Status Write(const std::vector<std::pair<std::string, std::optional<std::string>>>& records,
               std::optional<uint64_t> position, int schema);

 private:
  struct Rep;
  ViewStore(std::unique_ptr<Rep> rep, std::string views_dir, std::string name, uint64_t generation);
  std::unique_ptr<Rep> rep_;
  std::string views_dir_;
  std::string name_;
  uint64_t generation_;
  std::optional<uint64_t> position_;
  std::optional<int> schema_;
};

}  // namespace vaxledger::projections
