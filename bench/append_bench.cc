// bench/append: events/s and latency of durable appends (sync=true) with 1, 8 and 64 concurrent
// appenders of ~300-byte events, next to the single-core Ed25519 signing rate of this machine
// measured in the same run.
//
//   build/bench/append_bench [--seconds S] [--dir DIR] [--appenders N] [--signing-threads T]
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "bench/bench_util.h"
#include "eventstore/event_log.h"
#include "eventstore/rocksdb_storage.h"

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
};

size_t g_signing_threads = 0;
bool g_checkpoint_file =
    false;  // --checkpoint-file 1: as OpenDataDir runs it (a sync more per commit)

Run RunAppenders(const std::string& dir, int appenders, double seconds, const NoteSigner& signer) {
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
  auto start = Clock::now();
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> mine;
      const std::string stream = "patient:" + std::to_string(t);
      // A realistic vaccination-sized payload: the whole leaf comes to about 300 bytes.
      const std::string payload = R"({"product":"EU/1/20/1528","lot":"FK1234","dose":2})";
      while (!stop.load(std::memory_order_relaxed)) {
        AppendBatch b;
        NewEvent e;
        e.event_id = EventId::Random();
        e.stream = stream;
        e.type = "vaccination.registered";
        e.actor = {"p:4f8e2a", "physician"};
        e.entity = "entity:1234";
        e.payload = payload;
        b.events.push_back(std::move(e));
        auto t0 = Clock::now();
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
  Run run;
  run.events = total;
  run.events_per_s = total / elapsed;
  run.p50_ms = Percentile(latencies, 50);
  run.p99_ms = Percentile(latencies, 99);
  auto first = (*log)->Read(0, 1);
  if (first.ok() && !first->empty()) run.leaf_bytes = first->front().leaf.size();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::vector<int> counts = {1, 8, 64};
  std::string dir = (std::filesystem::temp_directory_path() / "vaxledger-bench-append").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--appenders")) counts = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--signing-threads")) g_signing_threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--checkpoint-file")) g_checkpoint_file = std::atoi(argv[i + 1]) != 0;
  }
  NoteSigner signer("bench.example/log", Ed25519Key::Generate());
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
