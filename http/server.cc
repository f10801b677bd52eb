// Boost 1.74 Asio with GCC 12 in C++20 needs <utility> before Asio.
#include <utility>

#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

namespace vaxledger::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class Session;

struct Server::Impl {
  ServerOptions options;
  const Router& router;

  // Declared before the io_context: sessions that outlive the grace period are destroyed with
  // it, and remove themselves from here.
  std::mutex mu;
  std::condition_variable sessions_cv;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool stopping = false;
  bool stopped = false;
  size_t streams = 0;                                      // guarded by mu
  std::map<std::string, size_t> connections_by_client;     // guarded by mu
  std::map<std::string, size_t> streams_by_client;         // guarded by mu
  std::vector<std::shared_ptr<StreamBody>> stream_bodies;  // guarded by mu: to cancel at Stop

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  // Commands run here, off the I/O threads; created in Start when command_threads > 0.
  std::unique_ptr<asio::thread_pool> commands;
  uint16_t port = 0;

  Impl(const ServerOptions& o, const Router& r) : options(o), router(r) {}
  void Accept();
  void Forget(const std::weak_ptr<Session>& s, const std::string& client) {
    std::lock_guard lock(mu);
    sessions.erase(s);
    if (auto it = connections_by_client.find(client);
        it != connections_by_client.end() && --it->second == 0) {
      connections_by_client.erase(it);
    }
    sessions_cv.notify_all();
  }
};

// The router never throws (router.h); should anything below it still throw (out of memory),
// the client gets a 500 without the exception's text and the server goes on.
Response Guarded(const Router& router, Request request) {
  try {
    return router.Handle(std::move(request));
  } catch (...) {
    return ProblemResponse(500, "internal error; the server's log says more");
  }
}

// The header fields a request may carry once (RFC 9110 §5.3: a second one is an error for
// fields that are not lists; Cookie: RFC 6265 §5.4).
constexpr bhttp::field kSingletons[] = {
    bhttp::field::host,           bhttp::field::authorization, bhttp::field::cookie,
    bhttp::field::content_length, bhttp::field::content_type,  bhttp::field::origin,
    bhttp::field::if_match,
};

// Framing the parser lets through but a proxy may read differently (server.h).
std::optional<Response> CheckFraming(const bhttp::request<bhttp::string_body>& message) {
  for (bhttp::field f : kSingletons) {
    if (message.count(f) > 1) {
      return ProblemResponse(
          400, "the " + std::string(bhttp::to_string(f)) + " header is sent more than once");
    }
  }
  size_t idempotency_keys = 0;
  for (const auto& field : message) {
    if (beast::iequals(field.name_string(), "Idempotency-Key")) ++idempotency_keys;
  }
  if (idempotency_keys > 1) {
    return ProblemResponse(400, "the Idempotency-Key header is sent more than once");
  }
  if (message.version() >= 11 &&
      (message.count(bhttp::field::host) == 0 || message[bhttp::field::host].empty())) {
    return ProblemResponse(400, "an HTTP/1.1 request needs a Host header");
  }
  if (message.count(bhttp::field::content_length) == 1) {
    const auto length = message[bhttp::field::content_length];
    if (length.empty() ||
        !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return ProblemResponse(400, "Content-Length must be one decimal number");
    }
  }
  if (message.count(bhttp::field::transfer_encoding) > 0) {
    if (message.count(bhttp::field::content_length) > 0) {
      return ProblemResponse(400, "Transfer-Encoding and Content-Length are both sent");
    }
    std::vector<std::string> codings;
    for (const auto& field : message) {
      if (field.name() != bhttp::field::transfer_encoding) continue;
      for (auto coding : bhttp::token_list(field.value())) {
        std::string c(coding);
        for (char& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        codings.push_back(std::move(c));
      }
    }
    for (const std::string& c : codings) {
      if (c != "chunked") {
        Response r =
            ProblemResponse(501, "the transfer coding " + c + " is not supported (only chunked)");
        return r;
      }
    }
    if (codings.size() != 1 || message.version() < 11) {
      return ProblemResponse(400, "Transfer-Encoding must be exactly chunked, once, in HTTP/1.1");
    }
  }
  return std::nullopt;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server, std::string client)
      : stream_(std::move(socket)),
        server_(server),
        client_(std::move(client)),
        buffer_(server.options.max_header_bytes + server.options.max_body_bytes) {}

  ~Session() { server_.Forget(self_, client_); }

  void Run(std::weak_ptr<Session> self) {
    self_ = std::move(self);
    asio::dispatch(stream_.get_executor(), [s = shared_from_this()] { s->Read(); });
  }

  // From Stop: close now if waiting for a request, else after the response in flight.
  void Shutdown() {
    asio::dispatch(stream_.get_executor(), [s = shared_from_this()] {
      s->closing_ = true;
      if (s->reading_ && !s->handling_) s->Close();
    });
  }

 private:
  // Reading a request: wait (idle_timeout) for its first byte, read its header block raw
  // (request_timeout from then on) to check what the parser would hide (obs-fold), then parse it
  // and its body.
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    reading_ = true;
    if (buffer_.size() > 0) {  // a pipelined request is here already
      stream_.expires_after(server_.options.request_timeout);
      return ReadHeader();
    }
    stream_.expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [s = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return s->Close();  // idle too long, or gone
                              s->buffer_.commit(n);
                              s->stream_.expires_after(s->server_.options.request_timeout);
                              s->ReadHeader();
                            });
  }

  void ReadHeader() {
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    size_t blank = 0;
    while (data.substr(blank).starts_with("\r\n")) blank += 2;
    if (blank > 0) {
      buffer_.consume(blank);
      data = std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    }
    const size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos && data.find("\n\n") != std::string_view::npos) {
      reading_ = false;
      return Send(ProblemResponse(400, "header lines must end with CRLF"), /*close=*/true);
    }
    if (end == std::string_view::npos) {
      if (data.size() >= server_.options.max_header_bytes) {
        reading_ = false;
        return Send(
            ProblemResponse(431, "the request line and headers are larger than " +
                                     std::to_string(server_.options.max_header_bytes) + " bytes"),
            /*close=*/true);
      }
      const size_t room = std::min(kReadChunk, server_.options.max_header_bytes - data.size());
      stream_.async_read_some(buffer_.prepare(room),
                              [s = shared_from_this()](beast::error_code ec, size_t n) {
                                if (ec) return s->Close();
                                s->buffer_.commit(n);
                                s->ReadHeader();
                              });
      return;
    }
    // A header line that starts with a space or a tab continues the one before (obs-fold,
    // RFC 9112 §5.2): refused, since a proxy in front may read it otherwise.
    const std::string_view head = data.substr(0, end + 2);
    if (head.find("\n ") != std::string_view::npos || head.find("\n\t") != std::string_view::npos) {
      reading_ = false;
      return Send(ProblemResponse(400, "a header line is folded (obs-fold); send it on one line"),
                  /*close=*/true);
    }
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [s = shared_from_this()](beast::error_code ec, size_t) { s->OnHeader(ec); });
  }

  // The header is read: check its framing before reading any body, and keep its fields (a
  // chunked body's trailer may not add any).
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& message = parser_->get();
    if (auto problem = CheckFraming(message)) {
      reading_ = false;
      return Send(std::move(*problem), /*close=*/true);
    }
    header_fields_ = static_cast<size_t>(std::distance(message.begin(), message.end()));
    if (parser_->is_done()) return OnRead({});
    bhttp::async_read(stream_, buffer_, *parser_,
                      [s = shared_from_this()](beast::error_code ec, size_t) { s->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    reading_ = false;
    if (ec == bhttp::error::body_limit) {
      return Send(
          server_.router.Refuse(std::string(parser_->get().method_string()), 413,
                                "the body is larger than " +
                                    std::to_string(server_.options.max_body_bytes) + " bytes"),
          /*close=*/true);
    }
    if (ec == bhttp::error::header_limit) {
      return Send(
          server_.router.Refuse(std::string(parser_->get().method_string()), 431,
                                "the request line and headers are larger than " +
                                    std::to_string(server_.options.max_header_bytes) + " bytes"),
          /*close=*/true);
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec) {
      // Anything else is a malformed request: say so, then close.
      return Send(ProblemResponse(400, "malformed HTTP request: " + ec.message()), true);
    }
    auto& message = parser_->get();
    if (static_cast<size_t>(std::distance(message.begin(), message.end())) != header_fields_) {
      // Trailer fields would reach the handlers as headers that no proxy in front has seen.
      return Send(ProblemResponse(400, "trailer fields are not accepted"), /*close=*/true);
    }
    Request request;
    request.method = std::string(message.method_string());
    const auto raw_target = message.target();
    Status target = ParseTarget(std::string_view(raw_target.data(), raw_target.size()), &request);
    if (!target.ok()) return Send(ProblemResponse(target), !message.keep_alive());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    request.body = std::move(message.body());
    ++requests_;
    bool close = !message.keep_alive() || closing_ ||
                 requests_ >= server_.options.max_requests_per_connection;
    const auto start = std::chrono::steady_clock::now();
    std::string raw(raw_target.data(), raw_target.size());
    if (server_.commands && request.method != "GET" && request.method != "HEAD") {
      // A command may wait for the disk: handle it on the command pool, answer on this strand.
      handling_ = true;
      asio::post(*server_.commands, [s = shared_from_this(), request = std::move(request),
                                     raw = std::move(raw), close, start]() mutable {
        std::string method = request.method;
        Response response = Guarded(s->server_.router, std::move(request));
        asio::post(s->stream_.get_executor(),
                   [s, method = std::move(method), raw = std::move(raw),
                    response = std::move(response), close, start]() mutable {
                     s->handling_ = false;
                     s->Answer(method, raw, std::move(response), close || s->closing_, start);
                   });
      });
      return;
    }
    const std::string method = request.method;
    Response response = Guarded(server_.router, std::move(request));
    Answer(method, raw, std::move(response), close, start);
  }

  void Answer(const std::string& method, const std::string& raw_target, Response response,
              bool close, std::chrono::steady_clock::time_point start) {
    if (server_.options.access_log) {
      AccessRecord record;
      beast::error_code ec;
      auto peer = stream_.socket().remote_endpoint(ec);
      record.remote = ec ? "?" : peer.address().to_string();
      record.method = method;
      record.target = raw_target;
      record.status = response.status;
      record.response_bytes = response.body.size();
      record.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      server_.options.access_log(record);
    }
    Send(std::move(response), close);
  }

  void Send(Response response, bool close) {
    if (response.stream) return Stream(std::move(response));
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(bhttp::field::server, "vaxledger");
    res->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(!close);
    if (response.head) {  // RFC 9110 §9.3.2: GET's headers, no content
      if (response.head_content_length) res->content_length(*response.head_content_length);
    } else {
      res->body() = std::move(response.body);
      res->prepare_payload();
    }
    stream_.expires_after(server_.options.write_timeout);
    bhttp::async_write(stream_, *res,
                       [s = shared_from_this(), res, close](beast::error_code ec, size_t) {
                         if (ec || close || s->closing_) return s->Close();
                         s->Read();
                       });
  }

  // A streaming response: headers, then each chunk as the body's Next produces it, written from
  // this strand; Next runs on a thread of its own. The response is delimited by closing.
  void Stream(Response response) {
    {
      std::lock_guard lock(server_.mu);
      size_t& mine = server_.streams_by_client[client_];
      if (server_.streams >= server_.options.max_streams ||
          mine >= server_.options.max_streams_per_client) {
        const bool client_limit = server_.streams < server_.options.max_streams;
        if (mine == 0) server_.streams_by_client.erase(client_);
        Response busy = ProblemResponse(Unavailable(
            client_limit
                ? "too many event streams open from your address (" +
                      std::to_string(server_.options.max_streams_per_client) + "); close one first"
                : "too many event streams open (" + std::to_string(server_.options.max_streams) +
                      "); try again later"));
        return Send(std::move(busy), true);
      }
      ++mine;
      ++server_.streams;
      server_.stream_bodies.push_back(response.stream);
    }
    std::string head = "HTTP/1.1 " + std::to_string(response.status) +
                       " OK\r\nServer: vaxledger\r\nContent-Type: " + response.content_type +
                       "\r\nConnection: close\r\n";
    bool cache_control = false;
    for (const auto& [name, value] : response.headers) {
      head += name + ": " + value + "\r\n";
      cache_control = cache_control || beast::iequals(name, "Cache-Control");
    }
    if (!cache_control) head += "Cache-Control: no-store\r\n";
    head += "\r\n";
    stream_.expires_never();
    // The client sends nothing more on a stream: anything it sends, or its closing the
    // connection, ends the stream at once (its slot is free again without waiting for the next
    // event or keep-alive).
    stream_.socket().async_read_some(
        asio::buffer(probe_),
        [s = shared_from_this(), body = response.stream](beast::error_code, size_t) {
          s->closing_ = true;
          body->Cancel();
        });
    std::thread([s = shared_from_this(), body = response.stream, head = std::move(head)] {
      std::string chunk = head;
      bool open = true;
      while (open) {
        std::promise<bool> written;
        auto done = written.get_future();
        asio::post(s->stream_.get_executor(), [s, &chunk, &written] {
          // A client that stops reading is cut off after write_timeout.
          s->stream_.expires_after(s->server_.options.write_timeout);
          asio::async_write(s->stream_, asio::buffer(chunk),
                            [s, &written](beast::error_code ec, size_t) {
                              s->stream_.expires_never();
                              written.set_value(!ec);
                            });
        });
        open = done.get() && !s->closing_.load();
        chunk.clear();
        if (open) open = body->Next(&chunk);
      }
      body->Cancel();
      asio::post(s->stream_.get_executor(), [s] { s->Close(); });
      std::lock_guard lock(s->server_.mu);
      --s->server_.streams;
      if (auto it = s->server_.streams_by_client.find(s->client_);
          it != s->server_.streams_by_client.end() && --it->second == 0) {
        s->server_.streams_by_client.erase(it);
      }
      std::erase(s->server_.stream_bodies, body);
      s->server_.sessions_cv.notify_all();
    }).detach();
  }

  void Close() {
    beast::error_code ec;
    // Errors on shutdown and close mean the peer is gone already; nothing is left to do.
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  static constexpr size_t kReadChunk = 4096;

  beast::tcp_stream stream_;
  Server::Impl& server_;
  const std::string client_;  // the peer's address, for the per-client limits
  beast::flat_buffer buffer_;
  std::array<char, 1> probe_{};  // a streaming response's read, to see the client leave
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::weak_ptr<Session> self_;
  size_t requests_ = 0;
  size_t header_fields_ = 0;  // fields of the request being read, counted before its body
  bool reading_ = false;
  bool handling_ = false;  // a command is on the command pool; its answer comes back here
  std::atomic<bool> closing_{false};
};

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed by Stop
    std::shared_ptr<Session> session;
    beast::error_code peer_error;
    const auto peer = socket.remote_endpoint(peer_error);
    std::string client = peer_error ? std::string("?") : peer.address().to_string();
    {
      std::lock_guard lock(mu);
      size_t& mine = connections_by_client[client];
      if (!stopping && sessions.size() < options.max_connections &&
          mine < options.max_connections_per_client) {
        ++mine;
        session = std::make_shared<Session>(std::move(socket), *this, client);
        sessions.insert(session);
      } else if (mine == 0) {
        connections_by_client.erase(client);
      }
    }
    if (session) {
      session->Run(session);
    } else {
      beast::error_code ignored;  // refusing a connection over the limit: close it at once
      socket.close(ignored);
    }
    Accept();
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return impl_->port; }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, const Router& router) {
  auto impl = std::make_unique<Impl>(options, router);
  beast::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) return InvalidArgument("listen: " + options.address + " is not an IP address", "listen");
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  if (options.command_threads > 0) {
    impl->commands = std::make_unique<asio::thread_pool>(options.command_threads);
  }
  impl->Accept();
  for (size_t i = 0; i < std::max<size_t>(1, options.threads); ++i) {
    impl->threads.emplace_back([io = &impl->ioc] { io->run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Stop() {
  Impl& s = *impl_;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(s.mu);
    if (s.stopped) return;
    s.stopped = s.stopping = true;
    for (const auto& w : s.sessions) {
      if (auto p = w.lock()) live.push_back(std::move(p));
    }
  }
  asio::post(s.ioc, [&s] {
    beast::error_code ignored;  // closing a listening socket cannot fail in a way we could handle
    s.acceptor.close(ignored);
  });
  for (auto& session : live) session->Shutdown();
  live.clear();
  {
    std::unique_lock lock(s.mu);
    for (auto& body : s.stream_bodies) body->Cancel();
    s.sessions_cv.wait_for(lock, s.options.shutdown_grace,
                           [&] { return s.sessions.empty() && s.streams == 0; });
  }
  if (s.commands) s.commands->join();  // commands in flight finish (their events are durable)
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
}

}  // namespace vaxledger::http
