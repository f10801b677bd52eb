#include "core/certificate/cbor_value.h"

#include <catch2/catch.hpp>

namespace vaxledger::certificate {
namespace {

TEST_CASE("CBOR encodes integers, keys and tags in the shortest form") {
  auto e = CborEncode(
      CborValue::Tag(18, CborValue::Map({{CborValue::Int(1), CborValue::Int(-7)},
                                         {CborValue::Int(-260), CborValue::Int(65536)},
                                         {CborValue::Int(4), CborValue::ByteString({1, 2})}})));
  REQUIRE(e.ok());
  CHECK(HexEncode(*e) == "d2a301263901031a0001000004420102");
}

TEST_CASE("CBOR decodes what it encodes and indefinite-length maps") {
  auto v = CborDecode(*HexDecode("bf6376657265312e322e31ff"), "t");
  REQUIRE(v.ok());
  CHECK(CborToJson(*v)->dump() == R"({"ver":"1.2.1"})");
  const nlohmann::json j = {{"a", {1, -2, "x"}}, {"b", {{"c", true}}}, {"d", 1.5}};
  auto round = CborDecode(*CborEncode(JsonToCbor(j)), "t");
  REQUIRE(round.ok());
  CHECK(*CborToJson(*round) == j);
}

TEST_CASE("CBOR reads the one-byte tags 6..20 (COSE_Sign1 is tag 18), which libcbor 0.8 refuses") {
  for (int tag = 6; tag <= 20; ++tag) {
    auto v = CborDecode(Bytes{static_cast<uint8_t>(0xC0 + tag), 0x01}, "t");
    REQUIRE(v.ok());
    CHECK(v->kind == CborValue::Kind::kTag);
    CHECK(v->number == static_cast<uint64_t>(tag));
  }
  CHECK(HexEncode(*CborEncode(*CborDecode(*HexDecode("d28440a0f640"), "t"))) == "d28440a0f640");
}

TEST_CASE("CBOR refuses malformed data, trailing bytes and deep nesting") {
  CHECK(!CborDecode(*HexDecode("a1"), "x").ok());
  CHECK(CborDecode(*HexDecode("0101"), "x").status().message().find("after") != std::string::npos);
  CHECK(CborDecode(Bytes(40, 0x81) + Bytes{0x01}, "x").status().message().find("deeper") !=
        std::string::npos);
  auto bytes_in_dcc = CborDecode(*HexDecode("a1616140"), "x");
  REQUIRE(bytes_in_dcc.ok());
  CHECK(CborToJson(*bytes_in_dcc).status().field() == "dcc.a");
}

}  // namespace
}  // namespace vaxledger::certificate
