// The impact figures over HTTP (issue 11): `vaxledger init --demo` and `vaxledger serve --demo`
// on a loopback port; doses per day and coverage as each role sees them, the disclosure rule,
// as_of, CSV, refusals of bad parameters, and loading a population.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/child_process.h"
#include "tests/common/demo_server.h"
#include "tests/common/http_client.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::testing {
namespace {

using nlohmann::json;

using Server = DemoServer;

// Runs the command line; returns (exit code, its standard output).
std::pair<int, std::string> Run(const std::vector<std::string>& argv) {
  ChildProcess p(argv);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p.out(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const int status = p.Wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

json Dose(const std::string& insz, const std::string& product, const std::string& date) {
  return {{"patient", {{"insz", insz}}},
          {"product", product},
          {"lot", "LOT-1"},
          {"dose", 1},  // the figures do not trust it
          {"date", date},
          {"consent", {{"decision", "given"}, {"date", date}}}};
}

const char* kPeeters = "Dr. Els Peeters";
const char* kMaes = "Dr. Sarah Maes";
const char* kStaf = "Lies Staf";
const char* kAdmin = "An Beheerder";
const char* kAuditor = "Oscar Auditeur";
const char* kNina = "Dr. Nina Nieuw";
const char* kComirnaty = "EU/1/20/1528";
const char* kJcovden = "EU/1/20/1525";

// (date, product, region, kind) -> doses (a number, or "<5").
std::map<std::string, json> Series(const json& body) {
  std::map<std::string, json> out;
  for (const auto& r : body["series"]) {
    out[r["date"].get<std::string>() + " " + r["product"].get<std::string>() + " " +
        r["region"].get<std::string>() + " " + r["kind"].get<std::string>()] = r["doses"];
  }
  return out;
}

const json* Row(const json& body, const std::string& region, int age_from) {
  for (const auto& r : body["rows"]) {
    if (r.value("region", "") == region && r.contains("age_from") && r["age_from"] == age_from) {
      return &r;
    }
  }
  return nullptr;
}

TEST_CASE("Impact over HTTP: doses and coverage by role, disclosure, as_of, CSV, population") {
  Server server;
  auto admin = server.Login(kAdmin);
  auto auditor = server.Login(kAuditor);
  auto peeters = server.Login(kPeeters);  // Groepspraktijk De Linde, flanders
  auto maes = server.Login(kMaes);        // Praktijk Maes, brussels
  const std::string range = "/v1/impact/doses?from=2026-11-01&to=2026-11-30";

  auto before = admin->Get(range);
  REQUIRE(before.status == 200);
  CHECK(before.json()["series"].empty());
  const uint64_t position_before = before.json()["position"];

  // Born 1985-07-30 (INSZ 85073003328): 18-64. Two Comirnaty doses and a booster.
  const std::string a = "85073003328";
  // A BIS number (month + 40), born 1990-04-12.
  const std::string bis = "90441200191";
  for (const auto& [who, body] :
       std::vector<std::pair<HttpClient*, json>>{{peeters.get(), Dose(a, kComirnaty, "2026-11-02")},
                                                 {peeters.get(), Dose(a, kComirnaty, "2026-11-23")},
                                                 {maes.get(), Dose(bis, kJcovden, "2026-11-05")}}) {
    auto r = who->Post("/v1/vaccinations", body);
    INFO(r.body);
    REQUIRE(r.status == 201);
  }
  auto wrong = peeters->Post("/v1/vaccinations", Dose(a, kComirnaty, "2026-11-10"));
  REQUIRE(wrong.status == 201);

  // Administrators: every figure, exact (the read waits for the projection: no sleep needed).
  auto all = admin->Get(range);
  REQUIRE(all.status == 200);
  CHECK(all.json()["masked"] == false);
  CHECK(all.json()["entity"].is_null());
  auto series = Series(all.json());
  CHECK(series == std::map<std::string, json>{{"2026-11-02 EU/1/20/1528 flanders first", 1},
                                              {"2026-11-10 EU/1/20/1528 flanders completed", 1},
                                              {"2026-11-23 EU/1/20/1528 flanders booster", 1},
                                              {"2026-11-05 EU/1/20/1525 brussels completed", 1}});

  // The dose of the 10th was a mistake: entered in error, the figures are as if it never was.
  const std::string wrong_location = wrong.headers["location"];
  REQUIRE(!wrong_location.empty());
  auto retracted =
      peeters->Post(wrong_location + "/retraction", {{"reason", "registered for the wrong day"}});
  INFO(retracted.body);
  REQUIRE(retracted.status == 200);
  series = Series(admin->Get(range).json());
  CHECK(series == std::map<std::string, json>{{"2026-11-02 EU/1/20/1528 flanders first", 1},
                                              {"2026-11-23 EU/1/20/1528 flanders completed", 1},
                                              {"2026-11-05 EU/1/20/1525 brussels completed", 1}});

  // Weeks: 2026-11-02 is a Monday (W45); the 23rd is W48.
  auto weeks = admin->Get(range + "&by=week&product=EU/1/20/1528");
  REQUIRE(weeks.status == 200);
  REQUIRE(weeks.json()["series"].size() == 2);
  CHECK(weeks.json()["series"][0]["week"] == "2026-W45");
  CHECK(weeks.json()["series"][1]["date"] == "2026-11-23");

  // Auditors: everything, but counts below 5 are "<5".
  auto audited = auditor->Get(range);
  REQUIRE(audited.status == 200);
  CHECK(audited.json()["masked"] == true);
  for (const auto& [key, doses] : Series(audited.json())) CHECK(doses == "<5");
  CHECK(Series(audited.json()).size() == 3);

  // A physician: their entity's doses only, masked; no coverage.
  auto own = peeters->Get(range);
  REQUIRE(own.status == 200);
  CHECK(own.json()["entity"] == "demo-linde");
  CHECK(Series(own.json()) ==
        std::map<std::string, json>{{"2026-11-02 EU/1/20/1528 flanders first", "<5"},
                                    {"2026-11-23 EU/1/20/1528 flanders completed", "<5"}});
  auto theirs = maes->Get(range);
  REQUIRE(theirs.status == 200);
  CHECK(Series(theirs.json()).size() == 1);
  CHECK(peeters->Get("/v1/impact/coverage").status == 403);
  // Their staff see the entity's doses too; someone without an entity sees nothing.
  auto staff = server.Login(kStaf)->Get(range);
  REQUIRE(staff.status == 200);
  CHECK(staff.json()["entity"] == "demo-linde");
  CHECK(server.Login(kNina)->Get(range).status == 403);
  HttpClient anonymous(server.port());
  CHECK(anonymous.Get(range).status == 401);

  // Coverage on 2026-11-30 by age band and region (the demo loaded Statbel's population).
  auto coverage = admin->Get("/v1/impact/coverage?date=2026-11-30&by=age,region");
  REQUIRE(coverage.status == 200);
  INFO(coverage.body);
  const json cov = coverage.json();
  CHECK(cov["population"]["source"] == "population-be-2025.csv");
  const json* flanders = Row(cov, "flanders", 18);
  REQUIRE(flanders != nullptr);
  CHECK((*flanders)["population"] == 4057347);
  CHECK((*flanders)["at_least_one_dose"] == 1);
  CHECK((*flanders)["completed"] == 1);
  CHECK((*flanders)["booster"] == 0);
  const json* brussels = Row(cov, "brussels", 18);
  REQUIRE(brussels != nullptr);
  CHECK((*brussels)["completed"] == 1);  // Jcovden: one dose completes the series
  // The demo's own patients (born 1960) are 65+ in flanders.
  const json* older = Row(cov, "flanders", 65);
  REQUIRE(older != nullptr);
  CHECK((*older)["at_least_one_dose"] == 4);
  CHECK((*older)["age_to"].is_null());
  // Before the second dose, the first patient had not completed the series.
  const json earlier = admin->Get("/v1/impact/coverage?date=2026-11-22&by=age,region").json();
  REQUIRE(Row(earlier, "flanders", 18) != nullptr);
  CHECK((*Row(earlier, "flanders", 18))["completed"] == 0);
  // The auditor sees the same rows, masked.
  auto masked = auditor->Get("/v1/impact/coverage?date=2026-11-30&by=region");
  REQUIRE(masked.status == 200);
  for (const auto& r : masked.json()["rows"]) {
    CHECK(r["at_least_one_dose"] == "<5");
    CHECK(r["share_at_least_one_dose"].is_null());
    CHECK(r.contains("region"));
    CHECK(!r.contains("age_from"));
  }
  auto by_age = admin->Get("/v1/impact/coverage?date=2026-11-30&by=age");
  REQUIRE(by_age.status == 200);
  REQUIRE(by_age.json()["rows"].size() == 3);
  CHECK(!by_age.json()["rows"][0].contains("region"));
  CHECK(by_age.json()["rows"][1]["at_least_one_dose"] == 2);

  // As of the position before these registrations: the figures as they were then.
  auto then = admin->Get(range + "&as_of=" + std::to_string(position_before - 1));
  REQUIRE(then.status == 200);
  CHECK(then.json()["series"].empty());
  CHECK(then.json()["as_of"] == std::to_string(position_before - 1));
  auto now =
      admin->Get(range + "&as_of=" + std::to_string(all.json()["position"].get<uint64_t>() - 1));
  REQUIRE(now.status == 200);
  CHECK(Series(now.json()).size() == 4);  // before the retraction

  // CSV.
  auto csv = admin->Send("GET", range, "", {{"Accept", "text/csv"}});
  REQUIRE(csv.status == 200);
  CHECK(csv.headers["content-type"].starts_with("text/csv"));
  CHECK(csv.body.starts_with("date,week,product,product_name,region,kind,doses\n"));
  CHECK(csv.body.find("2026-11-05,2026-W45,EU/1/20/1525,Jcovden,brussels,completed,1\n") !=
        std::string::npos);
  auto coverage_csv =
      auditor->Send("GET", "/v1/impact/coverage?date=2026-11-30", "", {{"Accept", "text/csv"}});
  REQUIRE(coverage_csv.status == 200);
  CHECK(coverage_csv.body.find("2026-11-30,flanders,18,64,4057347,<5,<5,<5\n") !=
        std::string::npos);

  // The command line beside the running server (read-only) prints the same CSV, unmasked as
  // for administrators; --as-of replays the log.
  auto [rc, cli] = Run({VX_BINARY, "impact", "doses", "--data", server.data(), "--from",
                        "2026-11-01", "--to", "2026-11-30", "--csv"});
  CHECK(rc == 0);
  CHECK(cli == csv.body);
  auto [rc_then, cli_then] =
      Run({VX_BINARY, "impact", "doses", "--data", server.data(), "--from", "2026-11-01", "--to",
           "2026-11-30", "--csv", "--as-of", std::to_string(position_before - 1)});
  CHECK(rc_then == 0);
  CHECK(cli_then == "date,week,product,product_name,region,kind,doses\n");
  auto [rc_cov, cli_cov] = Run({VX_BINARY, "impact", "coverage", "--data", server.data(), "--date",
                                "2026-11-30", "--by", "region", "--csv"});
  CHECK(rc_cov == 0);
  CHECK(cli_cov.find("2026-11-30,brussels,,,1255795,1,1,0\n") != std::string::npos);
  CHECK(Run({VX_BINARY, "impact", "doses", "--data", server.data(), "--by", "month"}).first == 2);

  // Bad parameters: 400 naming the field.
  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"?from=2026-13-01", "from"},
                                                        {"?to=2026-02-30", "to"},
                                                        {"?from=2026-11-10&to=2026-11-01", "from"},
                                                        {"?from=2000-01-01&to=2026-11-01", "to"},
                                                        {"?by=month", "by"},
                                                        {"?product=EU/9/99/999", "product"},
                                                        {"?region=mars", "region"},
                                                        {"?as_of=yesterday", "as_of"},
                                                        {"?limit=3", "limit"}}) {
    auto r = admin->Get("/v1/impact/doses" + query);
    INFO(query << " " << r.body);
    CHECK(r.status == 400);
    CHECK(r.json()["field"] == field);
  }
  CHECK(admin->Get("/v1/impact/coverage?by=sex").json()["field"] == "by");
  CHECK(admin->Get("/v1/impact/coverage?date=tomorrow").json()["field"] == "date");

  // Loading a population: administrators only; its bands become the coverage's.
  const std::string file =
      "region,age_from,age_to,population\nflanders,0,11,100\nflanders,12,,900\n"
      "brussels,0,11,50\nbrussels,12,,450\n";
  CHECK(
      peeters->Send("POST", "/v1/impact/population", file, {{"Content-Type", "text/csv"}}).status ==
      403);
  auto bad = admin->Send("POST", "/v1/impact/population",
                         "region,age_from,age_to,population\n"
                         "flanders,3,,5\n",
                         {{"Content-Type", "text/csv"}});
  CHECK(bad.status == 400);
  CHECK(bad.json()["field"] == "age_from");
  auto loaded = admin->Send("POST", "/v1/impact/population?source=small.csv", file,
                            {{"Content-Type", "text/csv"}});
  INFO(loaded.body);
  REQUIRE(loaded.status == 201);
  auto rebanded = admin->Get("/v1/impact/coverage?date=2026-11-30&by=age");
  REQUIRE(rebanded.status == 200);
  CHECK(rebanded.json()["population"]["source"] == "small.csv");
  REQUIRE(rebanded.json()["rows"].size() == 2);
  CHECK(rebanded.json()["rows"][1]["population"] == 1350);
  CHECK(rebanded.json()["rows"][1]["at_least_one_dose"] == 6);
  // The figures as they were before it keep the bands of their time.
  auto old_bands = admin->Get("/v1/impact/coverage?date=2026-11-30&by=age&as_of=" +
                              std::to_string(loaded.json()["positions"][0].get<uint64_t>() - 1));
  REQUIRE(old_bands.status == 200);
  CHECK(old_bands.json()["rows"].size() == 3);
}

}  // namespace
}  // namespace vaxledger::testing
