#include "eventstore/checkpoint_file.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

void FlipByte(const std::string& path, size_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST_CASE("a checkpoint file keeps the newest of its two slots across reopens") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint";
  {
    auto file = CheckpointFile::Open(path, /*create=*/true);
    REQUIRE(file.ok());
    CHECK_FALSE((*file)->latest());
    REQUIRE((*file)->Write("one\n").ok());
    REQUIRE((*file)->Write("two\n").ok());
    REQUIRE((*file)->Write("three\n").ok());
    CHECK((*file)->latest() == std::optional<std::string>("three\n"));
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == static_cast<off_t>(2 * kCheckpointSlotBytes));  // it never grows
  auto reopened = CheckpointFile::Open(path, false);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->latest() == std::optional<std::string>("three\n"));
  auto read = CheckpointFile::ReadLatest(path);
  REQUIRE(read.ok());
  CHECK(*read == std::optional<std::string>("three\n"));
}

TEST_CASE("a torn write of one slot leaves the checkpoint of the other") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint";
  {
    auto file = CheckpointFile::Open(path, true);
    REQUIRE(file.ok());
    REQUIRE((*file)->Write("one\n").ok());  // slot 0
    REQUIRE((*file)->Write("two\n").ok());  // slot 1
  }
  FlipByte(path, kCheckpointSlotBytes + 17);  // inside slot 1's note: its hash no longer matches
  auto file = CheckpointFile::Open(path, false);
  REQUIRE(file.ok());
  CHECK((*file)->latest() == std::optional<std::string>("one\n"));
  // The next write goes to the damaged slot, never over the good one.
  REQUIRE((*file)->Write("three\n").ok());
  FlipByte(path, 17);  // now damage slot 0 ("one")
  auto again = CheckpointFile::ReadLatest(path);
  REQUIRE(again.ok());
  CHECK(*again == std::optional<std::string>("three\n"));
}

TEST_CASE("a checkpoint file with no valid slot, or of the wrong size, is DataLoss naming it") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint";
  {
    auto file = CheckpointFile::Open(path, true);
    REQUIRE(file.ok());
    REQUIRE((*file)->Write("one\n").ok());
  }
  FlipByte(path, 18);
  auto damaged = CheckpointFile::Open(path, false);
  CHECK(damaged.status().code() == Code::kDataLoss);
  CHECK_THAT(damaged.status().message(), Catch::Contains(path));
  std::filesystem::resize_file(path, 100);
  CHECK(CheckpointFile::ReadLatest(path).status().code() == Code::kDataLoss);
  CHECK(CheckpointFile::Open(dir.path() + "/missing", false).status().code() ==
        Code::kFailedPrecondition);
  auto none = CheckpointFile::ReadLatest(dir.path() + "/missing");
  REQUIRE(none.ok());
  CHECK_FALSE(*none);
}

TEST_CASE("a note longer than a slot is refused and changes nothing") {
  testing::TempDir dir;
  auto file = CheckpointFile::Open(dir.path() + "/checkpoint", true);
  REQUIRE(file.ok());
  REQUIRE((*file)->Write("one\n").ok());
  CHECK((*file)->Write(std::string(kCheckpointSlotBytes, 'x')).code() == Code::kInvalidArgument);
  CHECK((*file)->latest() == std::optional<std::string>("one\n"));
}

}  // namespace
}  // namespace vaxledger::eventstore
