// bench/read_trail: how many patient reads the read trail records per second, and how many
// signed events it appends for them (issue 12, "The read trail without a signature per read"),
// next to what one event per read allowed, measured in the same run on the same durable log.
//
//   read_trail_bench [--seconds S] [--readers R] [--dir DIR]     (defaults 3 s, 64 readers)
//
// 1. Baseline, the earlier design: one `patient.read` event per read, appended by one thread in
//    batches of 1000 (as the earlier ReadRecorder did) for S seconds: reads/s = events/s.
// 2. ReadRecorder (default options: 100 ms windows, 1000 reads per event at most, 100000 queued):
//    R reader threads, each one reader (its own person), call Record in a loop for S seconds;
//    a refused read (Unavailable: the queue is full) is counted and the reader tries again
//    1 ms later (a client answered 503; readers spinning on refusals would starve the
//    appender of the 2 cores). The
//    recorder is then destroyed (which appends what is queued), and the log is read back: every
//    accepted read must be in exactly one event.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "core/registry_state.h"
#include "eventstore/event_log.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/payload_codec.h"
#include "projections/read_recorder.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;
using namespace vaxledger::bench;

namespace {

std::unique_ptr<EventLog> OpenLog(const std::string& dir, const NoteSigner& signer) {
  std::filesystem::remove_all(dir);
  RocksDbStorageOptions o;
  o.create_if_missing = true;
  auto storage = OpenRocksDbStorage(dir, o);
  if (!storage.ok()) {
    std::fprintf(stderr, "%s\n", storage.status().ToString().c_str());
    std::exit(1);
  }
  auto log = EventLog::Open(std::move(storage).value(), signer);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(log).value();
}

std::string Hex32(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(n * 0x9E3779B97F4A7C15ULL));
  return buf;
}

// One event per read, appended in batches of 1000 by one thread.
double OneEventPerRead(const std::string& dir, const NoteSigner& signer, double seconds) {
  auto log = OpenLog(dir, signer);
  uint64_t reads = 0;
  const auto start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds) {
    AppendBatch batch;
    for (int i = 0; i < 1000; ++i, ++reads) {
      NewEvent e;
      e.event_id = EventId::Random();
      const std::string patient = Hex32(reads % 100000);
      e.stream = "reads:" + patient;
      e.type = event_type::kPatientRead;
      e.actor = {Hex32(1000000 + reads % 64), "physician"};
      e.entity = "demo-linde";
      e.payload = nlohmann::json{{"patient", patient}}.dump();
      batch.events.push_back(std::move(e));
    }
    if (!log->Append(batch).ok()) std::exit(1);
  }
  return reads / Seconds(Clock::now() - start);
}

struct TrailRun {
  double accepted_per_s = 0;
  uint64_t accepted = 0, refused = 0, events = 0, in_events = 0;
  double events_per_s = 0;
};

TrailRun Recorder(const std::string& dir, const NoteSigner& signer, int readers, double seconds) {
  auto log = OpenLog(dir, signer);
  TrailRun run;
  std::atomic<uint64_t> accepted{0}, refused{0};
  double elapsed = 0;
  {
    projections::ReadRecorder recorder(*log);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int r = 0; r < readers; ++r) {
      threads.emplace_back([&, r] {
        Caller caller;
        caller.person = Hex32(1000000 + r);
        caller.entity = "demo-linde";
        uint64_t ok = 0, no = 0;
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          const std::string patient = Hex32((i * 64 + r) % 100000);
          if (recorder.Record(caller, "physician", "", patient).ok()) {
            ++ok;
          } else {
            ++no;  // as a client answered 503 would, it tries again a little later
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
        accepted += ok;
        refused += no;
      });
    }
    while (Seconds(Clock::now() - start) < seconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the bench's timer
    }
    stop = true;
    for (auto& t : threads) t.join();
    elapsed = Seconds(Clock::now() - start);
  }  // the recorder appends what is queued
  run.accepted = accepted;
  run.refused = refused;
  run.events = log->Size();
  for (Position at = 0; at < log->Size(); at += 1000) {
    auto events = log->Read(at, 1000);
    if (!events.ok()) std::exit(1);
    for (const RecordedEvent& e : *events) {
      // The recorder's payloads are tables (projections/payload_codec.h).
      auto payload = projections::DecodePayload(e.event.type, AsBytes(e.event.payload));
      if (!payload.ok()) {
        std::fprintf(stderr, "payload: %s\n", payload.status().ToString().c_str());
        std::exit(1);
      }
      run.in_events += (*payload)["reads"].size();
    }
  }
  run.accepted_per_s = run.accepted / elapsed;
  run.events_per_s = run.events / elapsed;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int readers = 64;
  std::string dir = (std::filesystem::temp_directory_path() / "vaxledger-bench-reads").string();
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--readers") == 0 && i + 1 < argc) {
      readers = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: read_trail_bench [--seconds S] [--readers R] [--dir DIR]\n");
      return 2;
    }
  }
  NoteSigner signer("bench.example/log", Ed25519Key::Generate());
  std::printf("baseline: crypto_sign_detached, one core: %.0f signatures/s\n", SignRate(1.0));
  const double old_rate = OneEventPerRead(dir, signer, seconds);
  std::printf("one patient.read event per read (batches of 1000): %.0f reads/s = %.0f events/s\n",
              old_rate, old_rate);
  const TrailRun run = Recorder(dir, signer, readers, seconds);
  std::printf(
      "ReadRecorder, %d readers, 100 ms windows: %.0f reads/s recorded, %.0f events/s "
      "(%llu reads in %llu events, %.0f reads per event), %llu refused (queue full)\n",
      readers, run.accepted_per_s, run.events_per_s, static_cast<unsigned long long>(run.accepted),
      static_cast<unsigned long long>(run.events),
      run.events ? static_cast<double>(run.accepted) / run.events : 0.0,
      static_cast<unsigned long long>(run.refused));
  std::printf("recorded reads vs one event per read: %.1f x\n", run.accepted_per_s / old_rate);
  std::filesystem::remove_all(dir);
  if (run.in_events != run.accepted) {
    std::fprintf(stderr, "the log holds %llu reads, %llu were accepted\n",
                 static_cast<unsigned long long>(run.in_events),
                 static_cast<unsigned long long>(run.accepted));
    return 1;
  }
  return 0;
}
