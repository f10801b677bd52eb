#include "http/router.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace vaxledger::http {
namespace {

Request Get(const std::string& target) {
  Request r;
  r.method = "GET";
  REQUIRE(ParseTarget(target, &r).ok());
  return r;
}

TEST_CASE("targets are split into a decoded path and query") {
  Request r;
  REQUIRE(ParseTarget("/v1/a%20b?x=1&y=two+words&z=%2F&flag", &r).ok());
  CHECK(r.path == "/v1/a b");
  CHECK(r.query["x"] == "1");
  CHECK(r.query["y"] == "two words");
  CHECK(r.query["z"] == "/");
  CHECK(r.query.count("flag") == 1);
  CHECK(ParseTarget("/bad%2", &r).field() == "target");
  CHECK(ParseTarget("/bad%zz", &r).field() == "target");
}

TEST_CASE("the router answers unknown routes 404 and other methods 405, as problems") {
  Router router;
  router.Add("GET", "/thing", [](const Request&) {
    Response r;
    r.body = "{}";
    return r;
  });
  router.Add("PUT", "/thing", [](const Request&) { return ProblemResponse(NotFound("gone")); });
  CHECK(router.Handle(Get("/thing")).status == 200);

  Response missing = router.Handle(Get("/nothing"));
  CHECK(missing.status == 404);
  CHECK(missing.content_type == "application/problem+json");
  auto body = nlohmann::json::parse(missing.body);
  CHECK(body["status"] == 404);
  CHECK(body["title"] == "Not Found");

  Request post = Get("/thing");
  post.method = "POST";
  Response not_allowed = router.Handle(post);
  CHECK(not_allowed.status == 405);
  REQUIRE(not_allowed.headers.size() == 1);
  CHECK(not_allowed.headers[0] == std::make_pair(std::string("Allow"), std::string("GET, PUT")));
}

TEST_CASE("a Status becomes a problem with the field and the right HTTP status") {
  Response r = ProblemResponse(InvalidArgument("index: must be a number", "index"));
  CHECK(r.status == 400);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["field"] == "index");
  CHECK(body["detail"] == "index: must be a number");
  CHECK(HttpStatusFor(Code::kAborted) == 409);
  CHECK(HttpStatusFor(Code::kFailedPrecondition) == 422);
  CHECK(HttpStatusFor(Code::kUnauthenticated) == 401);
  CHECK(HttpStatusFor(Code::kPermissionDenied) == 403);
  CHECK(HttpStatusFor(Code::kResourceExhausted) == 429);
  CHECK(HttpStatusFor(Code::kDataLoss) == 500);
}

TEST_CASE("a handler that throws is answered 500, not a crash") {
  Router router;
  router.Add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("bug"); });
  CHECK(router.Handle(Get("/boom")).status == 500);
}

}  // namespace
}  // namespace vaxledger::http
