#include "core/certificate/base45.h"

#include <catch2/catch.hpp>

namespace vaxledger::certificate {
namespace {

TEST_CASE("base45 encodes the RFC 9285 examples") {
  CHECK(Base45Encode(AsBytes("AB")) == "BB8");
  CHECK(Base45Encode(AsBytes("Hello!!")) == "%69 VD92EX0");
  CHECK(Base45Encode(AsBytes("base-45")) == "UJCLQE7W581");
  CHECK(Base45Encode(AsBytes("ietf!")) == "QED8WEX0");
  CHECK(Base45Encode(AsBytes("")) == "");
}

TEST_CASE("base45 decodes the RFC 9285 examples and round-trips every byte pair") {
  CHECK(AsChars(*Base45Decode("QED8WEX0")) == "ietf!");
  CHECK(AsChars(*Base45Decode("%69 VD92EX0")) == "Hello!!");
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  all.push_back(0xFF);
  CHECK(*Base45Decode(Base45Encode(all)) == all);
}

TEST_CASE("base45 refuses what is not base45, naming the offset") {
  CHECK(Base45Decode("GGW").status().message().find("above 65535") != std::string::npos);
  CHECK(Base45Decode("abc").status().message().find("offset 0") != std::string::npos);
  CHECK(Base45Decode("BB8B").status().message().find("single character") != std::string::npos);
  CHECK(Base45Decode(":;").status().message().find("offset 1") != std::string::npos);
  CHECK(!Base45Decode("::").ok());  // 44 + 44*45 = 2024 > 255
}

}  // namespace
}  // namespace vaxledger::certificate
