// bench/verify: `vaxledger ledger verify` on a log of N events (default 1,000,000), next to the
// single-core crypto_sign_verify_detached rate measured in the same run. The target is
// events/s >= 0.8 x (2 x that rate) on a 2-core machine.
//
//   build/bench/verify_bench --vaxledger build/tools/vaxledger [--events N] [--dir DIR]
//
// DIR is kept between runs; a log of the right size there is reused instead of generated again.
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "eventstore/event_log.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;
using namespace vaxledger::bench;

namespace {

// Writes a data directory (registry.key + log/) of `events` events, as `vaxledger init` lays it
// out. Appends without sync: durability is not what this benchmark measures.
void Generate(const std::string& dir, uint64_t events) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // A data directory is private (tools::CheckPrivateDataDir refuses one others may enter).
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  auto signer = CreateRegistryKey(dir + "/registry.key", "bench.example/log");
  RocksDbStorageOptions o;
  o.create_if_missing = true;
  o.sync = false;
  auto storage = OpenRocksDbStorage(dir + "/log", o);
  if (!signer.ok() || !storage.ok()) std::exit(1);
  auto log = EventLog::Open(std::move(storage).value(), *signer);
  if (!log.ok()) std::exit(1);
  const int kThreads = 4;
  const uint64_t per_thread = events / kThreads;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t n = per_thread + (t == 0 ? events % kThreads : 0);
      for (uint64_t done = 0; done < n;) {
        AppendBatch b;
        for (uint64_t i = 0; i < 500 && done + i < n; ++i) {
          NewEvent e;
          e.event_id = EventId::Random();
          e.stream = "patient:" + std::to_string((done + i) * kThreads + t);
          e.type = "vaccination.registered";
          e.actor = {"p:4f8e2a", "physician"};
          e.entity = "entity:" + std::to_string(t);
          e.payload = R"({"product":"EU/1/20/1528","lot":"FK1234","dose":2})";
          b.events.push_back(std::move(e));
        }
        if (!(*log)->Append(b).ok()) std::exit(1);
        done += b.events.size();
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 1'000'000;
  std::string dir = (std::filesystem::temp_directory_path() / "vaxledger-bench-verify").string();
  std::string vaxledger = "build/tools/vaxledger";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--vaxledger")) vaxledger = argv[i + 1];
  }
  bool reuse = false;
  {
    RocksDbStorageOptions o;
    o.read_only = true;
    auto storage = OpenRocksDbStorage(dir + "/log", o);
    reuse = storage.ok() && *(*storage)->RecordCount() == events;
  }
  if (!reuse) {
    auto t0 = Clock::now();
    Generate(dir, events);
    std::printf("generated %lu events in %.1f s\n", static_cast<unsigned long>(events),
                Seconds(Clock::now() - t0));
  }
  double verify_rate = VerifyRate(2.0);
  std::printf("baseline: crypto_sign_verify_detached, one core: %.0f verifications/s\n",
              verify_rate);
  std::fflush(stdout);
  std::string cmd = vaxledger + " ledger verify --data " + dir;
  auto t0 = Clock::now();
  int rc = std::system(cmd.c_str());
  double seconds = Seconds(Clock::now() - t0);
  if (rc != 0) {
    std::printf("verify failed: exit status %d\n", WEXITSTATUS(rc));
    return 1;
  }
  double rate = events / seconds;
  std::printf(
      "vaxledger ledger verify: %lu events in %.2f s = %.0f events/s = %.2f x (2 x baseline)\n",
      static_cast<unsigned long>(events), seconds, rate, rate / (2 * verify_rate));

  // Offline: export once, then verify the export file with the registry's verifier key.
  const std::string file = dir + ".export";
  auto key = LoadRegistryKey(dir + "/registry.key");
  if (!key.ok()) return 1;
  t0 = Clock::now();
  const std::string export_cmd = vaxledger + " ledger export --data " + dir + " --out " + file;
  if (std::system((export_cmd + " > /dev/null").c_str()) != 0) {
    std::printf("export failed\n");
    return 1;
  }
  std::printf("vaxledger ledger export: %.2f s, %.0f MB\n", Seconds(Clock::now() - t0),
              std::filesystem::file_size(file) / 1e6);
  std::fflush(stdout);
  t0 = Clock::now();
  rc = std::system(
      (vaxledger + " ledger verify --export " + file + " --vkey " + key->verifier().ToText())
          .c_str());
  seconds = Seconds(Clock::now() - t0);
  if (rc != 0) {
    std::printf("offline verify failed: exit status %d\n", WEXITSTATUS(rc));
    return 1;
  }
  rate = events / seconds;
  std::printf(
      "vaxledger ledger verify --export: %lu events in %.2f s = %.0f events/s = %.2f x (2 x "
      "baseline)\n",
      static_cast<unsigned long>(events), seconds, rate, rate / (2 * verify_rate));
  std::filesystem::remove(file);
}
