// bench/append: events/s and latency of durable appends (sync=true) with 1, 8 and 64 concurrent
// appenders of ~300-byte events, next to the single-core Ed25519 signing rate of this machine
// measured in the same run.
//
//   build/bench/append_bench [--seconds S] [--dir DIR] [--appenders N] [--signing-threads T]
//                            [--checkpoint-file 1] [--personal 1] [--rounds R]
//
// --personal 1 (issue 16, the cost of sealing personal data): every event also carries a
// personal part, the Personal table of an INSZ, a name and a birth date
// (projections::EncodePersonalData, ~80 bytes), about one of 4,096 patients whose subjects are
// in a real key store (eventstore::KeyStore in DIR-keys on the same disk, built on /dev/shm and
// installed there: bench/staged_key_store.h). For each number of appenders it runs, R times
// alternately (default 3), S seconds each:
//   plain    the Personal table's bytes as they are (no key looked up)
//   padded   the same bytes and 41 more (the sealed size), no key looked up: what the size costs
//   sealed   KeyStore::Key(subject) and SealPersonal (core/personal_cipher.h) per event, as
//            projections::ToNewEvent does: 41 bytes more per leaf
// (each round in another order) and prints the mean rates, sealed / plain and sealed / padded
// (of the means, and the median of the rounds' own ratios),
// and the process's CPU time per event (every thread: signing, RocksDB, sealing), which the
// shared machine's noise disturbs less than the rates. Then one run of
//   new      a new subject per event (KeyStore::Pseudonym: one synced write) before sealing,
//            what a patient's first registration costs
// and, on one core, the time of Key + SealPersonal alone per event.
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "bench/bench_util.h"
#include "bench/staged_key_store.h"
#include "core/personal_cipher.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/payload_codec.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;
using namespace vaxledger::bench;

namespace {

struct Run {
  double events_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t events = 0;
  size_t leaf_bytes = 0;
  double cpu_us_per_event = 0;  // the whole process's CPU time (every thread) per event
};

double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

// What each event carries besides its payload (--personal).
enum class Personal { kNone, kPlain, kPadded, kSealed, kNewSubject };
const char* Name(Personal p) {
  switch (p) {
    case Personal::kNone:
      return "none";
    case Personal::kPlain:
      return "plain";
    case Personal::kPadded:
      return "padded";
    case Personal::kSealed:
      return "sealed";
    case Personal::kNewSubject:
      return "new";
  }
  return "?";
}

// The patients of --personal: their subjects in a key store, and one Personal table.
struct Patients {
  std::unique_ptr<KeyStore> store;
  std::vector<std::string> subjects;
  std::string personal;  // the Personal table's bytes (the same for every event)
  std::atomic<uint64_t> next_new{0};
};

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Adds the personal part of `p` to `e`, about the `i`-th patient.
void AddPersonal(Personal p, Patients* all, uint64_t i, NewEvent& e) {
  if (p == Personal::kNone) return;
  Patients& patients = *all;
  if (p == Personal::kNewSubject) {
    char identifier[24];
    std::snprintf(identifier, sizeof identifier, "9%010llu",
                  static_cast<unsigned long long>(patients.next_new++));
    auto made = patients.store->Pseudonym("patient", identifier);
    Check(made.status(), "new subject");
    e.data_subject = *std::move(made);
  } else {
    e.data_subject = patients.subjects[i % patients.subjects.size()];
  }
  e.stream = "patient:" + e.data_subject;
  if (p == Personal::kPlain) {
    e.personal_data = patients.personal;
    return;
  }
  if (p == Personal::kPadded) {  // the sealed size, without the key or the cipher
    e.personal_data = patients.personal;
    e.personal_data.append(kSealedOverhead, '\x5a');
    return;
  }
  auto key = patients.store->Key(e.data_subject);
  Check(key.status(), "key");
  if (!*key) Check(DataLoss("no key for " + e.data_subject), "key");
  auto sealed = SealPersonal(**key, ByteView(e.event_id.bytes.data(), e.event_id.bytes.size()),
                             e.data_subject, AsBytes(patients.personal));
  Check(sealed.status(), "seal");
  e.personal_data = *std::move(sealed);
}

// Makes `count` patients in a key store at `dir` (staged on /dev/shm) and opens it there.
std::unique_ptr<Patients> MakePatients(const std::string& dir, int count) {
  std::filesystem::remove_all(dir);
  const PseudonymKey key = Pseudonymizer::GenerateKey();
  auto patients = std::make_unique<Patients>();
  {
    auto staged = StagedKeyStore::Open(dir, key);
    Check(staged.status(), "key store");
    auto store = (*staged)->store();
    for (int i = 0; i < count; ++i) {
      char identifier[24];
      std::snprintf(identifier, sizeof identifier, "8%010d", i);
      auto made = store->Pseudonym("patient", identifier);
      Check(made.status(), "subject");
      patients->subjects.push_back(*std::move(made));
    }
    store.reset();
    Check((*staged)->Install(), "install key store");
  }
  auto store = KeyStore::Open(dir, key);
  Check(store.status(), "key store");
  patients->store = std::move(store).value();
  auto personal = projections::EncodePersonalData(
      {{"insz", "85073003328"}, {"name", "Jan Janssens"}, {"birth_date", "1985-07-30"}});
  Check(personal.status(), "personal data");
  patients->personal = *std::move(personal);
  return patients;
}

size_t g_signing_threads = 0;
bool g_checkpoint_file =
    false;  // --checkpoint-file 1: as OpenDataDir runs it (a sync more per commit)

Run RunAppenders(const std::string& dir, int appenders, double seconds, const NoteSigner& signer,
                 Personal personal = Personal::kNone, Patients* patients = nullptr) {
  std::filesystem::remove_all(dir);
  RocksDbStorageOptions o;
  o.create_if_missing = true;
  auto storage = OpenRocksDbStorage(dir, o);
  if (!storage.ok()) {
    std::fprintf(stderr, "%s\n", storage.status().ToString().c_str());
    std::exit(1);
  }
  EventLogOptions options;
  options.signing_threads = g_signing_threads;
  if (g_checkpoint_file) {
    std::filesystem::remove(dir + ".checkpoint");
    options.checkpoint_file = dir + ".checkpoint";
  }
  auto log = EventLog::Open(std::move(storage).value(), signer, options);
  if (!log.ok()) std::exit(1);

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> total{0};
  const double cpu_start = ProcessCpuSeconds();
  auto start = Clock::now();
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> mine;
      const std::string stream = "patient:" + std::to_string(t);
      // A realistic vaccination-sized payload: the whole leaf comes to about 300 bytes.
      const std::string payload = R"({"product":"EU/1/20/1528","lot":"FK1234","dose":2})";
      uint64_t i = static_cast<uint64_t>(t) * 7919;
      while (!stop.load(std::memory_order_relaxed)) {
        AppendBatch b;
        NewEvent e;
        e.event_id = EventId::Random();
        e.stream = stream;
        e.type = "vaccination.registered";
        e.actor = {"p:4f8e2a", "physician"};
        e.entity = "entity:1234";
        e.payload = payload;
        auto t0 = Clock::now();
        AddPersonal(personal, patients, i++, e);  // timed: sealing is part of the append
        b.events.push_back(std::move(e));
        auto r = (*log)->Append(b);
        if (!r.ok()) {
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
        mine.push_back(Seconds(Clock::now() - t0) * 1000);
      }
      total += mine.size();
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  while (Seconds(Clock::now() - start) < seconds)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = Seconds(Clock::now() - start);
  const double cpu = ProcessCpuSeconds() - cpu_start;
  Run run;
  run.events = total;
  run.cpu_us_per_event = total ? cpu / total * 1e6 : 0;
  run.events_per_s = total / elapsed;
  run.p50_ms = Percentile(latencies, 50);
  run.p99_ms = Percentile(latencies, 99);
  auto first = (*log)->Read(0, 1);
  if (first.ok() && !first->empty()) run.leaf_bytes = first->front().leaf.size();
  return run;
}

// --personal: plain against sealed, alternately, for each number of appenders.
int PersonalMain(const std::string& dir, const std::vector<int>& counts, double seconds, int rounds,
                 const NoteSigner& signer) {
  const std::string keys_dir = dir + "-keys";
  auto patients = MakePatients(keys_dir, 4096);
  std::printf(
      "personal part: the Personal table, %zu bytes plain, %zu sealed; %zu patients in a "
      "KeyStore at %s\n",
      patients->personal.size(), patients->personal.size() + kSealedOverhead,
      patients->subjects.size(), keys_dir.c_str());
  {
    // Key + SealPersonal alone, one core: what sealing adds to each event's CPU time.
    const int n = 200000;
    std::string sink;
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
      NewEvent e;
      e.event_id = EventId::Random();
      AddPersonal(Personal::kSealed, patients.get(), static_cast<uint64_t>(i) * 7919, e);
      sink = std::move(e.personal_data);
    }
    const double with = Seconds(Clock::now() - start);
    const auto start2 = Clock::now();
    for (int i = 0; i < n; ++i) {
      NewEvent e;
      e.event_id = EventId::Random();
      AddPersonal(Personal::kPlain, patients.get(), static_cast<uint64_t>(i) * 7919, e);
      sink = std::move(e.personal_data);
    }
    const double without = Seconds(Clock::now() - start2);
    std::printf(
        "one core, %d events: Key + SealPersonal %.2f us/event (the plain event's fields: %.2f "
        "us/event)\n",
        n, (with - without) / n * 1e6, without / n * 1e6);
  }
  // Key and SealPersonal apart, from 1 and from 64 threads at once: the process's CPU time per
  // call (contention shows as more CPU per call with more threads).
  for (int threads : {1, 64}) {
    const int per_thread = 200000 / threads;
    auto measure = [&](auto&& op) {
      const double cpu0 = ProcessCpuSeconds();
      const auto t0 = Clock::now();
      std::vector<std::thread> running;
      for (int t = 0; t < threads; ++t) {
        running.emplace_back([&, t] {
          for (int i = 0; i < per_thread; ++i) op(static_cast<uint64_t>(t) * 7919 + i);
        });
      }
      for (auto& t : running) t.join();
      const double calls = static_cast<double>(per_thread) * threads;
      return std::pair{(ProcessCpuSeconds() - cpu0) / calls * 1e6,
                       Seconds(Clock::now() - t0) / calls * 1e6};
    };
    const auto key = measure([&](uint64_t i) {
      auto k = patients->store->Key(patients->subjects[i % patients->subjects.size()]);
      Check(k.status(), "key");
    });
    DataKey data_key{};
    const EventId id = EventId::Random();
    const auto seal = measure([&](uint64_t i) {
      auto sealed = SealPersonal(data_key, ByteView(id.bytes.data(), id.bytes.size()),
                                 patients->subjects[i % patients->subjects.size()],
                                 AsBytes(patients->personal));
      Check(sealed.status(), "seal");
    });
    std::printf(
        "%d thread(s): Key %.2f us CPU per call (%.2f us wall), SealPersonal %.2f us CPU (%.2f "
        "us wall)\n",
        threads, key.first, key.second, seal.first, seal.second);
  }
  std::printf("%-10s %-7s %12s %10s %10s %10s %11s %10s\n", "appenders", "mode", "events/s",
              "p50 ms", "p99 ms", "events", "leaf bytes", "CPU us/ev");
  auto print = [](int appenders, Personal p, const Run& r) {
    std::printf("%-10d %-7s %12.0f %10.3f %10.3f %10lu %11zu %10.1f\n", appenders, Name(p),
                r.events_per_s, r.p50_ms, r.p99_ms, static_cast<unsigned long>(r.events),
                r.leaf_bytes, r.cpu_us_per_event);
    std::fflush(stdout);
  };
  const Personal modes[] = {Personal::kPlain, Personal::kPadded, Personal::kSealed};
  for (int appenders : counts) {
    double rate[3] = {0, 0, 0}, cpu[3] = {0, 0, 0};
    std::vector<double> to_plain, to_padded;  // sealed / plain and sealed / padded, per round
    for (int round = 0; round < rounds; ++round) {
      double this_round[3] = {0, 0, 0};
      for (int m = 0; m < 3; ++m) {
        // Each round starts with another mode, so that none always follows the same one.
        const int k = (m + round) % 3;
        Run r = RunAppenders(dir, appenders, seconds, signer, modes[k], patients.get());
        print(appenders, modes[k], r);
        rate[k] += r.events_per_s / rounds;
        cpu[k] += r.cpu_us_per_event / rounds;
        this_round[k] = r.events_per_s;
      }
      to_plain.push_back(this_round[2] / this_round[0]);
      to_padded.push_back(this_round[2] / this_round[1]);
    }
    std::printf("%-10d median of the rounds' ratios: sealed / plain %.3f, sealed / padded %.3f\n",
                appenders, Percentile(to_plain, 50), Percentile(to_padded, 50));
    std::printf(
        "%-10d mean of %d rounds: plain %.0f, padded %.0f, sealed %.0f events/s; sealed / plain "
        "%.3f, sealed / padded %.3f; CPU us/event plain %.1f, padded %.1f, sealed %.1f\n",
        appenders, rounds, rate[0], rate[1], rate[2], rate[2] / rate[0], rate[2] / rate[1], cpu[0],
        cpu[1], cpu[2]);
    print(appenders, Personal::kNewSubject,
          RunAppenders(dir, appenders, seconds, signer, Personal::kNewSubject, patients.get()));
  }
  patients.reset();
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".checkpoint");
  std::filesystem::remove_all(keys_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::vector<int> counts = {1, 8, 64};
  bool personal = false;
  int rounds = 3;
  std::string dir = (std::filesystem::temp_directory_path() / "vaxledger-bench-append").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--appenders")) counts = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--signing-threads")) g_signing_threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--checkpoint-file")) g_checkpoint_file = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--personal")) personal = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  NoteSigner signer("bench.example/log", Ed25519Key::Generate());
  if (personal) return PersonalMain(dir, counts, seconds, rounds, signer);
  double sign_rate = SignRate(2.0);
  std::printf("baseline: crypto_sign_detached, one core: %.0f signatures/s\n", sign_rate);
  std::printf("%-10s %12s %10s %10s %12s %10s %11s\n", "appenders", "events/s", "p50 ms", "p99 ms",
              "x sign rate", "events", "leaf bytes");
  for (int appenders : counts) {
    Run r = RunAppenders(dir, appenders, seconds, signer);
    std::printf("%-10d %12.0f %10.3f %10.3f %12.2f %10lu %11zu\n", appenders, r.events_per_s,
                r.p50_ms, r.p99_ms, r.events_per_s / sign_rate,
                static_cast<unsigned long>(r.events), r.leaf_bytes);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".checkpoint");
}
