#include "core/certificate/uvci.h"

#include <catch2/catch.hpp>
#include <set>

namespace vaxledger::certificate {
namespace {

TEST_CASE("the Luhn mod N check character of the guidelines' example is Z") {
  CHECK(*LuhnModNCheck("URN:UVCI:01:NL:187/37512422923") == 'Z');
  CHECK(CheckUvci("URN:UVCI:01:NL:18737512422923#Z").code() == Code::kInvalidArgument);
}

TEST_CASE("a new UVCI follows the grammar and its check character, and is never repeated") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string u = NewUvci();
    INFO(u);
    CHECK(u.starts_with("URN:UVCI:01:BE:"));
    CHECK(u.size() == 15 + kUvciOpaqueLength + 2);
    CHECK(CheckUvci(u).ok());
    CHECK(seen.insert(u).second);
    CHECK(u.back() != '/');  // one URL path segment
  }
}

TEST_CASE("CheckUvci refuses a wrong check character and a bad grammar") {
  std::string u = NewUvci();
  u.back() = u.back() == 'A' ? 'B' : 'A';
  CHECK(CheckUvci(u).message().find("check character") != std::string::npos);
  CHECK(!CheckUvci("URN:UVCI:01:BE:abc#A").ok());
  CHECK(!CheckUvci("URN:UVCI:01:BE:ABC").ok());
  CHECK(!CheckUvci("urn:uvci:01:BE:ABC#A").ok());
  CHECK(CheckUvci("x").field() == "uvci");
}

}  // namespace
}  // namespace vaxledger::certificate
