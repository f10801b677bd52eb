// Demo mode (`vaxledger serve --demo`): demo people and their data, seeded once and
// deterministically, and a login route that stands in for the identity provider.
//
// The seed goes through the registry's commands with fixed idempotency keys and ids, so seeding
// again (every start in demo mode) appends nothing. It needs the demo administrator as the
// registry's first administrator (`vaxledger init --admin` with DemoAdministratorInsz(), which
// `tools/dev.sh demo` does).
//
// Thread-safety: SeedDemo runs before the server starts; the route is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"
#include "http/registry_routes.h"
#include "http/router.h"
#include "projections/registry.h"

namespace vaxledger::tools {

struct DemoPerson {
  std::string insz;
  std::string name;
  std::string email;
  std::string what;  // e.g. "physician, Groepspraktijk De Linde"
};

std::string DemoAdministratorInsz();
// Every demo person, the administrator first.
const std::vector<DemoPerson>& DemoPeople();

// Seeds the demo data. FailedPrecondition when the demo administrator is not an administrator.
Status SeedDemo(projections::Registry& registry);

// POST /v1/demo/login {"insz": "..."}: signs an assertion for the person with the development
// provider's key and answers as POST /v1/sessions would. GET /v1/demo/people lists the demo
// people. Only in demo mode.
void AddDemoRoutes(http::Router& router, const NoteSigner& dev_idp, std::string audience);

}  // namespace vaxledger::tools
