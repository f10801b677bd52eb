// The real server on a loopback port, with the ledger routes over an in-memory log.
#include <utility>

#include "http/server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
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
  explicit Fixture(ServerOptions options = {}) {
    auto opened =
        eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(), Signer());
    REQUIRE(opened.ok());
    log = std::move(opened).value();
    for (int i = 0; i < 20; ++i) {
      REQUIRE(log->Append(eventstore::testing::OneEvent("s")).ok());
    }
    AddHealthRoutes(router, *log);
    AddLedgerRoutes(router, *log);
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

}  // namespace
}  // namespace vaxledger::http
