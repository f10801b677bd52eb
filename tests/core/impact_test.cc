#include "core/impact.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>

namespace vaxledger::impact {
namespace {

constexpr const char* kComirnaty = "EU/1/20/1528";
constexpr const char* kSpikevax = "EU/1/20/1507";
constexpr const char* kJcovden = "EU/1/20/1525";
constexpr const char* kMmr = "EU/1/06/337";

ImpactDose Dose(std::string id, std::string product, const char* date, uint64_t position,
                bool active = true) {
  return {std::move(id), std::move(product), "e", "flanders", *DayOf(date), position, active};
}

std::vector<DoseKind> Kinds(const PatientFacts& f) { return Classify(f).kinds; }

TEST_CASE("impact days: dates, years later, ISO weeks") {
  REQUIRE(DayOf("1970-01-01") == 0);
  REQUIRE(DayOf("2021-03-01") == 18687);
  REQUIRE(!DayOf("2021-02-29"));
  REQUIRE(!DayOf("2021-3-01"));
  REQUIRE(!DayOf("20210301xx"));
  REQUIRE(DateOfDay(*DayOf("1925-12-31")) == "1925-12-31");
  REQUIRE(DateOfDay(AddYears(*DayOf("2004-02-29"), 1)) == "2005-03-01");
  REQUIRE(DateOfDay(AddYears(*DayOf("2004-02-29"), 4)) == "2008-02-29");
  REQUIRE(DateOfDay(AddYears(*DayOf("2000-06-15"), 18)) == "2018-06-15");
  REQUIRE(IsoWeekName(*DayOf("2021-01-03")) == "2020-W53");
  REQUIRE(IsoWeekName(*DayOf("2021-01-04")) == "2021-W01");
  REQUIRE(DateOfDay(WeekStart(*DayOf("2021-01-03"))) == "2020-12-28");
  REQUIRE(IsoWeekName(*DayOf("2024-12-30")) == "2025-W01");
  REQUIRE(DayOfUs(0) == 0);
  REQUIRE(DayOfUs(-1) == -1);
}

TEST_CASE("impact classification: first, completed, booster, other; not the typed dose number") {
  PatientFacts f;
  // Registered out of order: the dates decide, not the registration order or dose numbers.
  f.doses = {Dose("b", kSpikevax, "2021-06-01", 5), Dose("a", kComirnaty, "2021-04-01", 9),
             Dose("m", kMmr, "2021-05-01", 7), Dose("c", kComirnaty, "2022-01-10", 11),
             Dose("d", kComirnaty, "2022-09-10", 12)};
  auto c = Classify(f);
  REQUIRE(c.kinds == std::vector{DoseKind::kCompleted, DoseKind::kFirst, DoseKind::kOther,
                                 DoseKind::kBooster, DoseKind::kBooster});
  REQUIRE(c.milestone[kAtLeastOneDose] == DayOf("2021-04-01"));
  REQUIRE(c.milestone[kCompletedSeries] == DayOf("2021-06-01"));
  REQUIRE(c.milestone[kBoosted] == DayOf("2022-01-10"));
  REQUIRE(c.region == "flanders");

  SECTION("Jcovden completes the series on its own") {
    PatientFacts j;
    j.doses = {Dose("j", kJcovden, "2021-05-01", 1), Dose("k", kComirnaty, "2021-11-01", 2)};
    REQUIRE(Kinds(j) == std::vector{DoseKind::kCompleted, DoseKind::kBooster});
    auto cj = Classify(j);
    REQUIRE(cj.milestone[kAtLeastOneDose] == cj.milestone[kCompletedSeries]);
  }
  SECTION("a first dose entered in error makes the second one the first") {
    f.doses[1].active = false;
    auto e = Classify(f);
    REQUIRE(e.kinds[0] == DoseKind::kFirst);
    REQUIRE(e.kinds[3] == DoseKind::kCompleted);
    REQUIRE(e.kinds[4] == DoseKind::kBooster);
    REQUIRE(e.milestone[kAtLeastOneDose] == DayOf("2021-06-01"));
  }
  SECTION("the same day: the registration order decides") {
    PatientFacts s;
    s.doses = {Dose("y", kSpikevax, "2021-05-01", 8), Dose("x", kComirnaty, "2021-05-01", 3)};
    REQUIRE(Kinds(s) == std::vector{DoseKind::kCompleted, DoseKind::kFirst});
  }
  SECTION("german_speaking is counted in wallonia for coverage; no COVID-19 dose: unknown") {
    PatientFacts g;
    g.doses = {Dose("g", kComirnaty, "2021-05-01", 1)};
    g.doses[0].region = "german_speaking";
    REQUIRE(Classify(g).region == "wallonia");
    PatientFacts o;
    o.doses = {Dose("m", kMmr, "2021-05-01", 1)};
    REQUIRE(Classify(o).region == "unknown");
    REQUIRE(!Classify(o).milestone[kAtLeastOneDose]);
  }
  REQUIRE(PrimarySeriesDoses("EU/1/21/1529") == 2);  // Vaxzevria
  REQUIRE(PrimarySeriesDoses(kJcovden) == 1);
  REQUIRE(PrimarySeriesDoses(kMmr) == 0);
}

TEST_CASE("impact patient record round trip and refusal of malformed bytes") {
  PatientFacts f;
  f.birth_day = DayOf("1950-02-03");
  f.doses = {Dose("a", kComirnaty, "2021-04-01", 9), Dose("b", kJcovden, "2021-05-01", 10, false)};
  auto back = DecodePatientFacts(EncodePatientFacts(f));
  REQUIRE(back.ok());
  REQUIRE(*back == f);
  PatientFacts unknown;
  REQUIRE(DecodePatientFacts(EncodePatientFacts(unknown))->birth_day == std::nullopt);
  const std::string bytes = EncodePatientFacts(f);
  REQUIRE(DecodePatientFacts(bytes.substr(0, bytes.size() - 1)).status().code() == Code::kDataLoss);
  REQUIRE(DecodePatientFacts(bytes + "x").status().code() == Code::kDataLoss);
  REQUIRE(DecodePatientFacts("").status().code() == Code::kDataLoss);
}

TEST_CASE("impact population file: Statbel's file, and refusals naming the column") {
  std::ifstream in(std::string(VX_SHARED_DATA_DIR) + "/population-be-2025.csv");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto p = ParsePopulationCsv(text.str(), "population-be-2025.csv");
  REQUIRE(p.ok());
  REQUIRE(p->bands == std::vector<AgeBand>{{0, 17}, {18, 64}, {65, std::nullopt}});
  REQUIRE(p->rows.size() == 9);
  int64_t total = 0;
  for (const auto& r : p->rows) total += r.population;
  REQUIRE(total == 11825551);
  auto again = PopulationFromPayload(PopulationPayload(*p));
  REQUIRE(again.ok());
  REQUIRE(again->bands == p->bands);
  REQUIRE(PopulationPayload(*again) == PopulationPayload(*p));

  const std::string h = "region,age_from,age_to,population\n";
  auto field = [](const Result<Population>& r) { return r.ok() ? "" : r.status().field(); };
  REQUIRE(field(ParsePopulationCsv("x\n", "f")) == "header");
  REQUIRE(field(ParsePopulationCsv(h + "mars,0,,5\n", "f")) == "region");
  REQUIRE(field(ParsePopulationCsv(h + "flanders,1,,5\n", "f")) == "age_from");  // not from 0
  REQUIRE(field(ParsePopulationCsv(h + "flanders,0,17,5\n", "f")) == "age_to");  // bounded last
  REQUIRE(field(ParsePopulationCsv(h + "flanders,0,17,5\nflanders,19,,5\n", "f")) == "age_from");
  REQUIRE(field(ParsePopulationCsv(h + "flanders,0,,x\n", "f")) == "population");
  REQUIRE(field(ParsePopulationCsv(h + "flanders,0,,5\nflanders,0,,6\n", "f")) == "region");
  REQUIRE(field(ParsePopulationCsv(h + "flanders,0,,5,9\n", "f")) == "row");
  REQUIRE(field(ParsePopulationCsv(h + "flanders,0,17,5\nbrussels,0,20,5\nbrussels,18,,1\n",
                                   "f")) == "age_to");
  REQUIRE(ParsePopulationCsv(h + "flanders,0,,5\n", "f").ok());
}

TEST_CASE("impact bands and coverage steps: in a band from max(milestone, entry) until leaving") {
  const std::vector<AgeBand> bands = {{0, 17}, {18, 64}, {65, std::nullopt}};
  const int32_t birth = *DayOf("2003-07-01");
  REQUIRE(BandOn(bands, birth, *DayOf("2021-06-30")) == 0);
  REQUIRE(BandOn(bands, birth, *DayOf("2021-07-01")) == 1);
  REQUIRE(BandOn(bands, birth, *DayOf("2003-06-30")) == -1);
  PatientFacts f;
  f.birth_day = birth;
  f.doses = {Dose("a", kJcovden, "2021-05-01", 1)};
  const auto c = Classify(f);
  auto steps = CoverageSteps(f, c, bands);
  // Two milestones (at least one dose, completed) x (band 0: +1 and -1; band 1: +1 and -1; 65+:
  // +1).
  REQUIRE(steps.size() == 10);
  int64_t in_band1_2021_07_01 = 0;
  for (const auto& s : steps) {
    if (s.milestone == kAtLeastOneDose && s.band == 1 && s.day <= *DayOf("2021-07-01")) {
      in_band1_2021_07_01 += s.delta;
    }
  }
  REQUIRE(in_band1_2021_07_01 == 1);
  PatientFacts no_birth = f;
  no_birth.birth_day.reset();
  auto unknown = CoverageSteps(no_birth, c, bands);
  REQUIRE(unknown.size() == 2);
  REQUIRE(unknown[0].band == -1);
}

TEST_CASE("impact Fenwick arithmetic: prefix sums equal a direct sum") {
  std::mt19937 rng(3);
  std::vector<int64_t> tree(kFenwickSize + 1), direct(kFenwickSize + 1);
  for (int i = 0; i < 2000; ++i) {
    const uint32_t at = 1 + rng() % kFenwickSize;
    const int delta = static_cast<int>(rng() % 7) - 3;
    direct[at] += delta;
    int touched = 0;
    ForEachFenwickUpdate(at, [&](uint32_t node) {
      tree[node] += delta;
      ++touched;
    });
    REQUIRE(touched <= 18);
  }
  std::vector<int64_t> prefix(kFenwickSize + 1);
  for (uint32_t i = 1; i <= kFenwickSize; ++i) prefix[i] = prefix[i - 1] + direct[i];
  for (int i = 0; i < 3000; ++i) {
    const uint32_t at = rng() % (kFenwickSize + 1);
    int64_t sum = 0;
    int reads = 0;
    ForEachFenwickPrefix(at, [&](uint32_t node) {
      sum += tree[node];
      ++reads;
    });
    REQUIRE(reads <= 17);
    REQUIRE(sum == prefix[at]);
  }
  REQUIRE(FenwickIndex(*DayOf("1900-01-01")) == 1);
  REQUIRE(FenwickIndex(*DayOf("1899-05-01")) == 1);
  REQUIRE(FenwickIndex(*DayOf("2300-01-01")) == 0);  // beyond every query: dropped
}

}  // namespace
}  // namespace vaxledger::impact
