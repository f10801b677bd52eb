// What only a persistent storage has to show: the log survives a reopen.
#include "eventstore/rocksdb_storage.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "eventstore/checkpoint.h"
#include "eventstore/event_log.h"
#include "tests/eventstore/raw_rocksdb.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

using testing::OpenRocksDbLog;
using testing::TestSigner;

TEST_CASE("the log, its chain and its indexes survive a reopen") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  AppendBatch first = testing::OneEvent("s", ExpectedVersion::NoStream());
  LogHead head;
  {
    auto log = OpenRocksDbLog(path, true);
    REQUIRE(log->Append(first).ok());
    for (int i = 0; i < 9; ++i) REQUIRE(log->Append(testing::OneEvent("s")).ok());
    head = log->Head();
  }
  auto log = OpenRocksDbLog(path, false);
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
  auto log = OpenRocksDbLog(path, true);
  REQUIRE(log->Append(testing::OneEvent("s")).ok());
  RocksDbStorageOptions o;
  o.read_only = true;
  auto reader = OpenRocksDbStorage(path, o);
  REQUIRE(reader.ok());
  CHECK(*(*reader)->RecordCount() == 1);
  CHECK_FALSE((*reader)->Commit(CommitBatch{}).ok());
}

void PutRaw(const std::string& path, const std::string& cf, const std::string& key,
            const std::string& value) {
  testing::RawRocksDb(path).Put(cf, key, value);
}

TEST_CASE("a log whose checkpoint or tree edge was altered refuses to open") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  std::string old_checkpoint;
  {
    auto log = OpenRocksDbLog(path, true);
    for (int i = 0; i < 5; ++i) REQUIRE(log->Append(testing::OneEvent("s")).ok());
    old_checkpoint = log->Head().checkpoint;
    for (int i = 0; i < 16; ++i) REQUIRE(log->Append(testing::OneEvent("s")).ok());
  }
  auto open = [&] {
    auto storage = OpenRocksDbStorage(path);
    REQUIRE(storage.ok());
    return EventLog::Open(std::move(storage).value(), TestSigner()).status();
  };
  REQUIRE(open().ok());
  std::string reason;
  SECTION("an older, genuinely signed checkpoint put back") {
    PutRaw(path, "default", "checkpoint", old_checkpoint);
    reason = "is not the tree of the stored log";
  }
  SECTION("a checkpoint signed by someone else") {
    NoteSigner other(TestSigner().name(), Ed25519Key::Generate());
    auto forged = SignCheckpoint({TestSigner().name(), 21, Hash{}}, other);
    REQUIRE(forged.ok());
    PutRaw(path, "default", "checkpoint", *forged);
    reason = "does not open";
  }
  SECTION("a node on the tree's edge changed") {
    // 21 leaves = 16 + 4 + 1: the edge holds the stored node (4, 0).
    PutRaw(path, "tree", std::string(1, '\x04') + std::string(8, '\0'), std::string(32, 'x'));
    reason = "is not the tree of the stored log";
  }
  Status s = open();
  CHECK(s.code() == Code::kDataLoss);
  CHECK_THAT(s.message(), Catch::Contains(reason));
}

TEST_CASE("a data directory of an earlier log format is refused, naming both versions") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  {
    auto log = OpenRocksDbLog(path, true);
    REQUIRE(log->Append(testing::OneEvent("s")).ok());
  }
  REQUIRE(OpenRocksDbStorage(path).ok());
  SECTION("the version before sealed personal data") {
    PutRaw(path, "default", "format", "vaxledger-log-3");
    Status s = OpenRocksDbStorage(path).status();
    CHECK(s.code() == Code::kFailedPrecondition);
    CHECK_THAT(s.message(), Catch::Contains("holds log format vaxledger-log-3") &&
                                Catch::Contains("reads vaxledger-log-4 only"));
  }
  SECTION("the version before typed payloads") {
    PutRaw(path, "default", "format", "vaxledger-log-2");
    for (bool read_only : {false, true}) {
      RocksDbStorageOptions options;
      options.read_only = read_only;
      Status s = OpenRocksDbStorage(path, options).status();
      CHECK(s.code() == Code::kFailedPrecondition);
      CHECK_THAT(s.message(), Catch::Contains("holds log format vaxledger-log-2") &&
                                  Catch::Contains("reads vaxledger-log-4 only"));
    }
  }
  SECTION("something that is not a vaxledger log") {
    PutRaw(path, "default", "format", "other-db-1");
    Status s = OpenRocksDbStorage(path).status();
    CHECK(s.code() == Code::kDataLoss);
    CHECK_THAT(s.message(), Catch::Contains("'other-db-1'"));
  }
}

TEST_CASE("after a rotation the log opens with the new key only") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  NoteSigner next(TestSigner().name(), Ed25519Key::Generate());
  {
    auto log = OpenRocksDbLog(path, true);
    REQUIRE(log->Append(testing::OneEvent("s")).ok());
    REQUIRE(log->RotateKey(next).ok());
  }
  auto open_with = [&](const NoteSigner& key) {
    auto storage = OpenRocksDbStorage(path);
    REQUIRE(storage.ok());
    return EventLog::Open(std::move(storage).value(), key).status();
  };
  Status old_key = open_with(TestSigner());
  CHECK(old_key.code() == Code::kDataLoss);  // the latest checkpoint is the new key's
  CHECK(open_with(next).ok());
  NoteSigner stranger(TestSigner().name(), Ed25519Key::Generate());
  CHECK_FALSE(open_with(stranger).ok());
}

TEST_CASE("a log open for appending refuses a second writer with a clear reason") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  auto log = OpenRocksDbLog(path, true);
  auto second = OpenRocksDbStorage(path);
  CHECK(second.status().code() == Code::kUnavailable);
  CHECK_THAT(second.status().message(), Catch::Contains("in use by another process"));
  RocksDbStorageOptions read_only;
  read_only.read_only = true;
  CHECK(OpenRocksDbStorage(path, read_only).ok());
}

}  // namespace
}  // namespace vaxledger::eventstore

namespace vaxledger::eventstore {
namespace {

// A copy of a live log's directory and checkpoint file, as a crash would leave them: the
// events are in the synced write-ahead log, not yet in tables.
struct CrashImage {
  std::string db;
  std::string checkpoint_file;
  Position size = 0;
};

CrashImage MakeCrashImage(const testing::TempDir& dir, int events) {
  const std::string live = dir.path() + "/live";
  CrashImage image{dir.path() + "/image", dir.path() + "/image.checkpoint", 0};
  RocksDbStorageOptions o;
  o.create_if_missing = true;
  auto storage = OpenRocksDbStorage(live, o);
  REQUIRE(storage.ok());
  EventLogOptions lo;
  lo.checkpoint_file = live + ".checkpoint";
  auto log = EventLog::Open(std::move(storage).value(), TestSigner(), lo);
  REQUIRE(log.ok());
  for (int i = 0; i < events; ++i) REQUIRE((*log)->Append(testing::OneEvent("s")).ok());
  image.size = (*log)->Size();
  std::filesystem::copy(live, image.db, std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(live + ".checkpoint", image.checkpoint_file);
  return image;
}

std::string LargestFile(const std::string& dir, const std::string& extension) {
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == extension && entry.file_size() > best_size) {
      best = entry.path().string();
      best_size = entry.file_size();
    }
  }
  REQUIRE_FALSE(best.empty());
  return best;
}

void FlipByteAt(const std::string& path, uintmax_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x20);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

Status OpenImage(const CrashImage& image) {
  auto storage = OpenRocksDbStorage(image.db);
  if (!storage.ok()) return storage.status();
  EventLogOptions lo;
  lo.checkpoint_file = image.checkpoint_file;
  return EventLog::Open(std::move(storage).value(), TestSigner(), lo).status();
}

TEST_CASE("a crash image of a live log opens with every event (the baseline of the damage tests)") {
  testing::TempDir dir;
  CrashImage image = MakeCrashImage(dir, 30);
  REQUIRE(OpenImage(image).ok());
  auto storage = OpenRocksDbStorage(image.db);
  REQUIRE(storage.ok());
  CHECK(*(*storage)->RecordCount() == image.size);
}

TEST_CASE("a flipped byte in the write-ahead log refuses the open instead of dropping events") {
  testing::TempDir dir;
  CrashImage image = MakeCrashImage(dir, 30);
  const std::string wal = LargestFile(image.db, ".log");
  // Inside an early record: with point-in-time recovery everything after it was dropped.
  FlipByteAt(wal, std::filesystem::file_size(wal) / 3);
  auto storage = OpenRocksDbStorage(image.db);
  REQUIRE_FALSE(storage.ok());
  CHECK(storage.status().code() == Code::kDataLoss);
  CHECK_THAT(storage.status().message(), Catch::Contains("Corruption"));
}

TEST_CASE("a write-ahead log cut short refuses the open, naming the missing positions") {
  testing::TempDir dir;
  CrashImage image = MakeCrashImage(dir, 30);
  const std::string wal = LargestFile(image.db, ".log");
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) / 2);
  Position kept = 0;
  {
    // RocksDB alone cannot tell: the cut looks like a torn, unacknowledged tail.
    auto storage = OpenRocksDbStorage(image.db);
    REQUIRE(storage.ok());
    kept = *(*storage)->RecordCount();
    REQUIRE(kept < image.size);
  }
  Status s = OpenImage(image);
  CHECK(s.code() == Code::kDataLoss);
  CHECK_THAT(s.message(), Catch::Contains("positions " + std::to_string(kept) + ".." +
                                          std::to_string(image.size - 1) + " are missing"));
  CHECK_THAT(s.message(), Catch::Contains(image.checkpoint_file));
}

TEST_CASE("a commit refused for lack of disk space writes nothing and leaves the storage usable") {
  testing::TempDir dir;
  RocksDbStorageOptions o;
  o.create_if_missing = true;
  o.min_free_bytes = UINT64_MAX;  // no file system has that much free
  auto storage = OpenRocksDbStorage(dir.path() + "/db", o);
  CHECK(storage.status().code() == Code::kResourceExhausted);  // a writable open is refused too
  o.min_free_bytes = 0;
  storage = OpenRocksDbStorage(dir.path() + "/db", o);
  REQUIRE(storage.ok());
  CHECK((*storage)->Writable().ok());
  struct stat st {};
  REQUIRE(::stat((dir.path() + "/db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

}  // namespace
}  // namespace vaxledger::eventstore
