// What only a persistent storage has to show: the log survives a reopen.
#include "eventstore/rocksdb_storage.h"

#include <catch2/catch.hpp>

#include "eventstore/event_log.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

const NoteSigner& Signer() {
  static const NoteSigner signer("test.example/log", Ed25519Key::Generate());
  return signer;
}

std::unique_ptr<EventLog> OpenLog(const std::string& path, bool create) {
  RocksDbStorageOptions o;
  o.create_if_missing = create;
  auto storage = OpenRocksDbStorage(path, o);
  REQUIRE(storage.ok());
  auto log = EventLog::Open(std::move(storage).value(), Signer());
  REQUIRE(log.ok());
  return std::move(log).value();
}

TEST_CASE("the log, its chain and its indexes survive a reopen") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  AppendBatch first = testing::OneEvent("s", ExpectedVersion::NoStream());
  LogHead head;
  {
    auto log = OpenLog(path, true);
    REQUIRE(log->Append(first).ok());
    for (int i = 0; i < 9; ++i) REQUIRE(log->Append(testing::OneEvent("s")).ok());
    head = log->Head();
  }
  auto log = OpenLog(path, false);
  CHECK(log->Head().size == head.size);
  CHECK(log->Head().last_leaf_hash == head.last_leaf_hash);
  CHECK(log->Head().last_recorded_at_us == head.last_recorded_at_us);
  // Idempotency and stream versions come from storage now.
  auto again = log->Append(first);
  REQUIRE(again.ok());
  CHECK(again->already_stored);
  CHECK(again->events[0].position == 0);
  CHECK(*log->StreamVersion("s") == std::optional<uint64_t>(9));
  auto next = log->Append(testing::OneEvent("s", ExpectedVersion::Exactly(9)));
  REQUIRE(next.ok());
  CHECK(next->events[0].position == 10);
  auto events = log->Read(9, 2);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK((*events)[1].prev_leaf_hash == (*events)[0].leaf_hash);
  CHECK((*events)[0].leaf_hash == head.last_leaf_hash);
}

TEST_CASE("opening a directory without a database is refused unless asked to create one") {
  testing::TempDir dir;
  auto missing = OpenRocksDbStorage(dir.path() + "/nothing");
  CHECK(missing.status().code() == Code::kFailedPrecondition);
  RocksDbStorageOptions read_only;
  read_only.read_only = true;
  CHECK(OpenRocksDbStorage(dir.path() + "/nothing", read_only).status().code() ==
        Code::kFailedPrecondition);
}

TEST_CASE("a read-only storage reads beside a writer and refuses commits") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  auto log = OpenLog(path, true);
  REQUIRE(log->Append(testing::OneEvent("s")).ok());
  RocksDbStorageOptions o;
  o.read_only = true;
  auto reader = OpenRocksDbStorage(path, o);
  REQUIRE(reader.ok());
  CHECK(*(*reader)->RecordCount() == 1);
  CHECK_FALSE((*reader)->Commit(CommitBatch{}).ok());
}

}  // namespace
}  // namespace vaxledger::eventstore
