// A child process appends under load and is killed with SIGKILL at random moments, many times.
// After each kill: every acknowledged event is present at its position, positions have no gaps,
// and the whole log verifies.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <sstream>

#include "eventstore/event_log.h"
#include "eventstore/log_verifier.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "tests/common/child_process.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

// Reads whole lines "<position> <event id>" into `acked` until `target` lines have come (then
// returns true) or the pipe closes (false).
bool ReadAcks(int fd, std::string& buffer, std::map<std::string, Position>& acked, size_t target,
              size_t& count) {
  char chunk[4096];
  while (count < target) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::istringstream line(buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
      Position pos;
      std::string id;
      line >> pos >> id;
      acked[id] = pos;
      ++count;
    }
  }
  return true;
}

TEST_CASE("kill -9 at random moments loses no acknowledged event and leaves a log that verifies") {
  testing::TempDir dir;
  const std::string key = dir.path() + "/registry.key";
  const std::string db = dir.path() + "/db";
  auto signer = CreateRegistryKey(key, "crash.test/log");
  REQUIRE(signer.ok());
  {
    RocksDbStorageOptions create;
    create.create_if_missing = true;
    REQUIRE(OpenRocksDbStorage(db, create).ok());
  }

  std::mt19937 rng(Catch::rngSeed());
  std::map<std::string, Position> acked;  // over all rounds
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    // Round 0 and every fifth round kill before the first acknowledgement (during open or
    // recovery).
    const size_t target = round % 5 == 0 ? 0 : std::uniform_int_distribution<size_t>(1, 1500)(rng);
    vaxledger::testing::ChildProcess child({VX_CRASH_CHILD, key, db, "8"});
    std::string buffer;
    size_t count = 0;
    bool alive = ReadAcks(child.out(), buffer, acked, target, count);
    INFO("round " << round << ", kill after " << target << " acknowledgements");
    REQUIRE(alive);  // the child must not die on its own
    REQUIRE(::kill(child.pid(), SIGKILL) == 0);
    // Lines already written before the kill were acknowledged too: drain them.
    (void)ReadAcks(child.out(), buffer, acked, SIZE_MAX, count);
    int wstatus = child.Wait();
    REQUIRE(WIFSIGNALED(wstatus));
    CHECK(WTERMSIG(wstatus) == SIGKILL);

    auto storage = OpenRocksDbStorage(db);
    REQUIRE(storage.ok());
    auto size = (*storage)->RecordCount();
    REQUIRE(size.ok());
    for (const auto& [id_text, pos] : acked) {
      auto id = EventId::Parse(id_text);
      REQUIRE(id.ok());
      auto found = (*storage)->FindEventId(*id);
      REQUIRE(found.ok());
      REQUIRE(*found == std::optional<Position>(pos));
      REQUIRE(pos < *size);
    }
    auto report = VerifyLog(**storage, {signer->verifier()});
    REQUIRE(report.ok());
    INFO(report->reason);
    REQUIRE(report->ok());
    CHECK(report->verified == *size);
    // The log opens for appending again (head, chain), and the checkpoint file the child wrote
    // before each acknowledgement is never ahead of what survived the kill.
    EventLogOptions log_options;
    log_options.checkpoint_file = db + ".checkpoint";
    auto log = EventLog::Open(std::move(storage).value(), *signer, log_options);
    INFO(log.status().ToString());
    REQUIRE(log.ok());
    CHECK((*log)->Head().size == *size);
  }
  CHECK(acked.size() > 1000);
}

}  // namespace
}  // namespace vaxledger::eventstore
