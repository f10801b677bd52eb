#include "eventstore/event_log.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "eventstore/checkpoint.h"
#include "eventstore/checkpoint_file.h"
#include "eventstore/internal/worker_pool.h"
#include "eventstore/leaf.h"

namespace vaxledger::eventstore {
namespace {

int64_t SystemClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One caller's batch waiting for the writer. Leaves are built (and validated) by the caller.
struct Pending {
  const AppendBatch* batch = nullptr;
  std::vector<Bytes> leaves;
  std::optional<NoteSigner> rotate_to;  // set for a key rotation: the key that signs after it
  std::promise<Result<AppendResult>> done;
};

// Streams whose last version the writer keeps in memory before it starts over.
constexpr size_t kMaxCachedStreams = 1 << 20;

}  // namespace

// A decided, signed group on its way to storage.
struct CommitJob {
  uint64_t seq = 0;
  uint64_t epoch = 0;  // the writer's epoch when it decided the job (see State::epoch)
  std::optional<NoteSigner> signer_before;  // the key in force before the job
  std::vector<Pending*> group;
  std::vector<Result<AppendResult>> results;  // one per pending
  CommitBatch commit;
  LogHead tip;  // the head once this job is committed
};

struct EventLog::State {
  State(std::unique_ptr<LogStorage> s, NoteSigner k, EventLogOptions o)
      : storage(std::move(s)),
        signer(std::move(k)),
        options(std::move(o)),
        pool(options.signing_threads) {
    if (!options.clock_us) options.clock_us = SystemClockMicros;
  }

  std::unique_ptr<LogStorage> storage;
  NoteSigner signer;  // the key in force; changed only by the writer thread, at a rotation
  EventLogOptions options;
  internal::WorkerPool pool;  // used by the writer thread only

  // Callers -> writer.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Pending*> queue;
  size_t queued_events = 0;
  bool stopping = false;

  // Writer -> committer. The writer decides and signs group n+1 while group n is being synced.
  std::mutex commit_mu;
  std::condition_variable commit_cv;
  std::deque<std::unique_ptr<CommitJob>> commit_queue;
  bool writer_done = false;
  uint64_t committed_seq = 0;  // every job up to this one has been committed (or failed)
  Status failed;               // set by the committer after a failed commit; refuses appends
  // Bumped by the committer when the storage refuses a commit without writing it: every job
  // decided in an older epoch was decided on a tip that will not be, and fails with `refused`;
  // the writer then starts again from the committed head, with `rollback_signer` in force.
  uint64_t epoch = 0;
  Status refused;
  std::optional<NoteSigner> rollback_signer;
  std::unique_ptr<CheckpointFile> checkpoint_file;  // used by the committer only, after Open

  // The committed head and the counters; subscriptions wait on head_cv.
  mutable std::mutex head_mu;
  std::condition_variable head_cv;
  LogHead head;
  LogStats stats;

  // Writer-thread state: the decided tip (ahead of `head` by the jobs in flight), the last
  // version of recently used streams (exact: this writer is the only one), and the event ids of
  // jobs not yet committed, with the job that holds them.
  LogHead tip;
  merkle::CompactRange range;  // the Merkle tree's edge at tip.size
  uint64_t next_seq = 1;
  uint64_t decided_epoch = 0;
  std::unordered_map<std::string, std::optional<uint64_t>> stream_versions;
  std::map<EventId, AppendedEvent> inflight_ids;
  std::deque<std::pair<uint64_t, std::vector<EventId>>> inflight_order;

  std::thread writer;
  std::thread committer;

  void WriterLoop();
  void CommitterLoop();
  std::unique_ptr<CommitJob> Decide(std::vector<Pending*> group);
  // After a refused commit: waits for the jobs in flight, then resets the writer's state to the
  // committed head.
  Status RollBack(uint64_t seq);
  // Checks the log against the checkpoint file at Open (see EventLog::Open).
  Status CheckAgainstCheckpointFile();
  // Decides one pending batch. On success appends its records to `job` and returns its result;
  // on error changes nothing.
  Result<AppendResult> DecideOne(Pending& p, CommitJob& job, std::vector<Hash>& hashes);
  Result<std::optional<uint64_t>> CurrentVersion(const std::string& stream);
  void ForgetCommittedIds();
  Result<std::vector<RecordedEvent>> Load(const std::vector<StoredRecord>& records);
  Result<AppendResult> Enqueue(const AppendBatch& batch, std::optional<NoteSigner> rotate_to);
};

EventLog::EventLog(std::unique_ptr<State> state) : state_(std::move(state)) {
  state_->tip = state_->head;
  state_->writer = std::thread([s = state_.get()] { s->WriterLoop(); });
  state_->committer = std::thread([s = state_.get()] { s->CommitterLoop(); });
}

EventLog::~EventLog() {
  {
    std::lock_guard lock(state_->queue_mu);
    state_->stopping = true;
  }
  state_->queue_cv.notify_all();
  state_->writer.join();  // the writer hands every queued append to the committer, then says so
  state_->committer.join();
}

Result<std::unique_ptr<EventLog>> EventLog::Open(std::unique_ptr<LogStorage> storage,
                                                 NoteSigner signer, EventLogOptions options) {
  auto state = std::make_unique<State>(std::move(storage), std::move(signer), std::move(options));
  VX_ASSIGN_OR_RETURN(Position size, state->storage->RecordCount());
  state->head.size = size;
  if (size > 0) {
    VX_ASSIGN_OR_RETURN(auto last, state->storage->ReadRecords(size - 1, 1, /*forward=*/true));
    if (last.size() != 1)
      return DataLoss("log head record " + std::to_string(size - 1) + " is missing");
    VX_ASSIGN_OR_RETURN(LeafHeader header, ReadLeafHeader(last[0].leaf));
    if (header.position != size - 1) {
      return DataLoss("log head record " + std::to_string(size - 1) + " names position " +
                      std::to_string(header.position));
    }
    state->head.last_leaf_hash = LeafHash(last[0].leaf);
    state->head.last_recorded_at_us = header.recorded_at_us;
  }
  VX_ASSIGN_OR_RETURN(state->range,
                      merkle::CompactRange::Load(size, TreeNodeReader(*state->storage)));
  state->head.root = state->range.Root();
  VX_ASSIGN_OR_RETURN(auto note, state->storage->ReadCheckpoint());
  if (size > 0) {
    if (!note) return DataLoss("the log has " + std::to_string(size) + " events but no checkpoint");
    auto checkpoint = OpenCheckpoint(*note, {state->signer.verifier()});
    if (!checkpoint.ok()) {
      return DataLoss("the stored checkpoint does not open: " + checkpoint.status().message());
    }
    if (checkpoint->origin != state->signer.name() || checkpoint->size != size ||
        checkpoint->root != state->head.root) {
      return DataLoss("the stored checkpoint (size " + std::to_string(checkpoint->size) +
                      ") is not the tree of the stored log (size " + std::to_string(size) +
                      "): refusing to sign anything that could contradict it");
    }
    state->head.checkpoint = std::move(*note);
    // The signer must be the key in force: the one the last rotation named, or the first key.
    VX_ASSIGN_OR_RETURN(auto rotations, state->storage->ReadStreamPositions(kKeysStream, UINT64_MAX,
                                                                            1, /*forward=*/false));
    std::optional<std::string> in_force;
    if (!rotations.empty()) {
      VX_ASSIGN_OR_RETURN(auto recs, state->storage->ReadRecords(rotations[0], 1, true));
      if (recs.size() != 1) return DataLoss("the last key rotation record is missing");
      VX_ASSIGN_OR_RETURN(RecordedEvent rotation, DecodeLeaf(recs[0].leaf));
      in_force = rotation.event.payload;
    } else {
      VX_ASSIGN_OR_RETURN(in_force, state->storage->ReadFirstKey());
    }
    const std::string mine = state->signer.verifier().ToText();
    if (in_force && *in_force != mine) {
      return FailedPrecondition("the registry key " + mine + " is not the key in force, " +
                                *in_force +
                                (rotations.empty() ? "" : " (named by the last rotation)"));
    }
  }
  state->head.key = state->signer.verifier();
  if (!state->options.checkpoint_file.empty()) {
    VX_RETURN_IF_ERROR(state->CheckAgainstCheckpointFile());
  }
  return std::unique_ptr<EventLog>(new EventLog(std::move(state)));
}

Status EventLog::State::CheckAgainstCheckpointFile() {
  const std::string& path = options.checkpoint_file;
  VX_ASSIGN_OR_RETURN(checkpoint_file, CheckpointFile::Open(path, /*create=*/true));
  const Position size = head.size;
  if (!checkpoint_file->latest()) {
    // A new file (a new log, or one from before the file existed): it starts at today's head.
    if (size == 0) return Status::Ok();
    return checkpoint_file->Write(head.checkpoint);
  }
  VX_ASSIGN_OR_RETURN(auto schedule, ReadKeySchedule(*storage));
  std::vector<NoteVerifierKey> keys;
  for (auto& [from, key] : schedule) keys.push_back(std::move(key));
  keys.push_back(signer.verifier());
  auto acknowledged = OpenCheckpoint(*checkpoint_file->latest(), keys);
  if (!acknowledged.ok()) {
    return DataLoss("the checkpoint in " + path +
                    " does not open under the log's keys: " + acknowledged.status().message());
  }
  const uint64_t want = acknowledged->size;
  if (want > size) {
    return DataLoss(
        "the log holds " + std::to_string(size) + " events, but it acknowledged " +
        std::to_string(want) + " (checkpoint file " + path + "): positions " +
        std::to_string(size) + ".." + std::to_string(want - 1) +
        " are missing (a damaged or truncated write-ahead log, or an older copy of the "
        "database); refusing to re-use their positions. Restore the log from a backup that "
        "holds them, or see docs/storage.md, \"Integrity checks at open\"");
  }
  VX_ASSIGN_OR_RETURN(Hash root, merkle::RootAt(want, TreeNodeReader(*storage)));
  if (root != acknowledged->root) {
    return DataLoss("the stored log's first " + std::to_string(want) +
                    " events are not those the log acknowledged (checkpoint file " + path +
                    ": the Merkle roots differ)");
  }
  return Status::Ok();
}

Result<AppendResult> EventLog::Append(const AppendBatch& batch) {
  return state_->Enqueue(batch, std::nullopt);
}

Result<Position> EventLog::RotateKey(NoteSigner next) {
  NoteVerifierKey current = Head().key;
  if (next.name() != current.name) {
    return InvalidArgument("key: the new key must be named " + current.name + " (the origin)",
                           "key");
  }
  if (next.key_id() == current.key_id) {
    return InvalidArgument("key: the new key is the key in force", "key");
  }
  AppendBatch batch;
  NewEvent e;
  e.event_id = EventId::Random();
  e.stream = std::string(kKeysStream);
  e.type = std::string(kKeyRotatedType);
  e.actor = {"registry", "system"};
  e.payload = next.verifier().ToText();
  batch.events.push_back(std::move(e));
  VX_ASSIGN_OR_RETURN(AppendResult r, state_->Enqueue(batch, std::move(next)));
  return r.events[0].position;
}

Result<AppendResult> EventLog::State::Enqueue(const AppendBatch& batch,
                                              std::optional<NoteSigner> rotate_to) {
  const auto& opt = options;
  if (batch.events.empty()) {
    return InvalidArgument("events: a batch needs at least one event", "events");
  }
  if (batch.events.size() > opt.max_batch_events) {
    return InvalidArgument("events: " + std::to_string(batch.events.size()) +
                               " events, over the limit of " + std::to_string(opt.max_batch_events),
                           "events");
  }
  Pending pending;
  pending.batch = &batch;
  pending.rotate_to = std::move(rotate_to);
  pending.leaves.reserve(batch.events.size());
  std::set<EventId> ids;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const std::string where = "events[" + std::to_string(i) + "]";
    auto leaf = BuildLeaf(batch.events[i], opt.max_leaf_bytes);
    if (!leaf.ok()) {
      Status s = leaf.status();
      return Status(s.code(), where + "." + s.message(), where + "." + s.field());
    }
    if (!ids.insert(batch.events[i].event_id).second) {
      return InvalidArgument(where + ".event_id: appears twice in the batch", where + ".event_id");
    }
    if (!pending.rotate_to &&
        (batch.events[i].stream == kKeysStream || batch.events[i].type == kKeyRotatedType)) {
      return InvalidArgument(where + ".stream: " + std::string(kKeysStream) + " and type " +
                                 std::string(kKeyRotatedType) + " are reserved for key rotation",
                             where + ".stream");
    }
    pending.leaves.push_back(std::move(leaf).value());
  }
  std::set<std::string_view> expected_streams;
  for (const auto& e : batch.expectations) {
    VX_RETURN_IF_ERROR(ValidateStreamName(e.stream, "expectations.stream"));
    if (!expected_streams.insert(e.stream).second) {
      return InvalidArgument("expectations: stream " + e.stream + " has two expectations",
                             "expectations");
    }
  }

  auto future = pending.done.get_future();
  {
    std::lock_guard lock(queue_mu);
    if (stopping) return Unavailable("event log: shutting down");
    if (queued_events + batch.events.size() > opt.max_queued_events) {
      return ResourceExhausted(
          "event log: " + std::to_string(queued_events) + " events already queued for commit; " +
          std::to_string(batch.events.size()) + " more would pass the limit of " +
          std::to_string(opt.max_queued_events));
    }
    queued_events += batch.events.size();
    queue.push_back(&pending);
  }
  queue_cv.notify_one();
  return future.get();
}

void EventLog::State::WriterLoop() {
  while (true) {
    {
      // Take the next group only once the committer has taken the previous job: whatever
      // arrives while that job syncs joins the next group, so groups grow with load.
      std::unique_lock lock(commit_mu);
      commit_cv.wait(lock, [&] { return commit_queue.empty(); });
    }
    std::vector<Pending*> group;
    {
      std::unique_lock lock(queue_mu);
      queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) break;  // stopping, and every queued append has been decided
      size_t events = 0;
      while (!queue.empty()) {
        size_t n = queue.front()->batch->events.size();
        if (!group.empty() && events + n > options.max_group_events) break;
        events += n;
        group.push_back(queue.front());
        queue.pop_front();
        if (group.back()->rotate_to) break;  // the next group is signed by the new key
      }
      queued_events -= events;
    }
    std::unique_ptr<CommitJob> job = Decide(std::move(group));
    std::lock_guard lock(commit_mu);
    commit_queue.push_back(std::move(job));
    commit_cv.notify_all();
  }
  std::lock_guard lock(commit_mu);
  writer_done = true;
  commit_cv.notify_all();
}

void EventLog::State::CommitterLoop() {
  while (true) {
    std::unique_ptr<CommitJob> job;
    Status already_failed;
    {
      std::unique_lock lock(commit_mu);
      commit_cv.wait(lock, [&] { return writer_done || !commit_queue.empty(); });
      if (commit_queue.empty()) return;
      job = std::move(commit_queue.front());
      commit_queue.pop_front();
      already_failed = failed;
      // Decided on the tip of a commit the storage refused: fails as that one did.
      if (already_failed.ok() && job->epoch != epoch) already_failed = refused;
      commit_cv.notify_all();  // room for the writer's next job
    }
    Status status = already_failed;
    bool was_refused = false;  // the storage wrote nothing: the log carries on from its head
    bool stops = false;        // the outcome is unknown: the log stops
    if (status.ok() && !job->commit.records.empty()) {
      Status s = storage->Commit(job->commit);
      if (s.code() == Code::kResourceExhausted) {
        status = Unavailable("event log: the commit was refused and nothing written (" +
                             s.message() + "); try again later");
        was_refused = true;
      } else if (!s.ok()) {
        status = Unavailable("event log stopped after a failed commit (" + s.ToString() +
                             "); restart to recover — a retry with the same event ids is safe");
        stops = true;
      } else if (checkpoint_file) {
        // Acknowledged only once the checkpoint is outside the storage too.
        Status w = checkpoint_file->Write(job->commit.checkpoint);
        if (!w.ok()) {
          status = Unavailable(
              "event log stopped: a commit is stored but its checkpoint could "
              "not be written (" +
              w.ToString() + "); restart to recover — a retry with the same event ids is safe");
          stops = true;
        }
      }
    }
    if (status.ok()) {
      {
        std::lock_guard lock(head_mu);
        head = job->tip;
        if (const size_t n = job->commit.records.size(); n > 0) {
          ++stats.commits;
          stats.events += n;
          size_t bucket = 0;
          while (bucket + 1 < LogStats::kBatchBuckets && (size_t{1} << bucket) < n) ++bucket;
          ++stats.batch_size_buckets[bucket];
        }
      }
      head_cv.notify_all();
    } else {
      // Every batch of the job fails with it, also retries answered from an earlier job that
      // failed, since their outcome is as unknown as the original's.
      for (auto& r : job->results) {
        if (r.ok()) r = Result<AppendResult>(status);
      }
      if (!job->commit.records.empty()) {
        std::lock_guard lock(head_mu);
        ++stats.failed_commits;
      }
    }
    {
      std::lock_guard lock(commit_mu);
      if (stops && failed.ok()) failed = status;
      if (was_refused) {
        ++epoch;
        refused = status;
        rollback_signer = job->signer_before;
      }
      committed_seq = job->seq;
      commit_cv.notify_all();
    }
    for (size_t i = 0; i < job->group.size(); ++i) {
      job->group[i]->done.set_value(std::move(job->results[i]));
    }
  }
}

Status EventLog::State::RollBack(uint64_t seq) {
  uint64_t new_epoch;
  std::optional<NoteSigner> restore;
  {
    std::unique_lock lock(commit_mu);
    commit_cv.wait(lock, [&] { return committed_seq + 1 == seq; });
    new_epoch = epoch;
    restore = rollback_signer;
  }
  LogHead committed;
  {
    std::lock_guard lock(head_mu);
    committed = head;
  }
  VX_ASSIGN_OR_RETURN(auto loaded,
                      merkle::CompactRange::Load(committed.size, TreeNodeReader(*storage)));
  range = std::move(loaded);
  tip = committed;
  stream_versions.clear();
  inflight_ids.clear();
  inflight_order.clear();
  if (restore) signer = *restore;
  decided_epoch = new_epoch;
  return Status::Ok();
}

void EventLog::State::ForgetCommittedIds() {
  uint64_t done;
  {
    std::lock_guard lock(commit_mu);
    done = committed_seq;
  }
  while (!inflight_order.empty() && inflight_order.front().first <= done) {
    for (const EventId& id : inflight_order.front().second) inflight_ids.erase(id);
    inflight_order.pop_front();
  }
}

Result<std::optional<uint64_t>> EventLog::State::CurrentVersion(const std::string& stream) {
  auto it = stream_versions.find(stream);
  if (it != stream_versions.end()) return it->second;
  VX_ASSIGN_OR_RETURN(auto v, storage->StreamHeadVersion(stream));
  stream_versions.emplace(stream, v);
  return v;
}

std::unique_ptr<CommitJob> EventLog::State::Decide(std::vector<Pending*> group) {
  auto job = std::make_unique<CommitJob>();
  job->seq = next_seq++;
  job->group = std::move(group);
  job->results.reserve(job->group.size());
  bool roll_back = false;
  {
    std::lock_guard lock(commit_mu);
    if (!failed.ok()) {
      job->results.assign(job->group.size(), Result<AppendResult>(failed));
      job->tip = tip;
      return job;
    }
    roll_back = decided_epoch != epoch;
  }
  if (roll_back) {
    if (Status s = RollBack(job->seq); !s.ok()) {
      job->results.assign(job->group.size(), Result<AppendResult>(s));
      job->tip = tip;
      job->epoch = decided_epoch;  // stale on purpose: the committer fails it, the next one retries
      return job;
    }
  }
  job->epoch = decided_epoch;
  job->signer_before = signer;
  ForgetCommittedIds();
  if (stream_versions.size() > kMaxCachedStreams) {
    // The cache is exact only together with the jobs in flight: empty it when none is.
    std::unique_lock lock(commit_mu);
    commit_cv.wait(lock, [&] { return committed_seq + 1 == job->seq; });
    stream_versions.clear();
  }
  std::vector<Hash> hashes;
  for (Pending* p : job->group) {
    job->results.push_back(DecideOne(*p, *job, hashes));
  }
  if (!job->commit.records.empty()) {
    pool.ParallelFor(job->commit.records.size(), [&](size_t i) {
      job->commit.records[i].signature = signer.key().Sign(EventSignedMessage(hashes[i]));
    });
    if (job->commit.records.front().position == 0) {
      job->commit.first_key = signer.verifier().ToText();
    }
    // A rotation is always last in its group: its event is signed by the old key (above), the
    // checkpoint that covers it and everything after by the new one.
    Pending* last = job->group.back();
    if (last->rotate_to && job->results.back().ok() && !job->results.back()->already_stored) {
      signer = *last->rotate_to;
    }
    tip.key = signer.verifier();
    tip.root = range.Root();
    auto checkpoint = SignCheckpoint({signer.name(), tip.size, tip.root}, signer);
    // The origin is the signer's own name, so signing cannot fail.
    assert(checkpoint.ok());
    tip.checkpoint = std::move(checkpoint).value();
    job->commit.checkpoint = tip.checkpoint;
    job->commit.checkpoint_size = tip.size;
    std::vector<EventId> ids;
    ids.reserve(job->commit.event_ids.size());
    for (const auto& [id, pos] : job->commit.event_ids) ids.push_back(id);
    inflight_order.emplace_back(job->seq, std::move(ids));
  }
  job->tip = tip;
  return job;
}

Result<AppendResult> EventLog::State::DecideOne(Pending& p, CommitJob& job,
                                                std::vector<Hash>& hashes) {
  const auto& events = p.batch->events;
  AppendResult out;
  // 1. Idempotency: a batch whose event ids are all stored is answered from the log.
  std::vector<std::optional<AppendedEvent>> found(events.size());
  size_t found_count = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const EventId& id = events[i].event_id;
    if (auto g = inflight_ids.find(id); g != inflight_ids.end()) {
      found[i] = g->second;
    } else {
      VX_ASSIGN_OR_RETURN(auto pos, storage->FindEventId(id));
      if (pos) {
        VX_ASSIGN_OR_RETURN(auto recs, storage->ReadRecords(*pos, 1, true));
        if (recs.size() != 1) {
          return DataLoss("event id index names missing position " + std::to_string(*pos));
        }
        VX_ASSIGN_OR_RETURN(LeafHeader h, ReadLeafHeader(recs[0].leaf));
        found[i] = AppendedEvent{*pos, h.stream_version};
      }
    }
    if (found[i]) ++found_count;
  }
  if (found_count == events.size()) {
    out.already_stored = true;
    for (auto& f : found) out.events.push_back(*f);
    return out;
  }
  for (size_t i = 0; i < events.size() && found_count > 0; ++i) {
    if (!found[i]) continue;
    const std::string where = "events[" + std::to_string(i) + "].event_id";
    return InvalidArgument(where + ": " + events[i].event_id.ToString() +
                               " is already stored at position " +
                               std::to_string(found[i]->position) +
                               " while other events of the batch are new; a retry must resend "
                               "the whole original batch",
                           where);
  }
  // 2. Expected versions, against storage and the jobs decided before this one.
  for (const auto& e : p.batch->expectations) {
    VX_ASSIGN_OR_RETURN(auto current, CurrentVersion(e.stream));
    if (!e.expected.Matches(current)) {
      return Aborted("stream " + e.stream + ": expected " + e.expected.ToString() + ", actual " +
                     (current ? "version " + std::to_string(*current) : std::string("no stream")));
    }
  }
  // 3. Versions for each event (every lookup before any change, so a failure changes nothing).
  std::vector<uint64_t> event_versions(events.size());
  std::unordered_map<std::string, std::optional<uint64_t>> local;
  for (size_t i = 0; i < events.size(); ++i) {
    auto it = local.find(events[i].stream);
    if (it == local.end()) {
      VX_ASSIGN_OR_RETURN(auto current, CurrentVersion(events[i].stream));
      it = local.emplace(events[i].stream, current).first;
    }
    uint64_t v = it->second ? *it->second + 1 : 0;
    it->second = v;
    event_versions[i] = v;
  }
  // 4. Stamp, hash and add the records.
  for (size_t i = 0; i < events.size(); ++i) {
    Bytes& leaf = p.leaves[i];
    const Position pos = tip.size;
    tip.last_recorded_at_us = std::max(tip.last_recorded_at_us, options.clock_us());
    StampLeaf(leaf, pos, event_versions[i], tip.last_recorded_at_us, tip.last_leaf_hash);
    tip.last_leaf_hash = LeafHash(leaf);
    tip.size = pos + 1;
    range.Append(tip.last_leaf_hash, [&](uint8_t level, uint64_t index, const Hash& h) {
      if (level >= kMinStoredTreeLevel) job.commit.tree_nodes.push_back({level, index, h});
    });
    hashes.push_back(tip.last_leaf_hash);
    job.commit.stream_entries.push_back({events[i].stream, event_versions[i], pos});
    job.commit.event_ids.emplace_back(events[i].event_id, pos);
    AppendedEvent appended{pos, event_versions[i]};
    inflight_ids.emplace(events[i].event_id, appended);
    out.events.push_back(appended);
    StoredRecord rec;
    rec.position = pos;
    rec.key_id = signer.key_id();
    rec.leaf = std::move(leaf);
    job.commit.records.push_back(std::move(rec));
  }
  for (auto& [stream, v] : local) stream_versions[stream] = v;
  return out;
}

LogHead EventLog::Head() const {
  std::lock_guard lock(state_->head_mu);
  return state_->head;
}

Position EventLog::Size() const {
  std::lock_guard lock(state_->head_mu);
  return state_->head.size;
}

LogStats EventLog::Stats() const {
  std::lock_guard lock(state_->head_mu);
  return state_->stats;
}

Status EventLog::WriteStatus() const {
  {
    std::lock_guard lock(state_->commit_mu);
    if (!state_->failed.ok()) return state_->failed;
  }
  return state_->storage->Writable();
}

Result<std::vector<RecordedEvent>> EventLog::State::Load(const std::vector<StoredRecord>& records) {
  std::vector<RecordedEvent> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    auto decoded = DecodeLeaf(r.leaf);
    if (!decoded.ok()) {
      return DataLoss("position " + std::to_string(r.position) + ": " + decoded.status().message());
    }
    decoded->key_id = r.key_id;
    decoded->signature = r.signature;
    out.push_back(std::move(decoded).value());
  }
  return out;
}

Result<std::vector<RecordedEvent>> EventLog::Read(Position from, size_t max, bool forward) {
  const Position size = Size();
  if (size == 0) return std::vector<RecordedEvent>();
  if (forward) {
    if (from >= size) return std::vector<RecordedEvent>();
    max = std::min<uint64_t>(max, size - from);
  } else {
    from = std::min<Position>(from, size - 1);
  }
  VX_ASSIGN_OR_RETURN(auto records, state_->storage->ReadRecords(from, max, forward));
  return state_->Load(records);
}

Result<std::vector<RecordedEvent>> EventLog::ReadStream(std::string_view stream,
                                                        uint64_t from_version, size_t max,
                                                        bool forward) {
  VX_RETURN_IF_ERROR(ValidateStreamName(stream));
  const Position size = Size();
  VX_ASSIGN_OR_RETURN(auto positions,
                      state_->storage->ReadStreamPositions(stream, from_version, max, forward));
  std::vector<StoredRecord> records;
  for (Position p : positions) {
    if (p >= size) continue;  // committed to storage a moment ago, not yet acknowledged
    VX_ASSIGN_OR_RETURN(auto one, state_->storage->ReadRecords(p, 1, true));
    if (one.size() != 1)
      return DataLoss("stream index names missing position " + std::to_string(p));
    records.push_back(std::move(one[0]));
  }
  return state_->Load(records);
}

Result<std::optional<uint64_t>> EventLog::StreamVersion(std::string_view stream) {
  VX_RETURN_IF_ERROR(ValidateStreamName(stream));
  return state_->storage->StreamHeadVersion(stream);
}

namespace {

Status CheckSize(uint64_t size, uint64_t committed, const char* field) {
  if (size > committed) {
    return InvalidArgument(std::string(field) + ": " + std::to_string(size) +
                               " is beyond the log's size " + std::to_string(committed),
                           field);
  }
  return Status::Ok();
}

}  // namespace

Result<Hash> EventLog::RootAt(uint64_t size) {
  VX_RETURN_IF_ERROR(CheckSize(size, Size(), "size"));
  return merkle::RootAt(size, TreeNodeReader(*state_->storage));
}

Result<std::vector<Hash>> EventLog::InclusionProof(Position index, uint64_t size) {
  VX_RETURN_IF_ERROR(CheckSize(size, Size(), "size"));
  return merkle::InclusionProof(index, size, TreeNodeReader(*state_->storage));
}

Result<std::vector<Hash>> EventLog::ConsistencyProof(uint64_t from, uint64_t to) {
  VX_RETURN_IF_ERROR(CheckSize(to, Size(), "to"));
  return merkle::ConsistencyProof(from, to, TreeNodeReader(*state_->storage));
}

std::unique_ptr<Subscription> EventLog::Subscribe(Position from) {
  return std::unique_ptr<Subscription>(new Subscription(this, from));
}

LogStorage& EventLog::storage() { return *state_->storage; }

Subscription::~Subscription() = default;

void Subscription::Cancel() {
  {
    std::lock_guard lock(log_->state_->head_mu);
    cancelled_ = true;
  }
  log_->state_->head_cv.notify_all();
}

Result<std::vector<RecordedEvent>> Subscription::Next(size_t max,
                                                      std::chrono::milliseconds timeout) {
  auto& s = *log_->state_;
  {
    std::unique_lock lock(s.head_mu);
    s.head_cv.wait_for(lock, timeout, [&] { return cancelled_ || s.head.size > cursor_; });
    if (cancelled_ || s.head.size <= cursor_) return std::vector<RecordedEvent>();
  }
  VX_ASSIGN_OR_RETURN(auto events, log_->Read(cursor_, max, /*forward=*/true));
  if (!events.empty()) cursor_ = events.back().position + 1;
  return events;
}

}  // namespace vaxledger::eventstore
