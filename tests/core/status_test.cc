#include "core/status.h"

#include <catch2/catch.hpp>

namespace vaxledger {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("x: must be even", "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  VX_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status CheckQuarter(int x) {
  VX_RETURN_IF_ERROR(Quarter(x).status());
  return Status::Ok();
}

TEST_CASE("Result carries a value or an error, and the macros propagate errors") {
  REQUIRE(Quarter(8).ok());
  CHECK(*Quarter(8) == 2);
  auto bad = Quarter(6);  // 6 / 2 = 3 is odd
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().field() == "x");
  CHECK(bad.status().ToString() == "InvalidArgument: x: must be even");
  CHECK(CheckQuarter(4).ok());
  CHECK(CheckQuarter(2).code() == Code::kInvalidArgument);
}

TEST_CASE("every code has a canonical name") {
  CHECK(CodeName(Code::kAborted) == "Aborted");
  CHECK(CodeName(Code::kFailedPrecondition) == "FailedPrecondition");
  CHECK(CodeName(Code::kDataLoss) == "DataLoss");
}

}  // namespace
}  // namespace vaxledger
