#include "projections/registry.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "projections/rebuild.h"
#include "projections/view_store.h"

namespace vaxledger::projections {

using eventstore::EventId;
using eventstore::Position;
using eventstore::RecordedEvent;

// The follower applies committed events to the views in memory; the persister writes the
// changed records with the position they reflect, in the background. A command waits only for
// the in-memory views; a crash loses at most records the persister had not written, which the
// views apply again from the log at the next Open (the stores' positions say from where).
struct Registry::Follower {
  std::array<std::unique_ptr<ViewStore>, kViewCount> stores;
  mutable std::mutex mutex;
  std::condition_variable applied_cv;          // in-memory position advanced, or a failure
  std::condition_variable persist_cv;          // records to persist, or stopping
  std::array<Position, kViewCount> applied{};  // guarded by mutex: in memory
  std::array<Position, kViewCount> stored{};   // guarded by mutex: in the stores
  bool unpersisted = false;                    // guarded by mutex
  Status failed;  // guarded by mutex: reading the log or writing a store failed
  // Keys changed since the last persist; guarded by the registry's state_mutex (unique).
  std::array<std::set<std::string>, kViewCount> dirty;
  std::unique_ptr<eventstore::Subscription> subscription;
  std::thread thread;
  std::thread persister;
  std::atomic<bool> stopping{false};

  Position Applied() const { return *std::min_element(applied.begin(), applied.end()); }
  void Fail(const Status& s) {
    std::lock_guard g(mutex);
    if (failed.ok()) failed = s;
    applied_cv.notify_all();
  }
};

namespace {

int64_t SystemClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Event ids of an idempotent command: SHA-256 of the caller, the key and the index, cut to 16
// bytes. The same caller retrying with the same key gets the same ids.
EventId IdempotentId(const std::string& person, std::string_view key, size_t index) {
  std::string material =
      "vaxledger/idempotency\n" + person + "\n" + std::string(key) + "\n" + std::to_string(index);
  Hash h = Sha256(ByteView(reinterpret_cast<const uint8_t*>(material.data()), material.size()));
  EventId id;
  std::copy_n(h.begin(), id.bytes.size(), id.bytes.begin());
  return id;
}

// The correlation id of a command sent with an idempotency key: derived from the request's
// fingerprint too, so that a retry of the same request finds it again and another does not.
EventId RequestCorrelation(const std::string& person, std::string_view key,
                           std::string_view fingerprint) {
  return IdempotentId(person, std::string(key) + "\nrequest\n" + std::string(fingerprint), 0);
}

Status KeyReused() {
  return FailedPrecondition(
      "Idempotency-Key was used already, with another request; use a new key for a new request",
      "Idempotency-Key");
}

// The resource an event is about, for the outcome of an idempotent retry.
std::string SubjectOf(const DomainEvent& e) {
  for (const char* key : {"request_id", "vaccination_id", "person", "patient"}) {
    if (e.payload.is_object() && e.payload.contains(key) && e.payload[key].is_string()) {
      return e.payload[key].get<std::string>();
    }
  }
  return e.entity;
}

}  // namespace

Registry::Registry(eventstore::EventLog& log, RegistryOptions options)
    : log_(log),
      options_(std::move(options)),
      pseudonyms_(options_.pseudonym_key),
      follower_(std::make_unique<Follower>()) {
  if (!options_.clock_us) options_.clock_us = SystemClockUs;
}

Result<std::unique_ptr<Registry>> Registry::Open(eventstore::EventLog& log,
                                                 RegistryOptions options) {
  if (options.views_dir.empty()) return InvalidArgument("views_dir is required", "views_dir");
  std::unique_ptr<Registry> registry(new Registry(log, std::move(options)));
  VX_RETURN_IF_ERROR(registry->Load());
  Follower& f = *registry->follower_;
  f.subscription = log.Subscribe(f.Applied());
  VX_RETURN_IF_ERROR(registry->CatchUp());
  VX_RETURN_IF_ERROR(registry->Persist());
  f.thread = std::thread([r = registry.get()] { r->Follow(); });
  f.persister = std::thread([r = registry.get()] { r->PersistInBackground(); });
  return registry;
}

Registry::~Registry() {
  Follower& f = *follower_;
  f.stopping = true;
  if (f.subscription) f.subscription->Cancel();
  if (f.thread.joinable()) f.thread.join();
  {
    std::lock_guard g(f.mutex);
    f.persist_cv.notify_all();
  }
  if (f.persister.joinable()) f.persister.join();
  // What the persister had not written yet; on failure the views apply it again at next Open.
  IgnoreError(Persist());
}

Status Registry::Load() {
  const std::string& dir = options_.views_dir;
  std::vector<std::string> stale;
  for (size_t v = 0; v < kViewCount; ++v) {
    const std::string name(kViewNames[v]);
    VX_RETURN_IF_ERROR(ViewStore::RemoveStale(dir, name));
    VX_ASSIGN_OR_RETURN(uint64_t generation, ViewStore::CurrentGeneration(dir, name));
    if (generation == 0) {
      stale.push_back(name);  // never built
      continue;
    }
    VX_ASSIGN_OR_RETURN(auto store, ViewStore::Open(dir, name));
    // A view that has applied more than the log holds has seen events the log lost: refuse,
    // rather than let new events take their positions.
    if (const Position size = log_.Size(); store->position() && *store->position() > size) {
      return DataLoss("view " + name + " has applied " + std::to_string(*store->position()) +
                      " events but the log holds only " + std::to_string(size) + ": positions " +
                      std::to_string(size) + ".." + std::to_string(*store->position() - 1) +
                      " are missing from the log (a damaged write-ahead log, or an older copy of "
                      "the log beside newer views); restore the log, or rebuild the views "
                      "(`vaxledger projections rebuild`) to accept the loss");
    }
    if (store->schema() != SchemaVersion(v) || !store->position()) stale.push_back(name);
  }
  if (!stale.empty()) {
    RebuildOptions rebuild;
    rebuild.views = stale;
    rebuild.progress = options_.progress;
    VX_ASSIGN_OR_RETURN(auto report, RebuildViews(log_.storage(), dir, rebuild));
    (void)report;
    for (const std::string& name : stale) VX_RETURN_IF_ERROR(ViewStore::RemoveStale(dir, name));
  }
  Follower& f = *follower_;
  for (size_t v = 0; v < kViewCount; ++v) {
    VX_ASSIGN_OR_RETURN(f.stores[v], ViewStore::Open(dir, std::string(kViewNames[v])));
    f.applied[v] = f.stored[v] = f.stores[v]->position().value_or(0);
    VX_RETURN_IF_ERROR(
        f.stores[v]->ForEachRecord([&](const std::string& key, const std::string& value) {
          return LoadRecord(state_, v, key, value);
        }));
    TakeDirty(state_, v);  // loaded records are already stored
  }
  return Status::Ok();
}

Status Registry::ApplyBatch(const std::vector<RecordedEvent>& events) {
  if (events.empty()) return Status::Ok();
  std::vector<DomainEvent> decoded;
  decoded.reserve(events.size());
  for (const RecordedEvent& r : events) {
    VX_ASSIGN_OR_RETURN(DomainEvent e, ToDomainEvent(r));
    decoded.push_back(std::move(e));
  }
  Follower& f = *follower_;
  const Position end = decoded.back().position + 1;
  std::array<Position, kViewCount> from;
  {
    std::lock_guard g(f.mutex);
    from = f.applied;
  }
  {
    std::unique_lock lock(state_mutex_);
    for (const DomainEvent& e : decoded) {
      for (size_t v = 0; v < kViewCount; ++v) {
        if (e.position >= from[v]) ApplyTo(state_, v, e);
      }
    }
    for (size_t v = 0; v < kViewCount; ++v) f.dirty[v].merge(TakeDirty(state_, v));
    // Still under the exclusive lock: whoever holds the state lock sees positions that match
    // the state (Persist writes records and position together; a position behind its records
    // would apply events twice after a restart).
    std::lock_guard g(f.mutex);
    for (Position& p : f.applied) p = std::max(p, end);
    f.unpersisted = true;
  }
  f.applied_cv.notify_all();
  f.persist_cv.notify_all();
  return Status::Ok();
}

Status Registry::Persist() {
  Follower& f = *follower_;
  std::array<std::vector<std::pair<std::string, std::optional<std::string>>>, kViewCount> writes;
  std::array<Position, kViewCount> positions;
  {
    // Shared is enough: only the follower changes views and dirty sets, under the exclusive lock,
    // so the records are encoded at one in-memory position.
    std::shared_lock lock(state_mutex_);
    {
      std::lock_guard g(f.mutex);
      positions = f.applied;
      f.unpersisted = false;
    }
    for (size_t v = 0; v < kViewCount; ++v) {
      for (const std::string& key : std::exchange(f.dirty[v], {})) {
        writes[v].emplace_back(key, EncodeRecord(state_, v, key));
      }
    }
  }
  for (size_t v = 0; v < kViewCount; ++v) {
    {
      std::lock_guard g(f.mutex);
      if (positions[v] == f.stored[v] && writes[v].empty()) continue;
    }
    Status s = f.stores[v]->Write(writes[v], positions[v], SchemaVersion(v));
    if (!s.ok()) {
      f.Fail(s);
      return s;
    }
    std::lock_guard g(f.mutex);
    f.stored[v] = positions[v];
  }
  return Status::Ok();
}

void Registry::PersistInBackground() {
  Follower& f = *follower_;
  while (true) {
    {
      std::unique_lock lock(f.mutex);
      f.persist_cv.wait(lock, [&] { return f.unpersisted || f.stopping.load(); });
      if (f.stopping) return;  // the destructor persists the rest
    }
    if (!Persist().ok()) return;  // Persist recorded the failure
  }
}

Status Registry::CatchUp() {
  const Position head = log_.Size();
  if (applied() >= head) return Status::Ok();
  if (follower_->thread.joinable()) return WaitApplied(head, options_.catch_up_timeout);
  // Before the follower runs (at Open): read and apply here.
  while (follower_->subscription->cursor() < head) {
    VX_ASSIGN_OR_RETURN(auto events, follower_->subscription->Next(options_.apply_batch,
                                                                   std::chrono::milliseconds(0)));
    if (events.empty()) break;
    VX_RETURN_IF_ERROR(ApplyBatch(events));
    if (options_.progress) options_.progress(applied(), head);
  }
  return Status::Ok();
}

void Registry::Follow() {
  Follower& f = *follower_;
  while (!f.stopping.load()) {
    auto events = f.subscription->Next(options_.apply_batch, std::chrono::milliseconds(500));
    if (!events.ok()) {
      f.Fail(events.status());
      return;
    }
    // An empty answer is a time-out or Cancel (then `stopping` is set).
    Status applied = ApplyBatch(*events);
    if (!applied.ok()) {
      f.Fail(applied);
      return;
    }
  }
}

Status Registry::WaitApplied(Position position, std::chrono::milliseconds timeout) {
  Follower& f = *follower_;
  std::unique_lock lock(f.mutex);
  const bool done = f.applied_cv.wait_for(
      lock, timeout, [&] { return f.Applied() >= position || !f.failed.ok(); });
  if (!f.failed.ok()) {
    return Unavailable("the views stopped following the log: " + f.failed.ToString());
  }
  if (!done) return Unavailable("the views did not catch up with the log in time; try again");
  return Status::Ok();
}

Position Registry::applied() const {
  std::lock_guard g(follower_->mutex);
  return follower_->Applied();
}

std::array<Position, kViewCount> Registry::view_positions() const {
  std::lock_guard g(follower_->mutex);
  return follower_->stored;
}

Status Registry::CheckIdempotencyKey(const std::string& person, std::string_view key,
                                     std::string_view fingerprint, size_t commands) {
  if (key.empty()) return Status::Ok();
  for (size_t i = 0; i < commands; ++i) {
    const std::string row_key = std::string(key) + "#" + std::to_string(i);
    const EventId expected = RequestCorrelation(person, row_key, fingerprint);
    VX_ASSIGN_OR_RETURN(auto stored, log_.storage().FindEventId(IdempotentId(person, row_key, 0)));
    if (!stored) continue;
    VX_ASSIGN_OR_RETURN(auto events, log_.Read(*stored, 1));
    if (events.empty()) return Unavailable("the stored command is not committed yet; retry");
    if (events[0].event.correlation_id.bytes != expected.bytes) return KeyReused();
  }
  return Status::Ok();
}

Result<Outcome> Registry::Execute(Caller caller, const Command& command,
                                  std::string_view idempotency_key,
                                  std::string_view request_fingerprint) {
  if (caller.now_us == 0) caller.now_us = options_.clock_us();
  const EventId request_correlation =
      RequestCorrelation(caller.person, idempotency_key, request_fingerprint);
  if (!idempotency_key.empty()) {
    VX_ASSIGN_OR_RETURN(
        auto stored, log_.storage().FindEventId(IdempotentId(caller.person, idempotency_key, 0)));
    if (stored) {
      VX_ASSIGN_OR_RETURN(auto events, log_.Read(*stored, 1));
      if (events.empty()) return Unavailable("the stored command is not committed yet; retry");
      if (events[0].event.correlation_id.bytes != request_correlation.bytes) {
        return KeyReused();
      }
      VX_ASSIGN_OR_RETURN(DomainEvent first, ToDomainEvent(events[0]));
      Outcome outcome;
      outcome.id = SubjectOf(first);
      outcome.already_stored = true;
      outcome.waits_for_approval = first.type.ends_with(".requested");
      outcome.positions.push_back(*stored);
      return outcome;
    }
  }
  const EventId correlation = idempotency_key.empty() ? EventId::Random() : request_correlation;
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    VX_RETURN_IF_ERROR(CatchUp());
    Result<Decision> decision = [&]() -> Result<Decision> {
      std::shared_lock lock(state_mutex_);
      return Decide(state_, pseudonyms_, caller, command);
    }();
    if (!decision.ok()) return decision.status();
    eventstore::AppendBatch batch;
    for (size_t i = 0; i < decision->events.size(); ++i) {
      const EventId id = idempotency_key.empty() ? EventId::Random()
                                                 : IdempotentId(caller.person, idempotency_key, i);
      VX_ASSIGN_OR_RETURN(eventstore::NewEvent event,
                          ToNewEvent(decision->events[i], id, correlation));
      batch.events.push_back(std::move(event));
    }
    for (const StreamExpectation& e : decision->expectations) {
      batch.expectations.push_back({e.stream, e.version
                                                  ? eventstore::ExpectedVersion::Exactly(*e.version)
                                                  : eventstore::ExpectedVersion::NoStream()});
    }
    Result<eventstore::AppendResult> appended = log_.Append(batch);
    if (!appended.ok() && appended.status().code() == Code::kAborted) {
      last = appended.status();
      continue;  // another append changed a stream the decision read: decide again
    }
    if (!appended.ok()) return appended.status();
    if (appended->already_stored && !idempotency_key.empty()) {
      // Another call with the same key got there first (between the check above and this
      // append): it is a retry only if it was the same request.
      VX_ASSIGN_OR_RETURN(auto first, log_.Read(appended->events.front().position, 1));
      if (first.empty() || first[0].event.correlation_id.bytes != request_correlation.bytes) {
        return KeyReused();
      }
    }
    Outcome outcome;
    outcome.id = decision->id;
    outcome.waits_for_approval = decision->waits_for_approval;
    outcome.already_stored = appended->already_stored;
    for (const auto& e : appended->events) outcome.positions.push_back(e.position);
    VX_RETURN_IF_ERROR(WaitApplied(outcome.positions.back() + 1, options_.catch_up_timeout));
    return outcome;
  }
  return Aborted("the command conflicted with other changes " +
                 std::to_string(options_.max_attempts) + " times; try again (" + last.message() +
                 ")");
}

}  // namespace vaxledger::projections
