#include "http/metrics.h"

#include <fmt/core.h>

namespace vaxledger::http {

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}) {
    if (method == known) return known;
  }
  return "other";
}

void Metrics::Record(const std::string& route, const std::string& method, int status,
                     double seconds) {
  size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  std::lock_guard lock(mu_);
  RouteStats& r = routes_[{route, std::string(MethodLabel(method))}];
  ++r.by_status[status];
  ++r.buckets[bucket];
  r.sum += seconds;
  ++r.count;
}

std::string Metrics::Render(const eventstore::EventLog* log) const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    out +=
        "# HELP vaxledger_http_requests_total HTTP requests answered, by route, method and "
        "status.\n";
    out += "# TYPE vaxledger_http_requests_total counter\n";
    for (const auto& [key, r] : routes_) {
      for (const auto& [status, n] : r.by_status) {
        out += fmt::format(
            "vaxledger_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
            key.first, key.second, status, n);
      }
    }
    out += "# HELP vaxledger_http_request_duration_seconds Time to handle a request, by route.\n";
    out += "# TYPE vaxledger_http_request_duration_seconds histogram\n";
    for (const auto& [key, r] : routes_) {
      const std::string labels = fmt::format("route=\"{}\",method=\"{}\"", key.first, key.second);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < r.buckets.size(); ++i) {
        cumulative += r.buckets[i];
        const std::string le =
            i < kLatencyBounds.size() ? fmt::format("{}", kLatencyBounds[i]) : "+Inf";
        out += fmt::format("vaxledger_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                           labels, le, cumulative);
      }
      out += fmt::format("vaxledger_http_request_duration_seconds_sum{{{}}} {}\n", labels, r.sum);
      out +=
          fmt::format("vaxledger_http_request_duration_seconds_count{{{}}} {}\n", labels, r.count);
    }
  }
  if (log != nullptr) {
    const auto head = log->Head();
    const auto stats = log->Stats();
    out += "# HELP vaxledger_log_size Events in the log (the next position).\n";
    out += "# TYPE vaxledger_log_size gauge\n";
    out += fmt::format("vaxledger_log_size {}\n", head.size);
    out += "# HELP vaxledger_log_commits_total Storage commits of the event log.\n";
    out += "# TYPE vaxledger_log_commits_total counter\n";
    out += fmt::format("vaxledger_log_commits_total {}\n", stats.commits);
    out += "# HELP vaxledger_log_failed_commits_total Storage commits that failed.\n";
    out += "# TYPE vaxledger_log_failed_commits_total counter\n";
    out += fmt::format("vaxledger_log_failed_commits_total {}\n", stats.failed_commits);
    out += "# HELP vaxledger_log_commit_batch_events Events per storage commit (group commit).\n";
    out += "# TYPE vaxledger_log_commit_batch_events histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < eventstore::LogStats::kBatchBuckets; ++i) {
      cumulative += stats.batch_size_buckets[i];
      const std::string le =
          i + 1 < eventstore::LogStats::kBatchBuckets ? std::to_string(uint64_t{1} << i) : "+Inf";
      out +=
          fmt::format("vaxledger_log_commit_batch_events_bucket{{le=\"{}\"}} {}\n", le, cumulative);
    }
    out += fmt::format("vaxledger_log_commit_batch_events_sum {}\n", stats.events);
    out += fmt::format("vaxledger_log_commit_batch_events_count {}\n", stats.commits);
  }
  return out;
}

namespace {

RouteDoc MetricsDoc() {
  RouteDoc d;
  d.summary = "Prometheus text exposition (version 0.0.4)";
  d.tag = "operations";
  d.authenticated = false;
  d.responses = {{200,
                  "Counters, histograms and gauges",
                  {{"text/plain; version=0.0.4; charset=utf-8", {{"type", "string"}}}},
                  {}}};
  return d;
}

}  // namespace

void AddMetricsRoute(Router& router, const Metrics& metrics, const eventstore::EventLog& log,
                     std::function<std::string()> extra) {
  router.Add("GET", "/metrics", MetricsDoc(), [&metrics, &log, extra](const Request&) {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.Render(&log);
    if (extra) r.body += extra();
    return r;
  });
}

}  // namespace vaxledger::http
