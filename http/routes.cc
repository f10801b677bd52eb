#include "http/routes.h"

#include "http/ledger_routes.h"
#include "http/openapi.h"

namespace vaxledger::http {

void AddAllRoutes(Router& router, eventstore::EventLog& log, Metrics& metrics) {
  router.set_metrics(&metrics);
  AddHealthRoutes(router, log);
  AddMetricsRoute(router, metrics, log);
  AddLedgerRoutes(router, log);
  AddOpenApiRoute(router);
}

}  // namespace vaxledger::http
