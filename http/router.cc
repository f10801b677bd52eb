#include "http/router.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "http/metrics.h"
#include "http/problem_language.h"

namespace vaxledger::http {
namespace {}  // namespace

const char* StatusPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";  // RFC 6585
    case 429:
      return "Too Many Requests";  // RFC 6585
    case 431:
      return "Request Header Fields Too Large";  // RFC 6585
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) {
        return InvalidArgument("target: a % escape needs two hex digits", "target");
      }
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0)
        return InvalidArgument("target: a % escape needs two hex digits", "target");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Response Problem(int http_status, const std::string& detail, const std::string& field,
                 const Status* status = nullptr) {
  std::string title = StatusPhrase(http_status);
  if (title.empty()) title = http_status < 500 ? "Client Error" : "Server Error";
  nlohmann::json body = {
      {"type", "about:blank"}, {"title", title}, {"status", http_status}, {"detail", detail}};
  if (!field.empty()) body["field"] = field;
  // The rule broken and its parameters, for a client to say it in its user's language.
  if (status != nullptr && !status->rule().empty()) {
    body["code"] = status->rule();
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [name, value] : status->params()) params[name] = value;
    body["params"] = params;
  }
  Response r;
  r.status = http_status;
  r.content_type = "application/problem+json";
  r.body = JsonText(body);
  // RFC 9110 §15.5.2: a 401 carries a challenge for the scheme the resource takes.
  if (http_status == 401) r.headers.emplace_back("WWW-Authenticate", kAuthenticateChallenge);
  return r;
}

// A decoded part of the target must be text: well-formed UTF-8 without control characters
// (they would reach JSON, logs and keys otherwise).
Status CheckDecoded(const std::string& text, std::string_view part) {
  if (!IsValidUtf8(text)) {
    return InvalidArgument("target: the " + std::string(part) + " is not valid UTF-8 once decoded",
                           "target");
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) {
      return InvalidArgument(
          "target: the " + std::string(part) + " must not contain control characters", "target");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string JsonText(const nlohmann::json& value) {
  // Strings that reach here were checked where they came in; should one not be UTF-8 after all,
  // it is replaced (U+FFFD) rather than thrown.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kAborted:
      return 409;
    case Code::kFailedPrecondition:
      return 422;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kDataLoss:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Response ProblemResponse(const Status& status) {
  return Problem(HttpStatusFor(status.code()), status.message(), status.field(), &status);
}

Response ProblemResponse(int http_status, const std::string& detail) {
  return Problem(http_status, detail, "");
}

Status ParseTarget(std::string_view target, Request* request) {
  size_t q = target.find('?');
  VX_ASSIGN_OR_RETURN(request->path, PercentDecode(target.substr(0, q), false));
  VX_RETURN_IF_ERROR(CheckDecoded(request->path, "path"));
  request->query.clear();
  if (q == std::string_view::npos) return Status::Ok();
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    VX_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      VX_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    VX_RETURN_IF_ERROR(CheckDecoded(name, "query"));
    VX_RETURN_IF_ERROR(CheckDecoded(value, "query"));
    request->query[name] = value;
  }
  return Status::Ok();
}

void Router::Add(const std::string& method, const std::string& path, Handler handler,
                 RouteDoc doc) {
  routes_[path][method] = Route{std::move(handler), std::move(doc)};
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [path, methods] : routes_) {
    for (const auto& [method, handler] : methods) out.emplace_back(method, path);
  }
  return out;
}

std::vector<Router::DocumentedRoute> Router::Documented() const {
  std::vector<DocumentedRoute> out;
  for (const auto& [path, methods] : routes_) {
    for (const auto& [method, route] : methods) out.push_back({method, path, &route.doc});
  }
  return out;
}

Response Router::Refuse(const std::string& method, int http_status,
                        const std::string& detail) const {
  Response response = ProblemResponse(http_status, detail);
  if (metrics_ != nullptr) metrics_->Record("unmatched", method, http_status, 0);
  return response;
}

Response Router::Handle(Request request) const {
  const auto start = std::chrono::steady_clock::now();
  std::string route = "unmatched";
  Response response = GuardedDispatch(request, &route);
  // A problem's detail in the language the client asks for (http/problem_language.h); without
  // Accept-Language it stays English.
  if (const auto accept = request.headers.find("accept-language");
      accept != request.headers.end()) {
    const std::string language = PreferredLanguage(accept->second);
    if (!language.empty()) LocalizeProblem(language, &response);
  }
  if (request.path.starts_with("/v1/") &&
      std::none_of(response.headers.begin(), response.headers.end(),
                   [](const auto& h) { return h.first == "Cache-Control"; })) {
    response.headers.emplace_back("Cache-Control", "no-store");
  }
  if (metrics_ == nullptr) return response;
  metrics_->Record(route, request.method, response.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return response;
}

namespace {

// Whether `path` matches `pattern`, segment by segment; "{name}" matches one non-empty segment,
// whose value goes to `params`.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>* params) {
  while (true) {
    const size_t ps = pattern.find('/'), qs = path.find('/');
    std::string_view p = pattern.substr(0, ps), q = path.substr(0, qs);
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (q.empty()) return false;
      (*params)[std::string(p.substr(1, p.size() - 2))] = std::string(q);
    } else if (p != q) {
      return false;
    }
    if (ps == std::string_view::npos || qs == std::string_view::npos) {
      return ps == std::string_view::npos && qs == std::string_view::npos;
    }
    pattern.remove_prefix(ps + 1);
    path.remove_prefix(qs + 1);
  }
}

}  // namespace

Response Router::Dispatch(Request& request, std::string* route_label) const {
  auto route = routes_.find(request.path);
  if (route == routes_.end()) {
    for (auto it = routes_.begin(); it != routes_.end(); ++it) {
      if (it->first.find('{') == std::string::npos) continue;
      std::map<std::string, std::string> params;
      if (MatchPattern(it->first, request.path, &params)) {
        route = it;
        request.params = std::move(params);
        break;
      }
    }
  }
  if (route == routes_.end()) {
    return ProblemResponse(404, "no route " + request.path);
  }
  *route_label = route->first;
  auto handler = route->second.find(request.method);
  // RFC 9110 §9.3.2: HEAD wherever GET works, answered as GET without the content.
  const bool head = request.method == "HEAD" && handler == route->second.end();
  if (head) handler = route->second.find("GET");
  if (handler != route->second.end()) {
    if (auto refused = CheckUnsafe(request, handler->second.doc)) return std::move(*refused);
  }
  if (handler == route->second.end()) {
    std::string allow;
    for (const auto& [method, h] : route->second) {
      allow += (allow.empty() ? "" : ", ") + method;
      if (method == "GET" && !route->second.contains("HEAD")) allow += ", HEAD";
    }
    Response r = ProblemResponse(405, request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  Response response = handler->second.handler(request);
  if (head) {
    response.head = true;
    if (response.stream) {
      response.stream->Cancel();  // a stream has no length: none is sent
      response.stream.reset();
      response.body.clear();
    } else {
      response.head_content_length = response.body.size();
    }
  }
  return response;
}

std::optional<Response> Router::CheckUnsafe(const Request& request, const RouteDoc& doc) const {
  const std::string& m = request.method;
  if (m == "GET" || m == "HEAD" || m == "OPTIONS") return std::nullopt;
  auto header = [&](const char* name) -> const std::string* {
    auto it = request.headers.find(name);
    return it == request.headers.end() ? nullptr : &it->second;
  };
  // CSRF (OWASP: verify the origin with standard headers). Clients other than browsers send
  // neither header and are not affected.
  if (const std::string* site = header("sec-fetch-site");
      site != nullptr && *site != "same-origin" && *site != "none") {
    return ProblemResponse(403, "a " + *site +
                                    " request may not change anything here (Sec-Fetch-Site); "
                                    "use the registry's own pages or a bearer token");
  }
  if (const std::string* origin = header("origin")) {
    const std::string* host = header("host");
    const size_t scheme = origin->find("://");
    const std::string origin_host =
        scheme == std::string::npos ? std::string() : origin->substr(scheme + 3);
    if (host == nullptr || origin_host.empty() || origin_host != *host) {
      return ProblemResponse(403,
                             "a request from another origin may not change anything here "
                             "(Origin does not match Host)");
    }
  }
  const std::string* type = header("content-type");
  if (request.body.empty() && type == nullptr) return std::nullopt;
  std::string media = type == nullptr ? std::string() : type->substr(0, type->find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // The body's media types are those the route's description names (application/json when it
  // names none).
  std::vector<std::string> accepted;
  for (const ContentDoc& c : doc.body) accepted.push_back(c.content_type);
  if (accepted.empty()) accepted.push_back("application/json");
  if (std::find(accepted.begin(), accepted.end(), media) != accepted.end()) return std::nullopt;
  std::string list;
  for (const std::string& a : accepted) list += (list.empty() ? "" : ", ") + a;
  Response r =
      ProblemResponse(415, "Content-Type " + (media.empty() ? std::string("(none)") : media) +
                               " is not accepted here; send " + list);
  if (m == "POST") r.headers.emplace_back("Accept-Post", list);
  return r;
}

Response Router::GuardedDispatch(Request& request, std::string* route) const {
  // Exceptions never cross a module; a handler that throws is a bug, answered as one. What it
  // said goes to the server's log, never to the client (it may quote the request or the data).
  try {
    return Dispatch(request, route);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vaxledger: internal error on %s %s: %s\n", request.method.c_str(),
                 route->c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "vaxledger: internal error on %s %s\n", request.method.c_str(),
                 route->c_str());
  }
  return ProblemResponse(500, "internal error; the server's log says more");
}

}  // namespace vaxledger::http
