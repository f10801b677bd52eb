#include "eventstore/registry_key.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

TEST_CASE("a created key is mode 0600 and loads back") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/registry.key";
  auto created = CreateRegistryKey(path, "registry.example/log");
  REQUIRE(created.ok());
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto loaded = LoadRegistryKey(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->verifier().ToText() == created->verifier().ToText());
  // Never overwritten.
  CHECK(CreateRegistryKey(path, "registry.example/log").status().code() == Code::kAlreadyExists);
}

TEST_CASE("a missing, too open or malformed key is refused with the reason") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/registry.key";
  auto missing = LoadRegistryKey(path);
  CHECK(missing.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(missing.status().message(), Catch::Contains("is missing"));

  REQUIRE(CreateRegistryKey(path, "registry.example/log").ok());
  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  auto open_to_group = LoadRegistryKey(path);
  CHECK(open_to_group.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(open_to_group.status().message(), Catch::Contains("mode 0640"));
  REQUIRE(::chmod(path.c_str(), 0604) == 0);
  CHECK_THAT(LoadRegistryKey(path).status().message(), Catch::Contains("chmod 600"));

  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  { std::ofstream(path, std::ios::trunc) << "PRIVATE+KEY+broken\n"; }
  auto malformed = LoadRegistryKey(path);
  CHECK(malformed.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(malformed.status().message(), Catch::Contains("not a valid key"));
}

}  // namespace
}  // namespace vaxledger::eventstore
