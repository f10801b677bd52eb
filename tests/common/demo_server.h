// A demo registry served by the real binary, for end-to-end tests: `vaxledger init --demo` in a
// temporary directory, then `vaxledger serve --demo` on a loopback port chosen by the system
// (read from the server's first line), the demo people's INSZ numbers from /v1/demo/people, and
// logins through the development identity provider. Stopped with SIGTERM (a clean stop, which
// must exit 0). The test binary needs VX_BINARY, the path of `vaxledger`.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/common/child_process.h"
#include "tests/common/http_client.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::testing {

class DemoServer {
 public:
  // `serve_args`: more arguments of `vaxledger serve` (e.g. --dcc-issuer NAME).
  explicit DemoServer(std::vector<std::string> serve_args = {})
      : serve_args_(std::move(serve_args)) {
    {
      ChildProcess init({VX_BINARY, "init", "--data", data(), "--demo"});
      REQUIRE(init.Wait() == 0);
    }
    Start();
    HttpClient c0(port_);
    const nlohmann::json people = c0.Get("/v1/demo/people").json();
    for (const auto& p : people["people"]) {
      people_[p["name"].get<std::string>()] = p["insz"].get<std::string>();
    }
    REQUIRE(people_.size() >= 9);
  }
  ~DemoServer() { Stop(); }
  DemoServer(const DemoServer&) = delete;
  DemoServer& operator=(const DemoServer&) = delete;

  std::string data() const { return dir_.path() + "/d"; }
  // A path beside the data directory, for a test's own files.
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  uint16_t port() const { return port_; }
  const std::string& Insz(const std::string& name) const { return people_.at(name); }

  void Start() {
    REQUIRE(!child_);
    std::vector<std::string> argv = {VX_BINARY,  "serve",       "--data", data(),
                                     "--listen", "127.0.0.1:0", "--demo"};
    argv.insert(argv.end(), serve_args_.begin(), serve_args_.end());
    child_ = std::make_unique<ChildProcess>(argv);
    std::string line;
    char c;
    while (::read(child_->out(), &c, 1) == 1 && c != '\n') line += c;
    const size_t at = line.find("127.0.0.1:");
    INFO(line);
    REQUIRE(at != std::string::npos);
    port_ = static_cast<uint16_t>(std::stoi(line.substr(at + 10)));
  }
  // SIGTERM: the server finishes its work, flushes and exits 0.
  void Stop() {
    if (!child_) return;
    const int status = child_->SignalAndWait(SIGTERM);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    child_.reset();
  }

  // A client logged in with the demo identity provider as `insz` (a demo person or anyone).
  std::unique_ptr<HttpClient> LoginInsz(const std::string& insz) {
    auto c = std::make_unique<HttpClient>(port_);
    auto a = c->Post("/v1/demo/assertion", {{"insz", insz}});
    REQUIRE(a.status == 200);
    auto s = c->Post("/v1/sessions", {{"assertion", a.json()["assertion"]}});
    INFO(s.body);
    REQUIRE(s.status == 201);
    c->set_token(s.json()["token"]);
    return c;
  }
  // A client logged in as the demo person `name`.
  std::unique_ptr<HttpClient> Login(const std::string& name) { return LoginInsz(Insz(name)); }

 private:
  eventstore::testing::TempDir dir_;
  std::vector<std::string> serve_args_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
  std::map<std::string, std::string> people_;
};

}  // namespace vaxledger::testing
