// Boost 1.74 Asio with GCC 12 in C++20 needs <utility> before Asio.
#include <utility>

#include "http/server.h"

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
#include <mutex>
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
  std::vector<std::shared_ptr<StreamBody>> stream_bodies;  // guarded by mu: to cancel at Stop

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  // Commands run here, off the I/O threads; created in Start when command_threads > 0.
  std::unique_ptr<asio::thread_pool> commands;
  uint16_t port = 0;

  Impl(const ServerOptions& o, const Router& r) : options(o), router(r) {}
  void Accept();
  void Forget(const std::weak_ptr<Session>& s) {
    std::lock_guard lock(mu);
    sessions.erase(s);
    sessions_cv.notify_all();
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server)
      : stream_(std::move(socket)),
        server_(server),
        buffer_(server.options.max_header_bytes + server.options.max_body_bytes) {}

  ~Session() { server_.Forget(self_); }

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
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    stream_.expires_after(server_.options.request_timeout);
    reading_ = true;
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
        Response response = s->server_.router.Handle(std::move(request));
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
    Response response = server_.router.Handle(std::move(request));
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
      if (server_.streams >= server_.options.max_streams) {
        Response busy = ProblemResponse(Unavailable("too many event streams open (" +
                                                    std::to_string(server_.options.max_streams) +
                                                    "); try again later"));
        return Send(std::move(busy), true);
      }
      ++server_.streams;
      server_.stream_bodies.push_back(response.stream);
    }
    std::string head = "HTTP/1.1 " + std::to_string(response.status) +
                       " OK\r\nServer: vaxledger\r\nContent-Type: " + response.content_type +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
    head += "\r\n";
    stream_.expires_never();
    std::thread([s = shared_from_this(), body = response.stream, head = std::move(head)] {
      std::string chunk = head;
      bool open = true;
      while (open) {
        std::promise<bool> written;
        auto done = written.get_future();
        asio::post(s->stream_.get_executor(), [s, &chunk, &written] {
          asio::async_write(s->stream_.socket(), asio::buffer(chunk),
                            [&written](beast::error_code ec, size_t) { written.set_value(!ec); });
        });
        open = done.get() && !s->closing_.load();
        chunk.clear();
        if (open) open = body->Next(&chunk);
      }
      body->Cancel();
      asio::post(s->stream_.get_executor(), [s] { s->Close(); });
      std::lock_guard lock(s->server_.mu);
      --s->server_.streams;
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

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::weak_ptr<Session> self_;
  size_t requests_ = 0;
  bool reading_ = false;
  bool handling_ = false;  // a command is on the command pool; its answer comes back here
  std::atomic<bool> closing_{false};
};

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed by Stop
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(mu);
      if (!stopping && sessions.size() < options.max_connections) {
        session = std::make_shared<Session>(std::move(socket), *this);
        sessions.insert(session);
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
