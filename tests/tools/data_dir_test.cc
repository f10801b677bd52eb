#include "tools/data_dir.h"

#include <sys/stat.h>
#include <catch2/catch.hpp>
#include <filesystem>

#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "tests/eventstore/raw_rocksdb.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::tools {
namespace {

using eventstore::testing::TempDir;

TEST_CASE("a rotation interrupted before its event committed is undone at the next open") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  std::string first;
  {
    auto log = InitDataDir(dir, "test.example/registry");
    REQUIRE(log.ok());
    first = (*log)->Head().key.ToText();
  }
  REQUIRE(eventstore::CreateRegistryKey(KeyPath(dir) + ".next", "test.example/registry").ok());
  auto log = OpenDataDir(dir);
  REQUIRE(log.ok());
  CHECK((*log)->Head().key.ToText() == first);
  CHECK_FALSE(std::filesystem::exists(KeyPath(dir) + ".next"));
}

TEST_CASE("a rotation interrupted after its event committed is finished at the next open") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  { REQUIRE(InitDataDir(dir, "test.example/registry").ok()); }
  // Do by hand what RotateRegistryKey does, and stop before the rename.
  auto next = eventstore::CreateRegistryKey(KeyPath(dir) + ".next", "test.example/registry");
  REQUIRE(next.ok());
  {
    auto old_key = eventstore::LoadRegistryKey(KeyPath(dir));
    REQUIRE(old_key.ok());
    auto storage = eventstore::OpenRocksDbStorage(LogPath(dir));
    REQUIRE(storage.ok());
    auto log = eventstore::EventLog::Open(std::move(storage).value(), *old_key);
    REQUIRE(log.ok());
    REQUIRE((*log)->RotateKey(*next).ok());
  }
  auto log = OpenDataDir(dir);
  REQUIRE(log.ok());
  CHECK((*log)->Head().key.ToText() == next->verifier().ToText());
  CHECK_FALSE(std::filesystem::exists(KeyPath(dir) + ".next"));
  auto installed = eventstore::LoadRegistryKey(KeyPath(dir));
  REQUIRE(installed.ok());
  CHECK(installed->verifier().ToText() == next->verifier().ToText());
  CHECK((*log)->Append(eventstore::testing::OneEvent("s")).ok());
}

TEST_CASE("RotateRegistryKey leaves the new key installed and the old one gone") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  { REQUIRE(InitDataDir(dir, "test.example/registry").ok()); }
  auto rotated = RotateRegistryKey(dir);
  REQUIRE(rotated.ok());
  CHECK(rotated->position == 1);
  auto installed = eventstore::LoadRegistryKey(KeyPath(dir));
  REQUIRE(installed.ok());
  CHECK(installed->verifier().ToText() == rotated->key.ToText());
  CHECK(InitDataDir(dir, "test.example/registry").status().code() == Code::kAlreadyExists);
}

// Flips a byte of the leaf at `position`, with RocksDB's own checksums intact.
void EditLeaf(const std::string& dir, eventstore::Position position) {
  eventstore::testing::RawRocksDb db(LogPath(dir));
  std::string v = db.Get("log", eventstore::testing::RawRocksDb::PositionKey(position));
  v[eventstore::kRecordHeaderSize + 40] ^= 0x01;
  db.Put("log", eventstore::testing::RawRocksDb::PositionKey(position), v);
}

TEST_CASE("opening a data directory verifies the tail since the last start, and refuses damage") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  { REQUIRE(InitDataDir(dir, "test.example/registry").ok()); }
  eventstore::Position first_start = 0;
  {
    auto log = OpenDataDir(dir);  // verifies everything (no DIR/verified yet) and records it
    REQUIRE(log.ok());
    first_start = (*log)->Size();
    for (int i = 0; i < 30; ++i) {
      REQUIRE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
    }
  }
  REQUIRE(std::filesystem::exists(VerifiedFilePath(dir)));
  SECTION("an edit in the tail written since the last start") {
    EditLeaf(dir, first_start + 20);
    auto refused = OpenDataDir(dir);
    CHECK(refused.status().code() == Code::kDataLoss);
    CHECK_THAT(refused.status().message(),
               Catch::Contains("does not verify at position " + std::to_string(first_start + 20)));
  }
  SECTION("a clean tail opens; history below the last verification is not read again") {
    { REQUIRE(OpenDataDir(dir).ok()); }
    // Left to `ledger verify` (and RocksDB's checksums): the start-up check costs the tail, not
    // the history.
    EditLeaf(dir, 0);
    CHECK(OpenDataDir(dir).ok());
  }
}

TEST_CASE("a clean stop verifies what the run appended, so that the next start verifies nothing") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  { REQUIRE(InitDataDir(dir, "test.example/registry").ok()); }
  eventstore::Position first_start = 0, head = 0;
  {
    auto log = OpenDataDir(dir);
    REQUIRE(log.ok());
    first_start = (*log)->Size();
    for (int i = 0; i < 30; ++i) {
      REQUIRE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
    }
    head = (*log)->Size();
    eventstore::Position verified_up_to = 0;
    REQUIRE(VerifyTailAtStop(dir, **log, [&](eventstore::Position done, eventstore::Position) {
              verified_up_to = std::max(verified_up_to, done);
            }).ok());
    CHECK(verified_up_to == head);  // the run's tail was read back and verified
  }
  // The next start has nothing left to verify: not even an edit of that tail is read again
  // (`ledger verify` checks the whole log). The edit is below 16, in a part of the Merkle tree
  // whose node is stored (the open checks the tree's right edge against the checkpoint).
  REQUIRE(first_start + 1 < 16);
  EditLeaf(dir, first_start + 1);
  // (Without the stop's verification this open would refuse the edit: the test above.)
  CHECK(OpenDataDir(dir).ok());
}

TEST_CASE("a data directory that group or others can enter is refused, saying how to fix it") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  { REQUIRE(InitDataDir(dir, "test.example/registry").ok()); }
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::chmod(dir.c_str(), 0750) == 0);
  auto refused = OpenDataDir(dir);
  CHECK(refused.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(refused.status().message(), Catch::Contains("chmod 700 " + dir));
  REQUIRE(::chmod(dir.c_str(), 0700) == 0);
  CHECK(OpenDataDir(dir).ok());
}

}  // namespace
}  // namespace vaxledger::tools
