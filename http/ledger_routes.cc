#include "http/ledger_routes.h"

#include <nlohmann/json.hpp>

#include "eventstore/checkpoint.h"

namespace vaxledger::http {
namespace {

using eventstore::EventLog;

Response Json(const nlohmann::json& body) {
  Response r;
  r.body = JsonText(body);
  return r;
}

std::string B64(const Hash& h) { return Base64Encode(AsBytes(h)); }

// The query parameter `name` as a decimal number, or `fallback` when absent.
Result<uint64_t> U64Param(const Request& req, const std::string& name,
                          std::optional<uint64_t> fallback) {
  auto it = req.query.find(name);
  if (it == req.query.end()) {
    if (fallback) return *fallback;
    return InvalidArgument(name + ": is required", name);
  }
  auto v = ParseDecimal(it->second, name);
  if (!v.ok()) return InvalidArgument(name + ": must be a non-negative decimal number", name);
  return *v;
}

nlohmann::json Hashes(const std::vector<Hash>& proof) {
  nlohmann::json out = nlohmann::json::array();
  for (const Hash& h : proof) out.push_back(B64(h));
  return out;
}

}  // namespace

void AddLedgerRoutes(Router& router, EventLog& log) {
  router.Add("GET", "/v1/ledger/checkpoint", [&log](const Request&) {
    auto head = log.Head();
    if (head.checkpoint.empty()) {
      return ProblemResponse(NotFound("the log has no checkpoint yet"));
    }
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = head.checkpoint;
    return r;
  });

  router.Add("GET", "/v1/ledger/proof/inclusion", [&log](const Request& req) {
    const uint64_t head = log.Size();
    auto index = U64Param(req, "index", std::nullopt);
    if (!index.ok()) return ProblemResponse(index.status());
    auto size = U64Param(req, "size", head);
    if (!size.ok()) return ProblemResponse(size.status());
    auto proof = log.InclusionProof(*index, *size);
    if (!proof.ok()) return ProblemResponse(proof.status());
    auto leaf = log.Read(*index, 1);
    if (!leaf.ok() || leaf->empty()) {
      return ProblemResponse(leaf.ok() ? Internal("leaf missing") : leaf.status());
    }
    return Json({{"index", *index},
                 {"size", *size},
                 {"leaf_hash", B64(leaf->front().leaf_hash)},
                 {"proof", Hashes(*proof)}});
  });

  router.Add("GET", "/v1/ledger/proof/consistency", [&log](const Request& req) {
    const uint64_t head = log.Size();
    auto from = U64Param(req, "from", std::nullopt);
    if (!from.ok()) return ProblemResponse(from.status());
    auto to = U64Param(req, "to", head);
    if (!to.ok()) return ProblemResponse(to.status());
    auto proof = log.ConsistencyProof(*from, *to);
    if (!proof.ok()) return ProblemResponse(proof.status());
    return Json({{"from", *from}, {"to", *to}, {"proof", Hashes(*proof)}});
  });

  router.Add("GET", "/v1/ledger/keys", [&log](const Request&) {
    auto schedule = eventstore::ReadKeySchedule(log.storage());
    if (!schedule.ok()) return ProblemResponse(schedule.status());
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& [from, key] : *schedule) {
      keys.push_back({{"vkey", key.ToText()}, {"from_index", from}});
    }
    if (keys.empty()) keys.push_back({{"vkey", log.Head().key.ToText()}, {"from_index", 0}});
    return Json({{"keys", keys}});
  });
}

void AddHealthRoutes(Router& router, EventLog& log) {
  router.Add("GET", "/healthz", [](const Request&) { return Json({{"status", "ok"}}); });
  router.Add("GET", "/readyz", [&log](const Request&) {
    auto head = log.Head();
    auto probe = log.Read(head.size == 0 ? 0 : head.size - 1, 1);
    if (!probe.ok())
      return ProblemResponse(Unavailable("log not readable: " + probe.status().message()));
    return Json({{"status", "ready"}, {"log_size", head.size}});
  });
}

}  // namespace vaxledger::http
