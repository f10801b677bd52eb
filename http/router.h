// The request handler, without sockets: a Request goes in, a Response comes out. The server
// (server.h) only moves bytes; everything an HTTP route decides is here, so it is testable
// without a network.
//
// Errors are RFC 9457 problem documents (application/problem+json) built from a Status by
// ProblemResponse; HttpStatusFor is the one mapping from our codes to HTTP status codes.
//
// Thread-safety: a Router is immutable once its routes are added; Handle may run on any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/route_doc.h"

namespace vaxledger::http {

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // the target's path, percent-decoded
  std::map<std::string, std::string> query;    // decoded; a repeated name keeps the last value
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::map<std::string, std::string> params;  // path parameters of a "{name}" route
  std::string remote;                         // the peer's address, for logs
};

// A body produced over time (server-sent events). The server sends the headers and then what
// Next gives, until Next returns false or the client goes away; the connection then closes.
class StreamBody {
 public:
  virtual ~StreamBody() = default;
  // Blocks until there is something to send (or a keep-alive is due) and sets `chunk`; false
  // ends the stream. Called on a thread of the server's, one call at a time.
  virtual bool Next(std::string* chunk) = 0;
  // Makes a blocked Next return soon (the client left or the server stops). Thread-safe.
  virtual void Cancel() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::shared_ptr<StreamBody> stream;                        // when set, `body` is ignored
  // An answer to HEAD (RFC 9110 §9.3.2), set by the router: the server sends the headers GET
  // would get and no content; Content-Length is head_content_length when set (GET's length),
  // and absent otherwise (GET would stream).
  bool head = false;
  std::optional<uint64_t> head_content_length;
};

// The challenge every 401 carries in WWW-Authenticate (RFC 9110 §11.6.1): a bearer token
// (RFC 6750; the session cookie works as well).
inline constexpr const char* kAuthenticateChallenge = "Bearer realm=\"vaxledger\"";

// The reason phrase RFC 9110 (and RFC 6585 for 428, 429, 431) gives a status, or "" for one it
// does not name. Problems of type about:blank take it as their title (RFC 9457 §4.2.1).
const char* StatusPhrase(int status);

// The HTTP status for a non-OK code: InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists and Aborted 409, FailedPrecondition 422,
// ResourceExhausted 429, Unavailable 503, DataLoss and Internal 500.
int HttpStatusFor(Code code);

// A problem+json response for `status` (which must not be OK): type, title, status, detail, and
// the field when the status names one.
Response ProblemResponse(const Status& status);
// A problem+json response with an explicit HTTP status (for errors that are not a Status: 404
// for an unknown route, 405, 413, 431).
Response ProblemResponse(int http_status, const std::string& detail);

// `value` as compact JSON text. Never throws: a string that is not UTF-8 is written with U+FFFD
// in place of the bad bytes. Every JSON body the server writes goes through here.
std::string JsonText(const nlohmann::json& value);

// Splits a request target ("/a/b?x=1&y=%20") into a decoded path and query. InvalidArgument
// for a malformed percent escape, or a decoded path, query name or value that is not UTF-8 or
// holds a control character.
Status ParseTarget(std::string_view target, Request* request);

class Metrics;

class Router {
 public:
  // Counts every request handled from now on in `metrics` (which must outlive the router).
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }

  using Handler = std::function<Response(const Request&)>;

  // A path is exact ("/v1/session") or a pattern whose "{name}" segments match any one segment
  // and are passed in Request::params ("/v1/entities/{entity}"). Exact paths win; patterns are
  // tried in sorted order. Adding the same method and path twice replaces the handler. The
  // metrics label a request by its pattern, never by the values in it. `doc` describes the
  // route for the OpenAPI document (http/openapi.h).
  void Add(const std::string& method, const std::string& path, Handler handler, RouteDoc doc = {});
  // The same, with the description first (reads better before a long lambda).
  void Add(const std::string& method, const std::string& path, RouteDoc doc, Handler handler) {
    Add(method, path, std::move(handler), std::move(doc));
  }

  // Before any handler, an unsafe request (any method but GET, HEAD and OPTIONS) is refused
  // when a browser says it comes from another site (CSRF): 403 when Sec-Fetch-Site is present
  // and neither same-origin nor none, or when Origin is present and names another host than
  // Host. A request body must be of a media type the route's RouteDoc::body names
  // (application/json when it names none): 415 otherwise, with the accepted types in Accept-Post.
  // Every response under /v1 carries Cache-Control: no-store (they hold personal data; no cache may
  // keep them).
  //
  // 404 problem for an unknown path; 405 with an Allow header for a known path and another
  // method. HEAD on a path with GET runs GET's handler and marks the answer `head`. A handler
  // that throws is answered 500 with a generic detail (and must not: handlers return problems);
  // what it threw goes to stderr. Handle itself never throws. Takes the request by value: the
  // path parameters are filled in place.
  Response Handle(Request request) const;

  // The problem for a request the server refuses before routing it (413, 431, a malformed
  // request), counted in the metrics as route "unmatched".
  Response Refuse(const std::string& method, int http_status, const std::string& detail) const;

  // Every (method, path) with a handler, sorted.
  std::vector<std::pair<std::string, std::string>> Routes() const;

  struct DocumentedRoute {
    std::string method;
    std::string path;
    const RouteDoc* doc;  // owned by the router
  };
  // Every route with its description, sorted by path and method.
  std::vector<DocumentedRoute> Documented() const;

 private:
  struct Route {
    Handler handler;
    RouteDoc doc;
  };
  Response Dispatch(Request& request, std::string* route) const;
  Response GuardedDispatch(Request& request, std::string* route) const;
  std::optional<Response> CheckUnsafe(const Request& request, const RouteDoc& doc) const;

  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
  Metrics* metrics_ = nullptr;
};

}  // namespace vaxledger::http
