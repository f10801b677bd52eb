// What each registry route (http/registry_routes.cc) takes and answers, for the OpenAPI
// document: one RouteDoc per route, given to Router::Add beside its handler, and the JSON
// Schemas of the bodies the handlers build (RequestJson, EntityJson, ...). The schemas list every
// property the handlers write and refuse others (additionalProperties: false), so that the
// end-to-end answers validated against them (tests/openapi/) show a drift either way.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "http/route_doc.h"

namespace vaxledger::http::registry_api {

// The components/schemas entries these docs refer to ("#/components/schemas/NAME").
nlohmann::json Schemas();

RouteDoc Login();
RouteDoc WhoAmI();
RouteDoc Logout();
RouteDoc ChooseEntity();
RouteDoc Vaccines();
RouteDoc RequestAccess();
RouteDoc CheckRiziv();
RouteDoc FindEntities();
RouteDoc ListRequests();
RouteDoc GetRequest();
RouteDoc Approve();
RouteDoc Reject();
RouteDoc GetEntity();
RouteDoc LinkRequest();
RouteDoc UnlinkRequest();
RouteDoc EntityVaccinations();
RouteDoc GetStock();
RouteDoc Deliver();
RouteDoc Adjust();
RouteDoc Register();
RouteDoc RegisterBatch();
RouteDoc SearchPatient();
RouteDoc GetPatient();
RouteDoc DeclareCare();
RouteDoc ListCareDeclarations();
RouteDoc Correct();
RouteDoc Retract();
RouteDoc Consent();
RouteDoc Roles();
RouteDoc Erasures();
RouteDoc Entries();
RouteDoc Events();

}  // namespace vaxledger::http::registry_api
