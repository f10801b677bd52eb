#include "http/router.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "http/metrics.h"
#include "http/problem_language.h"

namespace vaxledger::http {
namespace {

const char* Title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

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
  nlohmann::json body = {{"type", "about:blank"},
                         {"title", Title(http_status)},
                         {"status", http_status},
                         {"detail", detail}};
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
  r.body = body.dump();
  return r;
}

}  // namespace

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
    request->query[name] = value;
  }
  return Status::Ok();
}

void Router::Add(const std::string& method, const std::string& path, Handler handler) {
  routes_[path][method] = std::move(handler);
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [path, methods] : routes_) {
    for (const auto& [method, handler] : methods) out.emplace_back(method, path);
  }
  return out;
}

Response Router::Handle(Request request) const {
  // A problem's detail in the language the client asks for (http/problem_language.h); without
  // Accept-Language it stays English.
  const auto accept = request.headers.find("accept-language");
  const std::string language =
      accept == request.headers.end() ? "" : PreferredLanguage(accept->second);
  if (metrics_ == nullptr) {
    std::string route;
    Response response = Dispatch(request, &route);
    if (!language.empty()) LocalizeProblem(language, &response);
    return response;
  }
  const auto start = std::chrono::steady_clock::now();
  std::string route = "unmatched";
  Response response = Dispatch(request, &route);
  if (!language.empty()) LocalizeProblem(language, &response);
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
  if (handler == route->second.end()) {
    std::string allow;
    for (const auto& [method, h] : route->second) allow += (allow.empty() ? "" : ", ") + method;
    Response r = ProblemResponse(405, request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  try {
    return handler->second(request);
  } catch (const std::exception& e) {
    // Exceptions never cross a module; a handler that throws is a bug, answered as one.
    return ProblemResponse(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace vaxledger::http
