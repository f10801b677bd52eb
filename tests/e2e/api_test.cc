// The HTTP API end to end: `vaxledger init --demo` and `vaxledger serve --demo` on a loopback
// port, driven over HTTP as practice software or the web application would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/encoding.h"
#include "tests/common/child_process.h"
#include "tests/common/http_client.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::testing {
namespace {

using nlohmann::json;

// A demo registry served by the real binary; stopped with SIGTERM.
class Server {
 public:
  Server() {
    {
      ChildProcess init({VX_BINARY, "init", "--data", dir_.path() + "/d", "--demo"});
      REQUIRE(init.Wait() == 0);
    }
    Start();
    HttpClient c0(port_);
    const json people = c0.Get("/v1/demo/people").json();
    for (const auto& p : people["people"]) {
      people_[p["name"].get<std::string>()] = p["insz"].get<std::string>();
    }
    REQUIRE(people_.size() >= 9);
  }
  ~Server() { Stop(); }

  // Stops the server (SIGTERM, as an upgrade would) and starts it again on the same data
  // directory; the port changes.
  void Restart() {
    Stop();
    Start();
  }
  const std::string data() const { return dir_.path() + "/d"; }

  uint16_t port() const { return port_; }
  const std::string& Insz(const std::string& name) const { return people_.at(name); }

  // A client logged in as the demo person `name` (optionally for `entity`).
  std::unique_ptr<HttpClient> Login(const std::string& name, const std::string& entity = {}) {
    auto c = std::make_unique<HttpClient>(port_);
    auto a = c->Post("/v1/demo/assertion", {{"insz", Insz(name)}});
    REQUIRE(a.status == 200);
    json body = {{"assertion", a.json()["assertion"]}};
    if (!entity.empty()) body["entity"] = entity;
    auto s = c->Post("/v1/sessions", body);
    INFO(s.body);
    REQUIRE(s.status == 201);
    CHECK(s.headers["set-cookie"].find("HttpOnly; SameSite=Strict") != std::string::npos);
    c->set_token(s.json()["token"]);
    return c;
  }

  // The number of events in the log.
  uint64_t LogSize() {
    HttpClient c(port_);
    return c.Get("/readyz").json()["log_size"].get<uint64_t>();
  }

 private:
  void Start() {
    child_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        VX_BINARY, "serve", "--data", data(), "--listen", "127.0.0.1:0", "--demo"});
    // The first line names the port: "vaxledger: serving DIR on http://127.0.0.1:PORT (...)".
    std::string line;
    char c;
    while (::read(child_->out(), &c, 1) == 1 && c != '\n') line += c;
    const size_t at = line.find("127.0.0.1:");
    INFO(line);
    REQUIRE(at != std::string::npos);
    port_ = static_cast<uint16_t>(std::stoi(line.substr(at + 10)));
  }
  void Stop() {
    if (!child_) return;
    const int status = child_->SignalAndWait(SIGTERM);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    child_.reset();
  }

  eventstore::testing::TempDir dir_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
  std::map<std::string, std::string> people_;
};

const char* kPeeters = "Dr. Els Peeters";
const char* kJanssens = "Dr. Jan Janssens";
const char* kMaes = "Dr. Sarah Maes";
const char* kWouters = "Tom Wouters";
const char* kStaf = "Lies Staf";
const char* kAdmin = "An Beheerder";
const char* kAuditor = "Oscar Auditeur";
const char* kNina = "Dr. Nina Nieuw";

json Vaccination(const std::string& insz, const std::string& date = "2026-11-20") {
  return {{"patient", {{"insz", insz}}},
          {"product", "EU/1/20/1528"},
          {"lot", "FK5127"},
          {"dose", 1},
          {"date", date},
          {"consent", {{"decision", "given"}, {"date", date}}}};
}

const std::string kPatient = "85073003328";

TEST_CASE("Flows 1-6 over HTTP: access, approval, login, link, vaccination, history, stock") {
  Server server;
  auto admin = server.Login(kAdmin);
  auto nina = server.Login(kNina);
  CHECK(nina->Get("/v1/session").json()["entities"].empty());

  // Flow 1: access request, waits for an administrator.
  json request = {
      {"name", "Dr. Nina Nieuw"},
      {"email", "nina@example.be"},
      {"riziv", "1-00004-03-004"},
      {"terms_version", "vaccinnet-terms-2024"},
      {"new_entity",
       {{"kind", "group_practice"}, {"name", "Praktijk Nieuw"}, {"region", "flanders"}}}};
  auto bad_riziv = request;
  bad_riziv["riziv"] = "1-00004-04-004";
  auto refused = nina->Post("/v1/access-requests", bad_riziv);
  CHECK(refused.status == 400);
  CHECK(refused.json()["field"] == "riziv");
  CHECK(refused.headers["content-type"] == "application/problem+json");
  auto asked = nina->Post("/v1/access-requests", request);
  INFO(asked.body);
  REQUIRE(asked.status == 202);
  const std::string location = asked.headers["location"];
  CHECK(location.starts_with("/v1/requests/"));
  CHECK(nina->Post("/v1/access-requests", request).status == 409);  // one pending at a time
  const json queue = admin->Get("/v1/requests").json()["requests"];
  REQUIRE(queue.size() == 1);
  CHECK(queue[0]["name"] == "Dr. Nina Nieuw");
  CHECK(nina->Get("/v1/requests").status == 403);  // the queue is the administrators'
  REQUIRE(admin->Post(location + "/approve", json::object()).status == 200);
  CHECK(admin->Post(location + "/approve", json::object()).status == 422);  // decided once

  // Flow 2: log in again; one entity, chosen at once.
  nina = server.Login(kNina);
  auto session = nina->Get("/v1/session").json();
  REQUIRE(session["entities"].size() == 1);
  const std::string entity = session["entity"];
  CHECK(session["entities"][0]["role"] == "physician");

  // Flow 3: link a staff member; pending until approved.
  auto entity_before = nina->Get("/v1/entities/" + entity);
  const std::string etag = entity_before.headers["etag"];
  CHECK(nina->Post("/v1/entities/" + entity + "/link-requests",
                   {{"insz", "68092303389"},
                    {"name", "X"},
                    {"email", "x@example.be"},
                    {"is_physician", false}},
                   {{"If-Match", "\"99\""}})
            .status == 412);
  auto link = nina->Post("/v1/entities/" + entity + "/link-requests",
                         {{"insz", "88080807240"},
                          {"name", "Lies Staf"},
                          {"email", "lies@example.be"},
                          {"is_physician", false}},
                         {{"If-Match", etag}});
  INFO(link.body);
  REQUIRE(link.status == 202);
  auto pending = nina->Get("/v1/entities/" + entity).json();
  CHECK(pending["members"].size() == 1);
  CHECK(pending["pending"].size() == 1);
  auto link_approved = admin->Post(link.headers["location"] + "/approve", json::object());
  REQUIRE(link_approved.status == 200);
  CHECK(nina->Get("/v1/entities/" + entity).json()["members"].size() == 2);
  // As of just before the approval, from the log: one member.
  const uint64_t approved_at = link_approved.json()["positions"][0];
  auto then = nina->Get("/v1/entities/" + entity + "?as_of=" + std::to_string(approved_at - 1));
  INFO(then.body);
  CHECK(then.json()["members"].size() == 1);
  CHECK(nina->Get("/v1/entities/" + entity + "?as_of=soon").json()["field"] == "as_of");
  CHECK(server.Login(kMaes)->Get("/v1/entities/" + entity + "?as_of=1").status == 404);

  // Flow 4: unlinking everyone is refused, with what to do.
  auto members = nina->Get("/v1/entities/" + entity).json()["members"];
  json all = json::array();
  for (const auto& m : members) all.push_back(m["person"]);
  auto unlink = nina->Post("/v1/entities/" + entity + "/unlink-requests", {{"members", all}});
  CHECK(unlink.status == 422);
  CHECK(unlink.json()["detail"].get<std::string>().find("link someone new first") !=
        std::string::npos);

  // Flow 5: register, idempotently; the duplicate is refused; the history shows it.
  const uint64_t before = server.LogSize();
  auto registered =
      nina->Post("/v1/vaccinations", Vaccination(kPatient), {{"Idempotency-Key", "r1"}});
  INFO(registered.body);
  REQUIRE(registered.status == 201);
  auto again = nina->Post("/v1/vaccinations", Vaccination(kPatient), {{"Idempotency-Key", "r1"}});
  CHECK(again.status == 201);
  CHECK(again.json()["already_stored"] == true);
  CHECK(again.json()["id"] == registered.json()["id"]);
  CHECK(again.headers["location"] == registered.headers["location"]);
  {
    // The same person retrying from a new session (after logging in again): still the first.
    auto relogged = server.Login(kNina);
    auto retried =
        relogged->Post("/v1/vaccinations", Vaccination(kPatient), {{"Idempotency-Key", "r1"}});
    CHECK(retried.json()["already_stored"] == true);
    CHECK(retried.headers["location"] == registered.headers["location"]);
  }
  CHECK(server.LogSize() == before + 1);
  CHECK(nina->Post("/v1/vaccinations", Vaccination(kPatient)).status == 409);  // duplicate
  const std::string vaccination = registered.headers["location"];
  const std::string patient = vaccination.substr(0, vaccination.find("/vaccinations/"));
  auto history = nina->Post("/v1/patients/search", {{"insz", kPatient}});
  REQUIRE(history.status == 200);
  CHECK(history.json()["vaccinations"].size() == 1);
  CHECK(nina->Get(patient).json()["vaccinations"][0]["lot"] == "FK5127");

  // Corrections and retractions, with If-Match on the patient's version.
  const std::string version = nina->Get(patient).headers["etag"];
  CHECK(nina->Post(vaccination + "/corrections", {{"lot", "FK9999"}, {"reason", "typo"}},
                   {{"If-Match", "\"41\""}})
            .status == 412);
  auto corrected = nina->Post(vaccination + "/corrections", {{"lot", "FK9999"}, {"reason", "typo"}},
                              {{"If-Match", version}});
  INFO(corrected.body);
  REQUIRE(corrected.status == 200);
  REQUIRE(nina->Post(vaccination + "/retraction", {{"reason", "wrong patient"}}).status == 200);
  // Her only registration is entered in error: no care relationship is left (issue 13.12): she
  // sees her own registrations only, without the patient's data, until she declares one, with a
  // reason.
  auto restricted = nina->Get(patient).json();
  CHECK(restricted["restricted"] == true);
  CHECK(restricted["insz"] == "");
  CHECK(restricted["vaccinations"].size() == 1);
  REQUIRE(nina->Post("/v1/patients/care-declarations",
                     {{"patient", {{"insz", kPatient}}}, {"reason", "follow-up consultation"}})
              .status == 201);
  auto after = nina->Get(patient).json()["vaccinations"][0];
  CHECK(after["status"] == "entered_in_error");
  CHECK(after["lot"] == "FK9999");
  // As of the registration, from the log: active, with the first lot.
  const uint64_t registered_at = registered.json()["positions"][0];
  const json history_then = nina->Get(patient + "?as_of=" + std::to_string(registered_at)).json();
  CHECK(history_then["vaccinations"][0]["status"] == "active");
  CHECK(history_then["vaccinations"][0]["lot"] == "FK5127");

  // Flow 6: stock; the registration took a dose that was never delivered: a shortfall.
  REQUIRE(nina->Post("/v1/entities/" + entity + "/stock/deliveries", {{"product", "EU/1/20/1528"},
                                                                      {"lot", "FK1"},
                                                                      {"expiry", "2027-01-31"},
                                                                      {"quantity", 10}})
              .status == 201);
  REQUIRE(nina->Post("/v1/vaccinations", Vaccination("85073003328", "2026-11-21")).status == 201);
  auto stock = nina->Get("/v1/entities/" + entity + "/stock").json();
  CHECK(stock["shortfall"] == 1);

  // Another entity does not see this patient, nor that it exists.
  auto maes = server.Login(kMaes);
  CHECK(maes->Get(patient).status == 404);
  CHECK(maes->Post("/v1/patients/search", {{"insz", kPatient}}).status == 404);
  CHECK(maes->Get("/v1/entities/" + entity).status == 404);

  // The reads were recorded in the ledger, which auditors read: the reads of one reader within
  // 100 ms share one `patients.read` event, appended at the latest when the server stops.
  server.Restart();
  nina = server.Login(kNina);
  auto auditor = server.Login(kAuditor);
  auto entries = auditor->Get("/v1/ledger/entries?start=0&limit=1000").json()["entries"];
  bool read_recorded = false;
  for (const auto& e : entries) {
    auto leaf = Base64Decode(e["leaf"].get<std::string>());
    REQUIRE(leaf.ok());
    read_recorded |=
        std::string(leaf->begin(), leaf->end()).find("patients.read") != std::string::npos;
  }
  CHECK(read_recorded);
  CHECK(nina->Get("/v1/ledger/entries").status == 403);

  // Logout ends the session.
  CHECK(nina->Send("DELETE", "/v1/session").status == 204);
  CHECK(nina->Get("/v1/session").status == 401);
}

TEST_CASE("A HAIO acts under the trainer; staff on behalf of a linked physician") {
  Server server;
  auto haio = server.Login(kWouters);
  auto as_haio = haio->Post("/v1/vaccinations", Vaccination(kPatient));
  INFO(as_haio.body);
  CHECK(as_haio.status == 201);
  auto staff = server.Login(kStaf);
  auto without = staff->Post("/v1/vaccinations", Vaccination("85073003328", "2026-11-19"));
  CHECK(without.status == 403);
  CHECK(without.json()["field"] == "on_behalf_of");
  auto physicians = staff->Get("/v1/session").json()["entities"][0]["physicians"];
  REQUIRE(physicians.size() >= 1);
  REQUIRE(staff
              ->Send("PUT", "/v1/session/entity",
                     json{{"entity", "demo-linde"}, {"on_behalf_of", physicians[0]}}.dump())
              .status == 200);
  CHECK(staff->Post("/v1/vaccinations", Vaccination("85073003328", "2026-11-19")).status == 201);
  CHECK(staff->Send("PUT", "/v1/session/entity", json{{"entity", "demo-maes"}}.dump()).status ==
        403);
}

TEST_CASE("Roles by route: who may call what") {
  Server server;
  auto anonymous = std::make_unique<HttpClient>(server.port());
  auto physician = server.Login(kPeeters);
  auto staff = server.Login(kStaf);
  auto admin = server.Login(kAdmin);
  auto auditor = server.Login(kAuditor);
  auto other = server.Login(kMaes);
  struct Call {
    const char* method;
    std::string target;
    json body;
  };
  const std::vector<Call> calls = {
      {"GET", "/v1/session", nullptr},
      {"GET", "/v1/requests", nullptr},
      {"GET", "/v1/entities/demo-linde", nullptr},
      {"GET", "/v1/entities/demo-linde/stock", nullptr},
      {"POST",
       "/v1/entities/demo-linde/stock/deliveries",
       {{"product", "EU/1/20/1528"}, {"lot", "L"}, {"expiry", "2027-01-01"}, {"quantity", 1}}},
      {"GET", "/v1/ledger/entries", nullptr},
      {"POST", "/v1/roles", {{"insz", "85073003328"}, {"role", "auditor"}, {"grant", true}}},
  };
  // Expected status per caller, in the order anonymous, physician, staff (no physician chosen),
  // administrator, auditor, physician of another entity.
  const std::vector<std::vector<int>> expected = {
      {401, 200, 200, 200, 200, 200}, {401, 403, 403, 200, 403, 403},
      {401, 200, 200, 200, 404, 404}, {401, 200, 200, 404, 404, 404},
      {401, 201, 403, 404, 404, 404}, {401, 403, 403, 403, 200, 403},
      {401, 403, 403, 200, 403, 403},
  };
  HttpClient* callers[] = {anonymous.get(), physician.get(), staff.get(),
                           admin.get(),     auditor.get(),   other.get()};
  const char* names[] = {"anonymous", "physician", "staff", "administrator", "auditor", "other"};
  for (size_t i = 0; i < calls.size(); ++i) {
    for (size_t j = 0; j < 6; ++j) {
      // Roles are granted once: the administrator's later grant of the same role is 409.
      if (i == 6 && j > 3) continue;
      auto r = calls[i].body.is_null()
                   ? callers[j]->Send(calls[i].method, calls[i].target)
                   : callers[j]->Send(calls[i].method, calls[i].target, calls[i].body.dump());
      INFO(calls[i].method << " " << calls[i].target << " as " << names[j] << ": " << r.body);
      CHECK(r.status == expected[i][j]);
      if (r.status >= 400) CHECK(r.headers["content-type"] == "application/problem+json");
      // RFC 9110 §15.5.2: every 401 carries a challenge.
      if (r.status == 401) CHECK(r.headers["www-authenticate"] == "Bearer realm=\"vaxledger\"");
    }
  }
}

TEST_CASE("Standards over the wire: enum parameters, HEAD, problem titles, the OpenAPI document") {
  Server server;
  auto admin = server.Login(kAdmin);
  // A value outside the enum is refused naming the parameter, not answered with an empty list.
  auto bogus = admin->Get("/v1/requests?status=bogus");
  CHECK(bogus.status == 400);
  CHECK(bogus.json()["field"] == "status");
  CHECK(bogus.json()["title"] == "Bad Request");
  for (const char* status : {"pending", "approved", "rejected", "all"}) {
    CHECK(admin->Get(std::string("/v1/requests?status=") + status).status == 200);
  }
  // A stale If-Match: 412 titled with its own phrase (RFC 9457 about:blank).
  auto physician = server.Login(kPeeters);
  auto stale = physician->Post("/v1/entities/demo-linde/unlink-requests",
                               {{"members", json::array()}}, {{"If-Match", "\"999999\""}});
  CHECK(stale.status == 412);
  CHECK(stale.json()["title"] == "Precondition Failed");
  // The document is served and lists every route the demo server has, demo routes included.
  auto doc = admin->Get("/v1/openapi.json");
  REQUIRE(doc.status == 200);
  CHECK(doc.json()["paths"].contains("/v1/demo/assertion"));
  CHECK(doc.json()["paths"]["/v1/events"]["get"]["responses"]["200"]["content"].contains(
      "text/event-stream"));
}

TEST_CASE("Bad input: a 4xx problem naming the field, nothing appended, the server still serves") {
  Server server;
  auto physician = server.Login(kPeeters);
  const uint64_t size = server.LogSize();
  json missing = Vaccination(kPatient);
  missing.erase("date");
  json wrong_type = Vaccination(kPatient);
  wrong_type["dose"] = "one";
  json unknown = Vaccination(kPatient);
  unknown["colour"] = "blue";
  json bad_insz = Vaccination("85073003329");
  json future = Vaccination(kPatient, "2099-01-01");
  json no_lot = Vaccination(kPatient);
  no_lot.erase("lot");
  struct Case {
    std::string body;
    int status;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"{not json", 400, "body"},      {"[1,2]", 400, "body"},
      {missing.dump(), 400, "date"},   {wrong_type.dump(), 400, "dose"},
      {unknown.dump(), 400, "colour"}, {bad_insz.dump(), 400, "patient.insz"},
      {future.dump(), 400, "date"},    {no_lot.dump(), 400, "lot"},
  };
  for (const Case& c : cases) {
    auto r = physician->Send("POST", "/v1/vaccinations", c.body);
    INFO(c.body << " -> " << r.body);
    CHECK(r.status == c.status);
    CHECK(r.headers["content-type"] == "application/problem+json");
    CHECK(r.json()["field"] == c.field);
  }
  CHECK(physician->Get("/v1/nowhere").status == 404);
  CHECK(physician->Send("DELETE", "/v1/vaccinations").status == 405);
  {
    HttpClient big(server.port());
    big.set_token(physician->token());
    auto r = big.Send("POST", "/v1/vaccinations", std::string(2 << 20, 'x'));
    CHECK(r.status == 413);
  }
  {
    HttpClient big(server.port());
    auto r = big.Send("GET", "/v1/session", "", {{"X-Filler", std::string(32 << 10, 'y')}});
    CHECK(r.status == 431);
  }
  CHECK(server.LogSize() == size);
  CHECK(physician->Get("/v1/session").status == 200);
}

TEST_CASE("Two concurrent unlink approvals for the last two members: at most one succeeds") {
  Server server;
  auto admin = server.Login(kAdmin);
  // Dr. Maes (who has access) and Dr. Janssens join a new group practice of their own.
  auto maes = server.Login(kMaes);
  auto created = maes->Post(
      "/v1/access-requests",
      {{"name", "Dr. Sarah Maes"},
       {"email", "sarah@example.be"},
       {"riziv", "1-10003-92-004"},
       {"terms_version", "t"},
       {"new_entity", {{"kind", "group_practice"}, {"name", "Duo"}, {"region", "brussels"}}}});
  INFO(created.body);
  REQUIRE(created.status == 202);
  REQUIRE(admin->Post(created.headers["location"] + "/approve", json::object()).status == 200);
  const std::string entity = admin->Get(created.headers["location"]).json()["entity"];
  auto janssens = server.Login(kJanssens);
  auto joined = janssens->Post("/v1/access-requests", {{"name", "Dr. Jan Janssens"},
                                                       {"email", "jan@example.be"},
                                                       {"riziv", "1-10002-93-004"},
                                                       {"terms_version", "t"},
                                                       {"entity", entity}});
  INFO(joined.body);
  REQUIRE(joined.status == 202);
  REQUIRE(admin->Post(joined.headers["location"] + "/approve", json::object()).status == 200);
  maes = server.Login(kMaes, entity);
  janssens = server.Login(kJanssens, entity);
  const std::string maes_id = maes->Get("/v1/session").json()["person"];
  const std::string janssens_id = janssens->Get("/v1/session").json()["person"];
  auto u1 = maes->Post("/v1/entities/" + entity + "/unlink-requests", {{"members", {maes_id}}});
  auto u2 =
      janssens->Post("/v1/entities/" + entity + "/unlink-requests", {{"members", {janssens_id}}});
  REQUIRE(u1.status == 202);
  REQUIRE(u2.status == 202);
  auto admin2 = server.Login(kAdmin);
  int s1 = 0, s2 = 0;
  std::thread t1(
      [&] { s1 = admin->Post(u1.headers["location"] + "/approve", json::object()).status; });
  std::thread t2(
      [&] { s2 = admin2->Post(u2.headers["location"] + "/approve", json::object()).status; });
  t1.join();
  t2.join();
  CHECK((s1 == 200) + (s2 == 200) == 1);
  CHECK((s1 == 422 || s2 == 422));
  CHECK(admin->Get("/v1/entities/" + entity).json()["members"].size() == 1);
}

TEST_CASE("Batch registration, JSON or CSV: each row accepted or refused with its reason") {
  Server server;
  auto physician = server.Login(kPeeters);
  json rows = json::array(
      {Vaccination("85073003328"), Vaccination("85073003329"), Vaccination("85073003328")});
  auto r = physician->Post("/v1/vaccinations/batch", rows);
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto body = r.json();
  CHECK(body["accepted"] == 1);
  CHECK(body["results"][0]["status"] == 201);
  CHECK(body["results"][1]["status"] == 400);
  CHECK(body["results"][1]["field"] == "patient.insz");
  CHECK(body["results"][2]["status"] == 409);  // the same patient, product and day

  const std::string csv =
      "insz,name,birth_date,consent\r\n"
      "17073003384,,,given\r\n"
      ",\"Zonder, Jan\",2019-05-01,refused\r\n"
      "12345678901,,,given\r\n";
  auto c = physician->Send(
      "POST", "/v1/vaccinations/batch?product=EU/1/18/1326&lot=FLU2026A&date=2026-11-18", csv,
      {{"Content-Type", "text/csv"}});
  INFO(c.body);
  REQUIRE(c.status == 200);
  body = c.json();
  CHECK(body["accepted"] == 2);
  CHECK(body["results"][2]["field"] == "patient.insz");
  CHECK(physician
            ->Send("POST", "/v1/vaccinations/batch?product=EU/1/18/1326", csv,
                   {{"Content-Type", "text/csv"}})
            .json()["field"] == "lot");
}

TEST_CASE("A CSV line that is not UTF-8 is refused as a row, not answered 500 (fuzz: csv_batch)") {
  Server server;
  auto physician = server.Login(kPeeters);
  const std::string csv =
      "insz,name,birth_date\n"
      ",\"Maes \xb3\x9f\",1982-05-14\n"
      ",\"Maes Sarah\",1982-05-14\n";
  auto c = physician->Send(
      "POST", "/v1/vaccinations/batch?product=EU/1/18/1326&lot=FLU2026A&date=2026-11-18", csv,
      {{"Content-Type", "text/csv"}});
  INFO(c.body);
  REQUIRE(c.status == 200);
  auto body = c.json();
  CHECK(body["accepted"] == 1);
  CHECK(body["results"][0]["status"] == 400);
  CHECK(body["results"][0]["detail"] == "line 2 is not UTF-8");
  CHECK(body["results"][1]["status"] == 201);
  auto header = physician->Send(
      "POST", "/v1/vaccinations/batch?product=EU/1/18/1326&lot=FLU2026A&date=2026-11-18",
      "\xffinsz\n17073003384\n", {{"Content-Type", "text/csv"}});
  CHECK(header.status == 400);
}

// A raw connection reading a server-sent event stream.
class EventStream {
 public:
  EventStream(uint16_t port, const std::string& token, const std::string& last_event_id) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{10, 0};  // a safety net: a missing event fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string req =
        "GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n" +
        (last_event_id.empty() ? "" : "Last-Event-ID: " + last_event_id + "\r\n") + "\r\n";
    REQUIRE(::write(fd_, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  }
  ~EventStream() { ::close(fd_); }
  // Reads until `text` has arrived; returns everything read so far.
  const std::string& ReadUntil(const std::string& text) {
    char buf[4096];
    while (seen_.find(text) == std::string::npos) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        FAIL("the event stream ended or stalled before \"" << text << "\"; got: " << seen_);
      }
      seen_.append(buf, static_cast<size_t>(n));
    }
    return seen_;
  }

 private:
  int fd_ = -1;
  std::string seen_;
};

TEST_CASE("The event feed: a member sees the entity's events, resumes, follows live") {
  Server server;
  auto physician = server.Login(kPeeters);
  EventStream feed(server.port(), physician->token(), "0");
  const std::string& first = feed.ReadUntil("event: vaccination.registered");
  CHECK(first.starts_with("HTTP/1.1 200"));
  CHECK(first.find("text/event-stream") != std::string::npos);
  CHECK(first.find("Praktijk Maes") == std::string::npos);
  auto registered = physician->Post("/v1/vaccinations", Vaccination(kPatient));
  REQUIRE(registered.status == 201);
  const std::string position = registered.json()["positions"][0].dump();
  const std::string& live = feed.ReadUntil("id: " + position + "\n");
  CHECK(live.find(kPatient) == std::string::npos);  // no personal data in the feed
  // Another entity's member does not see it; without a session there is no feed.
  auto maes = server.Login(kMaes);
  EventStream other(server.port(), maes->token(), position);
  auto delivered = maes->Post(
      "/v1/entities/demo-maes/stock/deliveries",
      {{"product", "EU/1/20/1528"}, {"lot", "M1"}, {"expiry", "2027-01-01"}, {"quantity", 5}});
  REQUIRE(delivered.status == 201);
  const std::string& mine = other.ReadUntil("event: stock.received");
  CHECK(mine.find("\"entity\":\"demo-linde\"") == std::string::npos);
  HttpClient anonymous(server.port());
  CHECK(anonymous.Get("/v1/events").status == 401);
}

// Issue 13: what a hostile or careless client tried, each refused without changing anything.
TEST_CASE(
    "Hardening: cross-site and non-JSON writes refused, Idempotency-Key bound to its request") {
  Server server;
  auto maes = server.Login(kMaes);
  const std::string cookie = "vx_session=" + maes->token();
  HttpClient browser(server.port());  // the session cookie only, as a browser sends it
  const uint64_t before = server.LogSize();
  const std::string body = Vaccination("85073003328").dump();
  // 13.8: a form or text/plain body (what a cross-site form can send) is not JSON: 415.
  for (const char* type :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
    auto r = browser.Send("POST", "/v1/vaccinations", body,
                          {{"Cookie", cookie}, {"Content-Type", type}});
    CHECK(r.status == 415);
    CHECK(r.headers["accept-post"] == "application/json");
  }
  // ... and a JSON write from another site: 403.
  CHECK(browser
            .Send("POST", "/v1/vaccinations", body,
                  {{"Cookie", cookie},
                   {"Origin", "https://evil.example"},
                   {"Sec-Fetch-Site", "cross-site"}})
            .status == 403);
  CHECK(browser
            .Send("POST", "/v1/vaccinations", body,
                  {{"Cookie", cookie}, {"Origin", "https://evil.example"}})
            .status == 403);
  CHECK(browser
            .Send("POST", "/v1/vaccinations", body,
                  {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-site"}})
            .status == 403);
  CHECK(
      browser
          .Send("POST", "/v1/sessions", R"({"assertion": "x"})", {{"Sec-Fetch-Site", "cross-site"}})
          .status == 403);  // login CSRF too
  CHECK(server.LogSize() == before);
  // The registry's own pages are same-origin: accepted.
  auto same = browser.Send("POST", "/v1/vaccinations", body,
                           {{"Cookie", cookie},
                            {"Origin", "http://localhost"},
                            {"Sec-Fetch-Site", "same-origin"},
                            {"Idempotency-Key", "k1"}});
  INFO(same.body);
  REQUIRE(same.status == 201);
  CHECK(same.headers["cache-control"] == "no-store");

  // 13.6: the same key with another body is refused (422), and nothing is stored for it.
  const uint64_t after_first = server.LogSize();
  auto other = maes->Post("/v1/vaccinations", Vaccination("85073003328", "2026-11-21"),
                          {{"Idempotency-Key", "k1"}});
  CHECK(other.status == 422);
  CHECK(other.json()["field"] == "Idempotency-Key");
  CHECK(server.LogSize() == after_first);
  // The same request again is a retry: the first outcome, nothing appended.
  auto retry = browser.Send("POST", "/v1/vaccinations", body,
                            {{"Cookie", cookie}, {"Idempotency-Key", "k1"}});
  CHECK(retry.status == 201);
  CHECK(retry.json()["already_stored"] == true);
  CHECK(retry.headers["location"] == same.headers["location"]);
  CHECK(server.LogSize() == after_first);
  CHECK(maes->Post("/v1/vaccinations", Vaccination("85073003328", "2026-11-22"),
                   {{"Idempotency-Key", std::string(300, 'k')}})
            .status == 400);

  // 13.7: If-Match is checked after access: another entity learns nothing, not even a version.
  auto janssens = server.Login(kJanssens);
  auto probe = janssens->Post(same.headers["location"] + "/corrections",
                              {{"lot", "X1"}, {"reason", "probe"}}, {{"If-Match", "\"99\""}});
  CHECK(probe.status == 404);
  CHECK(probe.headers.count("etag") == 0);
  // Her own entity gets the 412 with the current version.
  auto stale = maes->Post(same.headers["location"] + "/corrections",
                          {{"lot", "X1"}, {"reason", "typo"}}, {{"If-Match", "\"99\""}});
  CHECK(stale.status == 412);
  CHECK(stale.headers.count("etag") == 1);
}

TEST_CASE("Privacy: a patient's record rests on a current care relationship (SPEC flow 9, 13.12)") {
  Server server;
  const std::string insz = "85073003328";
  auto maes = server.Login(kMaes);
  auto registered = maes->Post("/v1/vaccinations", Vaccination(insz));
  REQUIRE(registered.status == 201);
  const std::string location = registered.headers["location"];
  const std::string patient = location.substr(0, location.find("/vaccinations/"));
  auto record = maes->Get(patient);
  CHECK(record.status == 200);
  CHECK(record.headers["cache-control"] == "no-store");

  // Another entity: not found, and a duplicate it tries says nothing of what the patient has.
  auto janssens = server.Login(kJanssens);
  CHECK(janssens->Get(patient).status == 404);
  auto duplicate = janssens->Post("/v1/vaccinations", Vaccination(insz));
  CHECK(duplicate.status == 409);
  const std::string detail = duplicate.json()["detail"];
  CHECK(detail.find("EU/1/20/1528") == std::string::npos);
  CHECK(detail.find("2026-11-20") == std::string::npos);
  // Maes's own duplicate may name it: she may read the patient.
  CHECK(maes->Post("/v1/vaccinations", Vaccination(insz))
            .json()["detail"]
            .get<std::string>()
            .find("EU/1/20/1528") != std::string::npos);

  // Break the glass: a reasoned declaration, then the record; an auditor lists it.
  CHECK(janssens->Post("/v1/patients/care-declarations", {{"patient", {{"insz", insz}}}}).status ==
        400);  // no reason
  CHECK(janssens
            ->Post("/v1/patients/care-declarations",
                   {{"patient", {{"insz", insz}}}, {"reason", "x"}, {"hours", 10000}})
            .status == 400);
  auto declared =
      janssens->Post("/v1/patients/care-declarations",
                     {{"patient", {{"insz", insz}}}, {"reason", "urgent care, weekend"}});
  INFO(declared.body);
  REQUIRE(declared.status == 201);
  CHECK(declared.headers["location"] == patient);
  CHECK(janssens->Get(patient).status == 200);
  auto auditor = server.Login(kAuditor);
  auto list = auditor->Get("/v1/care-declarations").json()["declarations"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["reason"] == "urgent care, weekend");
  CHECK(list[0]["entity"] == "demo-linde");
  CHECK(list[0]["until_us"].get<int64_t>() > list[0]["recorded_at_us"].get<int64_t>());
  CHECK(janssens->Get("/v1/care-declarations").status == 403);

  // Janssens registers a dose of his own; after her retraction, Maes no longer reads the record:
  // she sees only her own registration, not his, and not the patient's data.
  auto flu = Vaccination(insz, "2026-11-21");
  flu["product"] = "EU/1/18/1326";
  flu["lot"] = "FLU1";
  REQUIRE(janssens->Post("/v1/vaccinations", flu).status == 201);
  REQUIRE(maes->Post(location + "/retraction", {{"reason", "wrong patient"}}).status == 200);
  auto own = maes->Get(patient);
  REQUIRE(own.status == 200);
  CHECK(own.json()["restricted"] == true);
  CHECK(own.json()["insz"] == "");
  REQUIRE(own.json()["vaccinations"].size() == 1);
  CHECK(own.json()["vaccinations"][0]["entity"] == "demo-maes");
  CHECK(own.json()["vaccinations"][0]["status"] == "entered_in_error");
  CHECK(own.headers.count("etag") == 0);
  auto as_of = maes->Get(patient + "?as_of=" + std::to_string(server.LogSize()));
  REQUIRE(as_of.status == 200);
  CHECK(as_of.json()["vaccinations"].size() == 1);
  CHECK(as_of.json()["restricted"] == true);
  // And an entity that registered nothing still gets 404.
  auto claes = server.Login("Dr. Pieter Claes");
  CHECK(claes->Get(patient).status == 404);
  CHECK(janssens->Get(patient).json()["vaccinations"].size() == 2);
}

// Regression (issue 13 point 13): sessions lived in memory, so a restart logged everyone out.
TEST_CASE("Sessions survive a restart of the server and so does a logout") {
  Server server;
  auto peeters = server.Login(kPeeters);
  auto maes = server.Login(kMaes);
  const json before = peeters->Get("/v1/session").json();
  REQUIRE(before["entity"] == "demo-linde");
  REQUIRE(maes->Send("DELETE", "/v1/session").status == 204);
  // What a session chose survives too: staff acting on behalf of a physician.
  auto staff = server.Login(kStaf);
  auto physicians = staff->Get("/v1/session").json()["entities"][0]["physicians"];
  REQUIRE(physicians.size() >= 1);
  REQUIRE(staff
              ->Send("PUT", "/v1/session/entity",
                     json{{"entity", "demo-linde"}, {"on_behalf_of", physicians[0]}}.dump())
              .status == 200);

  server.Restart();
  HttpClient staff_after(server.port());
  staff_after.set_token(staff->token());
  CHECK(staff_after.Get("/v1/session").json()["on_behalf_of"] == physicians[0]);
  CHECK(staff_after.Post("/v1/vaccinations", Vaccination("85073003328", "2026-11-19")).status ==
        201);
  HttpClient again(server.port());
  again.set_token(peeters->token());
  auto after = again.Get("/v1/session");
  INFO(after.body);
  REQUIRE(after.status == 200);
  CHECK(after.json()["person"] == before["person"]);
  CHECK(after.json()["entity"] == before["entity"]);
  CHECK(after.json()["expires_at_us"] == before["expires_at_us"]);
  // The cookie works as well as the bearer token.
  HttpClient cookie(server.port());
  CHECK(cookie.Send("GET", "/v1/session", "", {{"Cookie", "vx_session=" + peeters->token()}})
            .status == 200);
  // The session still acts: a command with it is accepted.
  CHECK(again.Post("/v1/vaccinations", Vaccination(kPatient)).status == 201);

  HttpClient logged_out(server.port());
  logged_out.set_token(maes->token());
  CHECK(logged_out.Get("/v1/session").status == 401);
  // A logout after the restart holds too.
  REQUIRE(again.Send("DELETE", "/v1/session").status == 204);
  server.Restart();
  HttpClient last(server.port());
  last.set_token(peeters->token());
  CHECK(last.Get("/v1/session").status == 401);
}

// `vaxledger idp issue` with these arguments: the assertion it prints.
std::string Issue(const Server& server, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {VX_BINARY, "idp", "issue", "--data", server.data()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess issue(argv);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(issue.out(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  REQUIRE(issue.Wait() == 0);
  return out.substr(0, out.find('\n'));
}

// Regression (issue 13 point 2): one assertion was exchanged 100,000 times for sessions, and an
// assertion with an exp in 2999 was accepted.
TEST_CASE("An assertion opens one session, also across a restart, and a long-lived one none") {
  Server server;
  HttpClient c(server.port());
  const std::string assertion =
      c.Post("/v1/demo/assertion", {{"insz", server.Insz(kPeeters)}}).json()["assertion"];
  auto first = c.Post("/v1/sessions", {{"assertion", assertion}});
  REQUIRE(first.status == 201);
  auto replay = c.Post("/v1/sessions", {{"assertion", assertion}});
  INFO(replay.body);
  CHECK(replay.status == 401);
  CHECK(replay.json()["field"] == "assertion");
  CHECK(replay.json()["detail"].get<std::string>().find("already exchanged") != std::string::npos);
  server.Restart();
  HttpClient after(server.port());
  CHECK(after.Post("/v1/sessions", {{"assertion", assertion}}).status == 401);

  // The development provider's assertions: 5 minutes is fine, an hour is not; and the audience
  // is this registry's origin (the former fixed "vaxledger" is another registry's).
  const std::string insz = server.Insz(kMaes);
  CHECK(after.Post("/v1/sessions", {{"assertion", Issue(server, {"--insz", insz, "--ttl", "300"})}})
            .status == 201);
  auto hour =
      after.Post("/v1/sessions", {{"assertion", Issue(server, {"--insz", insz, "--ttl", "3600"})}});
  INFO(hour.body);
  CHECK(hour.status == 401);
  CHECK(hour.json()["field"] == "assertion.exp");
  CHECK(hour.json()["detail"].get<std::string>().find("at most 600 s") != std::string::npos);
  auto other = after.Post(
      "/v1/sessions",
      {{"assertion", Issue(server, {"--insz", insz, "--ttl", "300", "--aud", "vaxledger"})}});
  CHECK(other.status == 401);
  CHECK(other.json()["field"] == "assertion.aud");
}

TEST_CASE(
    "Problems carry a stable code and parameters; Accept-Language picks the detail's language") {
  Server server;
  auto nina = server.Login(kNina);
  const json ask = {{"name", "Dr. Nina Nieuw"},
                    {"email", "nina@example.be"},
                    {"riziv", "1-00004-99-004"},
                    {"terms_version", "vaccinnet-terms-2024"},
                    {"entity", "demo-linde"}};
  auto en = nina->Post("/v1/access-requests", ask);
  CHECK(en.status == 400);
  CHECK(en.json()["code"] == "riziv.check_digits");
  CHECK(en.json()["params"] == json{{"digits", "99"}});
  CHECK(en.json()["field"] == "riziv");
  CHECK(en.json()["detail"] == "riziv: check digits 99 do not match the first 6 digits");
  CHECK(en.headers["content-language"].empty());  // no Accept-Language: English, unsaid
  auto nl =
      nina->Post("/v1/access-requests", ask, {{"Accept-Language", "nl-BE,nl;q=0.9,en;q=0.5"}});
  CHECK(nl.json()["code"] == "riziv.check_digits");
  CHECK_THAT(nl.json()["detail"].get<std::string>(),
             Catch::Contains("de controlecijfers 99 passen niet"));
  CHECK(nl.headers["content-language"] == "nl");
  auto fr = nina->Post("/v1/access-requests", ask, {{"Accept-Language", "de, fr;q=0.8, nl;q=0.3"}});
  CHECK_THAT(fr.json()["detail"].get<std::string>(),
             Catch::Contains("les chiffres de contrôle 99 ne correspondent pas"));
  // A language we do not have: English.
  auto de = nina->Post("/v1/access-requests", ask, {{"Accept-Language", "de"}});
  CHECK(de.json()["detail"] == en.json()["detail"]);
  // The RIZIV check at its own step says the same, and records nothing.
  const uint64_t size = server.LogSize();
  auto checked = nina->Post("/v1/checks/riziv", {{"riziv", "1-00004-99-004"}});
  CHECK(checked.status == 400);
  CHECK(checked.json()["code"] == "riziv.check_digits");
  auto good = nina->Post("/v1/checks/riziv", {{"riziv", "1-00004-03-004"}});
  CHECK(good.status == 200);
  CHECK(good.json()["role"] == "physician");
  CHECK(nina->Post("/v1/checks/riziv", {{"riziv", "1-10005-90-005"}}).json()["code"] ==
        "riziv.haio_requests_access");
  CHECK(server.LogSize() == size);
}

TEST_CASE("Screens' additions: entities by name, the queue with names, the last request's fate") {
  Server server;
  auto admin = server.Login(kAdmin);
  auto nina = server.Login(kNina);
  // Entities by name, for anyone logged in: id, name, kind, region, no members.
  auto found = nina->Get("/v1/entities?name=LINDE");
  REQUIRE(found.status == 200);
  REQUIRE(found.json()["entities"].size() == 1);
  CHECK(found.json()["entities"][0]["id"] == "demo-linde");
  CHECK(found.json()["entities"][0]["name"] == "Groepspraktijk De Linde");
  CHECK_FALSE(found.json()["entities"][0].contains("members"));
  CHECK(nina->Get("/v1/entities?name=x").json()["code"] == "entity.search_length");
  CHECK(HttpClient(server.port()).Get("/v1/entities?name=linde").status == 401);

  // A request to join: the queue names who asked and the entity.
  const json ask = {{"name", "Dr. Nina Nieuw"},
                    {"email", "nina@example.be"},
                    {"riziv", "1-00004-03-004"},
                    {"terms_version", "vaccinnet-terms-2024"},
                    {"entity", "demo-linde"}};
  auto asked = nina->Post("/v1/access-requests", ask);
  REQUIRE(asked.status == 202);
  CHECK(nina->Get("/v1/session").json()["last_access_request"]["status"] == "pending");
  const json queue = admin->Get("/v1/requests").json()["requests"];
  REQUIRE(queue.size() == 1);
  CHECK(queue[0]["entity_name"] == "Groepspraktijk De Linde");
  CHECK(queue[0]["requested_by_name"] == "Dr. Nina Nieuw");
  // Rejected: the requester's session says so, with the reason; the history keeps who decided.
  const std::string location = asked.headers["location"];
  REQUIRE(admin->Post(location + "/reject", {{"reason", "join your own practice"}}).status == 200);
  const json last = nina->Get("/v1/session").json()["last_access_request"];
  CHECK(last["status"] == "rejected");
  CHECK(last["reason"] == "join your own practice");
  CHECK(last["entity_name"] == "Groepspraktijk De Linde");
  const json all = admin->Get("/v1/requests?status=rejected").json()["requests"];
  REQUIRE(all.size() == 1);
  CHECK(all[0]["decided_by_name"] == "An Beheerder");
  // Another person's session shows their own request, not Nina's.
  const json maes = server.Login(kMaes)->Get("/v1/session").json()["last_access_request"];
  CHECK(maes["id"] != last["id"]);
  CHECK(maes["status"] == "approved");
}

TEST_CASE("The patient record names who and where, and keeps each correction's old values") {
  Server server;
  auto peeters = server.Login(kPeeters, "demo-linde");
  auto made = peeters->Post("/v1/vaccinations", Vaccination(kPatient), {{"Idempotency-Key", "k1"}});
  REQUIRE(made.status == 201);
  const std::string vaccination = made.headers["location"];
  const std::string patient = vaccination.substr(0, vaccination.find("/vaccinations/"));
  auto record = peeters->Get(patient);
  REQUIRE(record.status == 200);
  const std::string etag = record.headers["etag"];
  auto fixed = peeters->Post(vaccination + "/corrections", {{"lot", "FK5128"}, {"reason", "typo"}},
                             {{"If-Match", etag}});
  INFO(fixed.body);
  REQUIRE(fixed.status == 200);
  const json v = peeters->Get(patient).json()["vaccinations"][0];
  CHECK(v["lot"] == "FK5128");
  CHECK(v["entity_name"] == "Groepspraktijk De Linde");
  CHECK(v["performer_name"] == "Dr. Els Peeters");
  CHECK(peeters->Get(patient).json()["birth_date"] == "1985-07-30");  // from the INSZ
  REQUIRE(v["history"].size() == 1);
  CHECK(v["history"][0]["kind"] == "corrected");
  CHECK(v["history"][0]["lot"] == "FK5127");  // the value it replaced
  CHECK(v["history"][0]["reason"] == "typo");
  CHECK(v["history"][0]["by_name"] == "Dr. Els Peeters");
  // Another entity still does not see the patient.
  CHECK(server.Login(kMaes, "demo-maes")->Get(patient).status == 404);
}

TEST_CASE("Stock: an expired lot is refused; the stock says which lots are expired and usable") {
  Server server;
  auto peeters = server.Login(kPeeters, "demo-linde");
  auto old = peeters->Post(
      "/v1/entities/demo-linde/stock/deliveries",
      {{"product", "EU/1/20/1528"}, {"lot", "OLD1"}, {"expiry", "2019-03-31"}, {"quantity", 10}});
  CHECK(old.status == 422);
  CHECK(old.json()["field"] == "expiry");
  CHECK(old.json()["code"] == "stock.expired");
  const json lots = peeters->Get("/v1/entities/demo-linde/stock").json()["lots"];
  REQUIRE_FALSE(lots.empty());
  for (const json& l : lots) {
    CHECK(l["expired"] == false);
    CHECK(l["usable"].get<int64_t>() >= 0);
  }
}

TEST_CASE("Staff of a group practice act for a physician who joins after them") {
  Server server;
  auto admin = server.Login(kAdmin);
  auto nina = server.Login(kNina);
  auto asked = nina->Post("/v1/access-requests", {{"name", "Dr. Nina Nieuw"},
                                                  {"email", "nina@example.be"},
                                                  {"riziv", "1-00004-03-004"},
                                                  {"terms_version", "vaccinnet-terms-2024"},
                                                  {"entity", "demo-linde"}});
  REQUIRE(asked.status == 202);
  REQUIRE(admin->Post(asked.headers["location"] + "/approve", json::object()).status == 200);
  const std::string nina_id = nina->Get("/v1/session").json()["person"];
  auto staff = server.Login(kStaf);
  const json entities = staff->Get("/v1/session").json()["entities"];
  REQUIRE(entities.size() == 1);
  const json physicians = entities[0]["physicians"];
  CHECK(std::find(physicians.begin(), physicians.end(), nina_id) != physicians.end());
  auto chose = staff->Send("PUT", "/v1/session/entity",
                           json{{"entity", "demo-linde"}, {"on_behalf_of", nina_id}}.dump());
  INFO(chose.body);
  REQUIRE(chose.status == 200);
  CHECK(staff->Post("/v1/vaccinations", Vaccination("85073004417")).status == 201);
}

}  // namespace
}  // namespace vaxledger::testing
