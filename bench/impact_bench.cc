// The impact projection (issue 11): how fast it applies events, and how fast its queries answer
// on a large log. Events come from the tests' random log generator (tests/projections/
// impact_log.h: registrations with boosters and Jcovden, corrections, entered-in-error, BIS
// numbers, one population) and are applied directly, as the follower applies what the log
// delivers (no signing, no log storage: the figure is the projection's own cost).
//
//   build/bench/impact_bench [--events N] [--patients P] [--queries Q] [--dir DIR]
//
// Prints the apply rate (events/s, and µs per event), the time of an in-memory replay (what
// ?as_of= costs, minus reading the log), and p50/p99 of each query kind over Q queries at
// random dates. Target: every query < 10 ms p99.
#include <fmt/core.h>

#include <time.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "bench/bench_util.h"
#include "projections/impact.h"
#include "projections/payload_codec.h"
#include "tests/projections/impact_log.h"

using namespace vaxledger;
using bench::Clock;
using bench::Seconds;

namespace {

// The generator's key store (tests/projections/impact_log.h), so that the projection opens the
// registrations' personal data for the birth dates, as `serve` does with DIR/keys.
projections::ImpactOptions Keyed() {
  projections::ImpactOptions o;
  o.subjects = std::shared_ptr<const Subjects>(&testing::ImpactKeys(), [](const Subjects*) {});
  return o;
}

// This thread's CPU time, seconds: the machine is shared, so wall time is reported beside it.
double CpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Args {
  size_t events = 1'000'000;
  int patients = 300'000;
  int queries = 1000;
  std::string dir;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--events") a.events = std::stoull(argv[i + 1]);
    if (k == "--patients") a.patients = std::stoi(argv[i + 1]);
    if (k == "--queries") a.queries = std::stoi(argv[i + 1]);
    if (k == "--dir") a.dir = argv[i + 1];
  }
  return a;
}

std::vector<eventstore::RecordedEvent> Chunk(testing::ImpactLogGenerator& gen, uint64_t& next,
                                             size_t n) {
  std::vector<eventstore::RecordedEvent> out(n);
  for (auto& r : out) {
    r.position = next++;
    r.recorded_at_us = 1'700'000'000'000'000 + static_cast<int64_t>(r.position) * 1000;
    r.event = gen.Next();
  }
  return out;
}

template <typename F>
void Time(const char* what, int n, F f) {
  std::vector<double> ms, cpu;
  ms.reserve(n);
  size_t rows = 0;
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    const double c0 = CpuSeconds();
    rows += f(i);
    cpu.push_back((CpuSeconds() - c0) * 1000);
    ms.push_back(Seconds(Clock::now() - start) * 1000);
  }
  const double p50 = bench::Percentile(ms, 50), p99 = bench::Percentile(ms, 99);
  const double c50 = bench::Percentile(cpu, 50), c99 = bench::Percentile(cpu, 99);
  fmt::print(
      "  {:<30} wall p50 {:7.3f} p99 {:7.3f} ms | cpu p50 {:7.3f} p99 {:7.3f} ms ({:.0f} rows){}\n",
      what, p50, p99, c50, c99, double(rows) / n, p99 < 10 ? "" : "  (wall p99 >= 10 ms)");
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  std::string dir = args.dir;
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() / ("impact-bench-" + std::to_string(::getpid())))
              .string();
  }
  std::filesystem::remove_all(dir);
  testing::ImpactLogOptions o;
  o.patients = args.patients;
  o.entities = 3000;
  o.populations = 0;  // one population, loaded first below
  testing::ImpactLogGenerator gen(42, o);
  auto opened = projections::ImpactProjection::Open(dir, Keyed());
  if (!opened.ok()) {
    fmt::print(stderr, "{}\n", opened.status().ToString());
    return 2;
  }
  auto& p = **opened;

  // The population first (three bands, as Statbel's), then the events in follower-sized batches.
  uint64_t next = 0;
  {
    eventstore::RecordedEvent r;
    r.position = next++;
    r.event.type = std::string(impact::kPopulationLoaded);
    r.event.stream = "population";
    auto population = impact::ParsePopulationCsv(
        "region,age_from,age_to,population\nflanders,0,17,1315768\nflanders,18,64,4057347\n"
        "flanders,65,,1491651\nbrussels,0,17,268740\nbrussels,18,64,822004\nbrussels,65,,165051\n"
        "wallonia,0,17,736262\nwallonia,18,64,2220115\nwallonia,65,,748613\n",
        "population-be-2025.csv");
    r.event.payload = projections::EncodePayload(impact::kPopulationLoaded,
                                                 impact::PopulationPayload(*population))
                          .value();
    std::vector<eventstore::RecordedEvent> one = {r};
    if (Status s = p.Apply(one); !s.ok()) {
      fmt::print(stderr, "population: {}\n", s.ToString());
      return 2;
    }
  }
  const size_t batch = projections::ImpactOptions{}.batch_events;
  double generate_s = 0, apply_s = 0, apply_cpu = 0;
  while (next < args.events) {
    auto g0 = Clock::now();
    auto events = Chunk(gen, next, std::min(batch, args.events - next));
    auto a0 = Clock::now();
    const double c0 = CpuSeconds();
    if (Status s = p.Apply(events); !s.ok()) {
      fmt::print(stderr, "{}\n", s.ToString());
      return 2;
    }
    apply_cpu += CpuSeconds() - c0;
    auto a1 = Clock::now();
    generate_s += Seconds(a0 - g0);
    apply_s += Seconds(a1 - a0);
  }
  fmt::print("impact projection (RocksDB in {}): {} events, {} patients, batches of {}\n", dir,
             next, args.patients, batch);
  fmt::print("  apply: {:.2f} s = {:.0f} events/s = {:.1f} us/event (generating them: {:.2f} s)\n",
             apply_s, next / apply_s, 1e6 * apply_s / next, generate_s);
  fmt::print(
      "  apply, CPU time of the applying thread: {:.2f} s = {:.0f} events/s = {:.1f} us/event\n",
      apply_cpu, next / apply_cpu, 1e6 * apply_cpu / next);
  fmt::print("  storage reads while applying: {:.1f} per event (records and counters)\n",
             double(p.reads()) / next);
  uint64_t disk = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) disk += f.file_size();
  }
  fmt::print("  disk: {:.1f} MiB ({:.0f} bytes/event)\n", disk / 1048576.0, double(disk) / next);

  // Queries at random dates in the generated years (2021..2024).
  std::mt19937 rng(7);
  const int32_t first = *impact::DayOf("2021-01-01"), last = *impact::DayOf("2024-12-31");
  auto day = [&] { return first + static_cast<int32_t>(rng() % (last - first + 1)); };
  auto doses = [&](int days, bool week, std::string entity, std::string product) {
    return [&, days, week, entity, product](int) {
      projections::DosesQuery q;
      q.to = day();
      q.from = q.to - days + 1;
      q.by_week = week;
      q.entity = entity;
      q.product = product;
      auto r = p.Doses(q);
      return r.ok() ? r->size() : 0;
    };
  };
  fmt::print("queries ({} each):\n", args.queries);
  Time("doses, 30 days, by day", args.queries, doses(30, false, "", ""));
  Time("doses, 365 days, by day", args.queries, doses(365, false, "", ""));
  Time("doses, 365 days, by week", args.queries, doses(365, true, "", ""));
  Time("doses, 90 days, one product", args.queries, doses(90, false, "", "EU/1/20/1528"));
  Time("doses, 365 days, one entity", args.queries, doses(365, false, "entity-17", ""));
  for (const auto& [name, age, region] :
       std::vector<std::tuple<const char*, bool, bool>>{{"coverage by age,region", true, true},
                                                        {"coverage by region", false, true},
                                                        {"coverage total", false, false}}) {
    Time(name, args.queries, [&, age = age, region = region](int) {
      projections::CoverageQuery q;
      q.date = day();
      q.by_age = age;
      q.by_region = region;
      auto r = p.Coverage(q);
      return r.ok() ? r->rows.size() : 0;
    });
  }

  // As of: an in-memory replay of the same events (what ?as_of= does after reading the log).
  {
    testing::ImpactLogGenerator again(42, o);
    auto memory = projections::ImpactProjection::InMemory(Keyed());
    uint64_t at = 0;
    double replay_s = 0, replay_cpu = 0;
    const size_t replay_events = std::min<size_t>(args.events, 200'000);
    while (at < replay_events) {
      auto events = Chunk(again, at, std::min(batch, replay_events - at));
      auto a0 = Clock::now();
      const double c0 = CpuSeconds();
      if (!memory->Apply(events).ok()) return 2;
      replay_cpu += CpuSeconds() - c0;
      replay_s += Seconds(Clock::now() - a0);
    }
    fmt::print(
        "as of (in-memory replay, without reading the log): {} events in {:.2f} s = {:.0f} "
        "events/s (CPU {:.2f} s = {:.0f} events/s)\n",
        at, replay_s, at / replay_s, replay_cpu, at / replay_cpu);
  }
  opened->reset();
  if (args.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
