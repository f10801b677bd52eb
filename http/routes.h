// Every route `vaxledger serve` has, on one router: health, metrics, the ledger, the registry
// and the OpenAPI document. One function, so that the server and the tests that check the API
// description see the same routes.
#pragma once

#include "eventstore/event_log.h"
#include "http/certificate_routes.h"
#include "http/impact_routes.h"
#include "http/ledger_routes.h"
#include "http/metrics.h"
#include "http/registry_routes.h"
#include "http/router.h"
#include "http/sessions.h"
#include "projections/read_recorder.h"
#include "projections/registry.h"

namespace vaxledger::http {

struct RegistryServices {
  projections::Registry& registry;
  SessionStore& sessions;
  projections::ReadRecorder& reads;
  RegistryRoutesOptions options;
  // The impact figures (issue 11); null: their routes answer 503.
  projections::ImpactProjection* impact = nullptr;
  projections::ImpactFollower* impact_follower = nullptr;
};

// Counts requests in `metrics`. Everything must outlive the router.
// `certificates`: the proof-of-vaccination routes' options (without a signer, issuing answers 503).
// `ledger` names the witnesses whose cosignatures are published.
void AddAllRoutes(Router& router, eventstore::EventLog& log, Metrics& metrics,
                  RegistryServices services, CertificateRoutesOptions certificates = {},
                  LedgerRoutesOptions ledger = {});

}  // namespace vaxledger::http
