// The `vaxledger` command end to end: init, status, verify, export and offline verify,
// checkpoint, verify-note, prove and consistency, run as a child process on a real data directory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/jws.h"
#include "core/merkle.h"
#include "eventstore/event_log.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "tests/common/child_process.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger {
namespace {

using eventstore::testing::TempDir;

struct Run {
  int code = -1;
  std::string out;  // stdout and stderr
};

Run Vaxledger(const std::string& args) {
  std::string cmd = std::string(VX_BINARY) + " " + args + " 2>&1";
  Run r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Appends `n` events to the log in `dir` through the library, as the server will.
void AppendEvents(const std::string& dir, int n) {
  auto signer = eventstore::LoadRegistryKey(dir + "/registry.key");
  REQUIRE(signer.ok());
  auto storage = eventstore::OpenRocksDbStorage(dir + "/log");
  REQUIRE(storage.ok());
  auto log = eventstore::EventLog::Open(std::move(storage).value(), *signer);
  REQUIRE(log.ok());
  for (int i = 0; i < n; ++i) {
    REQUIRE((*log)->Append(eventstore::testing::OneEvent("s" + std::to_string(i % 3))).ok());
  }
}

TEST_CASE("vaxledger: init, verify, prove, export, consistency from a user's point of view") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  Run init = Vaxledger("init --data " + dir + " --origin test.example/registry");
  REQUIRE(init.code == 0);
  struct stat st;
  REQUIRE(::stat((dir + "/registry.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  Run again = Vaxledger("init --data " + dir);
  CHECK(again.code == 2);
  CHECK_THAT(again.out, Catch::Contains("already"));

  Run status = Vaxledger("ledger status --data " + dir);
  REQUIRE(status.code == 0);
  std::string vkey;
  std::istringstream lines(status.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("vkey")) vkey = line.substr(line.find_last_of(' ') + 1);
  }
  REQUIRE(vkey.starts_with("test.example/registry+"));

  AppendEvents(dir, 40);
  Run old_cp = Vaxledger("ledger checkpoint --data " + dir);
  REQUIRE(old_cp.code == 0);
  CHECK_THAT(old_cp.out, Catch::StartsWith("test.example/registry\n41\n"));
  std::ofstream(tmp.path() + "/old.cp") << old_cp.out;
  AppendEvents(dir, 30);

  Run verify = Vaxledger("ledger verify --data " + dir);
  CHECK(verify.code == 0);
  CHECK_THAT(verify.out, Catch::StartsWith("OK 71 events and 71 checkpoints verified"));

  Run note = Vaxledger("ledger verify-note --vkey " + vkey + " " + tmp.path() + "/old.cp");
  CHECK(note.code == 0);
  NoteSigner stranger("test.example/registry", Ed25519Key::Generate());
  Run bad_note = Vaxledger("ledger verify-note --vkey " + stranger.verifier().ToText() + " " +
                           tmp.path() + "/old.cp");
  CHECK(bad_note.code == 1);

  Run consistency = Vaxledger("ledger consistency --data " + dir + " " + tmp.path() + "/old.cp");
  CHECK(consistency.code == 0);
  const std::string& c = consistency.out;
  CHECK_THAT(c,
             Catch::Contains("OK today's log (71 events) extends the old checkpoint (41 events)"));
  auto proof = nlohmann::json::parse(c.substr(c.find('{'), c.rfind('}') + 1 - c.find('{')));
  CHECK(proof["from"] == 41);
  CHECK(proof["to"] == 71);
  CHECK_FALSE(proof["proof"].empty());

  Run prove = Vaxledger("ledger prove --data " + dir + " --index 17");
  REQUIRE(prove.code == 0);
  auto inclusion = nlohmann::json::parse(prove.out);
  std::vector<Hash> path;
  for (const auto& h : inclusion["proof"]) {
    auto raw = Base64Decode(h.get<std::string>());
    REQUIRE(raw.ok());
    Hash hash;
    std::copy(raw->begin(), raw->end(), hash.begin());
    path.push_back(hash);
  }
  auto decode = [](const nlohmann::json& j) {
    auto raw = Base64Decode(j.get<std::string>());
    REQUIRE(raw.ok());
    Hash h;
    std::copy(raw->begin(), raw->end(), h.begin());
    return h;
  };
  CHECK(merkle::VerifyInclusion(17, 71, decode(inclusion["leaf_hash"]), path,
                                decode(inclusion["root"]))
            .ok());
  CHECK(Vaxledger("ledger prove --data " + dir + " --index 71").code == 2);

  const std::string file = tmp.path() + "/ledger.export";
  REQUIRE(Vaxledger("ledger export --data " + dir + " --out " + file).code == 0);
  Run offline = Vaxledger("ledger verify --export " + file + " --vkey " + vkey);
  CHECK(offline.code == 0);
  CHECK_THAT(offline.out, Catch::StartsWith("OK 71 events and 71 checkpoints verified"));
  Run wrong_key =
      Vaxledger("ledger verify --export " + file + " --vkey " + stranger.verifier().ToText());
  CHECK(wrong_key.code == 1);
  CHECK_THAT(wrong_key.out, Catch::Contains("FAIL at position 0"));

  std::string text = Slurp(file);
  size_t at = text.find("\nleaf 33 ");
  REQUIRE(at != std::string::npos);
  text[text.find('\n', at + 1) - 10] ^= 0x01;  // inside the base64 of leaf 33
  std::ofstream(file, std::ios::trunc | std::ios::binary) << text;
  Run tampered = Vaxledger("ledger verify --export " + file + " --vkey " + vkey);
  CHECK(tampered.code == 1);
  CHECK_THAT(tampered.out, Catch::Contains("FAIL at position 33"));

  // Rotate the key: the log and its checkpoints go on under the new key, verifiers follow.
  Run rotate = Vaxledger("keys rotate --data " + dir);
  REQUIRE(rotate.code == 0);
  CHECK_THAT(rotate.out, Catch::StartsWith("rotated at position 71"));
  Run after = Vaxledger("ledger verify --data " + dir);
  CHECK(after.code == 0);
  CHECK_THAT(after.out, Catch::StartsWith("OK 72 events and 72 checkpoints verified"));
  Run status2 = Vaxledger("ledger status --data " + dir);
  CHECK_THAT(status2.out, !Catch::Contains(vkey));
  Run still_consistent =
      Vaxledger("ledger consistency --data " + dir + " " + tmp.path() + "/old.cp");
  CHECK(still_consistent.code == 0);
  REQUIRE(Vaxledger("ledger export --data " + dir + " --out " + file).code == 0);
  CHECK(Slurp(file).find("\nkey 72 ") != std::string::npos);
  CHECK(Vaxledger("ledger verify --export " + file + " --vkey " + vkey).code == 0);

  REQUIRE(::chmod((dir + "/registry.key").c_str(), 0644) == 0);
  Run too_open = Vaxledger("ledger verify --data " + dir);
  CHECK(too_open.code == 2);
  CHECK_THAT(too_open.out, Catch::Contains("chmod 600"));
  CHECK(Vaxledger("ledger status --data " + tmp.path() + "/nothing").code == 2);
}

TEST_CASE("vaxledger idp issues assertions that verify with the provider's key") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  REQUIRE(Vaxledger("init --data " + dir).code == 0);
  REQUIRE(Vaxledger("idp init --data " + dir).code == 0);
  Run issued = Vaxledger("idp issue --data " + dir +
                         " --insz 85.07.30-033.28 --name 'An Peeters' --ttl 300");
  REQUIRE(issued.code == 0);
  std::string token = issued.out.substr(0, issued.out.find('\n'));
  auto key = eventstore::LoadRegistryKey(dir + "/idp-dev.key");
  REQUIRE(key.ok());
  const KeyId& id = key->key_id();
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // Signed by the provider's key, issued in its name, for this registry (its origin).
  auto origin = eventstore::LoadRegistryKey(dir + "/registry.key");
  REQUIRE(origin.ok());
  auto checked = VerifyAssertion(
      token, {{HexEncode(ByteView(id.data(), 4)), key->key().public_key(), "vaxledger-dev-idp"}},
      {origin->name(), 600, 60}, now);
  INFO(checked.status().message());
  REQUIRE(checked.ok());
  const auto& claims = checked->claims;
  CHECK(claims["sub"] == "85073003328");
  CHECK(claims["name"] == "An Peeters");
  CHECK(claims["exp"].get<int64_t>() <= now + 301);
  CHECK(claims["jti"].get<std::string>().size() == 32);
  // Two issued in the same second are two assertions (each opens one session).
  Run again = Vaxledger("idp issue --data " + dir + " --insz 85.07.30-033.28 --ttl 300");
  CHECK(again.out.substr(0, again.out.find('\n')) != token);

  Run bad = Vaxledger("idp issue --data " + dir + " --insz 85.07.30-033.29");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.out, Catch::Contains("insz: check digits"));
}

// Sends one HTTP/1.1 request with Connection: close to 127.0.0.1:port and returns the response.
std::string HttpGet(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST_CASE("vaxledger serve answers on its port and exits 0 on SIGTERM") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  REQUIRE(Vaxledger("init --data " + dir).code == 0);
  vaxledger::testing::ChildProcess server(
      {VX_BINARY, "serve", "--data", dir, "--listen", "127.0.0.1:0"});
  std::FILE* out = ::fdopen(server.TakeOut(), "r");
  REQUIRE(out != nullptr);
  char line[512];
  REQUIRE(std::fgets(line, sizeof line, out) !=
          nullptr);  // "vaxledger: serving ... on http://127.0.0.1:PORT (...)"
  std::string first(line);
  size_t colon = first.find("127.0.0.1:");
  REQUIRE(colon != std::string::npos);
  const uint16_t port = static_cast<uint16_t>(std::stoi(first.substr(colon + 10)));

  std::string health = HttpGet(port, "/healthz");
  CHECK_THAT(health, Catch::StartsWith("HTTP/1.1 200"));
  std::string checkpoint = HttpGet(port, "/v1/ledger/checkpoint");
  CHECK_THAT(checkpoint, Catch::Contains("vaxledger.local/registry\n1\n"));

  const int status = server.SignalAndWait(SIGTERM);
  std::string rest;
  while (std::fgets(line, sizeof line, out) != nullptr) rest += line;
  std::fclose(out);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(rest, Catch::Contains("stopped"));
  // The data directory is closed cleanly and still verifies.
  CHECK(Vaxledger("ledger verify --data " + dir).code == 0);
}

}  // namespace
}  // namespace vaxledger

namespace vaxledger {
namespace {

TEST_CASE(
    "vaxledger projections and replay: views rebuilt, and as they were at a position or time") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  Run init = Vaxledger("init --data " + dir + " --admin 85073003328");
  INFO(init.out);
  REQUIRE(init.code == 0);
  Run rebuild = Vaxledger("projections rebuild --data " + dir);
  INFO(rebuild.out);
  REQUIRE(rebuild.code == 0);
  CHECK(rebuild.out.find("rebuilt membership at position 2") != std::string::npos);
  Run status = Vaxledger("projections status --data " + dir);
  CHECK(status.out.find("membership    position 2 (behind by 0)") != std::string::npos);

  // Position 0 is the genesis only; position 1 grants the administrator role.
  REQUIRE(Vaxledger("replay --data " + dir + " --until 0 --out " + tmp.path() + "/r0").code == 0);
  REQUIRE(Vaxledger("replay --data " + dir + " --until 1 --out " + tmp.path() + "/r1").code == 0);
  Run before = Vaxledger("projections dump --views " + tmp.path() + "/r0/views membership");
  Run after = Vaxledger("projections dump --views " + tmp.path() + "/r1/views membership");
  REQUIRE(before.code == 0);
  REQUIRE(after.code == 0);
  CHECK(before.out.find("administrator") == std::string::npos);
  CHECK(after.out.find("\"roles\":[\"administrator\"]") != std::string::npos);
  CHECK(after.out.find("85073003328") == std::string::npos);  // views name people by pseudonym

  Run by_time = Vaxledger("replay --data " + dir + " --until 2000-01-01T00:00:00Z --out " +
                          tmp.path() + "/t");
  CHECK(by_time.out.find("replayed 0 events") != std::string::npos);
  Run bad = Vaxledger("replay --data " + dir + " --until yesterday --out " + tmp.path() + "/b");
  CHECK(bad.code == 2);
  CHECK(bad.out.find("until must be a position or a UTC time") != std::string::npos);
  Run again = Vaxledger("replay --data " + dir + " --until 1 --out " + tmp.path() + "/r1");
  CHECK(again.code == 2);  // never over an existing replay
}

}  // namespace
}  // namespace vaxledger
