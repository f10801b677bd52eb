#include "http/openapi.h"

#include "http/web_assets.h"

#include <string_view>
#include <vector>

namespace vaxledger::http {
namespace {

using nlohmann::json;

json Problem() { return {{"$ref", "#/components/responses/Problem"}}; }

json JsonOk(const std::string& description, json schema) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

json QueryParam(const std::string& name, bool required, const std::string& description) {
  return {{"name", name},
          {"in", "query"},
          {"required", required},
          {"description", description},
          {"schema", {{"type", "integer"}, {"minimum", 0}}}};
}

json Base64Hashes() {
  return {{"type", "array"}, {"items", {{"type", "string"}, {"format", "byte"}}}};
}

// A registry route: its summary, whether it takes a JSON body, and its answers.
struct Operation {
  const char* method;
  const char* path;
  const char* summary;
  bool body;
  std::vector<int> codes;  // besides the problem answers 400/401/403/404
};

const std::vector<Operation>& RegistryOperations() {
  static const std::vector<Operation> ops = {
      {"post",
       "/v1/sessions",
       "Log in: exchange the identity provider's assertion for a session",
       true,
       {201, 429}},
      {"get",
       "/v1/session",
       "The session: person, roles, entities, the entity acted for",
       false,
       {200}},
      {"delete", "/v1/session", "Log out: the session token stops working", false, {204}},
      {"put",
       "/v1/session/entity",
       "Choose the entity (and, for staff, the physician) to act for",
       true,
       {200}},
      {"get", "/v1/vaccines", "The vaccine reference list", false, {200}},
      {"post", "/v1/access-requests", "Ask for access as a physician (flow 1)", true, {202, 409}},
      {"get", "/v1/requests", "Administrators: the queue of requests (cursor pages)", false, {200}},
      {"get",
       "/v1/requests/{request}",
       "One request (administrators, the requester)",
       false,
       {200}},
      {"post",
       "/v1/requests/{request}/approve",
       "Administrators: approve a request",
       true,
       {200, 409, 422}},
      {"post",
       "/v1/requests/{request}/reject",
       "Administrators: reject a request with a reason",
       true,
       {200, 422}},
      {"get",
       "/v1/entities/{entity}",
       "An entity's members and pending requests (ETag)",
       false,
       {200}},
      {"post",
       "/v1/entities/{entity}/link-requests",
       "Mijn medewerkers, Aanvraag nieuw: link a HAIO or staff member (If-Match)",
       true,
       {202, 409, 412}},
      {"post",
       "/v1/entities/{entity}/unlink-requests",
       "Aanvraag ontkoppelen: unlink members (If-Match)",
       true,
       {202, 412, 422}},
      {"get",
       "/v1/entities/{entity}/vaccinations",
       "The entity's registrations (cursor pages)",
       false,
       {200}},
      {"get",
       "/v1/entities/{entity}/stock",
       "The entity's stock by product and lot, shortfalls",
       false,
       {200}},
      {"post", "/v1/entities/{entity}/stock/deliveries", "Record a delivery", true, {201}},
      {"post",
       "/v1/entities/{entity}/stock/adjustments",
       "Adjust the stock with a reason",
       true,
       {201}},
      {"post", "/v1/vaccinations", "Register a vaccination (flow 5)", true, {201, 409}},
      {"post",
       "/v1/vaccinations/batch",
       "Register many; each row accepted or refused",
       true,
       {200}},
      {"post",
       "/v1/patients/search",
       "A patient's history by INSZ (kept out of the URL)",
       true,
       {200}},
      {"get", "/v1/patients/{patient}", "A patient's history by patient id (ETag)", false, {200}},
      {"post",
       "/v1/patients/care-declarations",
       "Declare a care relationship with a reason (break the glass): the entity may read the "
       "patient for some hours",
       true,
       {201}},
      {"get",
       "/v1/care-declarations",
       "Auditors and administrators: every care declaration, from the log (pages)",
       false,
       {200}},
      {"post",
       "/v1/patients/{patient}/vaccinations/{vaccination}/corrections",
       "Correct a registration with a reason (If-Match)",
       true,
       {200, 409, 412}},
      {"post",
       "/v1/patients/{patient}/vaccinations/{vaccination}/retraction",
       "Mark a registration entered in error, with a reason (If-Match)",
       true,
       {200, 412, 422}},
      {"post",
       "/v1/patients/{patient}/vaccinations/{vaccination}/consent",
       "Record the patient's consent decision",
       true,
       {200}},
      {"post",
       "/v1/roles",
       "Administrators: grant or revoke administrator and auditor",
       true,
       {200, 409, 422}},
      {"get",
       "/v1/ledger/entries",
       "Auditors: leaves, signatures and key ids (pages)",
       false,
       {200}},
      {"get",
       "/v1/events",
       "Server-sent events the caller may see (text/event-stream), resumable with Last-Event-ID",
       false,
       {200}},
  };
  return ops;
}

void AddRegistryOperations(json& paths) {
  for (const Operation& op : RegistryOperations()) {
    json o = {{"summary", op.summary}};
    json parameters = json::array();
    std::string_view path = op.path;
    for (size_t open = path.find('{'); open != std::string_view::npos;
         open = path.find('{', open + 1)) {
      const size_t close = path.find('}', open);
      parameters.push_back({{"name", std::string(path.substr(open + 1, close - open - 1))},
                            {"in", "path"},
                            {"required", true},
                            {"schema", {{"type", "string"}}}});
    }
    if (!parameters.empty()) o["parameters"] = parameters;
    if (op.body) {
      o["requestBody"] = {{"required", true},
                          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    }
    json responses;
    for (int code : op.codes) {
      responses[std::to_string(code)] = code == 204 ? json{{"description", "done"}}
                                        : code < 300
                                            ? JsonOk("see docs/api.md", {{"type", "object"}})
                                            : Problem();
    }
    for (int code : {400, 401, 403, 404}) responses[std::to_string(code)] = Problem();
    o["responses"] = responses;
    o["security"] = json::array({{{"session", json::array()}}, {{"cookie", json::array()}}});
    if (std::string_view(op.path) == "/v1/sessions") o.erase("security");
    paths[op.path][op.method] = o;
  }
}

}  // namespace

json OpenApiDocument() {
  json paths;
  paths["/healthz"]["get"] = {{"summary", "The process answers"},
                              {"responses", {{"200", JsonOk("alive", {{"type", "object"}})}}}};
  paths["/readyz"]["get"] = {
      {"summary", "The event log can be read"},
      {"responses", {{"200", JsonOk("ready", {{"type", "object"}})}, {"503", Problem()}}}};
  paths["/metrics"]["get"] = {
      {"summary", "Prometheus text exposition"},
      {"responses",
       {{"200",
         {{"description", "metrics"},
          {"content", {{"text/plain; version=0.0.4", {{"schema", {{"type", "string"}}}}}}}}}}}};
  paths["/v1/openapi.json"]["get"] = {
      {"summary", "This document"},
      {"responses", {{"200", JsonOk("OpenAPI 3 document", {{"type", "object"}})}}}};
  paths["/v1/ledger/checkpoint"]["get"] = {
      {"summary", "The latest signed checkpoint (C2SP tlog-checkpoint)"},
      {"responses",
       {{"200",
         {{"description", "signed note"},
          {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}},
        {"404", Problem()}}}};
  paths["/v1/ledger/proof/inclusion"]["get"] = {
      {"summary", "RFC 9162 inclusion proof"},
      {"parameters",
       {QueryParam("index", true, "leaf index"),
        QueryParam("size", false, "tree size; default: the latest checkpoint's")}},
      {"responses",
       {{"200", JsonOk("proof", {{"type", "object"},
                                 {"properties",
                                  {{"index", {{"type", "integer"}}},
                                   {"size", {{"type", "integer"}}},
                                   {"leaf_hash", {{"type", "string"}, {"format", "byte"}}},
                                   {"proof", Base64Hashes()}}}})},
        {"400", Problem()}}}};
  paths["/v1/ledger/proof/consistency"]["get"] = {
      {"summary", "RFC 9162 consistency proof"},
      {"parameters",
       {QueryParam("from", true, "older tree size"),
        QueryParam("to", false, "newer tree size; default: the latest checkpoint's")}},
      {"responses",
       {{"200", JsonOk("proof", {{"type", "object"},
                                 {"properties",
                                  {{"from", {{"type", "integer"}}},
                                   {"to", {{"type", "integer"}}},
                                   {"proof", Base64Hashes()}}}})},
        {"400", Problem()}}}};
  paths["/v1/ledger/keys"]["get"] = {
      {"summary", "The key schedule, as C2SP verifier keys"},
      {"responses",
       {{"200", JsonOk("keys", {{"type", "object"},
                                {"properties",
                                 {{"keys",
                                   {{"type", "array"},
                                    {"items",
                                     {{"type", "object"},
                                      {"properties",
                                       {{"vkey", {{"type", "string"}}},
                                        {"from_index", {{"type", "integer"}}}}}}}}}}}})}}}};
  AddRegistryOperations(paths);
  for (const WebAsset& asset : WebAssets()) {
    json page = {{"summary", "The web application: " + std::string(asset.path.substr(1))},
                 {"responses",
                  {{"200",
                    {{"description", "the file"},
                     {"content",
                      {{std::string(asset.content_type), {{"schema", {{"type", "string"}}}}}}}}}}}};
    paths[std::string(asset.path)]["get"] = page;
    if (asset.path == "/index.html") paths["/"]["get"] = page;
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "vaxledger"}, {"version", "0.1.0"}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes",
             {{"session", {{"type", "http"}, {"scheme", "bearer"}}},
              {"cookie", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "vx_session"}}}}},
            {"responses",
             {{"Problem",
               {{"description", "RFC 9457 problem details"},
                {"content",
                 {{"application/problem+json",
                   {{"schema",
                     {{"type", "object"},
                      {"properties",
                       {{"type", {{"type", "string"}}},
                        {"title", {{"type", "string"}}},
                        {"status", {{"type", "integer"}}},
                        {"detail", {{"type", "string"}}},
                        {"field", {{"type", "string"}}}}}}}}}}}}}}}}}};
}

void AddOpenApiRoute(Router& router) {
  const std::string body = OpenApiDocument().dump();
  router.Add("GET", "/v1/openapi.json", [body](const Request&) {
    Response r;
    r.body = body;
    return r;
  });
}

}  // namespace vaxledger::http
