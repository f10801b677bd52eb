// The impact figures over HTTP (SPEC §2 flow 8, issue 11; docs/impact.md, docs/api.md):
//
//   GET  /v1/impact/doses?from&to&by=day|week&product&region&as_of    doses per day or ISO week
//   GET  /v1/impact/coverage?date&by=age|region|age,region|total&as_of  coverage on a date
//   POST /v1/impact/population   (text/csv body, ?source=NAME)     an administrator loads the
//                                                                   population file
//
// JSON, or CSV with `Accept: text/csv`. Who sees what: administrators and auditors every figure;
// a member of an entity (physician, HAIO, staff) the doses per day of the session's entity only
// (coverage: 403); anyone else 403. Every count below 5 is "<5" for everyone but administrators
// (statistical disclosure control; shares of masked counts are null). With `as_of`, the figures
// of an in-memory projection replayed from the log up to that bound (exact; O(position)).
//
// Thread-safety: handlers run on any thread; everything they use is thread-safe.
#pragma once

#include <functional>

#include "http/router.h"
#include "http/sessions.h"
#include "projections/impact.h"
#include "projections/registry.h"

namespace vaxledger::http {

struct ImpactRoutesOptions {
  // UTC microseconds; default the system clock (the default coverage date is today).
  std::function<int64_t()> clock_us;
  // As-of projections kept for the next queries (the page asks doses and coverage at the same
  // bound). Default 2.
  size_t as_of_cache = 2;
  // A read answers once the live projection has applied every event the log held when the
  // request came (so a caller sees their own registrations); how long it waits for that at most
  // (then 503). Default 5 s.
  std::chrono::milliseconds wait_for = std::chrono::seconds(5);
};

// `impact` may be null (the routes then answer 503); `follower` may be null. Everything must
// outlive the router.
void AddImpactRoutes(Router& router, projections::Registry& registry, SessionStore& sessions,
                     projections::ImpactProjection* impact, projections::ImpactFollower* follower,
                     ImpactRoutesOptions options = {});

}  // namespace vaxledger::http
