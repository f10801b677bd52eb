#include "projections/registry.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "projections/internal/rw_lock.h"
#include "projections/rebuild.h"
#include "projections/store_source.h"
#include "projections/view_store.h"

namespace vaxledger::projections {

using eventstore::EventId;
using eventstore::Position;
using eventstore::RecordedEvent;

// The follower applies committed events to the stores in batches; `publish` makes a batch's
// writes to the four stores and the new position appear together: a working set takes its
// snapshots under it (shared), the follower writes under it (exclusive).
struct Registry::Follower {
  std::array<std::unique_ptr<ViewStore>, kViewCount> stores;
  mutable internal::RwLock publish;
  mutable std::mutex mutex;
  std::condition_variable applied_cv;          // position advanced, or a failure
  std::array<Position, kViewCount> applied{};  // guarded by mutex: in the stores
  Status failed;  // guarded by mutex: reading the log or writing a store failed
  std::unique_ptr<eventstore::Subscription> subscription;
  std::thread thread;
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
    : log_(log), options_(std::move(options)), follower_(std::make_unique<Follower>()) {
  if (!options_.clock_us) options_.clock_us = SystemClockUs;
}

Result<std::unique_ptr<Registry>> Registry::Open(eventstore::EventLog& log,
                                                 RegistryOptions options) {
  if (options.views_dir.empty()) return InvalidArgument("views_dir is required", "views_dir");
  if (!options.subjects) return InvalidArgument("subjects (the key store) is required", "subjects");
  std::unique_ptr<Registry> registry(new Registry(log, std::move(options)));
  VX_RETURN_IF_ERROR(registry->Load());
  Follower& f = *registry->follower_;
  f.subscription = log.Subscribe(f.Applied());
  VX_RETURN_IF_ERROR(registry->CatchUpAtOpen());
  VX_RETURN_IF_ERROR(registry->FinishErasures());
  if (registry->options_.follow) f.thread = std::thread([r = registry.get()] { r->Follow(); });
  return registry;
}

Registry::~Registry() {
  Follower& f = *follower_;
  f.stopping = true;
  if (f.subscription) f.subscription->Cancel();
  if (f.thread.joinable()) f.thread.join();
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
    rebuild.subjects = options_.subjects.get();
    VX_ASSIGN_OR_RETURN(auto report, RebuildViews(log_.storage(), dir, rebuild));
    (void)report;
    for (const std::string& name : stale) VX_RETURN_IF_ERROR(ViewStore::RemoveStale(dir, name));
  }
  // Only each store's position is read here: records are read when something needs them.
  Follower& f = *follower_;
  for (size_t v = 0; v < kViewCount; ++v) {
    VX_ASSIGN_OR_RETURN(f.stores[v], ViewStore::Open(dir, std::string(kViewNames[v])));
    f.applied[v] = f.stores[v]->position().value_or(0);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Registry::WorkingSet>> Registry::NewWorkingSet() const {
  Follower& f = *follower_;
  auto ws = std::make_unique<WorkingSet>();
  {
    std::shared_lock lock(f.publish);
    for (size_t v = 0; v < kViewCount; ++v) {
      ws->sources[v] = std::make_unique<StoreSource>(*f.stores[v], f.stores[v]->TakeSnapshot());
    }
    std::lock_guard g(f.mutex);
    if (!f.failed.ok()) {
      return Unavailable("the views stopped following the log: " + f.failed.ToString());
    }
    ws->position = f.Applied();
  }
  ws->state.set_track_dirty(false);
  SetSources(ws->state, ws->sources[0].get(), ws->sources[1].get(), ws->sources[2].get(),
             ws->sources[3].get());
  return ws;
}

Status Registry::ApplyBatch(const std::vector<RecordedEvent>& events) {
  if (events.empty()) return Status::Ok();
  Follower& f = *follower_;
  std::array<Position, kViewCount> from;
  {
    std::lock_guard g(f.mutex);
    from = f.applied;
  }
  // The follower is the only writer: its working set reads the stores' latest state.
  std::array<std::unique_ptr<StoreSource>, kViewCount> sources;
  for (size_t v = 0; v < kViewCount; ++v) {
    sources[v] = std::make_unique<StoreSource>(*f.stores[v], nullptr);
  }
  RegistryState ws;
  SetSources(ws, sources[0].get(), sources[1].get(), sources[2].get(), sources[3].get());
  for (const RecordedEvent& r : events) {
    VX_ASSIGN_OR_RETURN(DomainEvent e, ToDomainEvent(r, *options_.subjects));
    for (size_t v = 0; v < kViewCount; ++v) {
      if (e.position >= from[v]) ApplyTo(ws, v, e);
    }
  }
  VX_RETURN_IF_ERROR(ws.load_status());
  const Position end = events.back().position + 1;
  std::array<std::vector<std::pair<std::string, std::optional<std::string>>>, kViewCount> writes;
  for (size_t v = 0; v < kViewCount; ++v) {
    for (const std::string& key : TakeDirty(ws, v)) {
      writes[v].emplace_back(key, EncodeRecord(ws, v, key));
    }
  }
  VX_RETURN_IF_ERROR(ws.load_status());
  {
    std::unique_lock lock(f.publish);
    for (size_t v = 0; v < kViewCount; ++v) {
      if (end <= from[v]) continue;
      VX_RETURN_IF_ERROR(f.stores[v]->Write(writes[v], end, SchemaVersion(v)));
    }
    std::lock_guard g(f.mutex);
    for (Position& p : f.applied) p = std::max(p, end);
  }
  f.applied_cv.notify_all();
  return Status::Ok();
}

Status Registry::CatchUpAtOpen() {
  const Position head = log_.Size();
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

Result<bool> Registry::Lagging(const WorkingSet& ws) {
  if (ws.position >= log_.Size()) return false;  // nothing after it was committed
  for (const StreamRead& read : ws.state.StreamReads()) {
    VX_ASSIGN_OR_RETURN(std::optional<uint64_t> version, log_.StreamVersion(read.stream));
    if (version != read.version) return true;
  }
  return false;
}

Status Registry::CatchUp(std::unique_ptr<WorkingSet>& ws) {
  const Position head = log_.Size();
  if (head <= ws->position) return Status::Ok();
  if (options_.follow && head - ws->position > options_.max_private_catch_up) {
    VX_RETURN_IF_ERROR(WaitApplied(head, options_.catch_up_timeout));
    VX_ASSIGN_OR_RETURN(ws, NewWorkingSet());
    return Status::Ok();
  }
  while (ws->position < head) {
    VX_ASSIGN_OR_RETURN(
        auto events,
        log_.Read(ws->position, std::min<size_t>(options_.apply_batch, head - ws->position)));
    if (events.empty()) return Unavailable("the log did not return committed events; retry");
    for (const RecordedEvent& r : events) {
      VX_ASSIGN_OR_RETURN(DomainEvent e, ToDomainEvent(r, *options_.subjects));
      ws->state.Apply(e);
    }
    ws->position = events.back().position + 1;
  }
  return ws->state.load_status();
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

uint64_t Registry::records_read() const {
  uint64_t n = 0;
  for (const auto& store : follower_->stores) {
    if (store) n += store->records_read();
  }
  return n;
}

Position Registry::applied() const {
  std::lock_guard g(follower_->mutex);
  return follower_->Applied();
}

std::array<Position, kViewCount> Registry::view_positions() const {
  std::lock_guard g(follower_->mutex);
  return follower_->applied;
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
      VX_ASSIGN_OR_RETURN(DomainEvent first, ToDomainEvent(events[0], *options_.subjects));
      // As for a first execution: answered once the stored events are in the views.
      if (options_.follow) {
        VX_RETURN_IF_ERROR(WaitApplied(*stored + 1, options_.catch_up_timeout));
      }
      // An erasure whose key deletion failed after its append is finished by its retry.
      if (first.type == event_type::kErasureApproved || first.type == event_type::kSubjectErased) {
        const std::string request = first.payload.value("request_id", "");
        VX_ASSIGN_OR_RETURN(std::string subject, Read([&](const RegistryState& s) {
                              const Request* r = s.requests.Find(request);
                              return r != nullptr ? r->person : first.payload.value("subject", "");
                            }));
        VX_RETURN_IF_ERROR(FinishErasures(subject));
      }
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
  VX_ASSIGN_OR_RETURN(auto ws, NewWorkingSet());
  // Decided on at least everything committed before the call: the working set applies what the
  // follower has not applied yet itself (records change through other streams' events too, e.g.
  // a person's entities by member.linked, which no stream version of theirs would show).
  if (ws->position < log_.Size()) VX_RETURN_IF_ERROR(CatchUp(ws));
  int catch_ups = 0;
  Command resolved = command;
  VX_RETURN_IF_ERROR(ResolveSubjects(*options_.subjects, resolved));
  for (int attempt = 0; attempt < options_.max_attempts;) {
    Result<Decision> decision = Decide(ws->state, caller, resolved);
    VX_RETURN_IF_ERROR(ws->state.load_status());
    // Decided on records that lag their streams (refused or not): catch up and decide again.
    VX_ASSIGN_OR_RETURN(bool lagging, Lagging(*ws));
    if (lagging && ++catch_ups <= options_.max_attempts) {
      VX_RETURN_IF_ERROR(CatchUp(ws));
      continue;
    }
    if (!decision.ok()) return decision.status();
    eventstore::AppendBatch batch;
    for (size_t i = 0; i < decision->events.size(); ++i) {
      const EventId id = idempotency_key.empty() ? EventId::Random()
                                                 : IdempotentId(caller.person, idempotency_key, i);
      VX_ASSIGN_OR_RETURN(eventstore::NewEvent event,
                          ToNewEvent(decision->events[i], id, correlation, *options_.subjects));
      batch.events.push_back(std::move(event));
    }
    // Issue 16: the subject is marked before its erasure is appended (see the file comment).
    std::string erased;
    for (const DomainEvent& e : decision->events) {
      if (e.type == event_type::kSubjectErased) erased = e.payload.value("subject", "");
    }
    if (!erased.empty()) {
      VX_RETURN_IF_ERROR(options_.subjects->MarkErasing(erased, decision->id));
      if (options_.erasure_step) options_.erasure_step("marked");
    }
    for (const StreamExpectation& e : decision->expectations) {
      batch.expectations.push_back({e.stream, e.version
                                                  ? eventstore::ExpectedVersion::Exactly(*e.version)
                                                  : eventstore::ExpectedVersion::NoStream()});
    }
    Result<eventstore::AppendResult> appended = log_.Append(batch);
    if (!appended.ok() && !erased.empty()) {
      // Not appended (or not known to be: then the mark stays for Open to settle).
      if (appended.status().code() == Code::kAborted ||
          appended.status().code() == Code::kInvalidArgument) {
        VX_RETURN_IF_ERROR(options_.subjects->ClearErasing(erased));
      }
    }
    if (!appended.ok() && appended.status().code() == Code::kAborted) {
      last = appended.status();
      ++attempt;
      VX_RETURN_IF_ERROR(CatchUp(ws));
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
    if (!erased.empty()) {
      if (options_.erasure_step) options_.erasure_step("appended");
      VX_RETURN_IF_ERROR(options_.subjects->Erase(erased));
    }
    if (options_.follow) {
      VX_RETURN_IF_ERROR(WaitApplied(outcome.positions.back() + 1, options_.catch_up_timeout));
    }
    if (!erased.empty()) {
      ws.reset();  // its snapshots would keep the records' old versions through the compaction
      VX_RETURN_IF_ERROR(PurgeErased(erased));
    }
    return outcome;
  }
  return Aborted("the command conflicted with other changes " +
                 std::to_string(options_.max_attempts) + " times; try again (" + last.message() +
                 ")");
}

}  // namespace vaxledger::projections

namespace vaxledger::projections {

Status Registry::FinishErasures(const std::string& only) {
  VX_ASSIGN_OR_RETURN(auto erasing, options_.subjects->Erasing());
  for (const auto& entry : erasing) {
    const std::string& subject = entry.first;  // (a lambda below reads it: no binding)
    if (!only.empty() && subject != only) continue;
    // The views include the whole log here (Open applied the tail): a subject whose record is
    // marked erased had its `subject.erased` appended.
    VX_ASSIGN_OR_RETURN(bool appended, Read([&](const RegistryState& s) {
                          const Patient* patient = s.vaccinations.FindPatient(subject);
                          const Person* person = s.membership.FindPerson(subject);
                          return (patient != nullptr && patient->erased) ||
                                 (person != nullptr && person->erased);
                        }));
    if (appended) {
      VX_RETURN_IF_ERROR(options_.subjects->Erase(subject));
      VX_RETURN_IF_ERROR(PurgeErased(subject));
    } else {
      VX_RETURN_IF_ERROR(options_.subjects->ClearErasing(subject));
    }
  }
  return Status::Ok();
}

Status Registry::PurgeErased(const std::string& subject) {
  // Patients are one record each; people's names also sit in entities' and requests' records,
  // stores that stay small (people, not events), compacted whole.
  Follower& f = *follower_;
  VX_RETURN_IF_ERROR(f.stores[2]->Compact("v/" + subject));
  VX_RETURN_IF_ERROR(f.stores[0]->Compact(""));
  VX_RETURN_IF_ERROR(f.stores[1]->Compact(""));
  return Status::Ok();
}

}  // namespace vaxledger::projections
