#include "http/openapi.h"

#include <catch2/catch.hpp>
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
  auto registry = projections::Registry::Open(**log, options);
  REQUIRE(registry.ok());
  SessionStore sessions;
  projections::ReadRecorder reads(**log);
  Metrics metrics;
  Router router;
  AddAllRoutes(router, **log, metrics,
               RegistryServices{**registry, sessions, reads, {}});  // what `vaxledger serve` serves

  const auto doc = OpenApiDocument();
  CHECK(doc["openapi"] == "3.0.3");
  std::set<std::pair<std::string, std::string>> described;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.emplace(upper, path);
      CHECK(op.contains("responses"));
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

}  // namespace
}  // namespace vaxledger::http
