#include "http/ledger_routes.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eventstore/memory_storage.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::http {
namespace {

Request Get(const std::string& target) {
  Request r;
  r.method = "GET";
  REQUIRE(ParseTarget(target, &r).ok());
  return r;
}

TEST_CASE("/readyz says not ready, and why, while the log refuses writes; ready again after") {
  auto storage = std::make_unique<eventstore::MemoryStorage>();
  eventstore::MemoryStorage* raw = storage.get();
  auto log = eventstore::EventLog::Open(std::move(storage), eventstore::testing::TestSigner());
  REQUIRE(log.ok());
  REQUIRE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
  Router router;
  AddHealthRoutes(router, **log);
  CHECK(router.Handle(Get("/readyz")).status == 200);

  raw->RefuseNextCommits(1);  // as a full disk: reads go on, writes are refused
  Response refused = router.Handle(Get("/readyz"));
  CHECK(refused.status == 503);
  CHECK_THAT(nlohmann::json::parse(refused.body)["detail"].get<std::string>(),
             Catch::Contains("injected full disk"));
  CHECK(router.Handle(Get("/healthz")).status == 200);
  CHECK_FALSE((*log)->Append(eventstore::testing::OneEvent("s")).ok());  // uses up the refusal
  CHECK(router.Handle(Get("/readyz")).status == 200);

  raw->FailNextCommits(1);  // a failed commit stops the log until a restart
  CHECK_FALSE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
  Response stopped = router.Handle(Get("/readyz"));
  CHECK(stopped.status == 503);
  CHECK_THAT(nlohmann::json::parse(stopped.body)["detail"].get<std::string>(),
             Catch::Contains("restart"));
}

}  // namespace
}  // namespace vaxledger::http
