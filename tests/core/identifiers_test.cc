#include "core/identifiers.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vaxledger {
namespace {

nlohmann::json Vectors() {
  std::ifstream in(std::string(VX_VECTORS_DIR) + "/identifiers.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// The part of the message that names the rule a vector's "why" describes.
std::string Expected(const std::string& why) {
  if (why.starts_with("check digits")) return "check digits";
  if (why.find("digits") != std::string::npos && why[0] >= '0' && why[0] <= '9') return "must have";
  if (why == "not a digit") return "is not a digit";
  if (why == "empty") return "is empty";
  if (why.find("profession digit") != std::string::npos) return "profession digit";
  if (why.find("first digit") != std::string::npos) return "first digit";
  return why;
}

TEST_CASE("INSZ vectors: valid numbers parse with birth date and sex, invalid ones say why") {
  auto v = Vectors()["insz"];
  for (const auto& t : v["valid"]) {
    INFO(t["value"].get<std::string>());
    auto insz = ParseInsz(t["value"].get<std::string>());
    REQUIRE(insz.ok());
    CHECK(insz->birth_date == t["birth_date"].get<std::string>());
    CHECK(insz->sex == (t["sex"] == "M" ? Insz::Sex::kMale : Insz::Sex::kFemale));
    CHECK(insz->bis == (t["kind"].get<std::string>().starts_with("BIS")));
    CHECK(insz->digits.size() == 11);
  }
  for (const auto& t : v["invalid"]) {
    INFO(t["value"].get<std::string>() << ": " << t["why"].get<std::string>());
    auto insz = ParseInsz(t["value"].get<std::string>());
    REQUIRE_FALSE(insz.ok());
    CHECK(insz.status().field() == "insz");
    CHECK_THAT(insz.status().message(), Catch::Contains(Expected(t["why"])));
  }
}

TEST_CASE("INSZ rules beyond the vectors: month, day, serial, unknown sex") {
  // 97 - (first 9 digits mod 97), for births in the 1900s.
  auto with_check = [](std::string first9) {
    uint64_t n = std::stoull(first9);
    std::string cc = std::to_string(97 - n % 97);
    return first9 + (cc.size() == 1 ? "0" + cc : cc);
  };
  CHECK_THAT(ParseInsz(with_check("851330033")).status().message(), Catch::Contains("month 13"));
  CHECK_THAT(ParseInsz(with_check("850230033")).status().message(), Catch::Contains("day 30"));
  CHECK_THAT(ParseInsz(with_check("850730000")).status().message(), Catch::Contains("serial 000"));
  auto bis_unknown_sex = ParseInsz(with_check("852730033"));
  REQUIRE(bis_unknown_sex.ok());
  CHECK(bis_unknown_sex->bis);
  CHECK(bis_unknown_sex->sex == Insz::Sex::kUnknown);
  auto unknown_date = ParseInsz(with_check("850000033"));
  REQUIRE(unknown_date.ok());
  CHECK_FALSE(unknown_date->birth_date.has_value());
}

TEST_CASE("RIZIV vectors: person key, qualification and role; invalid ones say why") {
  auto v = Vectors()["riziv"];
  for (const auto& t : v["valid"]) {
    INFO(t["value"].get<std::string>());
    auto riziv = ParseRiziv(t["value"].get<std::string>());
    REQUIRE(riziv.ok());
    CHECK(riziv->person_key == t["person_key"].get<std::string>());
    CHECK(riziv->qualification == t["qualification"].get<std::string>());
    CHECK((riziv->role == Riziv::Role::kPhysicianInTraining) ==
          (t["role"].get<std::string>().find("training") != std::string::npos));
  }
  for (const auto& t : v["invalid"]) {
    INFO(t["value"].get<std::string>() << ": " << t["why"].get<std::string>());
    auto riziv = ParseRiziv(t["value"].get<std::string>());
    REQUIRE_FALSE(riziv.ok());
    CHECK(riziv.status().field() == "riziv");
    CHECK_THAT(riziv.status().message(), Catch::Contains(Expected(t["why"])));
  }
}

TEST_CASE("KBO vectors: ten digits out, invalid ones say why") {
  auto v = Vectors()["kbo"];
  for (const auto& t : v["valid"]) {
    INFO(t["value"].get<std::string>());
    auto kbo = ParseKbo(t["value"].get<std::string>());
    REQUIRE(kbo.ok());
    CHECK(kbo->size() == 10);
  }
  CHECK(*ParseKbo("566988259") == "0566988259");
  for (const auto& t : v["invalid"]) {
    INFO(t["value"].get<std::string>() << ": " << t["why"].get<std::string>());
    auto kbo = ParseKbo(t["value"].get<std::string>());
    REQUIRE_FALSE(kbo.ok());
    CHECK(kbo.status().field() == "kbo");
    CHECK_THAT(kbo.status().message(), Catch::Contains(Expected(t["why"])));
  }
}

}  // namespace
}  // namespace vaxledger

namespace vaxledger {
namespace {

TEST_CASE("Check digits for demo data and tests: what the parsers accept") {
  // The worked examples of identifiers.json, rebuilt from their first digits.
  CHECK(InszWithCheckDigits("850730033") == "85073003328");
  CHECK(InszWithCheckDigits("170730033", /*born_2000_or_later=*/true) == "17073003384");
  CHECK(RizivWithCheckDigits("163658", "004") == "16365878004");
  for (int serial = 1; serial < 998; serial += 37) {
    char first9[16];
    std::snprintf(first9, sizeof first9, "700101%03d", serial);
    auto before = ParseInsz(InszWithCheckDigits(first9));
    REQUIRE(before.ok());
    CHECK(before->birth_year == 1970);
    auto after = ParseInsz(InszWithCheckDigits(first9, true));
    REQUIRE(after.ok());
    CHECK(after->birth_year == 2070);
  }
  for (int n = 10000; n < 99999; n += 7919) {
    const std::string first6 = "1" + std::to_string(n);
    auto riziv = ParseRiziv(RizivWithCheckDigits(first6, "005"));
    REQUIRE(riziv.ok());
    CHECK(riziv->role == Riziv::Role::kPhysicianInTraining);
  }
}

}  // namespace
}  // namespace vaxledger
