// The impact projection (SPEC §2 flow 8, issue 11; docs/impact.md): doses per day and coverage by
// age band and region, kept as counters that a query reads in O(answer).
//
// It follows the log on its own (like the mail outbox), into a RocksDB of its own, DIR/impact/
// (docs/storage.md, "Impact"): a compact record per patient (core/impact.h PatientFacts), entity
// -> region, the counters, the loaded population and its log position. Each applied batch of
// events is one RocksDB write (records, counters and position together), so a crash leaves it at
// a batch boundary and it resumes from its position. Memory is bounded: patient records are read
// when an event touches them, through a small cache of decoded records.
//
// An instance can also live in memory (InMemory): *as of* a past position or time, the figures
// are those of an in-memory projection replayed from the log up to that bound (exact, O(bound)).
//
// Thread-safety: Apply and CatchUp from one thread at a time; queries from any thread, at any
// time (each query reads one consistent snapshot: the state after some applied batch).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/impact.h"
#include "core/status.h"
#include "eventstore/event_log.h"
#include "eventstore/log_storage.h"
#include "projections/rebuild.h"

namespace vaxledger::projections {

struct ImpactOptions {
  // Decoded patient records kept between batches. Default 16384.
  size_t cache_records = 16384;
  // Events read from the log and applied in one write. Default 2048.
  size_t batch_events = 2048;
  // Most days one doses query covers (to - from + 1). Default 3660 (ten years).
  int max_days = 3660;
  // RocksDB block cache, MiB. Default 32.
  size_t block_cache_mb = 32;
  // The key store that opens registrations' personal data for the patient's birth date (the
  // age band). Without it, or for an erased patient, the age is unknown.
  std::shared_ptr<const Subjects> subjects;
};

struct DosesQuery {
  int32_t from = 0;  // days (core/impact.h DayOf), both included
  int32_t to = 0;
  bool by_week = false;  // ISO weeks: from and to widen to whole weeks, rows dated by the Monday
  std::string product;   // only this product code; empty: all
  std::string region;    // only doses given by entities of this region; empty: all
  std::string entity;    // only this entity's doses; empty: every entity's
};

struct DosesRow {
  int32_t day = 0;  // the day, or the Monday of the week
  std::string product;
  std::string region;
  impact::DoseKind kind = impact::DoseKind::kOther;
  int64_t doses = 0;
  bool operator==(const DosesRow&) const = default;
};

struct CoverageQuery {
  int32_t date = 0;
  bool by_age = true;
  bool by_region = true;
};

struct CoverageRow {
  std::optional<std::string> region;    // set when grouped by region
  std::optional<impact::AgeBand> band;  // set when grouped by age, except for unknown ages
  bool age_unknown = false;  // grouped by age: the people whose birth date the registry lacks
  int64_t population = 0;    // from the loaded population (0 without one)
  std::array<int64_t, impact::kMilestones> people{};  // at least one dose, completed, booster
  bool operator==(const CoverageRow&) const = default;
};

struct CoverageAnswer {
  std::vector<CoverageRow> rows;
  std::optional<impact::Population> population;  // the loaded one, if any
};

class ImpactProjection {
 public:
  // Opens DIR (creating it unless read_only). read_only works beside a running server and sees
  // the state at open time. Unavailable when another process has it open for writing.
  static Result<std::unique_ptr<ImpactProjection>> Open(const std::string& dir,
                                                        ImpactOptions options = {},
                                                        bool read_only = false);
  static std::unique_ptr<ImpactProjection> InMemory(ImpactOptions options = {});
  ~ImpactProjection();
  ImpactProjection(const ImpactProjection&) = delete;
  ImpactProjection& operator=(const ImpactProjection&) = delete;

  // The next log position to apply.
  eventstore::Position position() const { return position_.load(); }

  // Applies `events` (consecutive positions; those below position() are skipped) in one write
  // (two more around a population.loaded event, which recomputes the coverage counters when its
  // bands differ). DataLoss on a gap or a malformed event of a type the figures read.
  Status Apply(std::span<const eventstore::RecordedEvent> events);

  // Reads `log` from position() to its end or `bound` and applies it. Returns the new position.
  Result<eventstore::Position> CatchUp(eventstore::LogStorage& log, const LogBound& bound = {});

  // InvalidArgument (field "to") when the range is reversed or longer than max_days.
  Result<std::vector<DosesRow>> Doses(const DosesQuery& query) const;
  Result<CoverageAnswer> Coverage(const CoverageQuery& query) const;
  Result<std::optional<impact::Population>> LoadedPopulation() const;

  // The region of an entity (from its entity.created event), or nullopt.
  Result<std::optional<std::string>> EntityRegion(const std::string& entity) const;

  // Storage reads done so far (Get and scanned entries), for tests and benchmarks.
  uint64_t reads() const { return reads_.load(); }

  struct Kv;  // the storage (RocksDB or memory), projections/impact.cc

 private:
  ImpactProjection(std::unique_ptr<Kv> kv, ImpactOptions options);
  struct Batch;
  Status ApplyOne(Batch& batch, const eventstore::RecordedEvent& e);
  Status Flush(Batch& batch, eventstore::Position position);
  Status LoadPopulation(const impact::Population& population, eventstore::Position position);
  Result<impact::PatientFacts> Facts(Batch& batch, const std::string& patient, bool* found);
  std::vector<impact::AgeBand> Bands() const;

  std::unique_ptr<Kv> kv_;
  ImpactOptions options_;
  std::atomic<eventstore::Position> position_{0};
  std::optional<impact::Population> population_;  // written by Apply only
  mutable std::atomic<uint64_t> reads_{0};
  std::unordered_map<std::string, impact::PatientFacts> cache_;  // Apply's thread only
};

// Follows the log into a projection on a thread of its own, from the projection's position.
class ImpactFollower {
 public:
  // DataLoss when the projection is beyond the log's size (the log lost events).
  static Result<std::unique_ptr<ImpactFollower>> Start(eventstore::EventLog& log,
                                                       ImpactProjection& projection,
                                                       ImpactOptions options = {});
  ~ImpactFollower();
  ImpactFollower(const ImpactFollower&) = delete;
  ImpactFollower& operator=(const ImpactFollower&) = delete;

  // Waits until every event below `position` is applied. Unavailable on time-out or after a
  // failure (which stops the follower; the message says why).
  Status WaitFor(eventstore::Position position, std::chrono::milliseconds timeout);

 private:
  ImpactFollower(eventstore::EventLog& log, ImpactProjection& projection, ImpactOptions options);
  void Run();

  ImpactProjection& projection_;
  ImpactOptions options_;
  std::unique_ptr<eventstore::Subscription> subscription_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Status failed_;          // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace vaxledger::projections
