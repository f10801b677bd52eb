// EventLog behaviour that is not about the storage behind it: commits the storage refuses
// (a full disk), and the checkpoint file.
#include "eventstore/event_log.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <future>
#include <vector>

#include "eventstore/checkpoint_file.h"
#include "eventstore/log_verifier.h"
#include "eventstore/memory_storage.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

using testing::OneEvent;
using testing::TestSigner;

TEST_CASE("a commit the storage refuses fails its append; the log carries on from its head") {
  auto storage = std::make_unique<MemoryStorage>();
  MemoryStorage* raw = storage.get();
  auto log = EventLog::Open(std::move(storage), TestSigner());
  REQUIRE(log.ok());
  REQUIRE((*log)->Append(OneEvent("s")).ok());
  raw->RefuseNextCommits(1);
  CHECK((*log)->WriteStatus().code() == Code::kResourceExhausted);
  auto refused = (*log)->Append(OneEvent("s"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::Contains("nothing written"));
  CHECK((*log)->WriteStatus().ok());  // unlike a failed commit, a refusal does not stop the log
  auto next = (*log)->Append(OneEvent("s", ExpectedVersion::Exactly(0)));
  REQUIRE(next.ok());
  CHECK(next->events[0].position == 1);        // the refused event took no position
  CHECK(next->events[0].stream_version == 1);  // nor a stream version
  auto report = VerifyLog((*log)->storage(), {TestSigner().verifier()});
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK(report->verified == 2);
}

TEST_CASE("appends decided while a refused commit was in flight never leave a gap or a fork") {
  for (int round = 0; round < 20; ++round) {
    auto storage = std::make_unique<MemoryStorage>();
    MemoryStorage* raw = storage.get();
    auto log = EventLog::Open(std::move(storage), TestSigner());
    REQUIRE(log.ok());
    raw->HoldCommits(true);
    auto first = std::async(std::launch::async, [&] { return (*log)->Append(OneEvent("s")); });
    raw->WaitForCommitsEntered(1);
    // While the first commit is held, more appends are decided on top of it.
    std::vector<std::future<Result<AppendResult>>> more;
    for (int i = 0; i < 4; ++i) {
      more.push_back(std::async(std::launch::async, [&] { return (*log)->Append(OneEvent("s")); }));
    }
    raw->RefuseNextCommits(1);
    raw->HoldCommits(false);
    CHECK_FALSE(first.get().ok());
    std::vector<Position> acknowledged;
    for (auto& f : more) {
      auto r = f.get();
      if (r.ok()) acknowledged.push_back(r->events[0].position);
    }
    auto last = (*log)->Append(OneEvent("s"));
    REQUIRE(last.ok());
    acknowledged.push_back(last->events[0].position);
    std::sort(acknowledged.begin(), acknowledged.end());
    for (size_t i = 0; i < acknowledged.size(); ++i) CHECK(acknowledged[i] == i);
    CHECK((*log)->Size() == acknowledged.size());
    auto report = VerifyLog((*log)->storage(), {TestSigner().verifier()});
    REQUIRE(report.ok());
    INFO(report->reason << report->checkpoint_problem);
    CHECK(report->ok());
  }
}

TEST_CASE("a refused key rotation leaves the old key in force") {
  auto storage = std::make_unique<MemoryStorage>();
  MemoryStorage* raw = storage.get();
  auto log = EventLog::Open(std::move(storage), TestSigner());
  REQUIRE(log.ok());
  REQUIRE((*log)->Append(OneEvent("s")).ok());
  NoteSigner next(TestSigner().name(), Ed25519Key::Generate());
  raw->RefuseNextCommits(1);
  CHECK_FALSE((*log)->RotateKey(next).ok());
  REQUIRE((*log)->Append(OneEvent("s")).ok());
  CHECK((*log)->Head().key.ToText() == TestSigner().verifier().ToText());
  auto report = VerifyLog((*log)->storage(), {TestSigner().verifier()});
  REQUIRE(report.ok());
  CHECK(report->ok());
}

TEST_CASE("every acknowledged commit is in the checkpoint file first") {
  testing::TempDir dir;
  EventLogOptions options;
  options.checkpoint_file = dir.path() + "/checkpoint";
  auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner(), options);
  REQUIRE(log.ok());
  for (int i = 0; i < 3; ++i) {
    REQUIRE((*log)->Append(OneEvent("s")).ok());
    auto written = CheckpointFile::ReadLatest(options.checkpoint_file);
    REQUIRE(written.ok());
    CHECK(*written == std::optional<std::string>((*log)->Head().checkpoint));
  }
}

TEST_CASE("a log shorter than its checkpoint file, or with other leaves, is refused") {
  testing::TempDir dir;
  EventLogOptions options;
  options.checkpoint_file = dir.path() + "/checkpoint";
  {
    auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner(), options);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(OneEvent("s")).ok());
  }
  auto shorter = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner(), options);
  CHECK(shorter.status().code() == Code::kDataLoss);
  CHECK_THAT(shorter.status().message(), Catch::Contains("positions 0..0 are missing"));
  // Another log of the same key, longer: its first leaf is not the acknowledged one.
  const std::string other = dir.path() + "/other";
  {
    auto log = testing::OpenRocksDbLog(other, true);
    REQUIRE(log->Append(OneEvent("s")).ok());
    REQUIRE(log->Append(OneEvent("s")).ok());
  }
  auto storage = OpenRocksDbStorage(other);
  REQUIRE(storage.ok());
  auto forked = EventLog::Open(std::move(storage).value(), TestSigner(), options);
  CHECK(forked.status().code() == Code::kDataLoss);
  CHECK_THAT(forked.status().message(), Catch::Contains("not those the log acknowledged"));
}

}  // namespace
}  // namespace vaxledger::eventstore
