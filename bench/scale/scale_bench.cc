// bench/scale (issue 12): generates a national-size registry data directory by deciding real
// commands, then (without --out) measures it with bench/scale/run.sh.
//
//   build/bench/scale --events N [--out DIR] [--threads T] [--entities E] [--seed S]
//                     [--keys-stage DIR]
//
// With --out, DIR is created as `vaxledger init --admin` creates it (tools/data_dir.h: registry
// key, pseudonym key, log with its first administrator, checkpoint file) and left there for
// `vaxledger serve --data DIR` (build the views first: `vaxledger projections rebuild`, or let
// run.sh do it). Without --out it generates in a temporary directory, runs bench/scale/run.sh on
// it (with the build this executable belongs to: BUILD_DIR) and removes it.
//
// What it generates, every event decided by core's Decide on a small RegistryState:
//   1. entities in the four regions (practices, group practices, organisations): access
//      requests approved by the administrator (1 % rejected), physicians joining, a linked staff
//      member per entity and a HAIO in one entity of five, stock received for each entity;
//   2. patients, one after another, each with a whole vaccination history: COVID-19 primary
//      series (Comirnaty, Spikevax, Vaxzevria 2 doses; Jcovden 1) and boosters, influenza
//      seasons, the childhood schedule for the young; corrections (lot, date), registrations
//      entered in error (some registered again), consent changes, stock adjustments, and reads
//      of the patient's record (projections::ReadRecorder). Patients have INSZ numbers with
//      valid check digits (2 % BIS numbers), born 1930-2024, in the millions at 25M events.
//
// Memory stays flat whatever N is: the membership of every entity is copied once per worker;
// patients are decided in chunks on a state that holds only the chunk's patients (the
// vaccination and stock views are emptied at each chunk). Workers (--threads, default one more
// than the cores) each append their events in batches of up to 1000 (the log's limit) and the
// log signs on every core. Events are appended without stream expectations: a patient's events
// are all decided and appended by one worker, in order, so each stream's order is the decided
// one.
//
// Every subject (person, patient) is made in the data directory's key store (DIR/keys,
// eventstore::KeyStore, as `vaxledger init` made it) and every event's personal part is sealed
// with its subject's key, so that `serve` opens them. The store is built on /dev/shm and
// installed at DIR/keys at the end (bench/staged_key_store.h, --keys-stage): in place, each new
// subject costs one fsync.
//
// DIR/verified is set to the log's head at the end: this process signed every event itself, as
// a server that had been running would have verified them at its previous start, so the first
// `serve` does not verify the whole log again (`vaxledger ledger verify --data DIR` does).
// DIR/bench-scale.env names, for run.sh, a physician to log in as, their entity and a patient of
// that entity with a few registrations (shell variables).
//
// Prints progress every 5 s (events, events/s, resident memory) and at the end the totals, the
// generation rate and the process's peak resident memory.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/staged_key_store.h"
#include "core/identifiers.h"
#include "core/registry_commands.h"
#include "eventstore/checkpoint_file.h"
#include "eventstore/event_log.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/read_recorder.h"
#include "projections/views.h"
#include "tools/data_dir.h"

namespace vaxledger::bench {
namespace {

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "scale: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Resident memory of this process from /proc/self/status ("VmRSS" or "VmHWM"), in MiB.
double ProcMiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::atof(line.c_str() + n + 1) / 1024.0;
    }
  }
  return 0;
}

// The caller `insz` acting in `entity`, with its subject made on first use.
Caller CallerOf(Subjects& subjects, const std::string& insz, const std::string& entity,
                const std::string& on_behalf_of, int64_t now_us) {
  auto caller = CallerFor(subjects, insz, entity, on_behalf_of, now_us);
  Check(caller.status(), "caller");
  return *std::move(caller);
}

// ---- Dates ---------------------------------------------------------------------------------

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string CivilText(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

// ---- Identifiers ---------------------------------------------------------------------------

constexpr int kFirstBirthYear = 1930;
constexpr int kBirthYears = 95;  // 1930..2024
constexpr int kPerYear = 12 * 28 * 997;

struct PatientIdentity {
  std::string insz;
  int64_t birth_day = 0;  // days since 1970
  int birth_year = 0;
};

// Patient `i` (0 .. 95 * 334,992 - 1): a bijection onto INSZ numbers, so that no two patients
// share one. The year cycles fastest; one patient in 50 gets a BIS number (month + 40).
PatientIdentity PatientNumber(uint64_t i) {
  const int year = kFirstBirthYear + static_cast<int>(i % kBirthYears);
  uint64_t rest = (i / kBirthYears) % kPerYear;
  const int serial = 1 + static_cast<int>(rest % 997);
  rest /= 997;
  const int day = 1 + static_cast<int>(rest % 28);
  const int month = 1 + static_cast<int>(rest / 28);
  const bool bis = (i * 2654435761u >> 7) % 50 == 0;
  char first9[16];
  std::snprintf(first9, sizeof first9, "%02d%02d%02d%03d", year % 100, month + (bis ? 40 : 0), day,
                serial);
  return {InszWithCheckDigits(first9, year >= 2000), DaysFromCivil(year, month, day), year};
}

// People who work in entities: born 1950..1994, in a range of serials no patient has.
std::string PersonInsz(uint32_t n) {
  const int year = 50 + static_cast<int>((n / 997 / 28 / 12) % 45);
  const int month = 1 + static_cast<int>((n / 997 / 28) % 12);
  const int day = 1 + static_cast<int>((n / 997) % 28);
  const int serial = 1 + static_cast<int>(n % 997);
  char first9[16];
  std::snprintf(first9, sizeof first9, "%02d%02d%02d%03d", year, month + 20, day, serial);
  return InszWithCheckDigits(first9);  // a BIS number without sex (month + 20): unlike patients
}

std::string Riziv(uint32_t n, const char* qualification) {
  char first6[16];
  std::snprintf(first6, sizeof first6, "1%05u", n % 100000);
  return RizivWithCheckDigits(first6, qualification);
}

// ---- Products ------------------------------------------------------------------------------

constexpr const char* kComirnaty = "EU/1/20/1528";
constexpr const char* kSpikevax = "EU/1/20/1507";
constexpr const char* kVaxzevria = "EU/1/21/1529";
constexpr const char* kJcovden = "EU/1/20/1525";
constexpr const char* kFlucelvax = "EU/1/18/1326";
constexpr const char* kFluenz = "EU/1/13/887";
constexpr const char* kInfanrix = "EU/1/00/152";
constexpr const char* kHexyon = "EU/1/13/828";
constexpr const char* kMmr = "EU/1/06/337";
constexpr const char* kPrevenar = "EU/1/09/590";
constexpr const char* kRotarix = "EU/1/05/330";
constexpr const char* kGardasil = "EU/1/15/1007";
constexpr const char* kBexsero = "EU/1/12/812";

// A lot number of `product`: one of 40 per product.
std::string Lot(const char* product, uint32_t k) {
  static const std::pair<const char*, const char*> kPrefix[] = {
      {kComirnaty, "FK"}, {kSpikevax, "30"}, {kVaxzevria, "ABV"}, {kJcovden, "XD"},
      {kFlucelvax, "FL"}, {kFluenz, "FZ"},   {kInfanrix, "A21"},  {kHexyon, "HX"},
      {kMmr, "MR"},       {kPrevenar, "PV"}, {kRotarix, "RT"},    {kGardasil, "GD"},
      {kBexsero, "BX"}};
  for (const auto& [p, prefix] : kPrefix) {
    if (std::strcmp(p, product) == 0) return prefix + std::to_string(1000 + k % 40);
  }
  return "L" + std::to_string(k % 40);
}

// ---- The generator -------------------------------------------------------------------------

// Someone who registers vaccinations in an entity.
struct Actor {
  std::string insz;
  std::string role;          // physician, haio, staff
  std::string on_behalf_of;  // staff: the physician's person id
  std::string physician;     // the physician acted for (themselves, trainer or on_behalf_of)
};

struct EntityInfo {
  std::string id;
  std::vector<Actor> actors;  // physicians first
};

struct Shared {
  eventstore::EventLog* log = nullptr;
  Subjects* subjects = nullptr;  // the data directory's key store (staged: staged_key_store.h)
  int64_t now_us = 0;
  int64_t today = 0;  // days since 1970
  std::vector<EntityInfo> entities;
  std::atomic<uint64_t> events{0};    // appended (or queued as reads)
  std::atomic<uint64_t> decided{0};   // decided (appended or about to be): what stops the run
  std::atomic<uint64_t> patients{0};  // generated
  std::atomic<uint64_t> refused{0};   // commands Decide refused (expected: a few date clashes)
  std::atomic<uint64_t> next_chunk{0};
  uint64_t target = 0;
  projections::ReadRecorder* reads = nullptr;
  std::mutex mu;
  std::string sample_patient;  // a patient of entity 0 with at least 3 registrations
};

constexpr uint64_t kChunkPatients = 2000;
constexpr size_t kBatchEvents = 900;  // flush before the log's limit of 1000

class Worker {
 public:
  Worker(Shared& shared, const RegistryState& base, uint64_t seed) : shared_(shared), rng_(seed) {
    state_.membership = base.membership;  // the requests view is not needed for vaccinations
  }

  // Decides `command` on the worker's state, applies and queues its events. False if refused.
  bool Do(const Caller& caller, const Command& command) {
    Command resolved = command;
    Check(ResolveSubjects(*shared_.subjects, resolved), "resolve subjects");
    auto d = Decide(state_, caller, resolved);
    if (!d.ok()) {
      if (++shared_.refused <= 3) {
        std::fprintf(stderr, "scale: refused (expected now and then): %s\n",
                     d.status().ToString().c_str());
      }
      return false;
    }
    shared_.decided += d->events.size();
    for (DomainEvent& e : d->events) {
      auto encoded =
          projections::ToNewEvent(e, eventstore::EventId::Random(), {}, *shared_.subjects);
      Check(encoded.status(), "encode event");
      batch_.events.push_back(std::move(encoded).value());
      e.position = ++position_;
      e.stream_version = ++versions_;  // not used by the generator's decisions
      e.recorded_at_us = shared_.now_us;
      state_.Apply(e);
    }
    return true;
  }

  void Flush() {
    if (batch_.events.empty()) return;
    const size_t n = batch_.events.size();
    Check(shared_.log->Append(batch_).status(), "append");
    batch_.events.clear();
    shared_.events += n;
  }

  void Run() {
    while (shared_.decided.load() < shared_.target) {
      const uint64_t chunk = shared_.next_chunk++;
      // A fresh state for the chunk: membership stays, patients and stock go.
      state_.vaccinations = VaccinationsView();
      state_.stock = StockView();
      for (uint64_t i = chunk * kChunkPatients;
           i < (chunk + 1) * kChunkPatients && shared_.decided.load() < shared_.target; ++i) {
        Patient(i);
        if (batch_.events.size() >= kBatchEvents) Flush();
      }
    }
    Flush();
  }

 private:
  uint32_t R() { return static_cast<uint32_t>(rng_()); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t Upto(int64_t n) { return n <= 0 ? 0 : static_cast<int64_t>(R() % n); }

  Caller As(const Actor& a, const std::string& entity) const {
    return CallerOf(*shared_.subjects, a.insz, entity, a.on_behalf_of, shared_.now_us);
  }

  // One registration on `day` (if it is in the past), and now and then a correction, a
  // retraction (registered again half of the time) or a consent change.
  void Register(const PatientIdentity& who, const std::string& patient_id, const EntityInfo& ent,
                const char* product, int dose, int64_t day) {
    if (day >= shared_.today || day < who.birth_day) return;
    const Actor& actor = ActorOf(ent);
    const Caller caller = As(actor, ent.id);
    RegisterVaccination v;
    v.vaccination_id = "v" + std::to_string(++registrations_) + "-" + std::to_string(seed_tag_);
    v.patient.insz = who.insz;
    v.product = product;
    const uint32_t lot = R();
    v.lot = Lot(product, lot);
    v.dose = dose;
    v.date = CivilText(day);
    v.consent = {Chance(0.995) ? "given" : "refused", v.date};
    if (!Do(caller, v)) return;
    ++registered_here_;
    const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.015) {
      Do(caller,
         CorrectVaccination{patient_id, v.vaccination_id, std::nullopt, Lot(product, lot + 1),
                            std::nullopt, std::nullopt, "lot number mistyped"});
    } else if (r < 0.02) {
      Do(caller,
         CorrectVaccination{patient_id, v.vaccination_id, std::nullopt, std::nullopt, std::nullopt,
                            CivilText(day - 1 - Upto(3)), "date of administration corrected"});
    } else if (r < 0.025) {
      Do(caller,
         RetractVaccination{patient_id, v.vaccination_id, "registered for the wrong patient"});
    } else if (r < 0.028) {
      if (Do(caller, RetractVaccination{patient_id, v.vaccination_id, "duplicate entry"}) &&
          Chance(0.5)) {
        v.vaccination_id += "r";
        Do(caller, v);
      }
    } else if (r < 0.030) {
      Do(caller,
         RecordConsent{patient_id, v.vaccination_id, {"refused", CivilText(shared_.today)}});
    }
  }

  const Actor& ActorOf(const EntityInfo& ent) {
    // Physicians register most doses; staff and HAIOs (listed after them) some.
    if (ent.actors.size() > 1 && Chance(0.25)) return ent.actors[1 + Upto(ent.actors.size() - 1)];
    return ent.actors.front();
  }

  void Patient(uint64_t i) {
    const PatientIdentity who = PatientNumber(i);
    PatientRef ref;
    ref.insz = who.insz;
    auto found = PatientId(*shared_.subjects, ref);
    Check(found.status(), "patient id");
    const std::string patient_id = *std::move(found);
    // A patient's own practice, and now and then another entity (a vaccination centre).
    const EntityInfo& home = shared_.entities[R() % shared_.entities.size()];
    auto where = [&]() -> const EntityInfo& {
      return Chance(0.8) ? home : shared_.entities[R() % shared_.entities.size()];
    };
    registered_here_ = 0;
    const int age = static_cast<int>((shared_.today - who.birth_day) / 365);
    // COVID-19: a primary series in 2021, boosters from the end of 2021 on.
    if (who.birth_year <= 2011 && Chance(0.85)) {
      const double p = std::uniform_real_distribution<double>(0, 1)(rng_);
      const char* primary = p < 0.65   ? kComirnaty
                            : p < 0.80 ? kSpikevax
                            : p < 0.92 ? kVaxzevria
                                       : kJcovden;
      // The oldest first: from February 2021 (over 85) to July 2021 (the young).
      const int64_t start =
          DaysFromCivil(2021, 2, 1) + std::max<int64_t>(0, 85 - age) * 2 + Upto(30);
      Register(who, patient_id, where(), primary, 1, start);
      int dose = 1;
      if (primary != kJcovden) {
        Register(who, patient_id, where(), primary, 2, start + 21 + Upto(63));
        dose = 2;
      }
      const char* mrna = Chance(0.8) ? kComirnaty : kSpikevax;
      if (Chance(0.7)) {
        Register(who, patient_id, where(), mrna, ++dose, DaysFromCivil(2021, 11, 15) + Upto(120));
        if (Chance(age >= 50 ? 0.6 : 0.15)) {
          Register(who, patient_id, where(), mrna, ++dose, DaysFromCivil(2022, 9, 15) + Upto(90));
          if (age >= 65 && Chance(0.5)) {
            Register(who, patient_id, where(), kComirnaty, ++dose,
                     DaysFromCivil(2023, 9, 15) + Upto(90));
            if (Chance(0.7)) {
              Register(who, patient_id, where(), kComirnaty, ++dose,
                       DaysFromCivil(2024, 10, 1) + Upto(60));
            }
          }
        }
      }
    }
    // Influenza, every season from 2021 to 2025.
    const double flu = age >= 65 ? 0.7 : age < 18 ? 0.08 : 0.12;
    for (int season = 2021; season <= 2025; ++season) {
      if (!Chance(flu)) continue;
      const char* product = age < 18 ? kFluenz : kFlucelvax;
      Register(who, patient_id, home, product, 1, DaysFromCivil(season, 10, 1) + Upto(60));
    }
    // The childhood schedule, for those born from 2008 on.
    if (who.birth_year >= 2008) {
      const int64_t b = who.birth_day;
      const char* hexa = Chance(0.8) ? kInfanrix : kHexyon;
      for (int d = 0; d < 4; ++d) {
        static constexpr int kDays[] = {56, 84, 112, 456};
        Register(who, patient_id, home, hexa, d + 1, b + kDays[d] + Upto(7));
      }
      Register(who, patient_id, home, kPrevenar, 1, b + 56 + Upto(7));
      Register(who, patient_id, home, kPrevenar, 2, b + 112 + Upto(7));
      Register(who, patient_id, home, kPrevenar, 3, b + 365 + Upto(30));
      if (Chance(0.9)) {
        Register(who, patient_id, home, kRotarix, 1, b + 56 + Upto(7));
        Register(who, patient_id, home, kRotarix, 2, b + 84 + Upto(7));
      }
      Register(who, patient_id, home, kMmr, 1, b + 365 + Upto(60));
      Register(who, patient_id, home, kMmr, 2, b + 7 * 365 + Upto(120));
      if (Chance(0.3)) {
        Register(who, patient_id, home, kBexsero, 1, b + 56 + Upto(7));
        Register(who, patient_id, home, kBexsero, 2, b + 112 + Upto(7));
      }
      if (Chance(0.6)) {
        Register(who, patient_id, home, kGardasil, 1, b + 12 * 365 + Upto(120));
        Register(who, patient_id, home, kGardasil, 2, b + 12 * 365 + 180 + Upto(60));
      }
    }
    // Someone in the home practice reads the record (the read trail), now and then.
    const int reads = Chance(0.15) ? 1 + static_cast<int>(Upto(3)) : 0;
    for (int r = 0; r < reads && registered_here_ > 0; ++r) {
      const Actor& a = ActorOf(home);
      while (!shared_.reads->Record(As(a, home.id), a.role, a.physician, patient_id).ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the recorder's queue is full
      }
      ++shared_.events;
      ++shared_.decided;
    }
    // An entity adjusts its stock now and then (a broken vial, a fridge failure).
    if (Upto(500) == 0) {
      const EntityInfo& ent = where();
      Do(As(ent.actors.front(), ent.id),
         AdjustStock{kComirnaty, Lot(kComirnaty, R()), -static_cast<int64_t>(1 + Upto(12)),
                     Chance(0.5) ? "vial broken" : "cold chain interrupted"});
    }
    if (&home == &shared_.entities.front() && registered_here_ >= 3) {
      std::lock_guard lock(shared_.mu);
      if (shared_.sample_patient.empty()) shared_.sample_patient = patient_id;
    }
    ++shared_.patients;
  }

  Shared& shared_;
  std::mt19937_64 rng_;
  RegistryState state_;
  eventstore::AppendBatch batch_;
  uint64_t position_ = 0;
  uint64_t versions_ = 0;
  uint64_t registrations_ = 0;
  uint64_t seed_tag_ = rng_() % 1000000007;
  int registered_here_ = 0;
};

// Entities, their people and stock, decided one after another on `state` and appended.
class Setup {
 public:
  Setup(Shared& shared, RegistryState& state) : shared_(shared), state_(state) {}

  bool Do(const Caller& caller, const Command& command) {
    Command resolved = command;
    Check(ResolveSubjects(*shared_.subjects, resolved), "resolve subjects");
    auto d = Decide(state_, caller, resolved);
    if (!d.ok()) {
      std::fprintf(stderr, "scale: setup command refused: %s\n", d.status().ToString().c_str());
      std::exit(1);
    }
    for (DomainEvent& e : d->events) {
      auto encoded =
          projections::ToNewEvent(e, eventstore::EventId::Random(), {}, *shared_.subjects);
      Check(encoded.status(), "encode event");
      batch_.events.push_back(std::move(encoded).value());
      e.position = ++position_;
      e.recorded_at_us = shared_.now_us;
      state_.Apply(e);
    }
    if (batch_.events.size() >= kBatchEvents) Flush();
    return true;
  }

  void Flush() {
    if (batch_.events.empty()) return;
    Check(shared_.log->Append(batch_).status(), "append");
    shared_.events += batch_.events.size();
    shared_.decided += batch_.events.size();
    batch_.events.clear();
  }

  void Entities(int count, const std::string& admin, std::mt19937_64& rng) {
    const Caller as_admin = CallerOf(*shared_.subjects, admin, {}, {}, shared_.now_us);
    const char* kinds[] = {"practice", "group_practice", "organisation"};
    uint32_t people = 1;
    for (int e = 0; e < count; ++e) {
      EntityInfo info;
      info.id = "ent" + std::to_string(e);
      const char* kind = kinds[e % 3];
      // About Belgium's split: 57 % Flanders, 32 % Wallonia, 10 % Brussels, 1 % German-speaking.
      const int r = e % 100;
      const char* region = r < 57   ? "flanders"
                           : r < 89 ? "wallonia"
                           : r < 99 ? "brussels"
                                    : "german_speaking";
      const int physicians = e % 3 == 0 ? 1 : e % 3 == 1 ? 2 + rng() % 4 : 3 + rng() % 6;
      for (int p = 0; p < physicians; ++p) {
        const uint32_t n = people++;
        const std::string insz = PersonInsz(n);
        RequestAccess a{"acc" + std::to_string(n),
                        "Dr " + std::to_string(n),
                        "dr" + std::to_string(n) + "@example.be",
                        Riziv(n, "004"),
                        "terms-1",
                        p == 0 ? "" : info.id,
                        std::nullopt};
        if (p == 0) {
          a.new_entity = NewEntity{kind, std::string(kind) + " " + std::to_string(e), "", region};
        }
        Do(CallerOf(*shared_.subjects, insz, {}, {}, shared_.now_us), a);
        if (p > 0 && rng() % 100 == 0) {  // one request in a hundred is turned down
          Do(as_admin, DecideRequest{a.request_id, false, "RIZIV number not found", ""});
          continue;
        }
        Do(as_admin, DecideRequest{a.request_id, true, "", p == 0 ? info.id : ""});
        auto person_id = PersonId(*shared_.subjects, insz);
        Check(person_id.status(), "person id");
        const std::string person = *std::move(person_id);
        info.actors.push_back({insz, "physician", "", person});
      }
      const Actor trainer = info.actors.front();  // a copy: actors grows below
      const Caller as_trainer =
          CallerOf(*shared_.subjects, trainer.insz, info.id, {}, shared_.now_us);
      {
        const uint32_t n = people++;
        const std::string staff = PersonInsz(n);
        const std::string id = "lnk" + std::to_string(n);
        Do(as_trainer, RequestLink{id, staff, "Staff " + std::to_string(n),
                                   "staff" + std::to_string(n) + "@example.be", false, ""});
        Do(as_admin, DecideRequest{id, true, "", ""});
        info.actors.push_back({staff, "staff", trainer.physician, trainer.physician});
      }
      if (e % 5 == 4) {
        const uint32_t n = people++;
        const std::string haio = PersonInsz(n);
        const std::string id = "lnk" + std::to_string(n);
        Do(as_trainer,
           RequestLink{id, haio, "Dr " + std::to_string(n),
                       "haio" + std::to_string(n) + "@example.be", true, Riziv(n, "005")});
        Do(as_admin, DecideRequest{id, true, "", ""});
        info.actors.push_back({haio, "haio", "", trainer.physician});
      }
      for (const char* product : {kComirnaty, kSpikevax, kFlucelvax}) {
        for (int lot = 0; lot < 2; ++lot) {
          Do(as_trainer, ReceiveStock{product, Lot(product, static_cast<uint32_t>(rng())),
                                      "2027-0" + std::to_string(1 + lot * 5) + "-30",
                                      static_cast<int64_t>(100 + rng() % 1900)});
        }
      }
      shared_.entities.push_back(std::move(info));
    }
    Flush();
  }

 private:
  Shared& shared_;
  RegistryState& state_;
  eventstore::AppendBatch batch_;
  uint64_t position_ = 0;
};

std::string Arg(int argc, char** argv, const char* name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf(
          "usage: scale --events N [--out DIR] [--threads T] [--entities E] [--seed S]\n"
          "             [--keys-stage DIR]\n"
          "  --keys-stage: where the key store is built before it is copied to DIR/keys\n"
          "  (default /dev/shm; - builds it in place, one fsync per new subject)\n"
          "  without --out: generate in a temporary directory, run bench/scale/run.sh on it,\n"
          "  remove it\n");
      return 0;
    }
  }
  const uint64_t target =
      std::strtoull(Arg(argc, argv, "--events", "1000000").c_str(), nullptr, 10);
  const std::string out = Arg(argc, argv, "--out", "");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = std::atoi(Arg(argc, argv, "--threads", std::to_string(cores * 4)).c_str());
  // One entity per 2,000 events, from 50 to 15,000 (Belgium has about 15,000 GPs).
  const int entities = std::atoi(
      Arg(argc, argv, "--entities", std::to_string(std::clamp<uint64_t>(target / 2000, 50, 15000)))
          .c_str());
  const uint64_t seed = std::strtoull(Arg(argc, argv, "--seed", "42").c_str(), nullptr, 10);
  // Where the key store is built before it is installed at DIR/keys ("-": in place).
  const std::string keys_stage = Arg(argc, argv, "--keys-stage", "/dev/shm");
  if (target == 0 || threads < 1 || entities < 1) {
    std::fprintf(stderr, "scale: --events, --threads and --entities must be positive\n");
    return 2;
  }
  const bool temporary = out.empty();
  const std::string dir = temporary ? (std::filesystem::temp_directory_path() /
                                       ("vaxledger-scale-" + std::to_string(::getpid())))
                                          .string()
                                    : out;

  const std::string admin = PersonInsz(0);
  Check(tools::InitDataDir(dir, "scale.example/registry", admin).status(), "init");
  // Reopened for generation without a sync per commit and without the checkpoint file (one
  // more sync per commit): both are written once at the end. Much faster on a busy disk; a
  // crash of the machine during generation loses the directory, nothing else.
  eventstore::RocksDbStorageOptions storage_options;
  storage_options.sync = false;
  auto storage = eventstore::OpenRocksDbStorage(tools::LogPath(dir), storage_options);
  Check(storage.status(), "open the log");
  auto signer = eventstore::LoadRegistryKey(tools::KeyPath(dir));
  Check(signer.status(), "registry key");
  auto log = eventstore::EventLog::Open(std::move(storage).value(), std::move(signer).value());
  Check(log.status(), "open the log");
  auto key = tools::LoadPseudonymKey(dir);
  Check(key.status(), "pseudonym key");
  // The key store InitDataDir made, with the first administrator, staged on /dev/shm: a new
  // subject is one synced write (bench/staged_key_store.h), installed at DIR/keys at the end.
  auto staged = StagedKeyStore::Open(tools::KeyStorePath(dir), *key, keys_stage);
  Check(staged.status(), "key store");
  std::shared_ptr<Subjects> subjects = (*staged)->store();

  Shared shared;
  shared.log = log->get();
  shared.subjects = subjects.get();
  shared.now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  shared.today = shared.now_us / 86400000000LL;
  shared.target = target;
  shared.events = 2;  // registry.initialised and the first administrator's grant
  shared.decided = 2;

  const auto start = Clock::now();
  std::atomic<bool> done{false};
  std::thread progress([&] {
    auto last = Clock::now();
    uint64_t last_events = 0;
    while (!done.load()) {
      for (int i = 0; i < 50 && !done.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto now = Clock::now();
      const uint64_t n = shared.events.load();
      std::fprintf(stderr,
                   "scale: %llu / %llu events, %llu patients, %.0f events/s now, %.0f average, "
                   "RSS %.0f MiB\n",
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(target),
                   static_cast<unsigned long long>(shared.patients.load()),
                   (n - last_events) / Seconds(now - last), n / Seconds(now - start),
                   ProcMiB("VmRSS"));
      last = now;
      last_events = n;
    }
  });

  // 1. Entities and their people, on one state.
  RegistryState base;
  {
    auto grant = FirstAdministratorGrant(*subjects, admin);  // made by InitDataDir: its subject
    Check(grant.status(), "first administrator");
    base.Apply(*grant);
  }
  std::mt19937_64 rng(seed);
  {
    Setup setup(shared, base);
    setup.Entities(entities, admin, rng);
  }
  const double setup_s = Seconds(Clock::now() - start);

  // 2. Patients, in chunks, on every worker.
  {
    projections::ReadRecorder reads(**log);
    shared.reads = &reads;
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<Worker>(shared, base, seed * 1000003 + t));
    }
    base = RegistryState();
    std::vector<std::thread> running;
    for (auto& w : workers) running.emplace_back([&w] { w->Run(); });
    for (auto& t : running) t.join();
  }  // the recorder appends the reads still queued
  done = true;
  progress.join();
  const double seconds = Seconds(Clock::now() - start);

  const eventstore::LogHead head = (*log)->Head();
  log->reset();  // flushed and closed before the checkpoint files name its head
  const auto install_start = Clock::now();
  shared.subjects = nullptr;
  subjects.reset();
  Check((*staged)->Install(), "install the key store");
  staged->reset();
  const double install_s = Seconds(Clock::now() - install_start);
  {
    // What serve will open: the installed store holds the sample patient's key.
    auto installed = tools::OpenSubjects(dir);
    Check(installed.status(), "key store");
    if (!shared.sample_patient.empty()) {
      auto k = (*installed)->Key(shared.sample_patient);
      Check(k.status(), "key store");
      if (!*k) Check(DataLoss("the installed key store has no key for the sample patient"), "keys");
    }
  }
  for (const std::string& path : {tools::CheckpointFilePath(dir), tools::VerifiedFilePath(dir)}) {
    auto file = eventstore::CheckpointFile::Open(path, /*create=*/true);
    Check(file.status(), "checkpoint file");
    Check((*file)->Write(head.checkpoint), "checkpoint file");
  }
  {
    std::ofstream env(dir + "/bench-scale.env");
    const EntityInfo& e0 = shared.entities.front();
    env << "SCALE_PHYSICIAN=" << e0.actors.front().insz << "\nSCALE_ENTITY=" << e0.id
        << "\nSCALE_PATIENT=" << shared.sample_patient << "\nSCALE_ADMIN=" << admin << "\n";
  }
  std::printf(
      "generated %llu events (%d entities, %llu patients, %llu commands refused) in %.1f s "
      "(setup %.1f s): %.0f events/s, %d threads; peak RSS %.0f MiB; key store installed in "
      "%.1f s\n",
      static_cast<unsigned long long>(head.size), entities,
      static_cast<unsigned long long>(shared.patients.load()),
      static_cast<unsigned long long>(shared.refused.load()), seconds, setup_s, head.size / seconds,
      threads, ProcMiB("VmHWM"), install_s);
  std::fflush(stdout);
  if (!temporary) {
    std::printf("data directory %s (build its views: vaxledger projections rebuild --data %s)\n",
                dir.c_str(), dir.c_str());
    return 0;
  }
  const std::string script = std::string(VAXLEDGER_SOURCE_DIR) + "/bench/scale/run.sh";
  // run.sh uses the build this executable is in (BUILD_DIR/bench/scale), unless told otherwise.
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) ::setenv("BUILD_DIR", exe.parent_path().parent_path().c_str(), /*overwrite=*/0);
  const int rc = std::system(("bash '" + script + "' '" + dir + "'").c_str());
  std::filesystem::remove_all(dir);
  return rc == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vaxledger::bench

int main(int argc, char** argv) { return vaxledger::bench::Main(argc, argv); }
