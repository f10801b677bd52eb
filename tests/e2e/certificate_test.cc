// Proofs of vaccination over HTTP (issue 10): `vaxledger init --demo` and `vaxledger serve
// --demo` on a loopback port; certificates issued, shown, revoked, and checked with the offline
// verifier `vaxledger certificate verify`.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/crypto.h"
#include "core/encoding.h"
#include "tests/common/child_process.h"
#include "tests/common/demo_server.h"
#include "tests/common/http_client.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::testing {
namespace {

using nlohmann::json;

// The demo server with a DCC issuer name (tests/common/demo_server.h).
class Server : public DemoServer {
 public:
  Server() : DemoServer({"--dcc-issuer", "Vaccinnet e2e"}) {}
};

// Runs `vaxledger certificate verify` on `hc1`; returns (exit code, its output).
std::pair<int, std::string> Verify(const Server& server, const std::string& hc1,
                                   const std::string& dsc, const std::string& at = {}) {
  const std::string file = server.path("hc1.txt");
  std::ofstream(file) << hc1;
  std::vector<std::string> argv = {VX_BINARY, "certificate", "verify", "--dsc", dsc, file};
  if (!at.empty()) argv.insert(argv.end() - 1, {"--at", at});
  ChildProcess p(argv);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p.out(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const int status = p.Wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

json Dose(const std::string& insz, const std::string& product, int dose, const std::string& date) {
  return {{"patient", {{"insz", insz}}},
          {"product", product},
          {"lot", "LOT" + std::to_string(dose)},
          {"dose", dose},
          {"date", date},
          {"consent", {{"decision", "given"}, {"date", date}}}};
}

std::string Segment(std::string uvci) { return uvci.replace(uvci.find('#'), 1, "%23"); }

const char* kPeeters = "Dr. Els Peeters";
const char* kMaes = "Dr. Sarah Maes";
const char* kWouters = "Tom Wouters";
const char* kStaf = "Lies Staf";
const char* kAdmin = "An Beheerder";
const char* kAuditor = "Oscar Auditeur";
const std::string kPatient = "85073003328";  // born 1985-07-30
const std::string kJcovdenPatient = "90020200197";

TEST_CASE("issue a certificate over HTTP, show its QR code and page, verify it offline") {
  Server server;
  auto peeters = server.Login(kPeeters);
  REQUIRE(
      peeters->Post("/v1/vaccinations", Dose(kPatient, "EU/1/20/1528", 1, "2026-09-01")).status ==
      201);
  REQUIRE(
      peeters->Post("/v1/vaccinations", Dose(kPatient, "EU/1/20/1528", 2, "2026-10-01")).status ==
      201);
  const json record = peeters->Post("/v1/patients/search", {{"insz", kPatient}}).json();
  const std::string patient = record["id"];
  const std::string base = "/v1/patients/" + patient + "/certificates";

  auto issued =
      peeters->Post(base, {{"family_name", "Peeters-Van Damme"}, {"given_name", "Marie Louise"}});
  INFO(issued.body);
  REQUIRE(issued.status == 201);
  const json c = issued.json();
  const std::string uvci = c["uvci"];
  CHECK(uvci.starts_with("URN:UVCI:01:BE:"));
  CHECK(issued.headers["location"] == base + "/" + Segment(uvci));
  const std::string hc1 = c["hc1"];
  CHECK(hc1.starts_with("HC1:"));
  CHECK(c["dcc"]["v"][0]["dn"] == 2);
  CHECK(c["dcc"]["v"][0]["sd"] == 2);
  CHECK(c["dcc"]["v"][0]["is"] == "Vaccinnet e2e");
  CHECK(c["dcc"]["dob"] == "1985-07-30");
  CHECK(c["dcc"]["nam"]["fnt"] == "PEETERS<VAN<DAMME");
  CHECK(c["expires_at"].get<std::string>().size() == 20);

  // Offline, with the signer certificate from the data directory and from the public route.
  const std::string dsc = server.data() + "/certificates/dsc.crt";
  auto [rc, out] = Verify(server, hc1, dsc);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("valid vaccination certificate, ES256") != std::string::npos);
  HttpClient anonymous(server.port());
  const json signers = anonymous.Get("/v1/certificates/signers").json()["signers"];
  REQUIRE(signers.size() == 1);
  CHECK(signers[0]["kid"] == c["kid"]);
  std::ofstream(server.path("published.pem")) << signers[0]["certificate"].get<std::string>();
  CHECK(Verify(server, hc1, server.path("published.pem")).first == 0);
  // Past its expiry the verifier says so; with another registry's certificate the kid is unknown.
  auto [late_rc, late] = Verify(server, hc1, dsc, "2099-01-01T00:00:00Z");
  CHECK(late_rc == 1);
  CHECK(late.find("invalid: expired") != std::string::npos);
  CHECK(Verify(server, hc1, server.data() + "/certificates/csca.crt").second.find("invalid: kid") !=
        std::string::npos);
  CHECK(Verify(server, hc1, server.path("missing.pem")).first == 2);

  auto png = peeters->Get(c["links"]["qr_png"].get<std::string>());
  CHECK(png.status == 200);
  CHECK(png.headers["content-type"] == "image/png");
  CHECK(png.body.substr(1, 3) == "PNG");
  auto svg = peeters->Get(c["links"]["qr_svg"].get<std::string>());
  CHECK(svg.body.starts_with("<svg"));
  auto page = peeters->Get(c["links"]["print"].get<std::string>());
  CHECK(page.headers["content-type"].starts_with("text/html"));
  CHECK(page.body.find("Vaccinatiebewijs") != std::string::npos);
  CHECK(page.body.find(uvci) != std::string::npos);
  CHECK(peeters->Get(c["links"]["print"].get<std::string>() + "?lang=fr")
            .body.find("Certificat de vaccination") != std::string::npos);
  const json list = peeters->Get(base).json()["certificates"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["uvci"] == uvci);
  CHECK(list[0]["status"] == "valid");

  // A Jcovden dose is 1/1; a booster after it 2/1.
  REQUIRE(peeters->Post("/v1/vaccinations", Dose(kJcovdenPatient, "EU/1/20/1525", 1, "2026-08-01"))
              .status == 201);
  const std::string jpatient =
      peeters->Post("/v1/patients/search", {{"insz", kJcovdenPatient}}).json()["id"];
  auto one =
      peeters->Post("/v1/patients/" + jpatient + "/certificates", {{"family_name", "Dubois"}});
  REQUIRE(one.status == 201);
  CHECK(one.json()["dcc"]["v"][0]["vp"] == "29061000087103");
  CHECK(one.json()["dn"] == 1);
  CHECK(one.json()["sd"] == 1);
  REQUIRE(peeters->Post("/v1/vaccinations", Dose(kJcovdenPatient, "EU/1/20/1507", 2, "2026-11-01"))
              .status == 201);
  auto booster =
      peeters->Post("/v1/patients/" + jpatient + "/certificates", {{"family_name", "Dubois"}});
  REQUIRE(booster.status == 201);
  CHECK(booster.json()["dn"] == 2);
  CHECK(booster.json()["sd"] == 1);
  CHECK(Verify(server, booster.json()["hc1"], dsc).first == 0);
}

TEST_CASE("who may issue and revoke certificates, and what is refused") {
  Server server;
  auto peeters = server.Login(kPeeters);
  REQUIRE(
      peeters->Post("/v1/vaccinations", Dose(kPatient, "EU/1/20/1528", 1, "2026-09-01")).status ==
      201);
  const std::string patient =
      peeters->Post("/v1/patients/search", {{"insz", kPatient}}).json()["id"];
  const std::string base = "/v1/patients/" + patient + "/certificates";
  const json names = {{"family_name", "Peeters"}, {"given_name", "An"}};

  HttpClient anonymous(server.port());
  CHECK(anonymous.Post(base, names).status == 401);
  auto other_entity = server.Login(kMaes);
  auto refused = other_entity->Post(base, names);
  CHECK(refused.status == 404);
  CHECK(refused.headers["content-type"] == "application/problem+json");
  CHECK(other_entity->Get(base).status == 404);
  auto admin = server.Login(kAdmin);
  CHECK(admin->Post(base, names).status == 403);  // no entity to act for
  auto staff = server.Login(kStaf);
  auto without = staff->Post(base, names);
  CHECK(without.status == 403);
  CHECK(without.json()["field"] == "on_behalf_of");
  const auto physicians = staff->Get("/v1/session").json()["entities"][0]["physicians"];
  REQUIRE(staff
              ->Send("PUT", "/v1/session/entity",
                     json{{"entity", "demo-linde"}, {"on_behalf_of", physicians[0]}}.dump())
              .status == 200);
  auto by_staff = staff->Post(base, names);
  INFO(by_staff.body);
  REQUIRE(by_staff.status == 201);
  auto haio = server.Login(kWouters);
  auto by_haio = haio->Post(base, names);
  INFO(by_haio.body);
  REQUIRE(by_haio.status == 201);

  // Bad input: named field, nothing appended.
  auto cyrillic = peeters->Post(base, {{"family_name", "Иванов"}});
  CHECK(cyrillic.status == 400);
  CHECK(cyrillic.json()["field"] == "family_name");
  CHECK(peeters->Post(base, {{"given_name", "An"}}).json()["field"] == "family_name");
  CHECK(peeters->Post(base, {{"family_name", "X"}, {"nickname", "Y"}}).status == 400);
  REQUIRE(
      peeters->Post("/v1/vaccinations", Dose(kPatient, "EU/1/18/1326", 1, "2026-10-05")).status ==
      201);
  const json record = peeters->Get("/v1/patients/" + patient).json();
  std::string flu, covid;
  for (const auto& v : record["vaccinations"]) {
    (v["product"] == "EU/1/18/1326" ? flu : covid) = v["id"];
  }
  auto not_covid = peeters->Post(base, {{"family_name", "Peeters"}, {"vaccination", flu}});
  CHECK(not_covid.status == 422);
  CHECK(not_covid.json()["field"] == "vaccination");
  REQUIRE(peeters
              ->Post("/v1/patients/" + patient + "/vaccinations/" + covid + "/retraction",
                     {{"reason", "wrong patient"}})
              .status == 200);
  auto retracted = peeters->Post(base, {{"family_name", "Peeters"}, {"vaccination", covid}});
  CHECK(retracted.status == 422);
  CHECK(retracted.json()["detail"].get<std::string>().find("entered in error") !=
        std::string::npos);

  // Revocation: the issuing entity or an administrator; another entity is not told it exists.
  const std::string uvci = by_haio.json()["uvci"];
  const std::string one = base + "/" + Segment(uvci);
  CHECK(other_entity->Post(one + "/revocation", {{"reason", "x"}}).status == 404);
  CHECK(peeters->Post(one + "/revocation", json::object()).json()["field"] == "reason");
  REQUIRE(peeters->Post(one + "/revocation", {{"reason", "issued twice"}}).status == 200);
  CHECK(peeters->Post(one + "/revocation", {{"reason", "again"}}).status == 422);
  CHECK(peeters->Get(one).json()["status"] == "revoked");
  const json list = anonymous.Get("/v1/certificates/revocations").json();
  CHECK(list["hash_type"] == "UCI");
  const Hash h = Sha256(AsBytes(uvci));
  REQUIRE(list["hashes"].size() == 1);
  CHECK(list["hashes"][0] == Base64Encode(ByteView(h.data(), 16)));
  const std::string staff_uvci = by_staff.json()["uvci"];
  auto by_admin =
      admin->Post(base + "/" + Segment(staff_uvci) + "/revocation", {{"reason", "audit"}});
  INFO(by_admin.body);
  CHECK(by_admin.status == 200);
  CHECK(anonymous.Get("/v1/certificates/revocations").json()["hashes"].size() == 2);

  // The ledger has every certificate issued and revoked.
  auto auditor = server.Login(kAuditor);
  const json entries = auditor->Get("/v1/ledger/entries?limit=1000").json()["entries"];
  int issued = 0, revoked = 0;
  for (const auto& e : entries) {
    auto leaf = Base64Decode(e["leaf"].get<std::string>());
    REQUIRE(leaf.ok());
    const std::string text(leaf->begin(), leaf->end());
    issued += text.find("certificate.issued") != std::string::npos;
    revoked += text.find("certificate.revoked") != std::string::npos;
  }
  CHECK(issued == 2);
  CHECK(revoked == 2);
}

TEST_CASE("vaxledger certificate verify agrees with every EU test certificate") {
  eventstore::testing::TempDir dir;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VX_VECTORS_DIR "/dcc")) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".json") || name == "DCC.combined-schema.json") continue;
    std::ifstream in(entry.path());
    const json v = json::parse(in);
    INFO(name);
    const std::string der_file = dir.path() + "/" + name + ".der";
    const auto der = Base64Decode(v["TESTCTX"]["CERTIFICATE"].get<std::string>());
    REQUIRE(der.ok());
    std::ofstream(der_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(der->data()),
               static_cast<std::streamsize>(der->size()));
    const std::string hc1_file = dir.path() + "/" + name + ".hc1";
    std::ofstream(hc1_file) << v["PREFIX"].get<std::string>() << "\n";
    ChildProcess p({VX_BINARY, "certificate", "verify", "--dsc", der_file, "--at",
                    v["TESTCTX"]["VALIDATIONCLOCK"].get<std::string>(), hc1_file});
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p.out(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    const int status = p.Wait();
    INFO(out);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == (v["EXPECTEDRESULTS"].value("EXPECTEDVERIFY", true) ? 0 : 1));
    ++files;
  }
  CHECK(files == 10);
}

TEST_CASE("a document signer key readable by others is refused") {
  eventstore::testing::TempDir dir;
  const std::string data = dir.path() + "/d";
  {
    ChildProcess init({VX_BINARY, "init", "--data", data, "--demo"});
    REQUIRE(init.Wait() == 0);
  }
  ChildProcess ok({VX_BINARY, "certificate", "keys", "--data", data});
  CHECK(WEXITSTATUS(ok.Wait()) == 0);
  std::filesystem::permissions(data + "/certificates/dsc.key", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  ChildProcess open({VX_BINARY, "certificate", "keys", "--data", data});
  CHECK(WEXITSTATUS(open.Wait()) == 2);
  ChildProcess serve({VX_BINARY, "serve", "--data", data, "--listen", "127.0.0.1:0"});
  CHECK(WEXITSTATUS(serve.Wait()) == 2);
}

}  // namespace
}  // namespace vaxledger::testing
