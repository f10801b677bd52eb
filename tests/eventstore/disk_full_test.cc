// A full disk, for real: the log on a small tmpfs that a filler file fills up. Needs to mount
// a tmpfs (root, or a user namespace); where it cannot, the executable exits with 77, which
// CTest reports as skipped.
#include "eventstore/rocksdb_storage.h"

#include <sys/mount.h>
#include <unistd.h>

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "eventstore/event_log.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

constexpr const char* kMountSize = "size=96m";

// A tmpfs mounted for one test, unmounted at the end.
class SmallDisk {
 public:
  SmallDisk() : path_(dir_.path() + "/disk") {
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, kMountSize) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

  // Writes a filler file until the file system has no space left.
  void Fill() {
    std::FILE* f = std::fopen((path_ + "/filler").c_str(), "wb");
    REQUIRE(f != nullptr);
    std::string block(1 << 16, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
    // The last partial block too, byte by byte is too slow: small writes until ENOSPC.
    f = std::fopen((path_ + "/filler2").c_str(), "wb");
    REQUIRE(f != nullptr);
    std::setvbuf(f, nullptr, _IONBF, 0);
    while (std::fwrite(block.data(), 1, 512, f) == 512) {
    }
    std::fclose(f);
  }
  void Free() {
    std::filesystem::remove(path_ + "/filler");
    std::filesystem::remove(path_ + "/filler2");
  }

 private:
  testing::TempDir dir_;
  std::string path_;
  bool mounted_ = false;
};

std::unique_ptr<EventLog> OpenOn(const std::string& path, bool create, uint64_t reserve) {
  RocksDbStorageOptions o;
  o.create_if_missing = create;
  o.min_free_bytes = reserve;
  auto storage = OpenRocksDbStorage(path, o);
  REQUIRE(storage.ok());
  EventLogOptions lo;
  lo.checkpoint_file = path + ".checkpoint";
  auto log = EventLog::Open(std::move(storage).value(), testing::TestSigner(), lo);
  REQUIRE(log.ok());
  return std::move(log).value();
}

AppendBatch BigEvent() {
  AppendBatch b;
  b.events.push_back(testing::MakeEvent("s", "\"" + std::string(60000, 'p') + "\""));
  return b;
}

TEST_CASE("a full disk refuses appends cleanly; reads go on; appends resume once space is back") {
  SmallDisk disk;
  REQUIRE(disk.mounted());
  const std::string path = disk.path() + "/log";
  auto log = OpenOn(path, true, 4 << 20);
  REQUIRE(log->Append(testing::OneEvent("s")).ok());
  REQUIRE(log->WriteStatus().ok());

  disk.Fill();
  auto refused = log->Append(testing::OneEvent("s"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::Contains("disk nearly full"));
  CHECK(log->WriteStatus().code() == Code::kResourceExhausted);
  CHECK(log->Size() == 1);
  auto read = log->Read(0, 10);
  REQUIRE(read.ok());
  CHECK(read->size() == 1);

  disk.Free();
  CHECK(log->WriteStatus().ok());
  auto resumed = log->Append(testing::OneEvent("s"));
  REQUIRE(resumed.ok());
  CHECK(resumed->events[0].position == 1);  // the refused one took no position
  log.reset();
  auto reopened = OpenOn(path, false, 4 << 20);
  CHECK(reopened->Size() == 2);
}

TEST_CASE("opening on a full disk is refused with a message, not an abort") {
  SmallDisk disk;
  REQUIRE(disk.mounted());
  const std::string path = disk.path() + "/log";
  REQUIRE(OpenOn(path, true, 4 << 20)->Append(testing::OneEvent("s")).ok());
  disk.Fill();
  RocksDbStorageOptions o;
  o.min_free_bytes = 4 << 20;
  auto storage = OpenRocksDbStorage(path, o);
  REQUIRE_FALSE(storage.ok());
  CHECK(storage.status().code() == Code::kResourceExhausted);
  CHECK_THAT(storage.status().message(), Catch::Contains("disk nearly full"));
  // A read-only open (verify, export) still works.
  RocksDbStorageOptions ro;
  ro.read_only = true;
  auto reader = OpenRocksDbStorage(path, ro);
  REQUIRE(reader.ok());
  CHECK(*(*reader)->RecordCount() == 1);
}

TEST_CASE(
    "a write that fails inside RocksDB on a full disk stops the log without an abort, "
    "and nothing acknowledged is lost") {
  SmallDisk disk;
  REQUIRE(disk.mounted());
  const std::string path = disk.path() + "/log";
  Position acknowledged = 0;
  {
    // No reserve: the write reaches RocksDB and fails there.
    auto log = OpenOn(path, true, 0);
    disk.Fill();
    Status failure;
    for (int i = 0; i < 4000 && failure.ok(); ++i) {
      auto r = log->Append(BigEvent());
      if (r.ok()) {
        acknowledged = r->events[0].position + 1;
      } else {
        failure = r.status();
      }
    }
    REQUIRE_FALSE(failure.ok());
    CHECK(failure.code() == Code::kUnavailable);
    CHECK_FALSE(log->WriteStatus().ok());
    CHECK(log->Size() == acknowledged);
    auto read = log->Read(0, 1);
    REQUIRE(read.ok());
    CHECK_FALSE(log->Append(testing::OneEvent("s")).ok());  // refused again, no abort
  }  // closing the stopped log must not abort
  disk.Free();
  auto log = OpenOn(path, false, 1 << 20);
  CHECK(log->Size() >= acknowledged);
  auto next = log->Append(testing::OneEvent("s"));
  REQUIRE(next.ok());
}

}  // namespace
}  // namespace vaxledger::eventstore

int main(int argc, char** argv) {
  {
    vaxledger::eventstore::testing::TempDir probe;
    if (::mount("tmpfs", probe.path().c_str(), "tmpfs", 0, vaxledger::eventstore::kMountSize) !=
        0) {
      std::fprintf(stderr, "skipped: cannot mount a tmpfs here (%s); run as root\n",
                   std::strerror(errno));
      return 77;
    }
    ::umount2(probe.path().c_str(), MNT_DETACH);
  }
  return Catch::Session().run(argc, argv);
}
