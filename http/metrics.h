// Request counters and latency histograms by route, and the event log's figures, in the
// Prometheus text exposition format (version 0.0.4), served at GET /metrics.
//
// Thread-safety: Record and Render may be called from any thread.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "eventstore/event_log.h"
#include "http/router.h"

namespace vaxledger::http {

// The `method` label for a request method: one of the RFC 9110 methods (and PATCH), else
// "other", so that a client cannot create new series by sending made-up methods.
std::string_view MethodLabel(std::string_view method);

class Metrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> kLatencyBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

  // Records one answered request. `route` is the route's path, or "unmatched" (also for requests
  // refused before routing: 413, 431). `method` is labelled by MethodLabel.
  void Record(const std::string& route, const std::string& method, int status, double seconds);

  // The exposition text, with the figures of `log` when it is not null.
  std::string Render(const eventstore::EventLog* log) const;

 private:
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    std::array<uint64_t, kLatencyBounds.size() + 1> buckets{};  // not cumulative; last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, RouteStats> routes_;  // (route, method)
};

// GET /metrics, rendering `metrics`, `log` and the exposition text `extra` returns (other
// gauges, e.g. the views' positions). Both must outlive the router.
void AddMetricsRoute(Router& router, const Metrics& metrics, const eventstore::EventLog& log,
                     std::function<std::string()> extra = {});

}  // namespace vaxledger::http
