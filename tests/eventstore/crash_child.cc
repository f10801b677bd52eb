// The child process of crash_test: opens the log in DB with the key in KEY and appends from
// several threads until it is killed. After each acknowledged append it writes one line to
// stdout, "<position> <event id>", with write(2) so that nothing waits in a buffer.
//
//   crash_child KEY DB THREADS
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/event_log.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_child KEY DB THREADS\n");
    return 2;
  }
  auto signer = LoadRegistryKey(argv[1]);
  if (!signer.ok()) {
    std::fprintf(stderr, "%s\n", signer.status().ToString().c_str());
    return 2;
  }
  RocksDbStorageOptions options;
  options.create_if_missing = true;
  auto storage = OpenRocksDbStorage(argv[2], options);
  if (!storage.ok()) {
    std::fprintf(stderr, "%s\n", storage.status().ToString().c_str());
    return 2;
  }
  EventLogOptions log_options;
  log_options.checkpoint_file = std::string(argv[2]) + ".checkpoint";
  auto log = EventLog::Open(std::move(storage).value(), std::move(signer).value(), log_options);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 2;
  }
  std::mutex out_mu;
  std::vector<std::thread> threads;
  const int n = std::atoi(argv[3]);
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        AppendBatch batch;
        NewEvent e;
        e.event_id = EventId::Random();
        e.stream = "crash-" + std::to_string(t % 4);
        e.type = "crash.test";
        e.actor = {"crash-child", "system"};
        e.payload = std::string(200 + (i % 100), 'x');
        batch.events.push_back(e);
        auto r = (*log)->Append(batch);
        if (!r.ok()) {
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          std::_Exit(3);
        }
        std::string line =
            std::to_string(r->events[0].position) + " " + e.event_id.ToString() + "\n";
        std::lock_guard lock(out_mu);
        if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          std::_Exit(4);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}
