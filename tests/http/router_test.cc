#include "http/router.h"

#include <catch2/catch.hpp>
#include <map>
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
  CHECK(not_allowed.headers[0] ==
        std::make_pair(std::string("Allow"), std::string("GET, HEAD, PUT")));
}

TEST_CASE("problem titles are the status phrases of RFC 9110 (RFC 9457 about:blank)") {
  const std::map<int, std::string> phrases = {{400, "Bad Request"},
                                              {401, "Unauthorized"},
                                              {403, "Forbidden"},
                                              {404, "Not Found"},
                                              {405, "Method Not Allowed"},
                                              {409, "Conflict"},
                                              {412, "Precondition Failed"},
                                              {413, "Content Too Large"},
                                              {415, "Unsupported Media Type"},
                                              {422, "Unprocessable Content"},
                                              {429, "Too Many Requests"},
                                              {431, "Request Header Fields Too Large"},
                                              {500, "Internal Server Error"},
                                              {503, "Service Unavailable"}};
  for (const auto& [status, phrase] : phrases) {
    INFO(status);
    auto body = nlohmann::json::parse(ProblemResponse(status, "x").body);
    CHECK(body["type"] == "about:blank");
    CHECK(body["title"] == phrase);
    CHECK(body["status"] == status);
  }
  // No status is given another's phrase: a 4xx never says "Internal Server Error".
  for (int status = 400; status < 600; ++status) {
    INFO(status);
    auto title = nlohmann::json::parse(ProblemResponse(status, "x").body)["title"];
    if (status != 500) CHECK(title != "Internal Server Error");
  }
}

TEST_CASE("every 401 carries WWW-Authenticate (RFC 9110 §15.5.2), other problems do not") {
  auto challenge = [](const Response& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "WWW-Authenticate") return value;
    }
    return std::string();
  };
  CHECK(challenge(ProblemResponse(Status(Code::kUnauthenticated, "log in"))) ==
        "Bearer realm=\"vaxledger\"");
  CHECK(challenge(ProblemResponse(401, "log in")) == "Bearer realm=\"vaxledger\"");
  CHECK(challenge(ProblemResponse(403, "no")).empty());
}

class EndlessBody : public StreamBody {
 public:
  bool Next(std::string* chunk) override {
    *chunk = "data: x\n\n";
    return !cancelled;
  }
  void Cancel() override { cancelled = true; }
  bool cancelled = false;
};

TEST_CASE("HEAD works wherever GET does: GET's headers and length, no content") {
  Router router;
  auto stream = std::make_shared<EndlessBody>();
  router.Add("GET", "/thing", [](const Request&) {
    Response r;
    r.body = "{\"a\":1}";
    r.headers.emplace_back("ETag", "\"3\"");
    return r;
  });
  router.Add("POST", "/command", [](const Request&) { return Response{}; });
  router.Add("GET", "/stream", [stream](const Request&) {
    Response r;
    r.content_type = "text/event-stream";
    r.stream = stream;
    return r;
  });
  Request head = Get("/thing");
  head.method = "HEAD";
  Response r = router.Handle(head);
  CHECK(r.status == 200);
  CHECK(r.head);
  CHECK(r.head_content_length == std::optional<uint64_t>(7));
  CHECK(r.headers == router.Handle(Get("/thing")).headers);
  CHECK_FALSE(router.Handle(Get("/thing")).head);

  head.path = "/command";
  Response refused = router.Handle(head);
  CHECK(refused.status == 405);
  CHECK(refused.headers[0].second == "POST");

  head.path = "/stream";
  Response streamed = router.Handle(head);
  CHECK(streamed.status == 200);
  CHECK(streamed.head);
  CHECK(streamed.content_type == "text/event-stream");
  CHECK(streamed.stream == nullptr);
  CHECK_FALSE(streamed.head_content_length.has_value());
  CHECK(stream->cancelled);
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
