#include "http/openapi.h"

#include "core/subjects.h"

#include <catch2/catch.hpp>
#include <functional>
#include <set>

#include "eventstore/memory_storage.h"
#include "http/routes.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::http {
namespace {

TEST_CASE("the OpenAPI document describes exactly the routes the server has") {
  auto log = eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(),
                                        NoteSigner("openapi.test/log", Ed25519Key::Generate()));
  REQUIRE(log.ok());
  eventstore::testing::TempDir dir;
  projections::RegistryOptions options;
  options.views_dir = dir.path() + "/views";
  options.subjects = std::make_shared<MemorySubjects>(PseudonymKey{});
  auto registry = projections::Registry::Open(**log, options);
  REQUIRE(registry.ok());
  SessionStore sessions;
  projections::ReadRecorder reads(**log);
  Metrics metrics;
  Router router;
  AddAllRoutes(router, **log, metrics,
               RegistryServices{**registry, sessions, reads, {}});  // what `vaxledger serve` serves

  const auto doc = OpenApiDocument(router);
  CHECK(doc["openapi"] == "3.0.3");
  std::set<std::pair<std::string, std::string>> described;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.emplace(upper, path);
      INFO(method << " " << path);
      CHECK(op.contains("responses"));
      CHECK(op.contains("security"));
      CHECK_FALSE(op["summary"].get<std::string>().empty());
    }
  }
  const auto routes = router.Routes();
  CHECK(std::set<std::pair<std::string, std::string>>(routes.begin(), routes.end()) == described);

  Request get;
  get.method = "GET";
  get.path = "/v1/openapi.json";
  Response served = router.Handle(get);
  CHECK(served.status == 200);
  CHECK(nlohmann::json::parse(served.body) == doc);
}

TEST_CASE("the OpenAPI document says what the routes take: parameters, headers, bodies, streams") {
  auto log = eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(),
                                        NoteSigner("openapi.test/log", Ed25519Key::Generate()));
  REQUIRE(log.ok());
  eventstore::testing::TempDir dir;
  projections::RegistryOptions options;
  options.views_dir = dir.path() + "/views";
  options.subjects = std::make_shared<MemorySubjects>(PseudonymKey{});
  auto registry = projections::Registry::Open(**log, options);
  REQUIRE(registry.ok());
  SessionStore sessions;
  projections::ReadRecorder reads(**log);
  Metrics metrics;
  Router router;
  AddAllRoutes(router, **log, metrics, RegistryServices{**registry, sessions, reads, {}});
  const auto doc = OpenApiDocument(router);
  const auto& paths = doc["paths"];
  auto param_names = [&](const std::string& path, const std::string& method) {
    std::set<std::string> names;
    for (const auto& p : paths[path][method].value("parameters", nlohmann::json::array())) {
      names.insert(p["in"].get<std::string>() + ":" + p["name"].get<std::string>());
    }
    return names;
  };
  CHECK(param_names("/v1/requests", "get") ==
        std::set<std::string>{"query:status", "query:cursor", "query:limit"});
  CHECK(paths["/v1/requests"]["get"]["parameters"][0]["schema"]["enum"] ==
        nlohmann::json::array({"pending", "approved", "rejected", "all"}));
  CHECK(param_names("/v1/ledger/entries", "get") ==
        std::set<std::string>{"query:start", "query:limit"});
  CHECK(param_names("/v1/entities/{entity}", "get") ==
        std::set<std::string>{"path:entity", "query:as_of"});
  CHECK(param_names("/v1/events", "get") ==
        std::set<std::string>{"header:Last-Event-ID", "query:from"});
  CHECK(param_names("/v1/entities/{entity}/link-requests", "post") ==
        std::set<std::string>{"path:entity", "header:If-Match", "header:Idempotency-Key"});
  CHECK(paths["/v1/events"]["get"]["responses"]["200"]["content"].contains("text/event-stream"));
  CHECK_FALSE(
      paths["/v1/events"]["get"]["responses"]["200"]["content"].contains("application/json"));
  CHECK(paths["/v1/vaccinations/batch"]["post"]["requestBody"]["content"].contains("text/csv"));
  // Public operations say so; the others take the session.
  CHECK(paths["/v1/ledger/checkpoint"]["get"]["security"] == nlohmann::json::array());
  CHECK(paths["/v1/sessions"]["post"]["security"] == nlohmann::json::array());
  CHECK(paths["/v1/session"]["get"]["security"].size() == 2);
  CHECK(paths["/v1/session"]["get"]["responses"]["401"]["$ref"] ==
        "#/components/responses/Unauthorized");
  CHECK_FALSE(doc["servers"].empty());
  // Every answer with JSON content has a real schema, not a bare {"type": "object"}.
  size_t bare = 0;
  for (const auto& [path, ops] : paths.items()) {
    if (path == "/v1/openapi.json") continue;
    for (const auto& [method, op] : ops.items()) {
      for (const auto& [code, r] : op["responses"].items()) {
        if (!r.contains("content") || !r["content"].contains("application/json")) continue;
        const auto& schema = r["content"]["application/json"]["schema"];
        if (!schema.contains("$ref") && !schema.contains("properties")) ++bare;
      }
    }
  }
  CHECK(bare == 0);
  // Every $ref points at something that is there.
  std::function<void(const nlohmann::json&)> check_refs = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      if (j.contains("$ref")) {
        std::string ref = j["$ref"];
        REQUIRE(ref.starts_with("#/"));
        INFO(ref);
        CHECK(doc.contains(nlohmann::json::json_pointer(ref.substr(1))));
      }
      for (const auto& [k, v] : j.items()) check_refs(v);
    } else if (j.is_array()) {
      for (const auto& v : j) check_refs(v);
    }
  };
  check_refs(doc);
}

}  // namespace
}  // namespace vaxledger::http
