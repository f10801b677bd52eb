#include "http/openapi.h"

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
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "vaxledger"}, {"version", "0.1.0"}}},
          {"paths", paths},
          {"components",
           {{"responses",
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
