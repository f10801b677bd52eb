// EventLog: the signed, append-only event log (SPEC §3).
//
// Appends go through one writer thread, which assigns positions 0, 1, 2, ... without gaps in
// commit order, chains each leaf to the one before it, signs it, and commits many callers'
// batches in one storage write (group commit). Append returns only when its batch is durable.
//
// Reads see only committed (durable) events. A Subscription catches up from a position and then
// follows the log live; it reads from storage, so a slow subscriber never holds up the writer and
// never misses or reorders an event.
//
// When the storage refuses a commit before writing any of it (ResourceExhausted from
// LogStorage::Commit: the disk is nearly full), the batches of that commit, and of those decided
// after it, fail with Unavailable and the log carries on from its committed head: appends work
// again as soon as the storage accepts commits (free space is back), with no restart.
// After a storage commit that failed in any other way the log refuses every further append with
// Unavailable (the outcome of the failed batch is unknown until the storage is reopened; a retry
// with the same event ids is safe). Reads keep working in both cases. WriteStatus says which.
//
// With a checkpoint file (EventLogOptions::checkpoint_file) every commit also writes its
// checkpoint there before it is acknowledged, and Open refuses a log that is shorter than that
// checkpoint or holds other leaves below it.
//
// Thread-safety: every method is thread-safe. Subscriptions must be destroyed before the log.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"
#include "eventstore/event.h"
#include "eventstore/log_storage.h"

namespace vaxledger::eventstore {

struct EventLogOptions {
  // Largest encoded event (leaf). Default 1 MiB.
  size_t max_leaf_bytes = 1 << 20;
  // Most events in one AppendBatch. Default 1000.
  size_t max_batch_events = 1000;
  // Most events the writer puts in one storage commit (each commit also signs a checkpoint).
  // Default 4096.
  size_t max_group_events = 4096;
  // Most events waiting for the writer; an Append beyond it gets ResourceExhausted. Default 100000.
  size_t max_queued_events = 100000;
  // Threads that sign a commit group, counting the writer; 0 = one per core. Default 0.
  size_t signing_threads = 0;
  // The clock, in UTC microseconds since the epoch. Default: the system clock. Recorded times are
  // made non-decreasing in position order whatever the clock does.
  std::function<int64_t()> clock_us;
  // A file outside the storage that holds the latest acknowledged checkpoint
  // (eventstore/checkpoint_file.h); created when missing. Default: empty, no file (tests, tools
  // that only read). OpenDataDir sets DIR/checkpoint.
  std::string checkpoint_file;
};

// The committed end of the log.
struct LogHead {
  Position size = 0;      // number of events; the next position
  Hash last_leaf_hash{};  // leaf hash at size-1; zero when empty
  int64_t last_recorded_at_us = 0;
  Hash root{};             // Merkle tree root of the first `size` leaves
  std::string checkpoint;  // the signed checkpoint of (size, root); empty when size == 0
  NoteVerifierKey key;     // the key in force: it signs the next event and signed `checkpoint`
};

// Counters of the writer, for monitoring. Commit batch sizes are counted in buckets of at most
// 1, 2, 4, ..., 2048 events, and a last bucket for anything larger.
struct LogStats {
  static constexpr size_t kBatchBuckets = 13;
  uint64_t commits = 0;  // storage commits that succeeded
  uint64_t events = 0;   // events they held
  uint64_t failed_commits = 0;
  uint64_t batch_size_buckets[kBatchBuckets] = {};  // commits by events per commit (not cumulative)
};

class Subscription;

class EventLog {
 public:
  // Takes ownership of `storage`; reads its head, the edge of its Merkle tree and its last
  // checkpoint. Refuses (DataLoss) a log whose checkpoint is missing, not signed by `signer`, or
  // not the root of the stored tree at the log's size: the registry never signs a checkpoint
  // inconsistent with one it signed before. Refuses (FailedPrecondition) a `signer` that is not
  // the key in force (the first key, or the one the last rotation named). With a checkpoint
  // file, refuses (DataLoss, naming the missing positions) a log that holds fewer events than the
  // file's checkpoint, or whose tree at that size has another root. Storage errors are returned
  // as they are.
  static Result<std::unique_ptr<EventLog>> Open(std::unique_ptr<LogStorage> storage,
                                                NoteSigner signer, EventLogOptions options = {});
  // Finishes every queued append, then stops the writer.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `batch` atomically. Returns when it is durable, or with:
  //   InvalidArgument  empty or oversized batch, an invalid event (the field is named), an event id
  //                    twice in the batch, two expectations for one stream, or a batch of which
  //                    some event ids are stored and some are not;
  //   Aborted          an expected version does not match (the message gives the actual one);
  //   ResourceExhausted too many appends queued;
  //   Unavailable      the log is shutting down or stopped after a failed commit.
  // If every event id is already stored, returns their original positions with already_stored
  // and writes nothing, whatever the expectations say.
  Result<AppendResult> Append(const AppendBatch& batch);

  LogHead Head() const;
  // Head().size without copying the rest of the head (cheap; for hot paths).
  Position Size() const;
  LogStats Stats() const;

  // Ok when appends are accepted now; otherwise why not: Unavailable after a failed commit (until
  // the storage is reopened), or the storage's own refusal (LogStorage::Writable: disk nearly
  // full, read-only). Cheap (one statvfs); for readiness checks.
  Status WriteStatus() const;

  // Appends a key rotation event naming `next` (signed by the current key) and signs everything
  // after it with `next`. InvalidArgument when `next` has another name (the origin) or is the
  // current key; otherwise as Append. Returns the rotation event's position.
  Result<Position> RotateKey(NoteSigner next);

  // Up to `max` committed events from `from` upwards, or from min(from, size-1) downwards.
  Result<std::vector<RecordedEvent>> Read(Position from, size_t max, bool forward = true);

  // Up to `max` committed events of `stream` from `from_version`, upwards or downwards.
  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream, uint64_t from_version,
                                                size_t max, bool forward = true);

  // The version of the stream's last committed event, or nullopt when it has none.
  Result<std::optional<uint64_t>> StreamVersion(std::string_view stream);

  // The Merkle root of the first `size` leaves. InvalidArgument (field "size") when size is
  // beyond the committed head.
  Result<Hash> RootAt(uint64_t size);
  // RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves (fields "index", "size").
  Result<std::vector<Hash>> InclusionProof(Position index, uint64_t size);
  // RFC 9162 consistency proof from `from` to `to` leaves (fields "from", "to").
  Result<std::vector<Hash>> ConsistencyProof(uint64_t from, uint64_t to);

  // A subscription whose first event is at `from`.
  std::unique_ptr<Subscription> Subscribe(Position from);

  LogStorage& storage();

 private:
  friend class Subscription;
  struct State;
  explicit EventLog(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Subscription {
 public:
  ~Subscription();

  // Waits up to `timeout` for committed events at the cursor and returns up to `max` of them, in
  // position order, advancing the cursor past them. Returns an empty vector on time-out or after
  // Cancel. Storage errors are returned and leave the cursor where it was.
  Result<std::vector<RecordedEvent>> Next(size_t max, std::chrono::milliseconds timeout);

  // Wakes a Next that is waiting and makes later calls return at once. Thread-safe.
  void Cancel();

  // The position of the next event this subscription returns.
  Position cursor() const { return cursor_; }

 private:
  friend class EventLog;
  Subscription(EventLog* log, Position from) : log_(log), cursor_(from) {}
  EventLog* log_;
  Position cursor_;
  bool cancelled_ = false;  // guarded by the log's head mutex
};

}  // namespace vaxledger::eventstore
