// Registry: the live views of one registry and the commands decided on them.
//
// At Open the views are loaded from their stores (projections/view_store.h), a view whose schema
// version changed is rebuilt from the log, and every view catches up with the log from its own
// position. A follower thread then applies each committed event to the views in memory, and a
// persister thread writes the changed records together with the position they reflect (so a
// store is never half-applied; after a crash it catches up from its own position).
//
// Execute(caller, command) waits until the views include every event acknowledged before the
// call, decides the command (core/registry_commands.h) on them, and appends the decision's events
// as one batch with its stream expectations. When another append changed those streams in
// between, the log refuses (Aborted) and the command is decided again on the newer state, up to
// `max_attempts` times. It returns once its own events are in the views, so a caller reads what
// it wrote.
//
// With an idempotency key the events get ids derived from (caller, key): a retried command whose
// events are stored returns their positions with already_stored and decides nothing again. The
// request's fingerprint (e.g. a hash of method, path and body) goes into the events' correlation
// id: the same key with another fingerprint is refused (FailedPrecondition naming
// Idempotency-Key, as the IETF Idempotency-Key draft asks), never silently answered with the
// first request's outcome.
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

#include "core/pseudonym.h"
#include "core/registry_commands.h"
#include "core/registry_state.h"
#include "core/status.h"
#include "eventstore/event_log.h"
#include "projections/internal/rw_lock.h"
#include "projections/views.h"

namespace vaxledger::projections {

struct RegistryOptions {
  // Directory of the view stores (created when missing). Required.
  std::string views_dir;
  // The key of person and patient pseudonyms (core/pseudonym.h). Required.
  PseudonymKey pseudonym_key{};
  // UTC microseconds; default the system clock. Gives commands their "now".
  std::function<int64_t()> clock_us;
  // How often a command is decided again after a conflicting append. Default 8.
  int max_attempts = 8;
  // Most events the follower applies and writes at once. Default 1024.
  size_t apply_batch = 1024;
  // How long a command or read waits for the views to catch up. Default 10 s.
  std::chrono::milliseconds catch_up_timeout{10000};
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

  // Runs f(state) under the views' read lock, once they include every event acknowledged before
  // this call. Unavailable as Execute.
  template <typename F>
  auto Read(F&& f) -> Result<decltype(f(std::declval<const RegistryState&>()))> {
    VX_RETURN_IF_ERROR(CatchUp());
    std::shared_lock lock(state_mutex_);
    return f(state_);
  }

  // Waits until the views include every event below `position`.
  Status WaitApplied(eventstore::Position position, std::chrono::milliseconds timeout);
  // The position every view has applied up to (exclusive).
  eventstore::Position applied() const;
  // Each view's position in its store (what survives a crash), in kViewNames order.
  std::array<eventstore::Position, kViewCount> view_positions() const;
  const Pseudonymizer& pseudonyms() const { return pseudonyms_; }
  eventstore::EventLog& log() { return log_; }

 private:
  Registry(eventstore::EventLog& log, RegistryOptions options);
  Status Load();
  Status CatchUp();
  Status ApplyBatch(const std::vector<eventstore::RecordedEvent>& events);
  Status Persist();
  void Follow();
  void PersistInBackground();

  struct Follower;
  eventstore::EventLog& log_;
  RegistryOptions options_;
  Pseudonymizer pseudonyms_;
  mutable internal::RwLock state_mutex_;
  RegistryState state_;
  std::unique_ptr<Follower> follower_;
};

}  // namespace vaxledger::projections
