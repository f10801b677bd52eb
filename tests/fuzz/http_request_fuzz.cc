// Fuzzes the HTTP request path: raw bytes through Beast's request parser (as the server reads a
// connection, with the server's limits), the target split and decoded by ParseTarget, and the
// request routed through every route of `vaxledger serve --demo` (demo_app.h), up to four
// pipelined requests per input. The response is written with Beast, as the server writes it.
//
// "@@0" … "@@8" in the input stand for the demo people's session tokens (demo_app.h).

// Boost 1.74 Asio with GCC 12 in C++20 needs <utility> before Asio.
#include <utility>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "http/server.h"
#include "tests/fuzz/demo_app.h"

namespace bhttp = boost::beast::http;
using vaxledger::fuzz::DemoApp;
namespace http = vaxledger::http;

namespace {

// Writes `response` as Server::Send does; the bytes are discarded.
void Write(http::Response response, bool close) {
  bhttp::response<bhttp::string_body> res;
  res.version(11);
  res.result(static_cast<unsigned>(response.status));
  res.set(bhttp::field::server, "vaxledger");
  res.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.body() = std::move(response.body);
  res.keep_alive(!close);
  res.prepare_payload();
  std::ostringstream out;
  out << res;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const DemoApp& app = DemoApp::App();
  const std::string raw = app.WithTokens(std::string(reinterpret_cast<const char*>(data), size));
  const http::ServerOptions limits;
  size_t used = 0;
  for (int n = 0; n < 4 && used < raw.size(); ++n) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(limits.max_body_bytes);
    parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      ec = {};
      const size_t put = parser.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
      used += put;
      if (parser.is_done()) break;
      if (ec == bhttp::error::need_more || (!ec && put == 0)) {
        if (put == 0 || used == raw.size()) {  // the connection ends here
          ec = {};
          parser.put_eof(ec);
          break;
        }
        continue;
      }
      if (ec) break;
    }
    if (ec || !parser.is_done()) {
      // The server answers 400 (413, 431) and closes.
      Write(http::ProblemResponse(400, "malformed HTTP request: " + ec.message()), true);
      return 0;
    }
    auto& message = parser.get();
    http::Request request;
    request.method = std::string(message.method_string());
    const auto target_view = message.target();
    vaxledger::Status target =
        http::ParseTarget(std::string_view(target_view.data(), target_view.size()), &request);
    if (!target.ok()) {
      Write(http::ProblemResponse(target), true);
      return 0;
    }
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    request.body = std::move(message.body());
    request.remote = "127.0.0.1";
    const bool close = !message.keep_alive();
    Write(app.Handle(std::move(request)), close);
    if (close) return 0;
  }
  return 0;
}
