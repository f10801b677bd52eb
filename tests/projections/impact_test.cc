#include "projections/impact.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "core/encoding.h"
#include "eventstore/leaf.h"
#include "eventstore/memory_storage.h"
#include "projections/payload_codec.h"
#include "tests/eventstore/test_util.h"
#include "tests/projections/impact_log.h"

namespace vaxledger::projections {
namespace {

using eventstore::RecordedEvent;
using eventstore::testing::TempDir;
using impact::AgeBand;
using impact::DoseKind;
using testing::ImpactKeys;
using testing::OpenPersonalOf;

// Options whose key store opens the test logs' personal data (tests/projections/impact_log.h).
ImpactOptions Keyed(ImpactOptions o = {}) {
  o.subjects = std::shared_ptr<const Subjects>(&ImpactKeys(), [](const Subjects*) {});
  return o;
}

// ---- A brute-force recount, written from the definitions (docs/impact.md), not from the
// projection's counters ----

struct BruteDose {
  std::string id, product, entity, region;
  std::string date;
  uint64_t position = 0;
  bool active = true;
};

struct BrutePatient {
  std::optional<std::string> birth;  // YYYY-MM-DD
  std::vector<BruteDose> doses;
};

struct Brute {
  std::map<std::string, std::string> regions;  // entity -> region
  std::map<std::string, BrutePatient> patients;
  std::vector<AgeBand> bands = {{0, std::nullopt}};
  std::optional<impact::Population> population;

  void Apply(const RecordedEvent& r) {
    const auto& e = r.event;
    auto pl = e.payload.empty() ? nlohmann::json::object()
                                : DecodePayload(e.type, AsBytes(e.payload)).value();
    if (e.type == "entity.created") regions[pl["entity"]] = pl["region"];
    if (e.type == impact::kPopulationLoaded) {
      population = *impact::PopulationFromPayload(pl);
      bands = population->bands;
    }
    if (!e.stream.starts_with("patient:")) return;
    BrutePatient& p = patients[e.stream.substr(8)];
    if (e.type == "vaccination.registered") {
      auto personal = OpenPersonalOf(e);  // null once the patient is erased: no birth date
      if (!p.birth && !personal.is_null()) {
        if (personal.contains("insz")) {
          auto insz = ParseInsz(personal["insz"].get<std::string>());
          REQUIRE(insz.ok());
          p.birth = insz->birth_date;
        } else {
          p.birth = personal["birth_date"].get<std::string>();
        }
      }
      auto it = regions.find(e.entity);
      p.doses.push_back({pl["vaccination_id"], pl["product"], e.entity,
                         it == regions.end() ? "unknown" : it->second, pl["date"], r.position,
                         true});
      return;
    }
    for (BruteDose& d : p.doses) {
      if (d.id != pl["vaccination_id"]) continue;
      if (e.type == "vaccination.entered_in_error") d.active = false;
      if (e.type == "vaccination.corrected") {
        d.product = pl["now"]["product"];
        d.date = pl["now"]["date"];
      }
    }
  }

  static bool Covid(const std::string& product) {
    const VaccineProduct* p = FindVaccineProduct(product);
    return p != nullptr && p->covid19;
  }

  // The kinds of a patient's doses, by vaccination id, and the milestone dates.
  struct Kinds {
    std::map<std::string, DoseKind> kind;
    std::optional<std::string> first, completed, booster;
    std::string region = "unknown";
  };
  static Kinds Classify(const BrutePatient& p) {
    Kinds k;
    std::vector<const BruteDose*> covid;
    for (const BruteDose& d : p.doses) {
      if (!d.active) continue;
      if (!Covid(d.product)) {
        k.kind[d.id] = DoseKind::kOther;
        continue;
      }
      covid.push_back(&d);
    }
    std::sort(covid.begin(), covid.end(), [](const BruteDose* a, const BruteDose* b) {
      return a->date != b->date ? a->date < b->date : a->position < b->position;
    });
    for (size_t i = 0; i < covid.size(); ++i) {
      const BruteDose& d = *covid[i];
      const bool jcovden = FindVaccineProduct(d.product)->name == "Jcovden";
      if (i == 0) {
        k.first = d.date;
        k.region = d.region == "german_speaking" ? "wallonia" : d.region;
      }
      if (k.completed) {
        k.kind[d.id] = DoseKind::kBooster;
        if (!k.booster) k.booster = d.date;
      } else if (jcovden || i >= 1) {
        k.kind[d.id] = DoseKind::kCompleted;
        k.completed = d.date;
      } else {
        k.kind[d.id] = DoseKind::kFirst;
      }
    }
    return k;
  }

  // (day, product, region, kind) -> doses, for the doses given between from and to.
  std::map<std::tuple<std::string, std::string, std::string, int>, int64_t> Doses(
      const std::string& entity = {}) const {
    std::map<std::tuple<std::string, std::string, std::string, int>, int64_t> out;
    for (const auto& [id, p] : patients) {
      const Kinds k = Classify(p);
      for (const BruteDose& d : p.doses) {
        if (!d.active || (!entity.empty() && d.entity != entity)) continue;
        ++out[{d.date, d.product, d.region, static_cast<int>(k.kind.at(d.id))}];
      }
    }
    return out;
  }

  static int Age(const std::string& birth, const std::string& date) {
    const int years = std::stoi(date.substr(0, 4)) - std::stoi(birth.substr(0, 4));
    return date.substr(5) < birth.substr(5) ? years - 1 : years;
  }

  // (region, band or -1, milestone) -> people on `date`.
  std::map<std::tuple<std::string, int, int>, int64_t> Coverage(const std::string& date) const {
    std::map<std::tuple<std::string, int, int>, int64_t> out;
    for (const auto& [id, p] : patients) {
      const Kinds k = Classify(p);
      int band = -1;
      if (p.birth) {
        if (*p.birth > date) continue;  // not born yet: in no band
        const int age = Age(*p.birth, date);
        band = -2;
        for (size_t b = 0; b < bands.size(); ++b) {
          if (age >= bands[b].from && (!bands[b].to || age <= *bands[b].to)) band = int(b);
        }
        if (band == -2) continue;
      }
      const std::optional<std::string>* m[] = {&k.first, &k.completed, &k.booster};
      for (int i = 0; i < 3; ++i) {
        if (*m[i] && **m[i] <= date) ++out[{k.region, band, i}];
      }
    }
    return out;
  }
};

std::map<std::tuple<std::string, int, int>, int64_t> Cells(const CoverageAnswer& a) {
  std::map<std::tuple<std::string, int, int>, int64_t> out;
  const std::vector<AgeBand> bands =
      a.population ? a.population->bands : std::vector<AgeBand>{{0, std::nullopt}};
  for (const CoverageRow& r : a.rows) {
    int band = -1;
    if (r.band) {
      band = static_cast<int>(std::find(bands.begin(), bands.end(), *r.band) - bands.begin());
    }
    for (int m = 0; m < 3; ++m) {
      if (r.people[m] != 0) out[{*r.region, band, m}] = r.people[m];
    }
  }
  return out;
}

std::map<std::tuple<std::string, std::string, std::string, int>, int64_t> DoseCells(
    const std::vector<DosesRow>& rows) {
  std::map<std::tuple<std::string, std::string, std::string, int>, int64_t> out;
  for (const DosesRow& r : rows) {
    out[{impact::DateOfDay(r.day), r.product, r.region, static_cast<int>(r.kind)}] = r.doses;
  }
  return out;
}

DosesQuery Q(int32_t from, int32_t to, bool by_week = false, std::string product = {},
             std::string region = {}, std::string entity = {}) {
  DosesQuery q;
  q.from = from;
  q.to = to;
  q.by_week = by_week;
  q.product = std::move(product);
  q.region = std::move(region);
  q.entity = std::move(entity);
  return q;
}

const int32_t kFrom = *impact::DayOf("2020-06-01");
const int32_t kTo = *impact::DayOf("2025-06-30");

// Checks the projection against the recount: every dose and coverage on several dates.
void Check(const ImpactProjection& p, const Brute& brute, std::mt19937& rng) {
  auto doses = p.Doses(Q(kFrom, kTo));
  REQUIRE(doses.ok());
  REQUIRE(DoseCells(*doses) == brute.Doses());
  auto one = p.Doses(Q(kFrom, kTo, false, "", "", "entity-1"));
  REQUIRE(one.ok());
  REQUIRE(DoseCells(*one) == brute.Doses("entity-1"));
  for (int i = 0; i < 4; ++i) {
    const std::string date =
        impact::DateOfDay(kFrom + static_cast<int32_t>(rng() % static_cast<uint32_t>(kTo - kFrom)));
    auto coverage = p.Coverage({*impact::DayOf(date), true, true});
    REQUIRE(coverage.ok());
    INFO("coverage on " << date);
    REQUIRE(Cells(*coverage) == brute.Coverage(date));
  }
}

// `n` events of a random log, as the log would record them (position, time).
std::vector<RecordedEvent> RandomLog(uint32_t seed, size_t n, testing::ImpactLogOptions o = {}) {
  testing::ImpactLogGenerator gen(seed, o);
  std::vector<RecordedEvent> out;
  for (size_t i = 0; i < n; ++i) {
    RecordedEvent r;
    r.position = i;
    r.recorded_at_us = 1'700'000'000'000'000 + static_cast<int64_t>(i) * 1'000'000;
    r.event = gen.Next();
    out.push_back(std::move(r));
  }
  return out;
}

TEST_CASE("impact projection equals a brute-force recount at many positions") {
  const uint32_t seed = GENERATE(1u, 2u, 3u);
  INFO("seed " << seed);
  const auto log = RandomLog(seed, 2500);
  std::mt19937 rng(seed);
  TempDir dir;
  auto memory = ImpactProjection::InMemory(Keyed());
  ImpactOptions small_cache = Keyed();
  small_cache.cache_records = 16;  // most records come from RocksDB, not the cache
  auto disk = ImpactProjection::Open(dir.path() + "/impact", small_cache);
  REQUIRE(disk.ok());
  Brute brute;
  size_t at = 0;
  int chunks = 0;
  while (at < log.size()) {
    const size_t n = std::min(log.size() - at, size_t{1} + rng() % 200);
    std::span<const RecordedEvent> chunk(log.data() + at, n);
    REQUIRE(memory->Apply(chunk).ok());
    REQUIRE((*disk)->Apply(chunk).ok());
    for (const auto& e : chunk) brute.Apply(e);
    at += n;
    REQUIRE(memory->position() == at);
    REQUIRE((*disk)->position() == at);
    Check(*memory, brute, rng);
    Check(**disk, brute, rng);
    if (++chunks % 5 == 0) {  // reopened, it resumes from its position
      disk->reset();
      disk = ImpactProjection::Open(dir.path() + "/impact", small_cache);
      REQUIRE(disk.ok());
      REQUIRE((*disk)->position() == at);
    }
  }
  // The checks compared real figures.
  REQUIRE(brute.Coverage("2024-12-31").size() > 10);
  REQUIRE(brute.Doses().size() > 100);
  // Applying events again changes nothing: those below the position are skipped.
  REQUIRE(memory->Apply(std::span<const RecordedEvent>(log.data(), 10)).ok());
  Check(*memory, brute, rng);
  // A gap is refused.
  std::vector<RecordedEvent> gap = {log[5]};
  gap[0].position = log.size() + 3;
  REQUIRE(memory->Apply(gap).code() == Code::kDataLoss);
}

TEST_CASE("impact after erasures equals a recount without the erased patients' birth dates") {
  auto log = RandomLog(11, 2000);
  std::mt19937 rng(11);
  auto p = ImpactProjection::InMemory(Keyed());
  REQUIRE(p->Apply(log).ok());
  Brute before;
  for (const auto& e : log) before.Apply(e);
  // Erase the patients of every 5th registration, as the registry does: the key goes, and
  // subject.erased is appended to the patient's stream.
  std::map<std::string, std::string> subjects;  // patient -> subject
  size_t registrations = 0;
  for (const auto& r : log) {
    if (r.event.type == "vaccination.registered" && ++registrations % 5 == 0) {
      subjects.emplace(r.event.stream.substr(8), r.event.data_subject);
    }
  }
  REQUIRE(subjects.size() > 10);
  const size_t first_erasure = log.size();
  for (const auto& [patient, subject] : subjects) {
    RecordedEvent r;
    r.position = log.size();
    r.recorded_at_us = log.back().recorded_at_us + 1;
    r.event.event_id = eventstore::EventId::Random();
    r.event.stream = "patient:" + patient;
    r.event.type = event_type::kSubjectErased;
    r.event.payload = EncodePayload(r.event.type, {{"subject", subject},
                                                   {"kind", "patient"},
                                                   {"reason", "retention ended"},
                                                   {"request_id", "er"}})
                          .value();
    REQUIRE(ImpactKeys().Erase(subject).ok());
    log.push_back(std::move(r));
  }
  REQUIRE(p->Apply(std::span<const RecordedEvent>(log.data() + first_erasure,
                                                  log.size() - first_erasure))
              .ok());
  Brute after;  // a recount from scratch: the erased patients' keys are gone
  for (const auto& e : log) after.Apply(e);
  Check(*p, after, rng);
  // The erasures moved doses between age bands (so the check compared something that changed).
  CHECK(before.Coverage("2024-12-31") != after.Coverage("2024-12-31"));
  // And a projection rebuilt from the whole log agrees, in memory and on disk (where the
  // erased patients' earlier records are compacted away).
  auto rebuilt = ImpactProjection::InMemory(Keyed());
  REQUIRE(rebuilt->Apply(log).ok());
  Check(*rebuilt, after, rng);
  TempDir dir;
  auto disk = ImpactProjection::Open(dir.path() + "/impact", Keyed());
  REQUIRE(disk.ok());
  REQUIRE((*disk)->Apply(log).ok());
  Check(**disk, after, rng);
}

TEST_CASE("impact doses by week add up the days of whole ISO weeks") {
  const auto log = RandomLog(7, 1500);
  auto p = ImpactProjection::InMemory(Keyed());
  REQUIRE(p->Apply(log).ok());
  const int32_t from = *impact::DayOf("2022-03-02"), to = *impact::DayOf("2022-05-17");
  auto weeks = p->Doses(Q(from, to, true));
  auto days = p->Doses(Q(impact::WeekStart(from), impact::WeekStart(to) + 6));
  REQUIRE(weeks.ok());
  REQUIRE(days.ok());
  std::map<std::tuple<int32_t, std::string, std::string, int>, int64_t> summed;
  for (const DosesRow& r : *days) {
    summed[{impact::WeekStart(r.day), r.product, r.region, static_cast<int>(r.kind)}] += r.doses;
  }
  std::map<std::tuple<int32_t, std::string, std::string, int>, int64_t> got;
  for (const DosesRow& r : *weeks) {
    REQUIRE(r.day == impact::WeekStart(r.day));
    got[{r.day, r.product, r.region, static_cast<int>(r.kind)}] = r.doses;
  }
  REQUIRE(!got.empty());
  REQUIRE(got == summed);
  // Filters.
  auto comirnaty = p->Doses(Q(from, to, false, "EU/1/20/1528", "flanders"));
  REQUIRE(comirnaty.ok());
  for (const DosesRow& r : *comirnaty) {
    REQUIRE(r.product == "EU/1/20/1528");
    REQUIRE(r.region == "flanders");
  }
  REQUIRE(p->Doses(Q(to, from)).status().field() == "to");
  REQUIRE(p->Doses(Q(from, from + 5000)).status().field() == "to");
}

TEST_CASE("impact as of a position or a time equals a recount of the log up to there") {
  auto storage = std::make_unique<eventstore::MemoryStorage>();
  eventstore::MemoryStorage* raw = storage.get();
  auto log = eventstore::EventLog::Open(std::move(storage), eventstore::testing::TestSigner());
  REQUIRE(log.ok());
  testing::ImpactLogGenerator gen(11);
  for (int i = 0; i < 1200; ++i) {
    eventstore::AppendBatch b;
    b.events.push_back(gen.Next());
    REQUIRE((*log)->Append(b).ok());
  }
  auto all = raw->ReadRecords(0, 5000, true);
  REQUIRE(all.ok());
  std::vector<RecordedEvent> events;
  for (auto& r : *all) events.push_back(*eventstore::DecodeLeaf(r.leaf));
  std::mt19937 rng(11);
  for (uint64_t before : {0ul, 1ul, 9ul, 300ul, 777ul, 1201ul}) {
    auto p = ImpactProjection::InMemory(Keyed());
    LogBound bound;
    bound.before = before;
    auto at = p->CatchUp(*raw, bound);
    REQUIRE(at.ok());
    REQUIRE(*at == std::min<uint64_t>(before, events.size()));
    Brute brute;
    for (uint64_t i = 0; i < *at; ++i) brute.Apply(events[i]);
    Check(*p, brute, rng);
  }
  // A time: every event recorded up to then.
  const RecordedEvent& middle = events[600];
  LogBound bound;
  bound.time_us = middle.recorded_at_us;
  auto p = ImpactProjection::InMemory(Keyed());
  auto at = p->CatchUp(*raw, bound);
  REQUIRE(at.ok());
  REQUIRE(*at > 600);
  REQUIRE(events[*at - 1].recorded_at_us <= middle.recorded_at_us);
  if (*at < events.size()) REQUIRE(events[*at].recorded_at_us > middle.recorded_at_us);
  Brute brute;
  for (uint64_t i = 0; i < *at; ++i) brute.Apply(events[i]);
  Check(*p, brute, rng);
}

TEST_CASE("impact follower follows the log and resumes after a restart") {
  TempDir dir;
  auto log = eventstore::testing::OpenRocksDbLog(dir.path() + "/log", true);
  testing::ImpactLogGenerator gen(21);
  auto append = [&](int n) {
    for (int i = 0; i < n; ++i) {
      eventstore::AppendBatch b;
      b.events.push_back(gen.Next());
      if (i % 3 == 0) b.events.push_back(gen.Next());  // batches of two as well
      REQUIRE(log->Append(b).ok());
    }
  };
  append(400);
  auto projection = ImpactProjection::Open(dir.path() + "/impact", Keyed());
  REQUIRE(projection.ok());
  {
    auto follower = ImpactFollower::Start(*log, **projection);
    REQUIRE(follower.ok());
    REQUIRE((*follower)->WaitFor(log->Size(), std::chrono::seconds(30)).ok());
  }
  REQUIRE((*projection)->position() == log->Size());
  append(300);
  const uint64_t before_restart = (*projection)->position();
  projection->reset();
  projection = ImpactProjection::Open(dir.path() + "/impact", Keyed());
  REQUIRE(projection.ok());
  REQUIRE((*projection)->position() == before_restart);
  auto follower = ImpactFollower::Start(*log, **projection);
  REQUIRE(follower.ok());
  REQUIRE((*follower)->WaitFor(log->Size(), std::chrono::seconds(30)).ok());
  auto records = log->Read(0, 100000);
  REQUIRE(records.ok());
  Brute brute;
  for (const auto& r : *records) brute.Apply(r);
  std::mt19937 rng(21);
  Check(**projection, brute, rng);
  // A read-only instance beside the writer sees the same figures.
  auto reader = ImpactProjection::Open(dir.path() + "/impact", Keyed(), /*read_only=*/true);
  INFO(reader.status().ToString());
  REQUIRE(reader.ok());
  Check(**reader, brute, rng);
}

TEST_CASE("impact: applying an event reads a bounded number of records whatever the log holds") {
  auto p = ImpactProjection::InMemory(Keyed());
  testing::ImpactLogOptions o;
  o.patients = 5000;
  o.populations = 0;  // a population with new bands recomputes from every record, by design
  const auto log = RandomLog(5, 20000, o);
  REQUIRE(p->Apply(std::span<const RecordedEvent>(log.data(), log.size() - 1)).ok());
  const uint64_t before = p->reads();
  REQUIRE(p->Apply(std::span<const RecordedEvent>(&log.back(), 1)).ok());
  // The patient record, the entity's region, and the counters the event changes.
  REQUIRE(p->reads() - before < 800);
}

TEST_CASE("impact coverage follows the bands of the loaded population") {
  auto p = ImpactProjection::InMemory(Keyed());
  std::vector<RecordedEvent> events;
  auto add = [&](std::string type, std::string stream, nlohmann::json payload,
                 nlohmann::json personal = nullptr, std::string entity = "e1") {
    RecordedEvent r;
    r.position = events.size();
    r.event.type = std::move(type);
    r.event.stream = std::move(stream);
    r.event.entity = std::move(entity);
    r.event.payload = EncodePayload(r.event.type, payload).value();
    r.event.event_id = eventstore::EventId::Random();
    if (!personal.is_null()) {
      testing::SealPersonalFor(r.event, r.event.stream, personal);
    }
    events.push_back(std::move(r));
  };
  add("entity.created", "entity:e1", {{"entity", "e1"}, {"region", "brussels"}});
  // Born 2005-03-10 (a name and birth date): 17 until 2023-03-09, 18 from 2023-03-10.
  add("vaccination.registered", "patient:a",
      {{"vaccination_id", "v1"}, {"product", "EU/1/20/1525"}, {"date", "2021-06-01"}},
      {{"name", "A"}, {"birth_date", "2005-03-10"}});
  auto population = impact::ParsePopulationCsv(
      "region,age_from,age_to,population\nbrussels,0,17,100\nbrussels,18,,200\n", "p.csv");
  REQUIRE(population.ok());
  add(std::string(impact::kPopulationLoaded), "population", impact::PopulationPayload(*population));
  REQUIRE(p->Apply(events).ok());
  auto on = [&](const char* date) {
    auto c = p->Coverage({*impact::DayOf(date), true, true});
    REQUIRE(c.ok());
    return Cells(*c);
  };
  using Cell = std::map<std::tuple<std::string, int, int>, int64_t>;
  // Jcovden: one dose completes the primary series.
  REQUIRE(on("2021-05-31") == Cell{});
  REQUIRE(on("2021-06-01") == Cell{{{"brussels", 0, 0}, 1}, {{"brussels", 0, 1}, 1}});
  REQUIRE(on("2023-03-09") == Cell{{{"brussels", 0, 0}, 1}, {{"brussels", 0, 1}, 1}});
  REQUIRE(on("2023-03-10") == Cell{{{"brussels", 1, 0}, 1}, {{"brussels", 1, 1}, 1}});
  auto c = p->Coverage({*impact::DayOf("2023-03-10"), true, false});
  REQUIRE(c.ok());
  REQUIRE(c->rows.size() == 2);
  REQUIRE(c->rows[0].population == 100);
  REQUIRE(c->rows[1].population == 200);
  REQUIRE(c->rows[1].people[impact::kCompletedSeries] == 1);
  auto doses = p->Doses(Q(*impact::DayOf("2021-06-01"), *impact::DayOf("2021-06-01")));
  REQUIRE(doses.ok());
  REQUIRE(*doses == std::vector<DosesRow>{{*impact::DayOf("2021-06-01"), "EU/1/20/1525", "brussels",
                                           DoseKind::kCompleted, 1}});
}

}  // namespace
}  // namespace vaxledger::projections
