// Erasure over HTTP and the command line (issue 16): `vaxledger init --demo` and `vaxledger serve
// --demo` on a loopback port. Two administrators erase a patient and a person; the views show
// them erased with the rest of the record intact; the ledger and its export still verify; and,
// after a clean stop, no file of the data directory holds the subject's INSZ, name or e-mail.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/debug.h>

#include "tests/common/child_process.h"
#include "tests/common/demo_server.h"
#include "tests/common/http_client.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::testing {
namespace {

using nlohmann::json;

// The demo server (tests/common/demo_server.h), with what these tests ask of it besides.
class Server : public DemoServer {
 public:
  // A client on the current port with an existing session's token.
  std::unique_ptr<HttpClient> WithToken(const std::string& token) {
    auto c = std::make_unique<HttpClient>(port());
    c->set_token(token);
    return c;
  }
  // The number of events in the log.
  uint64_t LogSize() {
    HttpClient c(port());
    return c.Get("/readyz").json()["log_size"].get<uint64_t>();
  }
};

// Runs the command line with its standard error joined to its standard output; returns (exit
// code, output).
std::pair<int, std::string> Run(const std::vector<std::string>& argv) {
  std::string command;
  for (const std::string& a : argv) {
    std::string quoted = "'";
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += quoted + "' ";
  }
  ChildProcess p({"/bin/sh", "-c", command + "2>&1"});
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p.out(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const int status = p.Wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// An INSZ of someone born before 2000: the nine digits (YYMMDD and the serial number) and their
// check number, 97 - (the nine digits mod 97).
std::string MakeInsz(const std::string& nine) {
  const int check = 97 - static_cast<int>(std::stoull(nine) % 97);
  char two[3];
  std::snprintf(two, sizeof two, "%02d", check);
  return nine + two;
}
// The same INSZ with a wrong check number.
std::string WrongCheck(const std::string& insz) {
  std::string out = insz;
  out.back() = out.back() == '9' ? '0' : static_cast<char>(out.back() + 1);
  return out;
}
// 71.03.15-777.xx as the registry's users write it.
std::string Formatted(const std::string& insz) {
  return insz.substr(0, 2) + "." + insz.substr(2, 2) + "." + insz.substr(4, 2) + "-" +
         insz.substr(6, 3) + "." + insz.substr(9, 2);
}

// For each needle, the regular files under `dir` (recursively; paths relative to it) whose bytes
// hold it.
std::map<std::string, std::set<std::string>> FilesHolding(const std::string& dir,
                                                          const std::vector<std::string>& needles) {
  std::map<std::string, std::set<std::string>> out;
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    REQUIRE(in.good());
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& needle : needles) {
      if (bytes.find(needle) != std::string::npos) {
        out[needle].insert(std::filesystem::relative(entry.path(), dir).string());
      }
    }
  }
  REQUIRE(files > 10);  // log/, views/, keys/, sessions/, ... were searched
  return out;
}

// For each needle, the RocksDB databases under `dir` (a directory with a CURRENT file; path
// relative to dir, the column family and the key) where some version of some record, in its key
// or value, holds it: what a byte search cannot see through the files' block compression, and
// the older versions that RocksDB keeps until a compaction drops them. The stores are opened
// read-only, so nothing may hold them open.
std::map<std::string, std::set<std::string>> RecordsHolding(
    const std::string& dir, const std::vector<std::string>& needles) {
  std::map<std::string, std::set<std::string>> out;
  size_t stores = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_directory() || !std::filesystem::exists(entry.path() / "CURRENT")) continue;
    const std::string path = entry.path().string();
    const std::string where = std::filesystem::relative(entry.path(), dir).string();
    std::vector<std::string> families;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &families);
    INFO(where << ": " << s.ToString());
    REQUIRE(s.ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& f : families)
      descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles, &raw);
    INFO(where << ": " << s.ToString());
    REQUIRE(s.ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ++stores;
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      std::vector<rocksdb::KeyVersion> versions;
      s = rocksdb::GetAllKeyVersions(db.get(), h, rocksdb::Slice(), rocksdb::Slice(),
                                     std::numeric_limits<size_t>::max(), &versions);
      INFO(where << ": " << s.ToString());
      REQUIRE(s.ok());
      for (const rocksdb::KeyVersion& v : versions) {
        for (const std::string& needle : needles) {
          if (v.user_key.find(needle) != std::string::npos ||
              v.value.find(needle) != std::string::npos) {
            out[needle].insert(where + " [" + h->GetName() + "] " + v.user_key + " (" +
                               v.GetTypeName() + " #" + std::to_string(v.sequence) + ")");
          }
        }
      }
      REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    }
  }
  REQUIRE(stores >= 5);  // the log, the key store, the views, the sessions, ...
  return out;
}

bool Holds(const std::string& file, const std::string& needle) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in.good());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.find(needle) != std::string::npos;
}

const char* kPeeters = "Dr. Els Peeters";  // physician of demo-linde
const char* kAdmin = "An Beheerder";
const char* kComirnaty = "EU/1/20/1528";
const char* kJcovden = "EU/1/20/1525";

json Dose(const std::string& insz, const std::string& name, const std::string& birth_date,
          const std::string& product, const std::string& lot, const std::string& date) {
  json patient = {{"insz", insz}};
  if (!name.empty()) patient["name"] = name;
  if (!birth_date.empty()) patient["birth_date"] = birth_date;
  return {{"patient", patient}, {"product", product},
          {"lot", lot},         {"dose", 1},
          {"date", date},       {"consent", {{"decision", "given"}, {"date", date}}}};
}

json PatientErasure(const std::string& insz, const std::string& reason = "court order 2026/481") {
  return {{"kind", "patient"}, {"patient", {{"insz", insz}}}, {"reason", reason}};
}
json PersonErasure(const std::string& insz) {
  return {{"kind", "person"}, {"insz", insz}, {"reason", "end of the retention period"}};
}

// Grants the administrator role to a new person (`insz`) and logs them in: the second
// administrator that a patient's erasure needs.
std::unique_ptr<HttpClient> SecondAdministrator(Server& server, HttpClient& admin,
                                                const std::string& insz) {
  auto granted =
      admin.Post("/v1/roles", {{"insz", insz}, {"role", "administrator"}, {"grant", true}});
  INFO(granted.body);
  REQUIRE(granted.status == 200);
  return server.LoginInsz(insz);
}

// What an erasure must keep of a patient's vaccinations: everything but who the patient is.
json VaccinationFacts(const json& patient) {
  json out = json::array();
  for (const auto& v : patient["vaccinations"]) {
    out.push_back({{"id", v["id"]},
                   {"date", v["date"]},
                   {"product", v["product"]},
                   {"lot", v["lot"]},
                   {"entity", v["entity"]},
                   {"status", v["status"]}});
  }
  return out;
}

// The patient's personal data is gone from a patient body of the API.
void CheckErasedPatient(const json& p) {
  INFO(p.dump());
  CHECK(p["erased"] == true);
  CHECK(p.value("insz", "") == "");
  CHECK(p.value("name", "") == "");
  CHECK(p.value("birth_date", "") == "");
}

// The patient's path (/v1/patients/ID) from a registration's Location.
std::string PatientOf(const HttpResult& registered) {
  const std::string location = registered.headers.at("location");
  const size_t at = location.find("/vaccinations/");
  REQUIRE(at != std::string::npos);
  REQUIRE(location.starts_with("/v1/patients/"));
  return location.substr(0, at);
}

TEST_CASE("Patient erasure over HTTP: two administrators, the record kept, the ledger intact") {
  Server server;
  auto admin_a = server.Login(kAdmin);
  auto admin_b = SecondAdministrator(server, *admin_a, MakeInsz("640229412"));
  auto peeters = server.Login(kPeeters);

  const std::string insz = MakeInsz("710315777");
  const std::string name = "Zelda Vergeetmenietje";
  auto first = peeters->Post("/v1/vaccinations",
                             Dose(insz, name, "1971-03-15", kComirnaty, "FK5127", "2026-11-02"));
  INFO(first.body);
  REQUIRE(first.status == 201);
  const std::string patient = PatientOf(first);
  auto second =
      peeters->Post("/v1/vaccinations", Dose(insz, "", "", kComirnaty, "FK6001", "2026-11-23"));
  REQUIRE(second.status == 201);
  CHECK(PatientOf(second) == patient);
  const uint64_t registered_at = second.json()["positions"][0];

  auto found = peeters->Post("/v1/patients/search", {{"insz", insz}});
  REQUIRE(found.status == 200);
  CHECK(found.json()["name"] == name);
  CHECK(found.json()["insz"] == insz);
  const json before = peeters->Get(patient).json();
  CHECK(before["name"] == name);
  CHECK(before["birth_date"] == "1971-03-15");
  CHECK(before["erased"] == false);
  REQUIRE(before["vaccinations"].size() == 2);
  const json facts = VaccinationFacts(before);

  // Bad input: 400 naming the field; others: 403 and 404; nothing appended.
  const uint64_t size = server.LogSize();
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {{{"kind", "patient"}, {"patient", {{"insz", insz}}}}, "reason"},
           {{{"kind", "patient"}, {"patient", {{"insz", insz}}}, {"reason", ""}}, "reason"},
           {{{"kind", "other"}, {"insz", insz}, {"reason", "r"}}, "kind"},
           {{{"kind", "person"}, {"patient", {{"insz", insz}}}, {"reason", "r"}}, "patient"},
           {{{"kind", "patient"}, {"insz", insz}, {"reason", "r"}}, "insz"},
           {PatientErasure(WrongCheck(insz)), "patient.insz"},
           {PersonErasure(WrongCheck(insz)), "insz"},
           {{{"kind", "patient"}, {"patient", {{"name", name}}}, {"reason", "r"}}, "patient.insz"},
       }) {
    auto r = admin_a->Post("/v1/subjects/erasures", body);
    INFO(body.dump() << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.json()["field"] == field);
  }
  auto unknown = admin_a->Post("/v1/subjects/erasures", PatientErasure(MakeInsz("800101123")));
  INFO(unknown.body);
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("erasure.no_subject") != std::string::npos);
  CHECK(peeters->Post("/v1/subjects/erasures", PatientErasure(insz)).status == 403);
  HttpClient anonymous(server.port());
  CHECK(anonymous.Post("/v1/subjects/erasures", PatientErasure(insz)).status == 401);
  CHECK(server.LogSize() == size);

  // Administrator A asks; A cannot approve it; B does.
  auto asked = admin_a->Post("/v1/subjects/erasures", PatientErasure(insz));
  INFO(asked.body);
  REQUIRE(asked.status == 202);
  const std::string request = asked.headers["location"];
  REQUIRE(request.starts_with("/v1/requests/"));
  CHECK(admin_b->Get(request).json()["status"] == "pending");
  const uint64_t asked_size = server.LogSize();
  auto own = admin_a->Post(request + "/approve", json::object());
  INFO(own.body);
  CHECK(own.status == 403);
  CHECK(own.body.find("erasure.second_administrator") != std::string::npos);
  CHECK(server.LogSize() == asked_size);
  // Until it is approved nothing is erased.
  CHECK(peeters->Get(patient).json()["name"] == name);
  auto approved = admin_b->Post(request + "/approve", json::object());
  INFO(approved.body);
  REQUIRE(approved.status == 200);
  CHECK(admin_a->Get(request).json()["status"] == "approved");
  CHECK(admin_b->Post(request + "/approve", json::object()).status == 422);  // decided once

  // The record is kept without the person.
  auto after = peeters->Get(patient);
  REQUIRE(after.status == 200);
  CheckErasedPatient(after.json());
  CHECK(VaccinationFacts(after.json()) == facts);
  CHECK(after.body.find(name) == std::string::npos);
  CHECK(after.body.find(insz) == std::string::npos);
  // Retroactive: as of a position before the erasure the key is gone too.
  auto then = peeters->Get(patient + "?as_of=" + std::to_string(registered_at));
  INFO(then.body);
  REQUIRE(then.status == 200);
  CHECK(then.json().value("name", "") == "");
  CHECK(then.json().value("insz", "") == "");
  CHECK(then.json()["vaccinations"].size() == 2);
  CHECK(then.body.find(name) == std::string::npos);
  // The INSZ no longer leads to the erased subject.
  CHECK(peeters->Post("/v1/patients/search", {{"insz", insz}}).status == 404);
  auto again = admin_a->Post("/v1/subjects/erasures", PatientErasure(insz));
  INFO(again.body);
  CHECK((again.status == 404 || again.status == 422));

  // A new registration for the same INSZ starts a new subject, with only the new dose.
  auto anew =
      peeters->Post("/v1/vaccinations", Dose(insz, "", "", kJcovden, "XD955", "2026-11-25"));
  INFO(anew.body);
  REQUIRE(anew.status == 201);
  const std::string renewed = PatientOf(anew);
  CHECK(renewed != patient);
  const json fresh = peeters->Get(renewed).json();
  CHECK(fresh["insz"] == insz);
  CHECK(fresh["erased"] == false);
  REQUIRE(fresh["vaccinations"].size() == 1);
  CHECK(fresh["vaccinations"][0]["product"] == kJcovden);
  CHECK(fresh.value("name", "") == "");  // the old name did not come back
  CheckErasedPatient(peeters->Get(patient).json());

  // The ledger verifies beside the running server (read-only), and so does its export, alone.
  auto [verified, verify_out] = Run({VX_BINARY, "ledger", "verify", "--data", server.data()});
  INFO(verify_out);
  CHECK(verified == 0);
  eventstore::testing::TempDir elsewhere;
  const std::string exported = elsewhere.path() + "/ledger.export";
  auto [export_rc, export_out] =
      Run({VX_BINARY, "ledger", "export", "--data", server.data(), "--out", exported});
  INFO(export_out);
  REQUIRE(export_rc == 0);
  eventstore::testing::TempDir auditor_dir;
  const std::string copy = auditor_dir.path() + "/copy.export";
  std::filesystem::copy_file(exported, copy);
  std::filesystem::remove(exported);
  auto [offline, offline_out] = Run({VX_BINARY, "ledger", "verify", "--export", copy});
  INFO(offline_out);
  CHECK(offline == 0);
  // An export carries ciphertext only.
  CHECK_FALSE(Holds(copy, name));
  CHECK_FALSE(Holds(copy, insz));
}

TEST_CASE("The erasure grep test: afterwards no file or record of the data directory names them") {
  Server server;
  auto admin_a = server.Login(kAdmin);
  auto admin_b = SecondAdministrator(server, *admin_a, MakeInsz("640229412"));
  auto peeters = server.Login(kPeeters);

  // A patient, registered and read (the read is recorded in the ledger too).
  const std::string insz = MakeInsz("690827581");
  const std::string name = "Qwyx Brzeczyszczykiewicz";
  auto registered = peeters->Post(
      "/v1/vaccinations", Dose(insz, name, "1969-08-27", kComirnaty, "FK5127", "2026-11-02"));
  INFO(registered.body);
  REQUIRE(registered.status == 201);
  const std::string patient = PatientOf(registered);
  REQUIRE(peeters->Post("/v1/patients/search", {{"insz", insz}}).status == 200);
  REQUIRE(peeters->Get(patient).json()["name"] == name);

  // A person: logs in, asks for access with a new practice; an administrator approves (a mail
  // to them lands in DIR/outbox).
  const std::string person_insz = MakeInsz("770412266");
  const std::string person_name = "Dr. Vlastimil Kwiatkowsky";
  const std::string email = "vlastimil.kwiatkowsky@zorgpost.example";
  auto person = server.LoginInsz(person_insz);
  auto access = person->Post(
      "/v1/access-requests",
      {{"name", person_name},
       {"email", email},
       {"riziv", "1-00004-03-004"},
       {"terms_version", "vaccinnet-terms-2024"},
       {"new_entity",
        {{"kind", "group_practice"}, {"name", "Praktijk Ruisbroek"}, {"region", "flanders"}}}});
  INFO(access.body);
  REQUIRE(access.status == 202);
  REQUIRE(admin_a->Post(access.headers["location"] + "/approve", json::object()).status == 200);
  person = server.LoginInsz(person_insz);
  const json session = person->Get("/v1/session").json();
  REQUIRE(session["entities"].size() == 1);
  const std::string person_id = session["person"];
  const std::string token = person->token();
  // The outbox follows the log on a thread of its own: its mail comes within a bounded wait.
  const std::string outbox = server.data() + "/outbox";
  bool mailed = false;
  for (int i = 0; i < 500 && !mailed; ++i) {
    for (const auto& f : std::filesystem::directory_iterator(outbox)) {
      mailed |= f.path().extension() == ".eml" && Holds(f.path().string(), email);
    }
    if (!mailed) ::usleep(10'000);
  }
  CHECK(mailed);

  // Before: the data directory holds them (so this test can fail): in its files, and in the
  // records of its RocksDB stores (read with the server stopped).
  const std::vector<std::string> needles = {insz,        Formatted(insz), name,
                                            person_insz, person_name,     email};
  const std::vector<std::string> present = {insz, name, person_insz, person_name, email};
  {
    auto in_files = FilesHolding(server.data(), needles);
    CHECK(!in_files[insz].empty());
    CHECK(!in_files[name].empty());
    CHECK(!in_files[person_insz].empty());  // the session
    CHECK(!in_files[email].empty());        // the mail
    server.Stop();
    auto in_records = RecordsHolding(server.data(), needles);
    for (const std::string& n : present) {
      std::string where;
      for (const std::string& f : in_records[n]) where += "\n  " + f;
      INFO(n << " is in:" << where);
      CHECK(!in_records[n].empty());
    }
    server.Start();
  }
  auto a = server.WithToken(admin_a->token());
  auto b = server.WithToken(admin_b->token());
  peeters = server.WithToken(peeters->token());

  // Erase both.
  auto asked = a->Post("/v1/subjects/erasures", PatientErasure(insz));
  INFO(asked.body);
  REQUIRE(asked.status == 202);
  REQUIRE(b->Post(asked.headers["location"] + "/approve", json::object()).status == 200);
  auto person_asked = b->Post("/v1/subjects/erasures", PersonErasure(person_insz));
  INFO(person_asked.body);
  REQUIRE(person_asked.status == 202);
  auto person_approved = a->Post(person_asked.headers["location"] + "/approve", json::object());
  INFO(person_approved.body);
  REQUIRE(person_approved.status == 200);
  CheckErasedPatient(peeters->Get(patient).json());
  // Their sessions ended: the old token is refused.
  CHECK(server.WithToken(token)->Get("/v1/session").status == 401);
  // The administrators' queue still lists the requests, without the person's name or e-mail.
  auto queue = a->Get("/v1/requests?status=approved");
  REQUIRE(queue.status == 200);
  CHECK(queue.body.find(person_name) == std::string::npos);
  CHECK(queue.body.find(email) == std::string::npos);
  CHECK(queue.body.find(person_insz) == std::string::npos);
  auto entity = a->Get("/v1/entities/" + session["entity"].get<std::string>());
  REQUIRE(entity.status == 200);
  CHECK(entity.body.find(person_name) == std::string::npos);
  REQUIRE(entity.json()["members"].size() == 1);
  CHECK(entity.json()["members"][0]["erased"] == true);
  // The mail to them left the outbox.
  for (const auto& f : std::filesystem::directory_iterator(outbox)) {
    INFO(f.path());
    CHECK_FALSE(Holds(f.path().string(), email));
  }

  // After a clean stop: no file names them, nor any version of any record (the command's working
  // set, whose snapshots predate the erasure, is released before the purge compacts).
  server.Stop();
  auto after = FilesHolding(server.data(), needles);
  auto records = RecordsHolding(server.data(), needles);
  for (const std::string& n : needles) {
    std::string where;
    for (const std::string& f : after[n]) where += "\n  file " + f;
    for (const std::string& r : records[n]) where += "\n  record " + r;
    INFO(n << " is still in:" << where);
    CHECK(after[n].empty());
    CHECK(records[n].empty());
  }
  // And after a restart the old session is still refused.
  server.Start();
  CHECK(server.WithToken(token)->Get("/v1/session").status == 401);
}

TEST_CASE("Member erasure in an entity: the member shows erased, the rules still hold") {
  Server server;
  auto admin_a = server.Login(kAdmin);
  auto admin_b = SecondAdministrator(server, *admin_a, MakeInsz("640229412"));
  auto peeters = server.Login(kPeeters);
  const std::string entity = "/v1/entities/demo-linde";
  const json members_before = peeters->Get(entity).json()["members"];

  // A physician joins Dr. Peeters's group practice.
  const std::string insz = MakeInsz("830517343");
  const std::string name = "Dr. Xandra Vuurvliegje";
  auto joiner = server.LoginInsz(insz);
  auto asked_access = joiner->Post("/v1/access-requests", {{"name", name},
                                                           {"email", "xandra@vuurvliegje.example"},
                                                           {"riziv", "1-00004-03-004"},
                                                           {"terms_version", "t"},
                                                           {"entity", "demo-linde"}});
  INFO(asked_access.body);
  REQUIRE(asked_access.status == 202);
  REQUIRE(admin_a->Post(asked_access.headers["location"] + "/approve", json::object()).status ==
          200);
  const json joined = peeters->Get(entity).json()["members"];
  REQUIRE(joined.size() == members_before.size() + 1);
  std::string person;
  for (const auto& m : joined) {
    if (m["name"] == name) person = m["person"];
  }
  REQUIRE(!person.empty());

  // An administrator cannot be erased (revoke the role first): nothing is asked.
  const uint64_t size = server.LogSize();
  auto administrator = admin_a->Post("/v1/subjects/erasures", PersonErasure(server.Insz(kAdmin)));
  INFO(administrator.body);
  CHECK(administrator.status == 422);
  CHECK(administrator.body.find("erasure.administrator") != std::string::npos);
  CHECK(server.LogSize() == size);

  auto asked = admin_b->Post("/v1/subjects/erasures", PersonErasure(insz));
  INFO(asked.body);
  REQUIRE(asked.status == 202);
  CHECK(admin_b->Post(asked.headers["location"] + "/approve", json::object()).status == 403);
  REQUIRE(admin_a->Post(asked.headers["location"] + "/approve", json::object()).status == 200);

  // Still a member, erased, without a name; the others are unchanged (Dr. Peeters read the
  // entity before the erasure: the body cached per entity version is dropped by the erasure).
  auto after = peeters->Get(entity);
  REQUIRE(after.status == 200);
  const json members = after.json()["members"];
  CHECK(members.size() == joined.size());
  CHECK(after.body.find(name) == std::string::npos);
  bool seen = false;
  for (const auto& m : members) {
    INFO(m.dump());
    if (m["person"] == person) {
      seen = true;
      CHECK(m["erased"] == true);
      CHECK(m.value("name", "") == "");
      CHECK(m.value("email", "") == "");
      CHECK(m["role"] == "physician");
    } else {
      CHECK(m["erased"] == false);
      CHECK(m.value("name", "") != "");
    }
  }
  CHECK(seen);
  // The at-least-one-person rule: unlinking everyone, the erased member included, is refused.
  json all = json::array();
  for (const auto& m : members) all.push_back(m["person"]);
  const uint64_t before_unlink = server.LogSize();
  auto everyone = peeters->Post(entity + "/unlink-requests", {{"members", all}});
  INFO(everyone.body);
  CHECK(everyone.status == 422);
  CHECK(everyone.json()["detail"].get<std::string>().find("link someone new first") !=
        std::string::npos);
  CHECK(server.LogSize() == before_unlink);
  // The erased member can still be unlinked on its own, as any member.
  auto alone = peeters->Post(entity + "/unlink-requests", {{"members", {person}}});
  INFO(alone.body);
  REQUIRE(alone.status == 202);
  REQUIRE(admin_b->Post(alone.headers["location"] + "/approve", json::object()).status == 200);
  CHECK(peeters->Get(entity).json()["members"].size() == members_before.size());
  // Erasing them again: they are gone.
  auto again = admin_a->Post("/v1/subjects/erasures", PersonErasure(insz));
  CHECK((again.status == 404 || again.status == 422));
}

// Two cases the first version of the erasure got wrong.
TEST_CASE("erasure: a staff member linked by a physician can be erased") {
  Server server;
  auto admin_a = server.Login(kAdmin);
  auto admin_b = SecondAdministrator(server, *admin_a, MakeInsz("640229412"));
  auto peeters = server.Login(kPeeters);
  const std::string entity = "/v1/entities/demo-linde";
  const std::string insz = MakeInsz("850621184");
  const std::string name = "Yvette Zonnedauw";
  auto link = peeters->Post(entity + "/link-requests", {{"insz", insz},
                                                        {"name", name},
                                                        {"email", "yvette@zonnedauw.example"},
                                                        {"is_physician", false}});
  INFO(link.body);
  REQUIRE(link.status == 202);
  REQUIRE(admin_a->Post(link.headers["location"] + "/approve", json::object()).status == 200);
  REQUIRE(peeters->Get(entity).body.find(name) != std::string::npos);
  // The staff member's name and e-mail are personal data in the entity's records and events;
  // they have no person stream of their own (they never asked for anything themselves), and the
  // erasure answers 404 erasure.no_subject (core/registry_commands.cc ErasureTargetOf).
  auto asked = admin_b->Post("/v1/subjects/erasures", PersonErasure(insz));
  INFO(asked.body);
  REQUIRE(asked.status == 202);
  REQUIRE(admin_a->Post(asked.headers["location"] + "/approve", json::object()).status == 200);
  auto after = peeters->Get(entity);
  CHECK(after.body.find(name) == std::string::npos);
}

TEST_CASE("erasure: kind other is refused naming kind, whatever the body") {
  Server server;
  auto admin = server.Login(kAdmin);
  // http/registry_routes.cc RequestErasureRoute treats every kind but "patient" as "person", so
  // a patient body with a wrong kind blames "patient" rather than "kind".
  auto r = admin->Post(
      "/v1/subjects/erasures",
      {{"kind", "other"}, {"patient", {{"insz", MakeInsz("710315777")}}}, {"reason", "r"}});
  INFO(r.body);
  CHECK(r.status == 400);
  CHECK(r.json()["field"] == "kind");
}

TEST_CASE("Offline erasure with vaxledger erase, then a restart and a rebuild of the views") {
  Server server;
  auto peeters = server.Login(kPeeters);
  const std::string insz = MakeInsz("750704163");
  const std::string name = "Ysolde Paardenbloem";
  auto registered = peeters->Post(
      "/v1/vaccinations", Dose(insz, name, "1975-07-04", kComirnaty, "FK5127", "2026-11-03"));
  INFO(registered.body);
  REQUIRE(registered.status == 201);
  const std::string patient = PatientOf(registered);
  const std::string token = peeters->token();
  const json facts = VaccinationFacts(peeters->Get(patient).json());

  // Beside the running server the log is in use: refused, saying what to do.
  auto [busy, busy_out] =
      Run({VX_BINARY, "erase", "--data", server.data(), "--insz", insz, "--reason", "r"});
  INFO(busy_out);
  CHECK(busy == 2);
  CHECK(busy_out.find("POST /v1/subjects/erasures") != std::string::npos);

  server.Stop();
  auto [rc, out] = Run(
      {VX_BINARY, "erase", "--data", server.data(), "--insz", insz, "--reason", "unlawful entry"});
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(out.find("erased patient") != std::string::npos);
  CHECK(out.find(insz) == std::string::npos);  // it names the subject by its pseudonym only
  auto [rc2, out2] = Run(
      {VX_BINARY, "erase", "--data", server.data(), "--insz", insz, "--reason", "unlawful entry"});
  INFO(out2);
  CHECK(rc2 == 2);
  CHECK((out2.find("no patient") != std::string::npos ||
         out2.find("already erased") != std::string::npos));
  auto [bad, bad_out] = Run(
      {VX_BINARY, "erase", "--data", server.data(), "--insz", WrongCheck(insz), "--reason", "r"});
  INFO(bad_out);
  CHECK(bad == 2);
  CHECK(bad_out.find("insz") != std::string::npos);
  // Nothing of the patient is left in the data directory, in files or records.
  for (const auto& [needle, where] : FilesHolding(server.data(), {insz, name})) {
    INFO(needle << " is still in file " << *where.begin());
    CHECK(where.empty());
  }
  for (const auto& [needle, where] : RecordsHolding(server.data(), {insz, name})) {
    INFO(needle << " is still in record " << *where.begin());
    CHECK(where.empty());
  }

  server.Start();
  auto record = server.WithToken(token)->Get(patient);
  REQUIRE(record.status == 200);
  CheckErasedPatient(record.json());
  CHECK(VaccinationFacts(record.json()) == facts);
  CHECK(record.body.find(name) == std::string::npos);
  server.Stop();

  auto [rebuilt, rebuild_out] = Run({VX_BINARY, "projections", "rebuild", "--data", server.data()});
  INFO(rebuild_out);
  REQUIRE(rebuilt == 0);
  server.Start();
  auto again = server.WithToken(token)->Get(patient);
  REQUIRE(again.status == 200);
  CHECK(again.body == record.body);
  CheckErasedPatient(again.json());
  CHECK(again.headers["etag"] == record.headers["etag"]);
  auto [verified, verify_out] = Run({VX_BINARY, "ledger", "verify", "--data", server.data()});
  INFO(verify_out);
  CHECK(verified == 0);
}

}  // namespace
}  // namespace vaxledger::testing
