// Rebuilding views from the log, their status, and views as they were at a past moment.
//
// A rebuild replays the log from position 0 into fresh stores (ViewStore::CreateNext) and makes
// them current only when complete; an interrupted rebuild leaves the views it had not yet
// published as they were. The live registry uses it when a view's schema version changed, the
// command line for `vaxledger projections rebuild` and `vaxledger replay`.
//
// Thread-safety: functions; `log` may be in use by a running EventLog (reads are safe).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/registry_state.h"
#include "core/status.h"
#include "core/subjects.h"
#include "eventstore/log_storage.h"

namespace vaxledger::projections {

// Where a replay stops: before position `before` and/or after the last event recorded at or
// before `time_us`. Neither set: the whole log.
struct LogBound {
  std::optional<eventstore::Position> before;
  std::optional<int64_t> time_us;
};

// Parses "POSITION" (that event included) or a UTC time "YYYY-MM-DDTHH:MM:SSZ" (every event
// recorded up to the end of that second). InvalidArgument naming `field` otherwise.
Result<LogBound> ParseLogBound(std::string_view text, std::string_view field);

struct RebuildOptions {
  std::vector<std::string> views;  // names (projections/views.h); empty = all
  LogBound until;
  // Called every few thousand events with (events applied, events to apply).
  std::function<void(uint64_t, uint64_t)> progress;
  // Records per store write. Default 8192.
  size_t write_chunk = 8192;
  // Events applied before the changed records are written and the working set is dropped: what
  // bounds a rebuild's memory. Default 65536.
  size_t flush_events = 65536;
  // Called after each store write with (view, records written so far).
  std::function<void(std::string_view, uint64_t)> on_write;
  // The key store that opens events' personal data (core/subjects.h). Required.
  const Subjects* subjects = nullptr;
};

struct RebuildReport {
  uint64_t events = 0;                                        // events applied: the views' position
  std::vector<std::pair<std::string, uint64_t>> generations;  // view name -> new generation
};

// InvalidArgument (field "view") for an unknown view name; DataLoss for a gap or a malformed
// event in the log; storage errors as they are.
Result<RebuildReport> RebuildViews(eventstore::LogStorage& log, const std::string& views_dir,
                                   const RebuildOptions& options);

struct ViewStatus {
  std::string name;
  uint64_t generation = 0;  // 0: never built
  std::optional<uint64_t> position;
  std::optional<int> schema;
  int expected_schema = 0;
};

// The views' stores as they are on disk (opened read-only; works beside a running server).
Result<std::vector<ViewStatus>> ReadViewStatus(const std::string& views_dir);

// An entity's membership as it was at `bound`, from its stream in the log. NotFound (field
// "entity") when it did not exist then.
Result<Entity> EntityAsOf(eventstore::LogStorage& log, const Subjects& subjects,
                          const std::string& entity_id, const LogBound& bound);
// A patient's vaccinations as they were at `bound`. NotFound (field "patient") when the patient
// had none then.
Result<Patient> PatientAsOf(eventstore::LogStorage& log, const Subjects& subjects,
                            const std::string& patient_id, const LogBound& bound);

}  // namespace vaxledger::projections
