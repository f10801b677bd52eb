#include "http/json_body.h"

#include <catch2/catch.hpp>
#include <string>

namespace vaxledger::http {
namespace {

TEST_CASE("a body nested deeper than the bound is refused before it is parsed, not a crash") {
  // 200,000 levels inside an object: parsing and copying such a value recursed once per level
  // (a stack overflow from one unauthenticated request).
  const std::string deep =
      "{\"assertion\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  auto refused = JsonObject::Parse(deep, {"assertion"});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kInvalidArgument);
  CHECK(refused.status().field() == "body");
  CHECK_THAT(refused.status().message(), Catch::Contains("deeper than"));
  // Nesting within the bound, and brackets inside strings, are fine.
  const std::string ok = "{\"a\":[[[[\"]]]][[[[\"]]]]}";
  CHECK(JsonObject::Parse(ok, {"a"}).ok());
  const std::string strings = "{\"a\":\"" + std::string(1000, '[') + "\"}";
  CHECK(JsonObject::Parse(strings, {"a"}).ok());
}

}  // namespace
}  // namespace vaxledger::http
