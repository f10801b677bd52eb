#include "tools/data_dir.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
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

}  // namespace
}  // namespace vaxledger::tools
