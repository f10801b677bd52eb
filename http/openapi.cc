#include "http/openapi.h"

#include <cctype>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>

#include "http/registry_api.h"

namespace vaxledger::http {
namespace {

using nlohmann::json;

// "GET /v1/entities/{entity}/stock" -> "getV1EntitiesEntityStock".
std::string OperationId(const std::string& method, const std::string& path) {
  std::string id;
  for (char c : method) id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool upper = true;
  for (char c : path) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  if (path == "/") id += "Root";
  return id;
}

json ProblemRef(int status) {
  if (status == 401) return {{"$ref", "#/components/responses/Unauthorized"}};
  return {{"$ref", "#/components/responses/Problem"}};
}

const std::map<std::string, std::string>& HeaderDescriptions() {
  static const std::map<std::string, std::string> headers = {
      {"ETag", "The version of what was read, for If-Match"},
      {"Location", "Where the created or decided resource is read"},
      {"Set-Cookie", "The vx_session cookie (HttpOnly, SameSite=Strict)"},
      {"Content-Security-Policy", "Only this origin's scripts, styles and connections"},
      {"X-Content-Type-Options", "nosniff"},
      {"Cache-Control", "no-cache"},
  };
  return headers;
}

json Operation(const std::string& method, const std::string& path, const RouteDoc& doc) {
  json op = {{"summary", doc.summary.empty() ? method + " " + path : doc.summary},
             {"operationId", OperationId(method, path)}};
  if (!doc.tag.empty()) op["tags"] = json::array({doc.tag});
  json parameters = json::array();
  std::string_view p = path;
  for (size_t open = p.find('{'); open != std::string_view::npos; open = p.find('{', open + 1)) {
    const size_t close = p.find('}', open);
    parameters.push_back({{"name", std::string(p.substr(open + 1, close - open - 1))},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
  }
  for (const ParamDoc& param : doc.params) {
    json j = {{"name", param.name}, {"in", param.in}, {"schema", param.schema}};
    if (!param.description.empty()) j["description"] = param.description;
    if (param.required) j["required"] = true;
    parameters.push_back(j);
  }
  if (!parameters.empty()) op["parameters"] = parameters;
  if (!doc.body.empty()) {
    json content = json::object();
    for (const ContentDoc& c : doc.body) content[c.content_type] = {{"schema", c.schema}};
    op["requestBody"] = {{"required", doc.body_required}, {"content", content}};
  }
  json responses = json::object();
  for (const ResponseDoc& r : doc.responses) {
    json answer = {{"description", r.description.empty() ? "OK" : r.description}};
    if (!r.content.empty()) {
      json content = json::object();
      for (const ContentDoc& c : r.content) content[c.content_type] = {{"schema", c.schema}};
      answer["content"] = content;
    }
    if (!r.headers.empty()) {
      json headers = json::object();
      for (const std::string& h : r.headers) {
        auto d = HeaderDescriptions().find(h);
        headers[h] = {{"schema", {{"type", "string"}}},
                      {"description", d == HeaderDescriptions().end() ? h : d->second}};
      }
      answer["headers"] = headers;
    }
    responses[std::to_string(r.status)] = answer;
  }
  std::set<int> problems(doc.problems.begin(), doc.problems.end());
  if (doc.authenticated) problems.insert(401);
  // The server's limits (ServerOptions) apply to every request, before any route is chosen.
  problems.insert(431);
  if (!doc.body.empty()) problems.insert(413);
  // Unsafe requests: a body of another media type (415), a browser's cross-site write (403).
  if (!doc.body.empty()) problems.insert(415);
  if (method != "GET" && method != "HEAD") problems.insert(403);
  for (int status : problems) responses[std::to_string(status)] = ProblemRef(status);
  op["responses"] = responses;
  if (doc.authenticated) {
    op["security"] = json::array({{{"session", json::array()}}, {{"cookie", json::array()}}});
  } else {
    op["security"] = json::array();
  }
  return op;
}

json ProblemSchema() {
  return {
      {"type", "object"},
      {"required", json::array({"type", "title", "status", "detail"})},
      {"additionalProperties", false},
      {"properties",
       {{"type", {{"type", "string"}, {"enum", json::array({"about:blank"})}}},
        {"title", {{"type", "string"}}},
        {"status", {{"type", "integer"}, {"minimum", 400}, {"maximum", 599}}},
        {"detail", {{"type", "string"}}},
        {"field", {{"type", "string"}, {"description", "The request field the problem is about"}}},
        {"code",
         {{"type", "string"},
          {"description", "The rule broken, a stable code (e.g. riziv.check_digits)"}}},
        {"params",
         {{"type", "object"},
          {"description", "The rule's parameters, to say it in the user's language"},
          {"additionalProperties", {{"type", "string"}}}}}}}};
}

RouteDoc OpenApiDoc() {
  RouteDoc d;
  d.summary = "This document (OpenAPI 3.0)";
  d.tag = "operations";
  d.authenticated = false;
  d.responses = {{200, "The OpenAPI document", {{"application/json", {{"type", "object"}}}}, {}}};
  return d;
}

}  // namespace

json OpenApiDocument(const Router& router) {
  json paths = json::object();
  std::set<std::string> tags;
  for (const Router::DocumentedRoute& route : router.Documented()) {
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[route.path][method] = Operation(route.method, route.path, *route.doc);
    if (!route.doc->tag.empty()) tags.insert(route.doc->tag);
  }
  static const std::map<std::string, std::string> kTagDescriptions = {
      {"ledger", "The public transparency log: checkpoints, proofs, keys; entries for auditors"},
      {"operations", "Health, readiness, metrics and this document"},
      {"registry", "Requests, entities, vaccinations, patients, stock, roles, events"},
      {"session", "Logging in and out, choosing the entity to act for"},
      {"web", "The web application"},
      {"demo", "Demo mode only: demo people and assertions of the development provider"},
  };
  json tag_list = json::array();
  for (const std::string& t : tags) {
    auto d = kTagDescriptions.find(t);
    tag_list.push_back({{"name", t}, {"description", d == kTagDescriptions.end() ? t : d->second}});
  }
  json schemas = registry_api::Schemas();
  schemas["Problem"] = ProblemSchema();
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "vaxledger"},
            {"version", "0.1.0"},
            {"description",
             "A vaccination registry on a signed, append-only event log. Errors are RFC 9457 "
             "problem documents. docs/api.md describes every route with examples."}}},
          {"servers",
           json::array({{{"url", "http://127.0.0.1:8080"},
                         {"description", "tools/dev.sh demo (any vaxledger serve address)"}}})},
          {"tags", tag_list},
          {"paths", paths},
          {"components",
           {{"securitySchemes",
             {{"session",
               {{"type", "http"},
                {"scheme", "bearer"},
                {"description", "The token of POST /v1/sessions"}}},
              {"cookie",
               {{"type", "apiKey"},
                {"in", "cookie"},
                {"name", "vx_session"},
                {"description", "The session cookie POST /v1/sessions sets"}}}}},
            {"schemas", schemas},
            {"responses",
             {{"Problem",
               {{"description", "RFC 9457 problem details"},
                {"content",
                 {{"application/problem+json",
                   {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}}},
              {"Unauthorized",
               {{"description", "No valid session (RFC 9457 problem details)"},
                {"headers",
                 {{"WWW-Authenticate",
                   {{"description", "The challenge: Bearer realm=\"vaxledger\""},
                    {"schema", {{"type", "string"}}}}}}},
                {"content",
                 {{"application/problem+json",
                   {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}}}}}}}};
}

void AddOpenApiRoute(Router& router) {
  struct Cache {
    std::once_flag once;
    std::string body;
  };
  auto cache = std::make_shared<Cache>();
  const Router* table = &router;
  router.Add(
      "GET", "/v1/openapi.json",
      [cache, table](const Request&) {
        std::call_once(cache->once, [&] { cache->body = OpenApiDocument(*table).dump(); });
        Response r;
        r.body = cache->body;
        return r;
      },
      OpenApiDoc());
}

}  // namespace vaxledger::http
