// The registry's routes under /v1 (SPEC §2 flows 1-6, SPEC §4 conventions): sessions from the
// identity provider's assertion, access, link and unlink requests and their approval,
// vaccinations, patients' histories, stock, roles, and the auditors' ledger entries.
// docs/api.md lists every route with an example.
//
// Authentication: a session token as a bearer token (`Authorization: Bearer T`) or the
// `vx_session` cookie (HttpOnly, SameSite=Strict). Authorisation: the commands' rules
// (core/registry_commands.h) plus, for reads, membership of the entity in the path (others get
// 404), a registration by the session's entity for a patient's history (others get 404), the
// administrator role for the request queue, the auditor role for ledger entries.
//
// Thread-safety: handlers run on any thread; everything they use is thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/jws.h"
#include "http/router.h"
#include "http/sessions.h"
#include "projections/read_recorder.h"
#include "projections/registry.h"

namespace vaxledger::http {

struct RegistryRoutesOptions {
  // The identity providers' public keys, each with its issuer. Required (an empty list refuses
  // every login).
  std::vector<JwsVerifyKey> providers;
  // What an assertion must satisfy (core/jws.h): its audience (required; `vaxledger serve` uses
  // the registry's origin), its longest lifetime (default 10 minutes) and the clock skew.
  AssertionRules assertions;
  // UTC microseconds; default the system clock.
  std::function<int64_t()> clock_us;
  // Mark the session cookie Secure (when served over TLS, e.g. behind a proxy). Default false.
  bool secure_cookie = false;
  // Most rows in one batch registration. Default 1000.
  size_t max_batch_rows = 1000;
};

// Everything must outlive the router.
void AddRegistryRoutes(Router& router, projections::Registry& registry, SessionStore& sessions,
                       projections::ReadRecorder& reads, RegistryRoutesOptions options);

}  // namespace vaxledger::http
