// The OpenAPI 3 document of the routes a router has, served at GET /v1/openapi.json. It is
// derived from the route table: each route's RouteDoc (http/route_doc.h) gives its parameters,
// headers, request body, answers and problems; path parameters come from the path. Routes with
// `authenticated` false are public (`security: []`); the others take the session as a bearer
// token or the vx_session cookie.
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.h"

namespace vaxledger::http {

// The document for every route `router` has now.
nlohmann::json OpenApiDocument(const Router& router);

// GET /v1/openapi.json: the document of `router`'s routes as they are at the first request (so
// routes added after this one, e.g. the demo routes, are in it). `router` must outlive itself.
void AddOpenApiRoute(Router& router);

}  // namespace vaxledger::http
