// A blocking HTTP/1.1 client on one keep-alive connection, for end-to-end tests.
#pragma once

#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vaxledger::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  nlohmann::json json() const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : stream_(ioc_) {
    stream_.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  // Sends one request; `headers` are added as they are.
  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body = {},
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "localhost");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    // A server that refuses a request early (413, 431) may close before the whole request is
    // written: its answer is still read.
    boost::beast::error_code ec;
    http::write(stream_, req, ec);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res, ec);
    HttpResult out;
    if (ec) {
      out.body = "read failed: " + ec.message();
      return out;
    }
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(field.value());
    }
    Record(req, out);
    return out;
  }
  HttpResult Get(const std::string& target) { return Send("GET", target); }
  HttpResult Post(const std::string& target, const nlohmann::json& body,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("POST", target, body.dump(), headers);
  }
  void set_token(std::string token) { token_ = std::move(token); }
  const std::string& token() const { return token_; }

 private:
  // With VX_HTTP_SAMPLES set, appends the exchange as one JSON line to that file, for the
  // OpenAPI conformance test (tests/openapi/validate.test.mjs). One write per line, O_APPEND:
  // test processes running in parallel do not interleave lines.
  static void Record(const boost::beast::http::request<boost::beast::http::string_body>& req,
                     const HttpResult& out) {
    const char* file = std::getenv("VX_HTTP_SAMPLES");
    if (file == nullptr || *file == '\0') return;
    auto type = req.find(boost::beast::http::field::content_type);
    nlohmann::json sample = {{"method", std::string(req.method_string())},
                             {"target", std::string(req.target())},
                             {"request_type", type == req.end() ? "" : std::string(type->value())},
                             {"request_body", req.body()},
                             {"status", out.status},
                             {"headers", out.headers},
                             {"body", out.body}};
    const std::string line =
        sample.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const int fd = ::open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    const ssize_t n = ::write(fd, line.data(), line.size());
    ::close(fd);
    REQUIRE(n == static_cast<ssize_t>(line.size()));
  }

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::string token_;
};

}  // namespace vaxledger::testing
