// The OpenAPI 3 document of the routes this server has, served at GET /v1/openapi.json.
// A test checks that every route on the router is described, and nothing else.
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.h"

namespace vaxledger::http {

nlohmann::json OpenApiDocument();

// GET /v1/openapi.json.
void AddOpenApiRoute(Router& router);

}  // namespace vaxledger::http
