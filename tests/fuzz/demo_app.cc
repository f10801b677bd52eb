#include "tests/fuzz/demo_app.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/pseudonym.h"
#include "core/registry_commands.h"
#include "core/subjects.h"
#include "eventstore/event_log.h"
#include "eventstore/memory_storage.h"
#include "http/metrics.h"
#include "http/routes.h"
#include "http/sessions.h"
#include "projections/read_recorder.h"
#include "projections/registry.h"
#include "projections/views.h"
#include "tools/demo.h"

namespace vaxledger::fuzz {

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

std::string TempDirectory() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vaxledger-fuzz-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) Die("cannot create a temporary directory");
  return tmpl;
}

}  // namespace

struct DemoApp::Parts {
  std::string dir = TempDirectory();
  NoteSigner log_key{"vaxledger.fuzz/registry", Ed25519Key::Generate()};
  NoteSigner idp_key{"vaxledger-dev-idp", Ed25519Key::Generate()};
  std::unique_ptr<eventstore::EventLog> log;
  std::unique_ptr<projections::Registry> registry;
  http::SessionStore sessions;
  std::unique_ptr<projections::ReadRecorder> reads;
  http::Metrics metrics;
  http::Router router;

  ~Parts() {
    reads.reset();
    registry.reset();
    log.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // best effort
  }
};

DemoApp& DemoApp::App() {
  static DemoApp* app = [] {
    auto* a = new DemoApp();
    a->parts_ = new Parts();
    Parts& p = *a->parts_;
    auto log = eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(), p.log_key);
    if (!log.ok()) Die(log.status().ToString());
    p.log = std::move(log).value();
    auto subjects = std::make_shared<MemorySubjects>(PseudonymKey{7, 7, 7});
    // As `vaxledger init --demo`: the demo administrator is the first administrator.
    eventstore::AppendBatch grant;
    auto admin = FirstAdministratorGrant(*subjects, tools::DemoAdministratorInsz());
    if (!admin.ok()) Die(admin.status().ToString());
    auto first = projections::ToNewEvent(*admin, eventstore::EventId::Random(),
                                         eventstore::EventId(), *subjects);
    if (!first.ok()) Die(first.status().ToString());
    grant.events.push_back(std::move(first).value());
    if (auto s = p.log->Append(grant); !s.ok()) Die(s.status().ToString());
    projections::RegistryOptions options;
    options.views_dir = p.dir + "/views";
    options.subjects = subjects;
    auto registry = projections::Registry::Open(*p.log, options);
    if (!registry.ok()) Die(registry.status().ToString());
    p.registry = std::move(registry).value();
    if (Status s = tools::SeedDemo(*p.registry); !s.ok()) Die(s.ToString());
    p.reads = std::make_unique<projections::ReadRecorder>(*p.log);

    http::RegistryRoutesOptions routes;
    routes.assertions.audience = p.log_key.name();  // as `serve`: the registry's origin
    const KeyId& id = p.idp_key.key_id();
    routes.providers.push_back({HexEncode(ByteView(id.data(), id.size())),
                                p.idp_key.verifier().public_key, p.idp_key.name()});
    http::AddAllRoutes(p.router, *p.log, p.metrics,
                       http::RegistryServices{*p.registry, p.sessions, *p.reads, routes});
    tools::AddDemoRoutes(p.router, p.idp_key, routes.assertions.audience);

    // One session per demo person, through the routes (assertion, then login).
    for (const tools::DemoPerson& person : tools::DemoPeople()) {
      http::Request ask;
      ask.method = "POST";
      ask.path = "/v1/demo/assertion";
      ask.headers["content-type"] = "application/json";
      ask.body = nlohmann::json{{"insz", person.insz}}.dump();
      http::Response assertion = p.router.Handle(ask);
      if (assertion.status != 200) Die("demo assertion: " + assertion.body);
      http::Request login;
      login.method = "POST";
      login.path = "/v1/sessions";
      login.headers["content-type"] = "application/json";
      login.body =
          nlohmann::json{{"assertion", nlohmann::json::parse(assertion.body)["assertion"]}}.dump();
      http::Response session = p.router.Handle(login);
      if (session.status != 201) Die("demo login: " + session.body);
      a->tokens_.push_back(nlohmann::json::parse(session.body)["token"].get<std::string>());
    }
    // Registered last, so that it runs before the destructors of the statics RocksDB created
    // while the views were opened.
    std::atexit([] { delete App().parts_; });
    return a;
  }();
  return *app;
}

std::string DemoApp::WithTokens(std::string raw) const {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw.compare(i, 2, "@@") == 0 && i + 2 < raw.size() && raw[i + 2] >= '0' &&
        static_cast<size_t>(raw[i + 2] - '0') < tokens_.size()) {
      out += tokens_[static_cast<size_t>(raw[i + 2] - '0')];
      i += 2;
    } else {
      out += raw[i];
    }
  }
  return out;
}

http::Response DemoApp::Handle(http::Request request) const {
  const std::string what = request.method + " " + request.path;
  http::Response response = parts_->router.Handle(std::move(request));
  static const bool trace = std::getenv("VX_FUZZ_TRACE") != nullptr;
  if (trace) std::fprintf(stderr, "%d %s\n", response.status, what.c_str());
  if (response.status == 500) Die("500 for " + what + ": " + response.body);
  if (response.status < 100 || response.status > 599) {
    Die("status " + std::to_string(response.status) + " for " + what);
  }
  if (response.stream) {
    response.stream->Cancel();  // an event feed: nothing to read without a client
    response.stream.reset();
  }
  const bool json = response.content_type == "application/json" ||
                    response.content_type == "application/problem+json";
  if (json && !response.body.empty() && !nlohmann::json::accept(response.body)) {
    Die("a " + response.content_type + " body that is not JSON for " + what);
  }
  for (const auto& [name, value] : response.headers) {
    if (name.find_first_of("\r\n\0:", 0, 4) != std::string::npos ||
        value.find_first_of("\r\n\0", 0, 3) != std::string::npos) {
      Die("header " + name + " with CR, LF or NUL for " + what);
    }
  }
  return response;
}

}  // namespace vaxledger::fuzz
