#include "core/certificate/dcc_schema.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vaxledger::certificate {
namespace {

using nlohmann::json;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json Valid() {
  return json::parse(R"({"ver":"1.3.0","nam":{"fn":"Peeters","fnt":"PEETERS","gn":"Marie Louise",
    "gnt":"MARIE<LOUISE"},"dob":"1980-02-29","v":[{"tg":"840539006","vp":"1119349007",
    "mp":"EU/1/20/1528","ma":"ORG-100030215","dn":2,"sd":2,"dt":"2021-06-01","co":"BE",
    "is":"vaxledger","ci":"URN:UVCI:01:BE:ABC#A"}]})");
}

TEST_CASE("the compiled-in schema is the vectors' DCC.combined-schema.json") {
  const json file = json::parse(Read(VX_VECTORS_DIR "/dcc/DCC.combined-schema.json"));
  auto loaded = DccSchema::Load(file);
  REQUIRE(loaded.ok());
  CHECK(loaded->Validate(Valid()).ok());
  CHECK(DccSchema::Builtin().Validate(Valid()).ok());
}

TEST_CASE("every JSON payload of the vectors validates") {
  for (const auto& entry : std::filesystem::directory_iterator(VX_VECTORS_DIR "/dcc")) {
    if (entry.path().extension() != ".json") continue;
    const json v = json::parse(Read(entry.path()));
    if (!v.contains("JSON")) continue;
    INFO(entry.path());
    CHECK(DccSchema::Builtin().Validate(v["JSON"]).ok());
  }
}

TEST_CASE("the schema's rules are enforced, naming the path") {
  const DccSchema& s = DccSchema::Builtin();
  json j = Valid();
  j["nam"]["fnt"] = "Peeters";
  CHECK(s.Validate(j).message().find("nam.fnt") != std::string::npos);
  j = Valid();
  j["v"][0]["dn"] = 0;
  CHECK(s.Validate(j).message().find("v[0].dn: must be at least 1") != std::string::npos);
  j = Valid();
  j["v"][0]["dn"] = "2";
  CHECK(!s.Validate(j).ok());
  j = Valid();
  j.erase("dob");
  CHECK(!s.Validate(j).ok());
  j = Valid();
  j["t"] = j["v"];  // both v and t: oneOf matches twice
  CHECK(!s.Validate(j).ok());
  j = Valid();
  j["v"][0]["is"] = std::string(81, 'x');
  CHECK(!s.Validate(j).ok());
  j["v"][0]["is"] = std::string(40, 'x') + std::string(40, 'x');
  CHECK(s.Validate(j).ok());
  j = Valid();
  j["v"].push_back(j["v"][0]);
  CHECK(s.Validate(j).message().find("at most 1") != std::string::npos);
  j = Valid();
  j["dob"] = "1880-01-01";
  CHECK(!s.Validate(j).ok());
  j["dob"] = "1980";
  CHECK(s.Validate(j).ok());
}

TEST_CASE("a schema with a keyword the validator does not know is refused") {
  CHECK(!DccSchema::Load(json{{"type", "object"}, {"additionalProperties", false}}).ok());
  CHECK(!DccSchema::Load(json{{"$ref", "#/nowhere"}}).ok());
}

}  // namespace
}  // namespace vaxledger::certificate
