// Every route `vaxledger serve` has, on one router: health, metrics, the ledger and the OpenAPI
// document. One function, so that the server and the tests that check the API description see
// the same routes.
#pragma once

#include "eventstore/event_log.h"
#include "http/metrics.h"
#include "http/router.h"

namespace vaxledger::http {

// Counts requests in `metrics`. `log` and `metrics` must outlive the router.
void AddAllRoutes(Router& router, eventstore::EventLog& log, Metrics& metrics);

}  // namespace vaxledger::http
