// Rebuild and command benchmark (issue 3; the cost of decryption, issue 16).
//
//   rebuild_bench [--events N] [--entities E] [--patients P] [--callers C] [--seconds S]
//                 [--without-keys 1] [--key-cache-mib M]
//
// 1. Generates a log of N realistic events by deciding commands on an in-memory registry (core's
//    Decide) and appending them (entities with physicians and staff, stock deliveries, and
//    vaccinations of P patients, with corrections and retractions), unsynced. Subjects are made
//    in a real key store (eventstore::KeyStore), built on /dev/shm and installed in the
//    temporary directory (bench/staged_key_store.h); personal parts are sealed with it.
// 2. Rebuilds every view from the log into fresh stores, with that key store, and prints
//    events/s (target >= 300k/s). Then, on one thread over the same log, times what the
//    rebuild's reader does per event (read and DecodeLeaf, ToDomainEvent) and decryption alone
//    (KeyStore::Key, OpenPersonal), and prints decryption as a fraction of the rebuild's time
//    per event (issue 16: at most 10 %). With --without-keys 1 it rebuilds four times more,
//    alternately with a key store that has no key (every personal part reads as erased: neither
//    opened nor decoded) and with the real one, and prints the ratio of the rates.
//    --key-cache-mib sets the key store's block cache (default KeyStoreOptions', 8 MiB, as
//    tools::OpenSubjects opens it). Last, the as-of read of GET /v1/patients/{id}?as_of=
//    (PatientAsOf: the patient's stream replayed from the log, decrypted) for 2,000 patients,
//    with the key store and with one that has no key.
// 3. Opens the live registry on the rebuilt views and has C callers register vaccinations through
//    Registry::Execute (decide, append durably, apply) for S seconds; prints commands/s next to
//    the single-core signing rate measured in the same run (target >= 0.6 x). Every command is
//    about a new patient: its subject is made in the key store on disk first (one synced write).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "bench/bench_util.h"
#include "bench/staged_key_store.h"
#include "core/identifiers.h"
#include "core/personal_cipher.h"
#include "core/registry_commands.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/leaf.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/rebuild.h"
#include "projections/registry.h"
#include "projections/views.h"

namespace vaxledger::bench {
namespace {

constexpr int64_t kNow = 1795521600LL * 1000000;  // 2026-11-24T12:00:00Z
constexpr PseudonymKey kKey{9, 9, 9};

std::string Insz(uint32_t n) {
  // Year 50..99, month, day 1..28 and serial 1..997, all from n.
  const int year = 50 + static_cast<int>((n / 997 / 28 / 12) % 50);
  const int month = 1 + static_cast<int>((n / 997 / 28) % 12);
  const int day = 1 + static_cast<int>((n / 997) % 28);
  const int serial = 1 + static_cast<int>(n % 997);
  char first9[16];
  std::snprintf(first9, sizeof first9, "%02d%02d%02d%03d", year, month, day, serial);
  return InszWithCheckDigits(first9);
}

std::string Riziv(uint32_t n) {
  char first6[16];
  std::snprintf(first6, sizeof first6, "1%05u", n % 100000);
  return RizivWithCheckDigits(first6, "004");
}

int Arg(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return def;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Decides on `state` and appends to `log`, keeping the state in step.
class Generator {
 public:
  Generator(eventstore::EventLog& log, Subjects& subjects) : log_(log), subjects_(subjects) {}

  bool Do(const Caller& caller, const Command& command) {
    Command resolved = command;
    Check(ResolveSubjects(subjects_, resolved), "resolve subjects");
    auto d = Decide(state_, caller, resolved);
    if (!d.ok()) return false;
    for (DomainEvent& e : d->events) {
      auto event = projections::ToNewEvent(e, eventstore::EventId::Random(), eventstore::EventId(),
                                           subjects_);
      Check(event.status(), "encode");
      pending_.events.push_back(std::move(event).value());
      // The in-memory state needs positions and versions only for expectations, unused here.
      e.position = next_++;
      e.recorded_at_us = kNow;
      state_.Apply(e);
    }
    if (pending_.events.size() >= 900) Flush();
    return true;
  }

  void Flush() {
    if (pending_.events.empty()) return;
    Check(log_.Append(pending_).status(), "append");
    pending_.events.clear();
  }

  Caller As(const std::string& insz, const std::string& entity = {},
            const std::string& on_behalf_of = {}) const {
    auto caller = CallerFor(subjects_, insz, entity, on_behalf_of, kNow);
    Check(caller.status(), "caller");
    return *std::move(caller);
  }
  uint64_t size() const { return next_; }
  const RegistryState& state() const { return state_; }

 private:
  eventstore::EventLog& log_;
  Subjects& subjects_;
  RegistryState state_;
  eventstore::AppendBatch pending_;
  uint64_t next_ = 0;
};

// A key store that has no key (every subject erased): for the rebuild without decryption.
class NoKeys : public Subjects {
 public:
  explicit NoKeys(Subjects& real) : real_(real) {}
  Result<std::string> Pseudonym(std::string_view kind, std::string_view identifier) override {
    return real_.Pseudonym(kind, identifier);
  }
  Result<std::optional<std::string>> Find(std::string_view kind,
                                          std::string_view identifier) const override {
    return real_.Find(kind, identifier);
  }
  Result<std::optional<DataKey>> Key(std::string_view) const override {
    return std::optional<DataKey>();
  }
  Status Erase(std::string_view) override { return FailedPrecondition("no keys"); }
  Status MarkErasing(std::string_view, std::string_view) override {
    return FailedPrecondition("no keys");
  }
  Status ClearErasing(std::string_view) override { return FailedPrecondition("no keys"); }
  Result<std::map<std::string, std::string>> Erasing() const override {
    return std::map<std::string, std::string>{};
  }

 private:
  Subjects& real_;
};

// The rebuild's reader thread reads, decodes and converts every event (ToDomainEvent, which
// opens the personal part); decryption is Key + OpenPersonal. Times each step on this thread
// over the whole log, and prints decryption per event as a fraction of the rebuild's wall time
// per event.
void DecryptionCost(eventstore::LogStorage& storage, const Subjects& subjects, uint64_t events,
                    double rebuild_s) {
  double read_s = 0, convert_s = 0, key_s = 0, open_s = 0;
  uint64_t n = 0, sealed = 0;
  std::vector<eventstore::RecordedEvent> chunk;
  std::vector<DataKey> keys;
  for (eventstore::Position next = 0; next < events;) {
    auto t0 = Clock::now();
    auto records = storage.ReadRecords(next, 4096, true);
    Check(records.status(), "read");
    if (records->empty()) break;
    chunk.clear();
    for (auto& record : *records) {
      auto recorded = eventstore::DecodeLeaf(std::move(record.leaf));
      Check(recorded.status(), "decode leaf");
      chunk.push_back(std::move(recorded).value());
    }
    next += records->size();
    auto t1 = Clock::now();
    for (const auto& r : chunk) {
      auto e = projections::ToDomainEvent(r, subjects);
      Check(e.status(), "to domain event");
    }
    auto t2 = Clock::now();
    keys.clear();
    for (const auto& r : chunk) {
      if (r.event.personal_data.empty()) continue;
      auto key = subjects.Key(r.event.data_subject);
      Check(key.status(), "key");
      if (!*key) Check(DataLoss("no key for " + r.event.data_subject), "key");
      keys.push_back(**key);
    }
    auto t3 = Clock::now();
    size_t k = 0;
    for (const auto& r : chunk) {
      if (r.event.personal_data.empty()) continue;
      auto opened = OpenPersonal(
          keys[k++], ByteView(r.event.event_id.bytes.data(), r.event.event_id.bytes.size()),
          r.event.data_subject, AsBytes(r.event.personal_data));
      Check(opened.status(), "open personal");
      ++sealed;
    }
    auto t4 = Clock::now();
    read_s += Seconds(t1 - t0);
    convert_s += Seconds(t2 - t1);
    key_s += Seconds(t3 - t2);
    open_s += Seconds(t4 - t3);
    n += chunk.size();
  }
  if (n == 0) return;
  const double per_event_us = rebuild_s / events * 1e6;
  const double decrypt_s = key_s + open_s;
  std::printf(
      "the rebuild reader's work, one thread, %llu events (%llu with a sealed personal part):\n"
      "  read + DecodeLeaf %.2f us/event, ToDomainEvent (opens and decodes) %.2f us/event\n"
      "  per sealed event: Key %.2f us + OpenPersonal %.2f us = %.2f us/event over the log\n"
      "decryption / rebuild time per event (%.2f us): %.1f %% (Key %.1f %%, OpenPersonal %.1f "
      "%%)\n",
      static_cast<unsigned long long>(n), static_cast<unsigned long long>(sealed), read_s / n * 1e6,
      convert_s / n * 1e6, sealed ? key_s / sealed * 1e6 : 0.0,
      sealed ? open_s / sealed * 1e6 : 0.0, decrypt_s / n * 1e6, per_event_us,
      decrypt_s / n * 1e6 / per_event_us * 100, key_s / n * 1e6 / per_event_us * 100,
      open_s / n * 1e6 / per_event_us * 100);
}

// What GET /v1/patients/{id}?as_of= does with the log (http/registry_routes.cc PatientRecord):
// projections::PatientAsOf replays the patient's stream, each event through ToDomainEvent,
// which opens its personal part. Times it for `patients` with the key store and with NoKeys
// (nothing opened or decoded), alternately, and prints both and their ratio.
void AsOfCost(eventstore::LogStorage& storage, Subjects& subjects,
              const std::vector<std::string>& patients) {
  if (patients.empty()) return;
  const NoKeys none(subjects);
  double with_s = 0, without_s = 0;
  uint64_t events = 0;
  for (int round = 0; round < 3; ++round) {
    for (const Subjects* keys :
         {static_cast<const Subjects*>(&subjects), static_cast<const Subjects*>(&none)}) {
      const auto start = Clock::now();
      for (const std::string& p : patients) {
        auto then = projections::PatientAsOf(storage, *keys, p, projections::LogBound{});
        Check(then.status(), "patient as of");
        if (keys == &subjects && round == 0) events += then->vaccinations.size();
      }
      (keys == &subjects ? with_s : without_s) += Seconds(Clock::now() - start);
    }
  }
  const double n = 3.0 * patients.size();
  std::printf(
      "as-of read of a patient (PatientAsOf, %zu patients, %.1f vaccinations each, 3 rounds): "
      "%.1f us with keys, %.1f us without (nothing opened); with / without: %.3f\n",
      patients.size(), static_cast<double>(events) / patients.size(), with_s / n * 1e6,
      without_s / n * 1e6, with_s / without_s);
}

int Main(int argc, char** argv) {
  const int events = Arg(argc, argv, "--events", 1000000);
  const int entities = Arg(argc, argv, "--entities", 3000);
  const int patients = Arg(argc, argv, "--patients", 300000);
  const int callers = Arg(argc, argv, "--callers", 64);
  const int seconds = Arg(argc, argv, "--seconds", 5);
  const bool without_keys = Arg(argc, argv, "--without-keys", 0) != 0;
  // The key store's block cache for the rebuild and the commands (KeyStoreOptions::cache_bytes;
  // 0: its default, 8 MiB).
  const int key_cache_mib = Arg(argc, argv, "--key-cache-mib", 0);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("vaxledger-rebuild-bench-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::create_directories(dir);

  const NoteSigner signer("bench.example/log", Ed25519Key::Generate());
  eventstore::RocksDbStorageOptions so;
  so.create_if_missing = true;
  so.sync = false;  // generation only; the command phase below reopens it durable
  auto storage = eventstore::OpenRocksDbStorage(dir + "/log", so);
  Check(storage.status(), "open");
  auto log = eventstore::EventLog::Open(std::move(storage).value(), signer);
  Check(log.status(), "open log");
  // The key store, as a data directory's DIR/keys. Generation makes its subjects on /dev/shm
  // (bench/staged_key_store.h: a new subject is one synced write); the rebuild and the commands
  // below use the store installed on disk.
  auto staged = StagedKeyStore::Open(dir + "/keys", kKey);
  Check(staged.status(), "open key store");
  std::shared_ptr<Subjects> subjects = (*staged)->store();

  // 1. Generate.
  const auto gen_start = Clock::now();
  Generator g(**log, *subjects);
  const std::string admin = Insz(0);
  {
    auto first = FirstAdministratorGrant(*subjects, admin);
    Check(first.status(), "grant");
    const DomainEvent& e = *first;
    eventstore::AppendBatch b;
    auto grant = projections::ToNewEvent(e, eventstore::EventId::Random(), {}, *subjects);
    Check(grant.status(), "encode");
    b.events.push_back(std::move(grant).value());
    Check((*log)->Append(b).status(), "bootstrap");
    const_cast<RegistryState&>(g.state()).Apply(e);
  }
  std::mt19937 rng(42);
  uint32_t people = 1;
  const char* kinds[] = {"practice", "group_practice", "organisation"};
  const char* regions[] = {"flanders", "brussels", "wallonia", "german_speaking"};
  std::vector<std::pair<std::string, std::string>> actors;  // (insz, entity) of physicians
  for (int e = 0; e < entities; ++e) {
    const std::string id = "ent" + std::to_string(e);
    const char* kind = kinds[e % 3];
    const int physicians = e % 3 == 0 ? 1 : 2 + static_cast<int>(rng() % 3);
    for (int p = 0; p < physicians; ++p) {
      const std::string insz = Insz(people);
      RequestAccess a{"acc" + std::to_string(people),
                      "Dr " + std::to_string(people),
                      "dr" + std::to_string(people) + "@example.be",
                      Riziv(people),
                      "terms-1",
                      p == 0 ? "" : id,
                      std::nullopt};
      if (p == 0) a.new_entity = NewEntity{kind, "Entity " + id, "", regions[e % 4]};
      ++people;
      if (!g.Do(g.As(insz), a)) continue;
      if (!g.Do(g.As(admin), DecideRequest{a.request_id, true, "", id})) continue;
      actors.emplace_back(insz, id);
    }
    const std::string staff = Insz(people++);
    const std::string trainer = actors.back().first;
    if (g.Do(g.As(trainer, id),
             RequestLink{"lnk" + std::to_string(e), staff, "Staff", "s@example.be", false, ""})) {
      g.Do(g.As(admin), DecideRequest{"lnk" + std::to_string(e), true, "", ""});
    }
    g.Do(g.As(trainer, id),
         ReceiveStock{"EU/1/20/1528", "LOT" + std::to_string(e % 50), "2099-06-30", 500});
  }
  const char* products[] = {"EU/1/20/1528", "EU/1/20/1507", "EU/1/18/1326", "EU/1/06/337",
                            "EU/1/09/590"};
  uint64_t n = 0;
  std::vector<std::string> sample_patients;  // for the as-of reads below
  while (g.size() < static_cast<uint64_t>(events)) {
    const auto& [insz, entity] = actors[rng() % actors.size()];
    const uint32_t patient = 1000000 + rng() % patients;
    RegisterVaccination v;
    v.vaccination_id = "v" + std::to_string(++n);
    v.patient.insz = Insz(patient);
    v.product = products[rng() % 5];
    v.lot = "LOT" + std::to_string(rng() % 50);
    v.dose = 1 + static_cast<int>(rng() % 3);
    v.date = "2026-" + std::to_string(10 + rng() % 2) + "-" + std::to_string(10 + rng() % 14);
    v.consent = {"given", "2026-10-01"};
    if (!g.Do(g.As(insz, entity), v)) continue;
    if (n % 50 == 0) {
      auto patient_id = PatientId(*subjects, v.patient);
      Check(patient_id.status(), "patient id");
      const std::string pid = *patient_id;
      if (sample_patients.size() < 2000) sample_patients.push_back(pid);
      if (n % 100 == 0) {
        g.Do(g.As(insz, entity), RetractVaccination{pid, v.vaccination_id, "wrong patient"});
      } else {
        g.Do(g.As(insz, entity),
             CorrectVaccination{pid, v.vaccination_id, std::nullopt, std::string("LOTX"),
                                std::nullopt, std::nullopt, "typo"});
      }
    }
  }
  g.Flush();
  const uint64_t total = (*log)->Head().size;
  std::printf("generated %llu events (%d entities, %zu physicians, %d patient numbers) in %.1f s\n",
              static_cast<unsigned long long>(total), entities, actors.size(), patients,
              Seconds(Clock::now() - gen_start));
  auto admin_id = PersonId(*subjects, admin);
  Check(admin_id.status(), "admin id");
  subjects.reset();
  Check((*staged)->Install(), "install key store");
  staged->reset();
  eventstore::KeyStoreOptions key_options;  // as tools::OpenSubjects opens it, unless told
  if (key_cache_mib > 0) key_options.cache_bytes = static_cast<size_t>(key_cache_mib) << 20;
  auto store = eventstore::KeyStore::Open(dir + "/keys", kKey, key_options);
  Check(store.status(), "open key store");
  subjects = std::move(store).value();
  auto admin_key = subjects->Key(*admin_id);
  Check(admin_key.status(), "key store");
  if (!*admin_key) Check(DataLoss("the installed key store lost the administrator's key"), "keys");

  // 2. Rebuild.
  const auto rebuild_start = Clock::now();
  projections::RebuildOptions rebuild;
  rebuild.subjects = subjects.get();
  auto report = projections::RebuildViews((*log)->storage(), dir + "/views", rebuild);
  Check(report.status(), "rebuild");
  const double rebuild_s = Seconds(Clock::now() - rebuild_start);
  std::printf("rebuild of all views: %llu events in %.2f s = %.0f events/s (target >= 300000)\n",
              static_cast<unsigned long long>(report->events), rebuild_s,
              report->events / rebuild_s);
  DecryptionCost((*log)->storage(), *subjects, report->events, rebuild_s);
  AsOfCost((*log)->storage(), *subjects, sample_patients);
  if (without_keys) {
    // The same rebuild with a key store that has no key (NoKeys), alternately with the real one,
    // twice each, into fresh directories: every personal part reads as erased, so neither
    // OpenPersonal nor the Personal table's decoding runs (an upper bound of what decryption
    // costs the rebuild).
    const NoKeys none(*subjects);
    double with_s = 0, without_s = 0;
    for (int round = 0; round < 2; ++round) {
      for (const Subjects* keys :
           {static_cast<const Subjects*>(&none), static_cast<const Subjects*>(subjects.get())}) {
        projections::RebuildOptions o = rebuild;
        o.subjects = keys;
        const std::string views = dir + "/views-again";
        const auto start = Clock::now();
        auto again = projections::RebuildViews((*log)->storage(), views, o);
        Check(again.status(), "rebuild again");
        const double s = Seconds(Clock::now() - start);
        (keys == &none ? without_s : with_s) += s;
        std::printf("rebuild %s keys: %llu events in %.2f s = %.0f events/s\n",
                    keys == &none ? "without" : "with",
                    static_cast<unsigned long long>(again->events), s, again->events / s);
        std::filesystem::remove_all(views);
      }
    }
    std::printf("rebuild rate with keys / without (2 rounds each, alternately): %.3f\n",
                without_s / with_s);
  }
  log->reset();

  // 3. Commands through the registry, durable.
  auto durable = eventstore::OpenRocksDbStorage(dir + "/log");
  Check(durable.status(), "reopen");
  auto live_log = eventstore::EventLog::Open(std::move(durable).value(), signer);
  Check(live_log.status(), "reopen log");
  projections::RegistryOptions ro;
  ro.views_dir = dir + "/views";
  ro.subjects = subjects;
  ro.clock_us = [] { return kNow; };
  const auto open_start = Clock::now();
  auto registry = projections::Registry::Open(**live_log, ro);
  Check(registry.status(), "open registry");
  std::printf("registry opened (views loaded) in %.2f s\n", Seconds(Clock::now() - open_start));

  const double sign_rate = SignRate(1.0);
  std::atomic<uint64_t> done{0}, refused{0};
  std::vector<std::vector<double>> latencies(callers);
  const auto cmd_start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      uint32_t i = 0;
      while (Seconds(Clock::now() - cmd_start) < seconds) {
        const auto& [insz, entity] = actors[(t * 7919 + i) % actors.size()];
        RegisterVaccination v;
        v.vaccination_id = "b" + std::to_string(t) + "-" + std::to_string(i);
        v.patient.insz = Insz(2000000 + t * 100000 + i);
        v.product = "EU/1/20/1528";
        v.lot = "LOT1";
        v.dose = 1;
        v.date = "2026-11-20";
        v.consent = {"given", "2026-11-20"};
        auto c = CallerFor((*registry)->subjects(), insz, entity);
        if (!c.ok()) {
          ++refused;
          ++i;
          continue;
        }
        const auto s = Clock::now();
        auto out = (*registry)->Execute(*c, v);
        latencies[t].push_back(Seconds(Clock::now() - s) * 1000);
        if (out.ok()) {
          ++done;
        } else {
          ++refused;
        }
        ++i;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double cmd_s = Seconds(Clock::now() - cmd_start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const double rate = done / cmd_s;
  std::printf(
      "commands (register vaccination, %d callers, durable): %.0f/s, refused %llu, p50 %.2f ms, "
      "p99 %.2f ms\nsingle-core signing rate: %.0f/s\nratio: %.2f x (target >= 0.6)\n",
      callers, rate, static_cast<unsigned long long>(refused.load()), Percentile(all, 50),
      Percentile(all, 99), sign_rate, rate / sign_rate);
  registry->reset();
  live_log->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace vaxledger::bench

int main(int argc, char** argv) { return vaxledger::bench::Main(argc, argv); }
