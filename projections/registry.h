// Registry: the live views of one registry and the commands decided on them.
//
// The views live on disk (projections/view_store.h), one store per view; nothing loads all
// records. At Open a view whose schema version changed is rebuilt from the log, and every view
// applies the events it has not applied yet (the tail since its stored position). A follower
// thread then applies each committed event: per batch of events it builds a working set
// (core/registry_state.h: records read from the stores when an event needs them), applies the
// batch, and writes the changed records with the new position in one write per store, so a store
// is never half-applied.
//
// Reads (Read) and commands (Execute) run on a working set of their own, which reads the stores
// at one consistent position (a RocksDB snapshot of every store, taken together). A command does
// not wait for the views to reach the log's head: its working set applies the events the
// follower has not applied yet itself (at most max_private_catch_up; beyond, it waits for the
// follower), so it decides on everything committed before the call, reading only the records
// its rules need. It then checks each stream record it read (entity, person, patient, stock)
// against that stream's version in the log; when one moved meanwhile, the working set applies
// the new events and the command is decided again; the decision's stream versions go to the log as
// append expectations, so when another append changed them in between the log refuses (Aborted) and
// the command is decided again on the newer state, up to `max_attempts` times. Rules that span
// records read every record they span (core/registry_commands.h). Execute returns once its own
// events are in the views, so any read after it sees what it wrote; Outcome::positions say where
// they were written.
//
// With an idempotency key the events get ids derived from (caller, key): a retried command whose
// events are stored returns their positions with already_stored and decides nothing again. The
// request's fingerprint (e.g. a hash of method, path and body) goes into the events' correlation
// id: the same key with another fingerprint is refused (FailedPrecondition naming
// Idempotency-Key, as the IETF Idempotency-Key draft asks), never silently answered with the
// first request's outcome.
//
// Erasure (issue 16). A command whose decision appends `subject.erased` (an approved erasure
// request, or the operator's EraseSubject) marks the subject "erasing" in the key store before
// the append, deletes its data key after it (Subjects::Erase, which clears the mark), waits for
// the views to apply it (they drop the subject's personal data from every record) and compacts
// the records' old versions out of the view stores' files. A crash anywhere leaves a mark that
// Open finishes: when the log holds the subject's `subject.erased` the key is deleted, otherwise
// the mark is dropped and the key kept. So after any crash either the key or the erasure event
// exists, and once the event does the personal data is not readable.
//
// Thread-safety: every method is thread-safe. The log must outlive the registry.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/registry_commands.h"
#include "core/registry_state.h"
#include "core/status.h"
#include "core/subjects.h"
#include "eventstore/event_log.h"
#include "projections/views.h"

namespace vaxledger::projections {

struct RegistryOptions {
  // Directory of the view stores (created when missing). Required.
  std::string views_dir;
  // The key store: subjects' pseudonyms and data keys (core/subjects.h). Required.
  std::shared_ptr<Subjects> subjects;
  // UTC microseconds; default the system clock. Gives commands their "now".
  std::function<int64_t()> clock_us;
  // How often a command is decided again after a conflicting append. Default 8.
  int max_attempts = 8;
  // Most events the follower applies and writes at once. Default 1024.
  size_t apply_batch = 1024;
  // Most events a command's working set applies itself when a record it read lags its stream;
  // beyond it the command waits for the follower instead. Default 4096.
  size_t max_private_catch_up = 4096;
  // How long a command or read waits for the views to catch up. Default 10 s.
  std::chrono::milliseconds catch_up_timeout{10000};
  // Whether a follower thread applies committed events after Open. Without it the views hold
  // what Open applied, commands catch their working sets up from the log themselves (see the
  // file comment) and Execute does not wait for its events to reach the views: for tests of the
  // decision path and for tools that only read. Default true.
  bool follow = true;
  // Tests only: called at each step of an erasure ("marked", "appended"), e.g. to end the
  // process there and see what a crash leaves (tests/projections/erasure_test.cc).
  std::function<void(std::string_view step)> erasure_step;
  // Progress of a schema rebuild at Open: (events applied, events to apply).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct Outcome {
  std::string id;                   // the request, vaccination, entity or person concerned
  bool waits_for_approval = false;  // HTTP 202
  bool already_stored = false;      // an idempotent retry: nothing was appended
  std::vector<eventstore::Position> positions;
};

class Registry {
 public:
  // DataLoss (naming the view and the missing positions) when a view's store has applied more
  // events than the log holds: the log lost events that were acknowledged and published.
  static Result<std::unique_ptr<Registry>> Open(eventstore::EventLog& log, RegistryOptions options);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Decides and appends `command`. Errors: those of Decide (core/registry_commands.h); Aborted
  // after max_attempts conflicts; Unavailable when the views cannot catch up (time-out or a
  // failed view write); the log's errors.
  Result<Outcome> Execute(Caller caller, const Command& command,
                          std::string_view idempotency_key = {},
                          std::string_view request_fingerprint = {});

  // For a request of many commands sent with one key (a batch: command i uses key "K#i"):
  // FailedPrecondition naming Idempotency-Key when any of the first `commands` was stored for
  // another request (fingerprint), so that nothing of the new request runs. OK when none was
  // stored, or all for this request.
  Status CheckIdempotencyKey(const std::string& person, std::string_view key,
                             std::string_view fingerprint, size_t commands);

  // Runs f(state) on a working set of the views as they are now, after they include every event
  // below `min_position` (a caller's last write: Outcome::positions; every command's events are
  // applied before Execute returns). A record f needs is read from the stores when f asks for
  // it. Unavailable when the views stopped following the log or do not reach min_position in
  // time; DataLoss or Unavailable when a record cannot be read.
  template <typename F>
  auto Read(F&& f, eventstore::Position min_position = 0)
      -> Result<decltype(f(std::declval<const RegistryState&>()))> {
    VX_RETURN_IF_ERROR(WaitApplied(min_position, options_.catch_up_timeout));
    VX_ASSIGN_OR_RETURN(auto ws, NewWorkingSet());
    auto result = f(static_cast<const RegistryState&>(ws->state));
    VX_RETURN_IF_ERROR(ws->state.load_status());
    return result;
  }

  // Waits until the views include every event below `position`.
  Status WaitApplied(eventstore::Position position, std::chrono::milliseconds timeout);
  // The position every view has applied up to (exclusive).
  eventstore::Position applied() const;
  // Each view's position in its store (what survives a crash), in kViewNames order.
  std::array<eventstore::Position, kViewCount> view_positions() const;
  Subjects& subjects() const { return *options_.subjects; }
  std::shared_ptr<Subjects> shared_subjects() const { return options_.subjects; }
  eventstore::EventLog& log() { return log_; }
  // Records read from the view stores since Open began (Gets and scanned records), for tests
  // and monitoring.
  uint64_t records_read() const;

  // A state that reads the stores at one position (see the file comment).
  struct WorkingSet {
    std::array<std::unique_ptr<RecordSource>, kViewCount> sources;
    RegistryState state;
    eventstore::Position position = 0;  // every event below it is in the state
  };
  // A working set at the position the views have applied. Unavailable when the views stopped
  // following the log.
  Result<std::unique_ptr<WorkingSet>> NewWorkingSet() const;

 private:
  Registry(eventstore::EventLog& log, RegistryOptions options);
  Status Load();
  Status CatchUpAtOpen();
  Status ApplyBatch(const std::vector<eventstore::RecordedEvent>& events);
  // Whether a stream record `ws` read is behind its stream in the log.
  Result<bool> Lagging(const WorkingSet& ws);
  // Applies the log's events from ws.position to the head to `ws` (or, beyond
  // max_private_catch_up events, waits for the follower and starts a new working set).
  Status CatchUp(std::unique_ptr<WorkingSet>& ws);
  // Finishes or forgets the erasures a crash interrupted (see the file comment): every one at
  // Open, or only `only`'s (an idempotent retry of its erasure).
  Status FinishErasures(const std::string& only = {});
  // Compacts the records of an erased subject's old versions out of the view stores' files.
  Status PurgeErased(const std::string& subject);
  void Follow();

  struct Follower;
  eventstore::EventLog& log_;
  RegistryOptions options_;
  std::unique_ptr<Follower> follower_;
};

}  // namespace vaxledger::projections
