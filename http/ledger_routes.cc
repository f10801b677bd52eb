#include "http/ledger_routes.h"

#include <map>
#include <memory>
#include <mutex>
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

nlohmann::json Hash64() { return {{"type", "string"}, {"format", "byte"}}; }
nlohmann::json Count() { return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}; }

ParamDoc Size(std::string name, std::string description, bool required) {
  return {std::move(name), "query", std::move(description), Count(), required};
}

RouteDoc Public(std::string summary, std::string tag, ResponseDoc answer,
                std::vector<int> problems) {
  RouteDoc d;
  d.summary = std::move(summary);
  d.tag = std::move(tag);
  d.authenticated = false;
  d.responses = {std::move(answer)};
  d.problems = std::move(problems);
  return d;
}

ResponseDoc JsonAnswer(std::string description, nlohmann::json properties) {
  nlohmann::json required = nlohmann::json::array();
  for (const auto& [name, schema] : properties.items()) required.push_back(name);
  return {200,
          std::move(description),
          {{"application/json",
            {{"type", "object"},
             {"additionalProperties", false},
             {"required", required},
             {"properties", std::move(properties)}}}},
          {}};
}

RouteDoc CheckpointDoc() {
  return Public("The latest signed checkpoint (C2SP tlog-checkpoint)", "ledger",
                {200, "A signed note", {{"text/plain; charset=utf-8", {{"type", "string"}}}}, {}},
                {404});
}

RouteDoc InclusionDoc() {
  RouteDoc d =
      Public("RFC 9162 inclusion proof", "ledger",
             JsonAnswer("The proof", {{"index", Count()},
                                      {"size", Count()},
                                      {"leaf_hash", Hash64()},
                                      {"proof", {{"type", "array"}, {"items", Hash64()}}}}),
             {400});
  d.params = {Size("index", "Leaf index", true),
              Size("size", "Tree size (default: the latest checkpoint's)", false)};
  return d;
}

RouteDoc ConsistencyDoc() {
  RouteDoc d =
      Public("RFC 9162 consistency proof", "ledger",
             JsonAnswer("The proof", {{"from", Count()},
                                      {"to", Count()},
                                      {"proof", {{"type", "array"}, {"items", Hash64()}}}}),
             {400});
  d.params = {Size("from", "Older tree size", true),
              Size("to", "Newer tree size (default: the latest checkpoint's)", false)};
  return d;
}

RouteDoc KeysDoc() {
  nlohmann::json key = {{"type", "object"},
                        {"additionalProperties", false},
                        {"required", nlohmann::json::array({"vkey", "from_index"})},
                        {"properties", {{"vkey", {{"type", "string"}}}, {"from_index", Count()}}}};
  return Public("The key schedule, as C2SP verifier keys", "ledger",
                JsonAnswer("Each key and the first log index it signs",
                           {{"keys", {{"type", "array"}, {"items", key}}}}),
                {});
}

RouteDoc CosignaturesDoc() {
  RouteDoc d =
      Public("Witnesses: post a checkpoint they cosigned (C2SP tlog-cosignature)", "ledger",
             JsonAnswer("The trusted witnesses whose cosignatures verified",
                        {{"accepted", {{"type", "array"}, {"items", {{"type", "string"}}}}}}),
             {400});
  d.body = {{"text/plain", {{"type", "string"}}}};
  return d;
}

// The latest cosignature line per trusted witness, with the checkpoint text it cosigned.
class WitnessLines {
 public:
  explicit WitnessLines(std::vector<CosignerVerifierKey> witnesses)
      : witnesses_(std::move(witnesses)) {}

  // The names of the trusted witnesses whose cosignatures in `note` (a checkpoint of `log`)
  // verify; those are kept when the checkpoint is not smaller than what was kept.
  Result<std::vector<std::string>> Add(const std::string& note, EventLog& log) {
    auto checkpoint = eventstore::OpenCheckpoint(note, {log.Head().key});
    if (!checkpoint.ok()) {
      return InvalidArgument("the checkpoint does not verify with the registry's key: " +
                                 checkpoint.status().message(),
                             "body");
    }
    const std::string text = note.substr(0, note.rfind("\n\n") + 1);
    std::vector<std::string> accepted;
    std::string refusals;
    for (const CosignerVerifierKey& w : witnesses_) {
      auto stamp = VerifyCosignature(note, w);
      if (!stamp.ok()) {
        if (stamp.status().code() != Code::kNotFound) refusals += " " + stamp.status().message();
        continue;
      }
      accepted.push_back(w.name);
      std::lock_guard lock(mu_);
      Kept& kept = kept_[w.name];
      if (checkpoint->size < kept.size) continue;
      kept = {checkpoint->size, text, LineOf(note, w)};
    }
    if (accepted.empty()) {
      return InvalidArgument("no cosignature by a witness this registry trusts verifies" +
                                 (refusals.empty() ? std::string() : ":" + refusals),
                             "body");
    }
    return accepted;
  }

  // `checkpoint` with the lines of the witnesses that cosigned exactly it.
  std::string Published(const std::string& checkpoint) const {
    const std::string text = checkpoint.substr(0, checkpoint.rfind("\n\n") + 1);
    std::string out = checkpoint;
    std::lock_guard lock(mu_);
    for (const auto& [name, kept] : kept_) {
      if (kept.text == text) out += kept.line;
    }
    return out;
  }

 private:
  struct Kept {
    uint64_t size = 0;
    std::string text;  // the checkpoint's note text
    std::string line;  // the witness's signature line, with its LF
  };

  // The signature line of witness `w` in `note` (VerifyCosignature found it).
  static std::string LineOf(const std::string& note, const CosignerVerifierKey& w) {
    const std::string id = Base64Encode(ByteView(w.key_id.data(), w.key_id.size()));
    size_t at = note.rfind("\n\n") + 2;
    while (at < note.size()) {
      const size_t nl = note.find('\n', at);
      std::string line = note.substr(at, nl + 1 - at);
      // "— NAME " then base64 whose first 4 bytes are the key id: compare decoded.
      const std::string prefix = "\xe2\x80\x94 " + w.name + " ";
      if (line.starts_with(prefix)) {
        auto raw = Base64Decode(line.substr(prefix.size(), line.size() - prefix.size() - 1));
        if (raw.ok() && raw->size() >= 4 &&
            std::equal(w.key_id.begin(), w.key_id.end(), raw->begin())) {
          return line;
        }
      }
      at = nl + 1;
    }
    return {};
  }

  const std::vector<CosignerVerifierKey> witnesses_;
  mutable std::mutex mu_;
  std::map<std::string, Kept> kept_;  // by witness name
};

}  // namespace

void AddLedgerRoutes(Router& router, EventLog& log, LedgerRoutesOptions options) {
  auto witness_lines = std::make_shared<WitnessLines>(std::move(options.witnesses));
  router.Add("POST", "/v1/ledger/cosignatures", CosignaturesDoc(),
             [&log, witness_lines](const Request& req) {
               auto accepted = witness_lines->Add(req.body, log);
               if (!accepted.ok()) return ProblemResponse(accepted.status());
               return Json({{"accepted", *accepted}});
             });

  router.Add("GET", "/v1/ledger/checkpoint", CheckpointDoc(),
             [&log, witness_lines](const Request&) {
               auto head = log.Head();
               if (head.checkpoint.empty()) {
                 return ProblemResponse(NotFound("the log has no checkpoint yet"));
               }
               Response r;
               r.content_type = "text/plain; charset=utf-8";
               r.body = witness_lines->Published(head.checkpoint);
               return r;
             });

  router.Add("GET", "/v1/ledger/proof/inclusion", InclusionDoc(), [&log](const Request& req) {
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

  router.Add("GET", "/v1/ledger/proof/consistency", ConsistencyDoc(), [&log](const Request& req) {
    const uint64_t head = log.Size();
    auto from = U64Param(req, "from", std::nullopt);
    if (!from.ok()) return ProblemResponse(from.status());
    auto to = U64Param(req, "to", head);
    if (!to.ok()) return ProblemResponse(to.status());
    auto proof = log.ConsistencyProof(*from, *to);
    if (!proof.ok()) return ProblemResponse(proof.status());
    return Json({{"from", *from}, {"to", *to}, {"proof", Hashes(*proof)}});
  });

  router.Add("GET", "/v1/ledger/keys", KeysDoc(), [&log](const Request&) {
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
  const RouteDoc alive = Public(
      "The process answers", "operations",
      JsonAnswer("Alive",
                 {{"status", {{"type", "string"}, {"enum", nlohmann::json::array({"ok"})}}}}),
      {});
  router.Add("GET", "/healthz", alive, [](const Request&) { return Json({{"status", "ok"}}); });
  const RouteDoc ready = Public(
      "The event log can be read", "operations",
      JsonAnswer("Ready",
                 {{"status", {{"type", "string"}, {"enum", nlohmann::json::array({"ready"})}}},
                  {"log_size", Count()}}),
      {503});
  router.Add("GET", "/readyz", ready, [&log](const Request&) {
    auto head = log.Head();
    auto probe = log.Read(head.size == 0 ? 0 : head.size - 1, 1);
    if (!probe.ok())
      return ProblemResponse(Unavailable("log not readable: " + probe.status().message()));
    // Reads go on while writes are refused (a full disk, a failed commit): not ready, and why.
    if (Status writes = log.WriteStatus(); !writes.ok()) {
      return ProblemResponse(Unavailable("log not accepting writes: " + writes.message()));
    }
    return Json({{"status", "ready"}, {"log_size", head.size}});
  });
}

}  // namespace vaxledger::http
