#include "tools/demo.h"

#include "tools/demo_population.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/identifiers.h"
#include "core/jws.h"

namespace vaxledger::tools {

namespace {

// A valid INSZ born on `yymmdd` (before 2000) with serial `serial`.
std::string MakeInsz(const char* yymmdd, int serial) {
  char first9[16];
  std::snprintf(first9, sizeof first9, "%s%03d", yymmdd, serial);
  return InszWithCheckDigits(first9);
}

// A valid RIZIV number 1-SSSSS-CC-QQQ.
std::string MakeRiziv(int seed, const char* qualification) {
  char first6[16];
  std::snprintf(first6, sizeof first6, "1%05d", seed);
  return RizivWithCheckDigits(first6, qualification);
}

struct Cast {
  DemoPerson admin{MakeInsz("700101", 11), "An Beheerder", "an.beheerder@example.be",
                   "administrator"};
  DemoPerson auditor{MakeInsz("700101", 13), "Oscar Auditeur", "oscar.auditeur@example.be",
                     "auditor"};
  DemoPerson peeters{MakeInsz("750312", 21), "Dr. Els Peeters", "els.peeters@example.be",
                     "physician, Groepspraktijk De Linde (trainer of Tom Wouters)"};
  DemoPerson janssens{MakeInsz("680923", 33), "Dr. Jan Janssens", "jan.janssens@example.be",
                      "physician, Groepspraktijk De Linde"};
  DemoPerson maes{MakeInsz("820514", 45), "Dr. Sarah Maes", "sarah.maes@example.be",
                  "physician, Praktijk Maes"};
  DemoPerson claes{MakeInsz("790101", 57), "Dr. Pieter Claes", "pieter.claes@example.be",
                   "physician, Vaccinatiecentrum Gent"};
  DemoPerson wouters{MakeInsz("950707", 61), "Tom Wouters", "tom.wouters@example.be",
                     "physician in training (HAIO), Groepspraktijk De Linde"};
  DemoPerson staff{MakeInsz("880808", 72), "Lies Staf", "lies.staf@example.be",
                   "staff, Groepspraktijk De Linde"};
  DemoPerson newcomer{MakeInsz("900202", 84), "Dr. Nina Nieuw", "nina.nieuw@example.be",
                      "no access yet: can request it"};
};

const Cast& TheCast() {
  static const Cast cast;
  return cast;
}

Result<Caller> As(const projections::Registry& registry, const DemoPerson& p,
                  const std::string& entity = {}, const std::string& on_behalf_of = {}) {
  return CallerFor(registry.subjects(), p.insz, entity, on_behalf_of);
}

}  // namespace

std::string DemoAdministratorInsz() { return TheCast().admin.insz; }

const std::vector<DemoPerson>& DemoPeople() {
  static const std::vector<DemoPerson> people = [] {
    const Cast& c = TheCast();
    return std::vector<DemoPerson>{c.admin, c.auditor, c.peeters, c.janssens, c.maes,
                                   c.claes, c.wouters, c.staff,   c.newcomer};
  }();
  return people;
}

Status SeedDemo(projections::Registry& registry) {
  const Cast& c = TheCast();
  VX_ASSIGN_OR_RETURN(const Caller admin, As(registry, c.admin));
  auto is_admin = registry.Read([&](const RegistryState& s) {
    const Person* p = s.membership.FindPerson(admin.person);
    return p != nullptr && p->roles.contains("administrator");
  });
  VX_RETURN_IF_ERROR(is_admin.status());
  if (!*is_admin) {
    return FailedPrecondition("the demo administrator (INSZ " + c.admin.insz +
                              ") is not an administrator of this registry: create the data "
                              "directory with `vaxledger init --admin " +
                              c.admin.insz + "`");
  }
  int step = 0;
  // Every command has a fixed idempotency key: a second seeding appends nothing.
  auto run = [&](const Caller& caller, const Command& command) -> Status {
    auto out = registry.Execute(caller, command, "demo-seed-" + std::to_string(++step));
    return out.status();
  };
  auto join = [&](const DemoPerson& p, int riziv_seed, const std::string& entity,
                  std::optional<NewEntity> create) -> Status {
    const std::string id = "demo-acc-" + std::to_string(riziv_seed);
    VX_ASSIGN_OR_RETURN(const Caller caller, As(registry, p));
    VX_RETURN_IF_ERROR(
        run(caller, RequestAccess{id, p.name, p.email, MakeRiziv(riziv_seed, "004"),
                                  "vaccinnet-terms-2024", create ? "" : entity, create}));
    return run(admin, DecideRequest{id, true, "", entity});
  };
  VX_RETURN_IF_ERROR(run(admin, ChangeRole{c.auditor.insz, "auditor", true}));
  VX_RETURN_IF_ERROR(
      join(c.peeters, 10001, "demo-linde",
           NewEntity{"group_practice", "Groepspraktijk De Linde", "0403.019.261", "flanders"}));
  VX_RETURN_IF_ERROR(join(c.janssens, 10002, "demo-linde", std::nullopt));
  VX_RETURN_IF_ERROR(
      join(c.maes, 10003, "demo-maes", NewEntity{"practice", "Praktijk Maes", "", "brussels"}));
  VX_RETURN_IF_ERROR(join(c.claes, 10004, "demo-vcg",
                          NewEntity{"organisation", "Vaccinatiecentrum Gent", "", "flanders"}));
  VX_ASSIGN_OR_RETURN(const Caller peeters, As(registry, c.peeters, "demo-linde"));
  VX_ASSIGN_OR_RETURN(const Caller staff, As(registry, c.staff, "demo-linde", peeters.person));
  VX_RETURN_IF_ERROR(run(peeters, RequestLink{"demo-link-haio", c.wouters.insz, c.wouters.name,
                                              c.wouters.email, true, MakeRiziv(10005, "005")}));
  VX_RETURN_IF_ERROR(run(admin, DecideRequest{"demo-link-haio", true, "", ""}));
  VX_RETURN_IF_ERROR(run(peeters, RequestLink{"demo-link-staff", c.staff.insz, c.staff.name,
                                              c.staff.email, false, ""}));
  VX_RETURN_IF_ERROR(run(admin, DecideRequest{"demo-link-staff", true, "", ""}));
  // Lots that expire in four and seven months from today (an expired lot is not received), and
  // one that expires within the month, which the stock screen warns about.
  const int64_t today_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const int64_t day_us = 86400LL * 1000000;
  VX_RETURN_IF_ERROR(
      run(peeters, ReceiveStock{"EU/1/20/1528", "FK5127", DateOf(today_us + 120 * day_us), 60}));
  VX_RETURN_IF_ERROR(
      run(peeters, ReceiveStock{"EU/1/18/1326", "FLU2026A", DateOf(today_us + 210 * day_us), 20}));
  VX_RETURN_IF_ERROR(
      run(peeters, ReceiveStock{"EU/1/18/1326", "FLU2025Z", DateOf(today_us + 20 * day_us), 5}));
  const char* products[] = {"EU/1/20/1528", "EU/1/18/1326", "EU/1/20/1528"};
  const char* lots[] = {"FK5127", "FLU2026A", "FK5127"};
  for (int i = 0; i < 6; ++i) {
    RegisterVaccination v;
    v.vaccination_id = "demo-vac-" + std::to_string(i);
    v.patient.insz = MakeInsz("600101", 100 + i % 4);
    v.product = products[i % 3];
    v.lot = lots[i % 3];
    v.dose = 1 + i / 4;
    v.date = "2026-10-" + std::to_string(10 + i);
    v.consent = {"given", v.date};
    const Caller& who = i % 2 ? staff : peeters;
    VX_RETURN_IF_ERROR(run(who, v));
  }
  // The impact figures' denominators (issue 11): Statbel's population of 1 January 2025.
  VX_ASSIGN_OR_RETURN(
      impact::Population population,
      impact::ParsePopulationCsv(kDemoPopulationCsv, std::string(kDemoPopulationFile)));
  VX_RETURN_IF_ERROR(run(admin, LoadPopulation{std::move(population)}));
  return Status::Ok();
}

namespace {

http::RouteDoc DemoDoc(std::string summary, nlohmann::json properties) {
  http::RouteDoc d;
  d.summary = std::move(summary);
  d.tag = "demo";
  d.authenticated = false;
  nlohmann::json required = nlohmann::json::array();
  for (const auto& [name, schema] : properties.items()) required.push_back(name);
  d.responses = {{200,
                  "OK",
                  {{"application/json",
                    {{"type", "object"},
                     {"additionalProperties", false},
                     {"required", required},
                     {"properties", std::move(properties)}}}},
                  {}}};
  return d;
}

http::RouteDoc PeopleDoc() {
  const nlohmann::json str = {{"type", "string"}};
  return DemoDoc("Demo mode: the demo people",
                 {{"people",
                   {{"type", "array"},
                    {"items",
                     {{"type", "object"},
                      {"additionalProperties", false},
                      {"required", nlohmann::json::array({"insz", "name", "what"})},
                      {"properties", {{"insz", str}, {"name", str}, {"what", str}}}}}}}});
}

http::RouteDoc AssertionDoc() {
  http::RouteDoc d = DemoDoc(
      "Demo mode: an assertion of the development identity provider, for POST /v1/sessions",
      {{"assertion", {{"type", "string"}, {"description", "A compact JWS (RFC 7515, EdDSA)"}}}});
  d.body = {{"application/json",
             {{"type", "object"},
              {"required", nlohmann::json::array({"insz"})},
              {"properties", {{"insz", {{"type", "string"}}}}}}}};
  d.problems = {400};
  return d;
}

}  // namespace

void AddDemoRoutes(http::Router& router, const NoteSigner& dev_idp, std::string audience) {
  router.Add("GET", "/v1/demo/people", PeopleDoc(), [](const http::Request&) {
    nlohmann::json people = nlohmann::json::array();
    for (const DemoPerson& p : DemoPeople()) {
      people.push_back({{"insz", p.insz}, {"name", p.name}, {"what", p.what}});
    }
    http::Response r;
    r.body = nlohmann::json{{"people", people}}.dump();
    return r;
  });
  const http::RouteDoc doc = AssertionDoc();
  router.Add("POST", "/v1/demo/assertion", doc, [dev_idp, audience](const http::Request& in) {
    auto body = JsonNestingDepth(in.body) > kMaxJsonDepth
                    ? nlohmann::json(nlohmann::json::value_t::discarded)
                    : nlohmann::json::parse(in.body, nullptr, false);
    if (!body.is_object() || !body.contains("insz") || !body["insz"].is_string()) {
      return http::ProblemResponse(InvalidArgument("insz is required", "insz"));
    }
    auto insz = ParseInsz(body["insz"].get<std::string>());
    if (!insz.ok()) return http::ProblemResponse(insz.status());
    std::string name, email;
    for (const DemoPerson& p : DemoPeople()) {
      if (p.insz == insz->digits) {
        name = p.name;
        email = p.email;
      }
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    // A random jti: two assertions for one person in the same second differ, since each
    // opens one session.
    uint8_t jti[16];
    RandomBytes(jti, sizeof jti);
    nlohmann::json claims = {
        {"iss", dev_idp.name()}, {"sub", insz->digits},
        {"aud", audience},       {"iat", now},
        {"exp", now + 600},      {"jti", HexEncode(ByteView(jti, sizeof jti))}};
    if (!name.empty()) claims["name"] = name;
    if (!email.empty()) claims["email"] = email;
    const KeyId& id = dev_idp.key_id();
    http::Response r;
    r.body = nlohmann::json{{"assertion", SignJws(claims.dump(), dev_idp.key(),
                                                  HexEncode(ByteView(id.data(), id.size())))}}
                 .dump();
    return r;
  });
}

}  // namespace vaxledger::tools
