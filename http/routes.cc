#include "http/routes.h"

#include <string>

#include "http/ledger_routes.h"
#include "http/openapi.h"
#include "http/web_assets.h"

namespace vaxledger::http {

void AddAllRoutes(Router& router, eventstore::EventLog& log, Metrics& metrics,
                  RegistryServices services, CertificateRoutesOptions certificates,
                  LedgerRoutesOptions ledger) {
  router.set_metrics(&metrics);
  AddHealthRoutes(router, log);
  projections::Registry& registry = services.registry;
  AddMetricsRoute(router, metrics, log, [&registry] {
    std::string text =
        "# HELP vaxledger_view_position Next log position each view's store holds.\n"
        "# TYPE vaxledger_view_position gauge\n";
    const auto positions = registry.view_positions();
    for (size_t v = 0; v < projections::kViewCount; ++v) {
      text += "vaxledger_view_position{view=\"" + std::string(projections::kViewNames[v]) + "\"} " +
              std::to_string(positions[v]) + "\n";
    }
    text +=
        "# HELP vaxledger_views_applied Next log position the in-memory views have applied.\n"
        "# TYPE vaxledger_views_applied gauge\nvaxledger_views_applied " +
        std::to_string(registry.applied()) + "\n";
    return text;
  });
  AddLedgerRoutes(router, log, std::move(ledger));
  AddImpactRoutes(router, services.registry, services.sessions, services.impact,
                  services.impact_follower, {services.options.clock_us});
  AddRegistryRoutes(router, services.registry, services.sessions, services.reads,
                    std::move(services.options));
  AddCertificateRoutes(router, services.registry, services.sessions, services.reads,
                       std::move(certificates));
  AddOpenApiRoute(router);
  AddWebRoutes(router);
}

}  // namespace vaxledger::http
