#include "eventstore/log_verifier.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "eventstore/checkpoint.h"
#include "eventstore/event_log.h"
#include "eventstore/memory_storage.h"
#include "eventstore/rocksdb_storage.h"
#include "tests/eventstore/raw_rocksdb.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

using testing::RawRocksDb;
using testing::TestSigner;

// Passes everything through to `inner`, but a scan returns record `position` with one byte of
// its leaf (offset < leaf size) or signature (offset >= leaf size) flipped.
class FlippingStorage : public LogStorage {
 public:
  FlippingStorage(LogStorage& inner, Position position, size_t offset)
      : inner_(inner), position_(position), offset_(offset) {}
  Status Commit(const CommitBatch& b) override { return inner_.Commit(b); }
  Result<Position> RecordCount() override { return inner_.RecordCount(); }
  Result<std::vector<StoredRecord>> ReadRecords(Position f, size_t m, bool fw) override {
    return inner_.ReadRecords(f, m, fw);
  }
  Result<RawScan> ScanRecords(Position from, size_t max) override {
    VX_ASSIGN_OR_RETURN(RawScan scan, inner_.ScanRecords(from, max));
    for (auto& r : scan.records) {
      if (r.position != position_) continue;
      if (offset_ < r.leaf.size()) {
        r.leaf[offset_] ^= 0x01;
      } else {
        r.signature[offset_ - r.leaf.size()] ^= 0x01;
      }
    }
    return scan;
  }
  Result<std::optional<Position>> FindEventId(const EventId& id) override {
    return inner_.FindEventId(id);
  }
  Result<std::optional<uint64_t>> StreamHeadVersion(std::string_view s) override {
    return inner_.StreamHeadVersion(s);
  }
  Result<Hash> ReadTreeNode(uint8_t level, uint64_t index) override {
    return inner_.ReadTreeNode(level, index);
  }
  Result<std::optional<std::string>> ReadCheckpoint() override { return inner_.ReadCheckpoint(); }
  Result<std::optional<std::string>> ReadFirstKey() override { return inner_.ReadFirstKey(); }
  Result<std::vector<std::pair<uint64_t, std::string>>> ReadCheckpoints(uint64_t from,
                                                                        size_t max) override {
    return inner_.ReadCheckpoints(from, max);
  }
  Result<std::vector<Position>> ReadStreamPositions(std::string_view s, uint64_t v, size_t m,
                                                    bool fw) override {
    return inner_.ReadStreamPositions(s, v, m, fw);
  }

 private:
  LogStorage& inner_;
  Position position_;
  size_t offset_;
};

void AppendEvents(EventLog& log, int n) {
  for (int i = 0; i < n; i += 10) {
    AppendBatch b;
    for (int j = i; j < std::min(n, i + 10); ++j) {
      b.events.push_back(
          testing::MakeEvent("s" + std::to_string(j % 7), R"({"n":)" + std::to_string(j) + "}"));
    }
    REQUIRE(log.Append(b).ok());
  }
}

TEST_CASE("an untouched log verifies, on one thread and on several, across chunk boundaries") {
  auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner());
  REQUIRE(log.ok());
  AppendEvents(**log, 1000);
  for (size_t threads : {1u, 2u, 4u}) {
    VerifyOptions o;
    o.threads = threads;
    o.chunk_records = 64;
    Position last_progress = 0;
    o.progress = [&](Position done, Position total) {
      CHECK(done >= last_progress);
      CHECK(total == 1000);
      last_progress = done;
    };
    auto report = VerifyLog((*log)->storage(), {TestSigner().verifier()}, o);
    REQUIRE(report.ok());
    CHECK(report->ok());
    CHECK(report->verified == 1000);
    CHECK(last_progress == 1000);
  }
}

TEST_CASE("flipping any byte of one leaf or its signature fails verify at that position") {
  auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner());
  REQUIRE(log.ok());
  AppendEvents(**log, 6);
  auto records = (*log)->storage().ReadRecords(0, 10, true);
  REQUIRE(records.ok());
  for (Position target : {Position{0}, Position{3}, Position{5}}) {
    const size_t leaf_size = (*records)[target].leaf.size();
    for (size_t offset = 0; offset < leaf_size + 64; ++offset) {
      FlippingStorage flipped((*log)->storage(), target, offset);
      VerifyOptions o;
      o.chunk_records = 2;  // chunk boundaries fall between positions 1|2 and 3|4
      auto report = VerifyLog(flipped, {TestSigner().verifier()}, o);
      REQUIRE(report.ok());
      INFO("position " << target << " byte " << offset);
      REQUIRE(report->first_failure == std::optional<Position>(target));
      CHECK(report->verified == target);
    }
  }
}

TEST_CASE("a log signed by another key does not verify") {
  auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner());
  REQUIRE(log.ok());
  AppendEvents(**log, 3);
  NoteSigner other("test.example/log", Ed25519Key::Generate());
  auto report = VerifyLog((*log)->storage(), {other.verifier()});
  REQUIRE(report.ok());
  CHECK(report->first_failure == std::optional<Position>(0));
  CHECK_THAT(report->reason, Catch::Contains("which is not a trusted first key"));
}

Result<VerifyReport> VerifyPath(const std::string& path) {
  RocksDbStorageOptions o;
  o.read_only = true;
  VX_ASSIGN_OR_RETURN(auto storage, OpenRocksDbStorage(path, o));
  VerifyOptions vo;
  vo.chunk_records = 16;
  return VerifyLog(*storage, {TestSigner().verifier()}, vo);
}

TEST_CASE("tampering with the stored RocksDB record names the position") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  AppendEvents(*testing::OpenRocksDbLog(path, true), 100);
  REQUIRE(VerifyPath(path)->ok());

  Position tampered = 0;
  std::string reason;
  SECTION("a byte of a leaf") {
    RawRocksDb db(path);
    tampered = 40;
    std::string v = db.Get("log", RawRocksDb::PositionKey(tampered));
    v[kRecordHeaderSize + 30] ^= 0x20;
    db.Put("log", RawRocksDb::PositionKey(tampered), v);
  }
  SECTION("a byte of a signature, in the first record of a chunk") {
    RawRocksDb db(path);
    tampered = 16;
    std::string v = db.Get("log", RawRocksDb::PositionKey(tampered));
    v[1 + 4 + 10] ^= 0x01;
    db.Put("log", RawRocksDb::PositionKey(tampered), v);
    reason = "signature does not verify";
  }
  SECTION("a record deleted") {
    RawRocksDb db(path);
    tampered = 77;
    db.Delete("log", RawRocksDb::PositionKey(tampered));
    reason = "record is missing";
  }
  SECTION("a record cut short") {
    RawRocksDb db(path);
    tampered = 5;
    db.Put("log", RawRocksDb::PositionKey(tampered),
           db.Get("log", RawRocksDb::PositionKey(tampered)).substr(0, 10));
    reason = "malformed";
  }
  auto report = VerifyPath(path);
  REQUIRE(report.ok());
  CHECK(report->first_failure == std::optional<Position>(tampered));
  CHECK(report->verified == tampered);
  CHECK_THAT(report->reason, Catch::Contains(reason));
}

TEST_CASE("verify checks every checkpoint's signature and root against the leaves") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  std::string checkpoint_at_30;
  {
    auto log = testing::OpenRocksDbLog(path, true);
    AppendEvents(*log, 30);  // three commits of ten
    checkpoint_at_30 = log->Head().checkpoint;
    AppendEvents(*log, 30);
  }
  auto clean = VerifyPath(path);
  REQUIRE(clean.ok());
  CHECK(clean->ok());
  CHECK(clean->checkpoints_verified == 6);

  std::string problem;
  SECTION("a checkpoint in the history whose root was swapped for another's") {
    RawRocksDb db(path);
    db.Put("checkpoints", RawRocksDb::PositionKey(20),
           db.Get("checkpoints", RawRocksDb::PositionKey(30)));
    problem = "checkpoint at size 20";
  }
  SECTION("an older checkpoint put back as the latest") {
    RawRocksDb db(path);
    db.Put("default", "checkpoint", checkpoint_at_30);
    problem = "latest checkpoint covers 30 events, the log holds 60";
  }
  SECTION("a checkpoint signed by another key") {
    NoteSigner other(TestSigner().name(), Ed25519Key::Generate());
    auto forged = SignCheckpoint({TestSigner().name(), 40, Hash{}}, other);
    REQUIRE(forged.ok());
    RawRocksDb db(path);
    db.Put("checkpoints", RawRocksDb::PositionKey(40), *forged);
    problem = "checkpoint at size 40: note: no known key signed it";
  }
  auto report = VerifyPath(path);
  REQUIRE(report.ok());
  CHECK_FALSE(report->first_failure.has_value());
  CHECK_FALSE(report->ok());
  CHECK_THAT(report->checkpoint_problem, Catch::Contains(problem));
}

TEST_CASE("damage RocksDB itself detects (a block checksum) names the position and the file") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  {
    auto log = testing::OpenRocksDbLog(path, true);
    for (int i = 0; i < 30; ++i) {
      AppendBatch b;
      for (int j = 0; j < 10; ++j) {
        b.events.push_back(testing::MakeEvent("s", "\"" + std::string(400, 'a' + j) + "\""));
      }
      REQUIRE(log->Append(b).ok());
    }
  }  // closing flushes the log into a table file
  std::string table;
  uintmax_t largest = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".sst" && entry.file_size() > largest) {
      table = entry.path().string();
      largest = entry.file_size();
    }
  }
  REQUIRE_FALSE(table.empty());
  {
    std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(largest / 3));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(largest / 3));
    f.write(&c, 1);
  }
  auto report = VerifyPath(path);
  REQUIRE(report.ok());  // a report, not an error without a position
  REQUIRE(report->first_failure.has_value());
  CHECK(*report->first_failure > 0);
  CHECK(*report->first_failure < 300);
  CHECK(report->verified == *report->first_failure);
  CHECK_THAT(report->reason, Catch::Contains("cannot be read"));
  CHECK_THAT(report->reason, Catch::Contains(std::filesystem::path(table).filename().string()));
}

TEST_CASE("VerifyTail checks the tail since a verified checkpoint, and only the tail") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  Checkpoint verified;
  {
    auto log = testing::OpenRocksDbLog(path, true);
    AppendEvents(*log, 20);
    auto opened = OpenCheckpoint(log->Head().checkpoint, {TestSigner().verifier()});
    REQUIRE(opened.ok());
    verified = *opened;
    AppendEvents(*log, 20);
  }
  auto tail = [&] {
    RocksDbStorageOptions o;
    o.read_only = true;
    auto storage = OpenRocksDbStorage(path, o);
    REQUIRE(storage.ok());
    VerifyOptions vo;
    vo.chunk_records = 4;
    auto report = VerifyTail(**storage, verified, {TestSigner().verifier()}, vo);
    REQUIRE(report.ok());
    return *report;
  };
  auto flip_leaf = [&](Position p) {
    RawRocksDb db(path);
    std::string v = db.Get("log", RawRocksDb::PositionKey(p));
    v[kRecordHeaderSize + 30] ^= 0x20;
    db.Put("log", RawRocksDb::PositionKey(p), v);
  };
  SECTION("an untouched tail verifies, with its checkpoints") {
    VerifyReport r = tail();
    CHECK(r.ok());
    CHECK(r.verified == 40);
    CHECK(r.checkpoints_verified == 2);  // at 30 and 40
  }
  SECTION("an edited leaf in the tail fails at its position") {
    flip_leaf(33);
    VerifyReport r = tail();
    CHECK(r.first_failure == std::optional<Position>(33));
  }
  SECTION("an edited leaf just below the tail is caught where the tail starts") {
    flip_leaf(19);
    VerifyReport r = tail();
    CHECK(r.first_failure == std::optional<Position>(20));
  }
  SECTION("an edit below the verified size is left to the full verification") {
    flip_leaf(5);
    CHECK(tail().ok());
    CHECK(VerifyPath(path)->first_failure == std::optional<Position>(5));
  }
  SECTION("a log shorter than the verified size fails, naming the missing positions") {
    verified.size = 50;
    VerifyReport r = tail();
    CHECK(r.first_failure == std::optional<Position>(40));
    CHECK_THAT(r.reason, Catch::Contains("positions 40..49 are missing"));
  }
}

TEST_CASE("verify fails a log shorter than the checkpoint kept outside it") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  std::string acknowledged;
  {
    auto log = testing::OpenRocksDbLog(path, true);
    AppendEvents(*log, 30);
    acknowledged = log->Head().checkpoint;
  }
  {
    // The last commit gone entirely, as a cut write-ahead log leaves it.
    RawRocksDb db(path);
    for (Position p = 20; p < 30; ++p) db.Delete("log", RawRocksDb::PositionKey(p));
    db.Put("default", "checkpoint", db.Get("checkpoints", RawRocksDb::PositionKey(20)));
    db.Delete("checkpoints", RawRocksDb::PositionKey(30));
  }
  RocksDbStorageOptions o;
  o.read_only = true;
  auto storage = OpenRocksDbStorage(path, o);
  REQUIRE(storage.ok());
  VerifyOptions vo;
  vo.acknowledged_checkpoint = acknowledged;
  auto report = VerifyLog(**storage, {TestSigner().verifier()}, vo);
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok());
  CHECK_THAT(report->checkpoint_problem, Catch::Contains("positions 20..29 are missing"));
}

}  // namespace
}  // namespace vaxledger::eventstore
