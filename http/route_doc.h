// What a route takes and answers, for the OpenAPI document (http/openapi.h): given to
// Router::Add beside the handler, so that the route table is the one list of routes and the
// document is derived from it. Schemas are JSON Schema as OpenAPI 3.0 takes it; a test validates
// real answers of the end-to-end suite against them (tests/openapi/).
//
// Thread-safety: plain values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vaxledger::http {

struct ParamDoc {
  std::string name;
  std::string in;  // "query" or "header"; path parameters are read from the path
  std::string description;
  nlohmann::json schema = {{"type", "string"}};
  bool required = false;
};

struct ContentDoc {
  std::string content_type = "application/json";
  nlohmann::json schema = {{"type", "object"}};
};

struct ResponseDoc {
  int status = 200;
  std::string description;
  std::vector<ContentDoc> content;   // none: no content (204)
  std::vector<std::string> headers;  // response headers it carries: "ETag", "Location", ...
};

struct RouteDoc {
  std::string summary;
  std::string tag;            // groups operations: "ledger", "registry", "web", ...
  bool authenticated = true;  // needs a session (bearer token or cookie); false: public
  std::vector<ParamDoc> params;
  std::vector<ContentDoc> body;  // the request body's forms; none: no body
  bool body_required = true;
  std::vector<ResponseDoc> responses;  // the answers with content of their own
  std::vector<int> problems;           // the RFC 9457 problem answers it may give
};

}  // namespace vaxledger::http
