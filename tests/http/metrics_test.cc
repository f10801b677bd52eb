#include "http/metrics.h"

#include <catch2/catch.hpp>

#include "eventstore/memory_storage.h"
#include "http/ledger_routes.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::http {
namespace {

Request Make(const std::string& method, const std::string& target) {
  Request r;
  r.method = method;
  REQUIRE(ParseTarget(target, &r).ok());
  return r;
}

TEST_CASE("requests are counted by route, method and status; unknown paths share one label") {
  auto log = eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(),
                                        NoteSigner("metrics.test/log", Ed25519Key::Generate()));
  REQUIRE(log.ok());
  for (int i = 0; i < 5; ++i) {
    REQUIRE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
  }
  Metrics metrics;
  Router router;
  router.set_metrics(&metrics);
  AddHealthRoutes(router, **log);
  AddMetricsRoute(router, metrics, **log);
  for (int i = 0; i < 3; ++i) CHECK(router.Handle(Make("GET", "/healthz")).status == 200);
  CHECK(router.Handle(Make("GET", "/no/such/thing?x=1")).status == 404);
  CHECK(router.Handle(Make("GET", "/another/unknown")).status == 404);
  CHECK(router.Handle(Make("POST", "/healthz")).status == 405);

  Response exposition = router.Handle(Make("GET", "/metrics"));
  REQUIRE(exposition.status == 200);
  CHECK(exposition.content_type == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = exposition.body;
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3\n"));
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 2\n"));
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_requests_total{route=\"/healthz\",method=\"POST\",status=\"405\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("vaxledger_http_request_duration_seconds_bucket{route=\"/"
                                   "healthz\",method=\"GET\",le=\"+Inf\"} 3\n"));
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} 3\n"));
  CHECK(text.find("no/such/thing") == std::string::npos);

  const auto stats = (*log)->Stats();
  CHECK(stats.events == 5);
  CHECK(stats.commits >= 1);
  CHECK_THAT(text, Catch::Contains("vaxledger_log_size 5\n"));
  CHECK_THAT(
      text, Catch::Contains("vaxledger_log_commits_total " + std::to_string(stats.commits) + "\n"));
  CHECK_THAT(text, Catch::Contains("vaxledger_log_commit_batch_events_bucket{le=\"+Inf\"} " +
                                   std::to_string(stats.commits) + "\n"));
  CHECK_THAT(text, Catch::Contains("vaxledger_log_commit_batch_events_sum 5\n"));
}

TEST_CASE("the method label is bounded; refusals before routing (413, 431) are counted") {
  auto log = eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(),
                                        NoteSigner("metrics.test/log", Ed25519Key::Generate()));
  REQUIRE(log.ok());
  Metrics metrics;
  Router router;
  router.set_metrics(&metrics);
  AddHealthRoutes(router, **log);
  CHECK(router.Handle(Make("XYZZYAB", "/healthz")).status == 405);
  CHECK(router.Handle(Make("PLUGH", "/healthz")).status == 405);
  CHECK(router.Handle(Make("HEAD", "/healthz")).status == 200);
  CHECK(router.Refuse("POST", 413, "too large").status == 413);
  CHECK(router.Refuse("", 431, "headers too large").status == 431);
  const std::string text = metrics.Render(nullptr);
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_requests_total{route=\"/healthz\",method=\"other\",status=\"405\"} 2\n"));
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_requests_total{route=\"/healthz\",method=\"HEAD\",status=\"200\"} 1\n"));
  CHECK_THAT(
      text,
      Catch::Contains(
          "vaxledger_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"413\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("vaxledger_http_requests_total{route=\"unmatched\",method="
                                   "\"other\",status=\"431\"} 1\n"));
  CHECK(text.find("XYZZYAB") == std::string::npos);
  CHECK(MethodLabel("get") == "other");  // methods are case-sensitive (RFC 9110 §9.1)
  CHECK(MethodLabel("DELETE") == "DELETE");
}

TEST_CASE("latency buckets are cumulative") {
  Metrics metrics;
  metrics.Record("/r", "GET", 200, 0.0001);  // first bucket
  metrics.Record("/r", "GET", 200, 0.003);   // le 0.005
  metrics.Record("/r", "GET", 500, 10.0);    // only +Inf
  const std::string text = metrics.Render(nullptr);
  CHECK_THAT(text, Catch::Contains("_bucket{route=\"/r\",method=\"GET\",le=\"0.0005\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("_bucket{route=\"/r\",method=\"GET\",le=\"0.0025\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("_bucket{route=\"/r\",method=\"GET\",le=\"0.005\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("_bucket{route=\"/r\",method=\"GET\",le=\"2.5\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("_bucket{route=\"/r\",method=\"GET\",le=\"+Inf\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("status=\"500\"} 1\n"));
}

}  // namespace
}  // namespace vaxledger::http
