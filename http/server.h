// The HTTP/1.1 server on Boost.Beast: a listener that accepts connections and one session per
// connection (on its own strand) that reads a request, hands it to the Router, and writes the
// response; keep-alive, in order. It moves bytes and enforces limits; the Router decides.
//
// Every limit has a default here. Beyond a limit the client gets a problem response where one
// can still be sent (413 body too large, 431 headers too large) and the connection is closed;
// a client that is too slow is cut off at the time-out without holding up others.
//
// Framing is strict, so that no proxy in front can read a request differently (RFC 9112 §6.1,
// §11.2): a Transfer-Encoding other than exactly "chunked" (501 for an unknown coding, 400 for
// "chunked, chunked" or chunked not last), Transfer-Encoding with Content-Length, a header line
// folded over several lines (obs-fold), an HTTP/1.1 request without Host, and a second Host,
// Authorization, Cookie, Content-Length, Content-Type, Origin, If-Match or Idempotency-Key
// header are each answered 400 and the connection is closed. Nothing a handler throws escapes:
// it is answered 500 without the exception's text.
//
// Thread-safety: Start and Stop from one thread; the server runs on its own threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/router.h"

namespace vaxledger::http {

// One answered request, for the access log.
struct AccessRecord {
  std::string remote;  // peer address
  std::string method;
  std::string target;  // as sent, query included
  int status = 0;
  size_t response_bytes = 0;
  double seconds = 0;  // from the whole request read to the response handed to the socket
};

struct ServerOptions {
  // Address and port to listen on. Port 0 picks a free port (see Server::port()).
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  // Threads running the I/O and the handlers of GET and HEAD requests (queries, which do not
  // wait for the disk). Default 2.
  size_t threads = 2;
  // Threads running the handlers of every other method (commands, which wait until their events
  // are durable; many at once share one group commit). 0 runs them on the I/O threads.
  // Default 64.
  size_t command_threads = 64;
  // Largest request body; beyond it 413 and the connection closes. Default 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // Largest request line plus headers; beyond it 431 and the connection closes. Default 16 KiB.
  size_t max_header_bytes = 16 << 10;
  // Time a connection may wait, idle, for the first byte of its next request (also the first
  // request of a new connection); then it is closed. Default 5 s.
  std::chrono::milliseconds idle_timeout{5000};
  // Time for a request to arrive whole once its first byte came. Default 15 s.
  std::chrono::milliseconds request_timeout{15000};
  // Time to write a response. Default 15 s.
  std::chrono::milliseconds write_timeout{15000};
  // Open connections; one more is accepted and closed at once. Default 1024.
  size_t max_connections = 1024;
  // Open connections from one client address; one more is accepted and closed at once, so that
  // one client cannot hold every connection. Behind a reverse proxy every client has the
  // proxy's address: raise it there. Default 128.
  size_t max_connections_per_client = 128;
  // Requests answered on one connection before it is closed. Default 10000. Pipelined requests
  // are read one at a time; what a client sends ahead waits in a buffer of at most
  // max_header_bytes + max_body_bytes.
  size_t max_requests_per_connection = 10000;
  // Streaming responses (server-sent events) open at once, each with a thread of its own; one
  // more is answered 503. Default 64.
  size_t max_streams = 64;
  // Streaming responses open at once for one client address; one more is answered 503. A
  // stream's slot is released as soon as its client closes the connection. Default 8.
  size_t max_streams_per_client = 8;
  // How long Stop waits for requests in flight. Default 10 s.
  std::chrono::milliseconds shutdown_grace{10000};
  // Called once per answered request, on a server thread; must be thread-safe. Default: none.
  std::function<void(const AccessRecord&)> access_log;
};

class Server {
 public:
  // Binds, listens and starts the threads. Unavailable when the address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, const Router& router);
  // Stops, if Stop was not called.
  ~Server();

  uint16_t port() const;

  // Stops accepting, closes idle connections, lets responses in flight finish (at most
  // shutdown_grace), then ends the threads. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxledger::http
