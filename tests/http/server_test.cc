// The real server on a loopback port, with the ledger routes over an in-memory log.
#include <utility>

#include "http/server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/merkle.h"
#include "eventstore/checkpoint.h"
#include "eventstore/event_log.h"
#include "eventstore/memory_storage.h"
#include "http/ledger_routes.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

const NoteSigner& Signer() {
  static const NoteSigner signer("http.test/log", Ed25519Key::Generate());
  return signer;
}

// A log of 20 events and a server of its ledger routes on a free loopback port.
struct Fixture {
  std::unique_ptr<eventstore::EventLog> log;
  Router router;
  std::unique_ptr<Server> server;
  explicit Fixture(ServerOptions options = {}, std::function<void(Router&)> more_routes = {}) {
    auto opened =
        eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(), Signer());
    REQUIRE(opened.ok());
    log = std::move(opened).value();
    for (int i = 0; i < 20; ++i) {
      REQUIRE(log->Append(eventstore::testing::OneEvent("s")).ok());
    }
    AddHealthRoutes(router, *log);
    AddLedgerRoutes(router, *log);
    if (more_routes) more_routes(router);
    options.port = 0;
    auto started = Server::Start(options, router);
    REQUIRE(started.ok());
    server = std::move(started).value();
  }
};

// One keep-alive client connection.
class Client {
 public:
  explicit Client(uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  bhttp::response<bhttp::string_body> Send(bhttp::request<bhttp::string_body> req) {
    req.version(11);
    req.set(bhttp::field::host, "localhost");
    req.prepare_payload();
    bhttp::write(stream_, req);
    return Receive();
  }
  bhttp::response<bhttp::string_body> Get(const std::string& target) {
    return Send({bhttp::verb::get, target, 11});
  }
  // HEAD: the parser is told that no content follows.
  bhttp::response<bhttp::string_body> Head(const std::string& target) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::head, target, 11};
    req.set(bhttp::field::host, "localhost");
    bhttp::write(stream_, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(true);
    bhttp::read(stream_, buffer_, parser);
    return parser.release();
  }
  bhttp::response<bhttp::string_body> Receive() {
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream_, buffer_, res);
    return res;
  }
  void WriteRaw(const std::string& bytes) { asio::write(stream_.socket(), asio::buffer(bytes)); }
  void ReadHeader(beast::flat_buffer& buffer, bhttp::response_parser<bhttp::string_body>& parser) {
    bhttp::read_header(stream_, buffer, parser);
  }
  // True when the server has closed the connection.
  bool Closed() {
    beast::error_code ec;
    char c;
    stream_.socket().read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

Hash FromB64(const nlohmann::json& j) {
  auto raw = Base64Decode(j.get<std::string>());
  REQUIRE(raw.ok());
  REQUIRE(raw->size() == 32);
  Hash h;
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

std::vector<Hash> Proof(const nlohmann::json& list) {
  std::vector<Hash> out;
  for (const auto& h : list) out.push_back(FromB64(h));
  return out;
}

TEST_CASE("ledger routes over HTTP: checkpoint, proofs that verify, keys, on one connection") {
  Fixture f;
  Client client(f.server->port());
  auto cp = client.Get("/v1/ledger/checkpoint");
  REQUIRE(cp.result_int() == 200);
  CHECK(cp[bhttp::field::content_type] == "text/plain; charset=utf-8");
  auto checkpoint = eventstore::OpenCheckpoint(cp.body(), {Signer().verifier()});
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->size == 20);

  auto inclusion = client.Get("/v1/ledger/proof/inclusion?index=7&size=20");
  REQUIRE(inclusion.result_int() == 200);
  auto body = nlohmann::json::parse(inclusion.body());
  CHECK(merkle::VerifyInclusion(7, 20, FromB64(body["leaf_hash"]), Proof(body["proof"]),
                                checkpoint->root)
            .ok());

  auto consistency = client.Get("/v1/ledger/proof/consistency?from=5");
  REQUIRE(consistency.result_int() == 200);
  body = nlohmann::json::parse(consistency.body());
  CHECK(body["to"] == 20);
  auto root5 = f.log->RootAt(5);
  REQUIRE(root5.ok());
  CHECK(merkle::VerifyConsistency(5, 20, *root5, checkpoint->root, Proof(body["proof"])).ok());

  auto keys = client.Get("/v1/ledger/keys");
  REQUIRE(keys.result_int() == 200);
  body = nlohmann::json::parse(keys.body());
  CHECK(body["keys"][0]["vkey"] == Signer().verifier().ToText());
  CHECK(body["keys"][0]["from_index"] == 0);
  CHECK(client.Get("/healthz").result_int() == 200);
  CHECK(client.Get("/readyz").result_int() == 200);
}

TEST_CASE("bad requests get problems and the server goes on serving") {
  Fixture f;
  Client client(f.server->port());
  auto bad_index = client.Get("/v1/ledger/proof/inclusion?index=abc");
  CHECK(bad_index.result_int() == 400);
  CHECK(bad_index[bhttp::field::content_type] == "application/problem+json");
  CHECK(nlohmann::json::parse(bad_index.body())["field"] == "index");
  CHECK(client.Get("/v1/ledger/proof/inclusion?index=20").result_int() == 400);
  CHECK(client.Get("/v1/ledger/proof/inclusion?index=1&size=21").result_int() == 400);
  CHECK(client.Get("/v1/ledger/proof/inclusion").result_int() == 400);
  CHECK(client.Get("/v1/nowhere").result_int() == 404);
  auto post = client.Send({bhttp::verb::post, "/v1/ledger/checkpoint", 11});
  CHECK(post.result_int() == 405);
  CHECK(post[bhttp::field::allow] == "GET, HEAD");
  CHECK(client.Get("/healthz").result_int() == 200);  // same connection, still served
}

TEST_CASE("HEAD answers with GET's headers and Content-Length and sends no content") {
  Fixture f;
  Client client(f.server->port());
  auto get = client.Get("/v1/ledger/checkpoint");
  REQUIRE(get.result_int() == 200);
  auto head = client.Head("/v1/ledger/checkpoint");
  CHECK(head.result_int() == 200);
  CHECK(head[bhttp::field::content_type] == get[bhttp::field::content_type]);
  CHECK(head[bhttp::field::content_length] == std::to_string(get.body().size()));
  CHECK(head.body().empty());
  // Had the server sent content, this answer would be read from it.
  auto again = client.Get("/healthz");
  CHECK(again.result_int() == 200);
  CHECK(nlohmann::json::parse(again.body())["status"] == "ok");
  CHECK(client.Head("/v1/nowhere").result_int() == 404);
}

TEST_CASE("a body over the limit gets 413 and the connection is closed") {
  ServerOptions options;
  options.max_body_bytes = 1000;
  Fixture f(options);
  Client client(f.server->port());
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/healthz", 11};
  req.body() = std::string(5000, 'x');
  auto res = client.Send(req);
  CHECK(res.result_int() == 413);
  CHECK(client.Closed());
  Client another(f.server->port());
  CHECK(another.Get("/healthz").result_int() == 200);
}

TEST_CASE("headers over the limit get 431") {
  ServerOptions options;
  options.max_header_bytes = 2048;
  Fixture f(options);
  Client client(f.server->port());
  bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/healthz", 11};
  req.set("X-Padding", std::string(4096, 'p'));
  CHECK(client.Send(req).result_int() == 431);
}

TEST_CASE("garbage instead of HTTP gets 400; a client that stalls is cut off at the time-out") {
  ServerOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  Fixture f(options);
  Client garbage(f.server->port());
  garbage.WriteRaw("NOT HTTP AT ALL\r\n\r\n");
  CHECK(garbage.Receive().result_int() == 400);

  Client stalled(f.server->port());
  stalled.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes its headers
  auto start = std::chrono::steady_clock::now();
  CHECK(stalled.Closed());  // blocks until the server closes it
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  Client other(f.server->port());
  CHECK(other.Get("/healthz").result_int() == 200);
}

TEST_CASE("pipelined requests are answered in order") {
  Fixture f;
  Client client(f.server->port());
  client.WriteRaw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(client.Receive().result_int() == 200);
  CHECK(client.Receive().result_int() == 404);
  auto third = client.Receive();
  CHECK(third.result_int() == 200);
  CHECK_THAT(third.body(), Catch::Contains("ready"));
}

TEST_CASE("Stop closes idle connections and returns without waiting for them") {
  Fixture f;
  Client idle(f.server->port());
  CHECK(idle.Get("/healthz").result_int() == 200);
  auto start = std::chrono::steady_clock::now();
  f.server->Stop();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(idle.Closed());
  f.server->Stop();  // idempotent
}

TEST_CASE("connections over the limit are closed at once") {
  ServerOptions options;
  options.max_connections = 1;
  Fixture f(options);
  Client first(f.server->port());
  CHECK(first.Get("/healthz").result_int() == 200);
  Client second(f.server->port());
  CHECK(second.Closed());
  CHECK(first.Get("/healthz").result_int() == 200);
}

TEST_CASE("every answered request reaches the access log") {
  std::mutex mu;
  std::vector<AccessRecord> records;
  ServerOptions options;
  options.access_log = [&](const AccessRecord& r) {
    std::lock_guard lock(mu);
    records.push_back(r);
  };
  Fixture f(options);
  Client client(f.server->port());
  CHECK(client.Get("/healthz").result_int() == 200);
  CHECK(client.Get("/v1/ledger/proof/inclusion?index=99").result_int() == 400);
  f.server->Stop();
  std::lock_guard lock(mu);
  REQUIRE(records.size() == 2);
  CHECK(records[0].method == "GET");
  CHECK(records[0].target == "/healthz");
  CHECK(records[0].status == 200);
  CHECK(records[0].remote == "127.0.0.1");
  CHECK(records[1].target == "/v1/ledger/proof/inclusion?index=99");
  CHECK(records[1].status == 400);
  CHECK(records[1].response_bytes > 0);
  CHECK(records[1].seconds >= 0);
}

// Sends `bytes` on a new connection and returns the status of the answer, or 0 when the
// server closed without one.
int RawStatus(uint16_t port, const std::string& bytes) {
  Client client(port);
  client.WriteRaw(bytes);
  try {
    return client.Receive().result_int();
  } catch (const std::exception&) {
    return 0;
  }
}

TEST_CASE("targets that are not UTF-8 get 400, and the server goes on (issue 13.1)") {
  Fixture f;
  const uint16_t port = f.server->port();
  for (const std::string target :
       {"/%FF", "/healthz?%C3%28", "/%ED%A0%80", "/\xff", "/v1/ledger/proof/inclusion?index=%FF",
        "/healthz?x=%00", "/%C0%AF"}) {
    INFO(target);
    Client client(port);
    client.WriteRaw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = client.Receive();
    CHECK(res.result_int() == 400);
    CHECK(res[bhttp::field::content_type] == "application/problem+json");
    auto body = nlohmann::json::parse(res.body());  // a problem that is itself valid JSON
    CHECK(body["field"] == "target");
    CHECK(client.Get("/healthz").result_int() == 200);  // same connection, still served
  }
}

TEST_CASE("a handler that throws is answered 500 without its text, and the server goes on") {
  Fixture f({}, [](Router& router) {
    router.Add("GET", "/boom", [](const Request&) -> Response {
      throw std::runtime_error("secret internal detail");
    });
  });
  Client client(f.server->port());
  auto res = client.Get("/boom");
  CHECK(res.result_int() == 500);
  CHECK(res.body().find("secret") == std::string::npos);
  CHECK(client.Get("/healthz").result_int() == 200);
}

TEST_CASE("framing a proxy could read otherwise is refused, and the connection closed (13.11)") {
  Fixture f;
  const uint16_t port = f.server->port();
  const std::string smuggled = "GET /v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
  // Each is answered once, then the connection closes: the smuggled request is never answered.
  struct Case {
    std::string request;
    unsigned status;
  };
  const Case cases[] = {
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled, 501},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
       "0\r\n\r\n" +
           smuggled,
       400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
           smuggled,
       400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
       "\r\n0\r\n\r\n" +
           smuggled,
       400},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" + smuggled, 400},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n" + smuggled, 400},
      {"GET /healthz HTTP/1.1\r\n\r\n" + smuggled, 400},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + smuggled, 400},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n"
       "Authorization: Bearer b\r\n\r\n" +
           smuggled,
       400},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n\r\n" +
           smuggled,
       400},
  };
  for (const Case& c : cases) {
    INFO(c.request);
    Client client(port);
    client.WriteRaw(c.request);
    auto res = client.Receive();
    CHECK(res.result_int() == c.status);
    CHECK(res[bhttp::field::content_type] == "application/problem+json");
    CHECK(client.Closed());
  }
  // A chunked body's trailer may not add header fields (they would bypass a proxy's rules).
  {
    Client client(port);
    client.WriteRaw(
        "POST /v1/ledger/checkpoint HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
        "\r\n\r\n0\r\nAuthorization: Bearer stolen\r\n\r\n" +
        smuggled);
    auto res = client.Receive();
    CHECK(res.result_int() == 400);
    CHECK_THAT(res.body(), Catch::Contains("trailer"));
    CHECK(client.Closed());
  }
  CHECK(RawStatus(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n") == 400);
  CHECK(RawStatus(port, "GET /healthz HTTP/1.1\r\nHost:\r\n\r\n") == 400);
  {
    // Bare LF line endings: refused at once, not at the time-out.
    const auto start = std::chrono::steady_clock::now();
    CHECK(RawStatus(port, "GET /healthz HTTP/1.1\nHost: x\n\n") == 400);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }
  // Empty lines before the request line are ignored (RFC 9112 §2.2).
  CHECK(RawStatus(port, "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == 200);
  // Plain chunked is fine.
  CHECK(RawStatus(port,
                  "POST /v1/ledger/checkpoint HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                  "\r\n\r\n0\r\n\r\n") == 405);
}

TEST_CASE("an idle connection is closed after idle_timeout, a busy one is not (13.10)") {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  Fixture f(options);
  Client idle(f.server->port());
  const auto start = std::chrono::steady_clock::now();
  CHECK(idle.Closed());  // blocks until the server closes it
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  Client busy(f.server->port());
  for (int i = 0; i < 3; ++i) CHECK(busy.Get("/healthz").result_int() == 200);
}

TEST_CASE("one client cannot hold every connection (13.10)") {
  ServerOptions options;
  options.max_connections_per_client = 3;
  Fixture f(options);
  std::vector<std::unique_ptr<Client>> mine;
  for (int i = 0; i < 3; ++i) {
    mine.push_back(std::make_unique<Client>(f.server->port()));
    CHECK(mine.back()->Get("/healthz").result_int() == 200);
  }
  Client one_more(f.server->port());
  CHECK(one_more.Closed());
  mine.pop_back();  // closing one frees its place
  std::unique_ptr<Client> again;
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    // The server frees the place once it has seen the close: try until it has.
    again = std::make_unique<Client>(f.server->port());
    try {
      status = again->Get("/healthz").result_int();
    } catch (const std::exception&) {
      status = 0;
    }
  }
  CHECK(status == 200);
}

// A stream that sends one chunk, then blocks until cancelled.
class BlockingStream : public StreamBody {
 public:
  bool Next(std::string* chunk) override {
    std::unique_lock lock(mu_);
    if (!sent_) {
      sent_ = true;
      *chunk = "data: hello\n\n";
      return true;
    }
    cv_.wait(lock, [&] { return cancelled_; });
    return false;
  }
  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool sent_ = false;
  bool cancelled_ = false;
};

TEST_CASE("a stream's slot is free again as soon as its client goes (13.10)") {
  ServerOptions options;
  options.max_streams = 1;
  Fixture f(options, [](Router& router) {
    router.Add("GET", "/stream", [](const Request&) {
      Response r;
      r.content_type = "text/event-stream";
      r.stream = std::make_shared<BlockingStream>();
      return r;
    });
  });
  auto open_stream = [&](Client& c) {
    c.WriteRaw("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    bhttp::response_parser<bhttp::string_body> parser;
    beast::flat_buffer buffer;
    c.ReadHeader(buffer, parser);
    return parser.get().result_int();
  };
  {
    Client first(f.server->port());
    CHECK(open_stream(first) == 200);
    Client second(f.server->port());
    CHECK(open_stream(second) == 503);  // the one slot is taken
  }                                     // both clients go
  int status = 0;
  for (int attempt = 0; attempt < 500 && status != 200; ++attempt) {
    // Released once the server has seen the client close (the stream itself never ends).
    Client next(f.server->port());
    status = open_stream(next);
  }
  CHECK(status == 200);
}

}  // namespace
}  // namespace vaxledger::http
