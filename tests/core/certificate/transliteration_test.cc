#include "core/certificate/transliteration.h"

#include <catch2/catch.hpp>

namespace vaxledger::certificate {
namespace {

std::string T(std::string_view name) {
  auto r = TransliterateIcao(name, "family_name");
  INFO(name << ": " << r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("ICAO 9303: spaces and hyphens become one filler, double names keep both parts") {
  CHECK(T("Marie Louise") == "MARIE<LOUISE");
  CHECK(T("Anne-Marie") == "ANNE<MARIE");
  CHECK(T("  Van  den   Bossche ") == "VAN<DEN<BOSSCHE");
  CHECK(T("Jean - Pierre") == "JEAN<PIERRE");
  CHECK(T("Dupont-Van Damme") == "DUPONT<VAN<DAMME");
}

TEST_CASE("ICAO 9303: accents folded, umlauts and ligatures expanded") {
  CHECK(T("Céline") == "CELINE");
  CHECK(T("François") == "FRANCOIS");
  CHECK(T("Müller") == "MUELLER");
  CHECK(T("Øystein Ærø") == "OEYSTEIN<AEROE");
  CHECK(T("Straße") == "STRASSE");
  CHECK(T("Łukasz Wałęsa") == "LUKASZ<WALESA");
  CHECK(T("Jiřina-Maria Alena") == "JIRINA<MARIA<ALENA");
  CHECK(T("Ștefan Țurcanu") == "STEFAN<TURCANU");
  CHECK(T("Åsa") == "AASA");
}

TEST_CASE("ICAO 9303: apostrophes, full stops and commas are left out") {
  CHECK(T("d'Červenková Panklová") == "DCERVENKOVA<PANKLOVA");
  CHECK(T("O’Brien") == "OBRIEN");
  CHECK(T("St. John") == "ST<JOHN");
}

TEST_CASE("names that cannot be transliterated are refused, naming the field") {
  for (std::string_view bad : {"Иван", "Anna2", "李", "", "' -", "\xC3"}) {
    auto r = TransliterateIcao(bad, "given_name");
    INFO(bad);
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().field() == "given_name");
  }
  CHECK(!TransliterateIcao(std::string(81, 'A'), "family_name").ok());
}

TEST_CASE("Utf8Length counts code points") {
  CHECK(Utf8Length("Köln") == 4u);
  CHECK(!Utf8Length("\xC3").has_value());
  CHECK(!Utf8Length("\xC0\x80").has_value());  // overlong
}

}  // namespace
}  // namespace vaxledger::certificate
