#include "tools/witness.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/cosignature.h"
#include "core/merkle.h"
#include "eventstore/checkpoint.h"
#include "eventstore/registry_key.h"

namespace vaxledger::tools {
namespace {

Result<Cosigner> LoadOrCreateKey(const WitnessOptions& o) {
  if (std::filesystem::exists(o.key_path)) {
    VX_ASSIGN_OR_RETURN(std::string text, eventstore::ReadSecretFile(o.key_path, "witness key"));
    return Cosigner::Parse(text);
  }
  if (o.name.empty()) {
    return FailedPrecondition("witness key " + o.key_path +
                              " does not exist: pass --name to make one");
  }
  if (Status name = ValidateKeyName(o.name); !name.ok()) {
    return InvalidArgument("--name: " + name.message(), "name");
  }
  Cosigner cosigner(o.name, Ed25519Key::Generate());
  VX_RETURN_IF_ERROR(
      eventstore::CreateSecretFile(o.key_path, "witness key", cosigner.ToPrivateText()));
  return cosigner;
}

Result<std::vector<Hash>> ParseProof(const std::string& text, uint64_t from, uint64_t to) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("proof") || !j["proof"].is_array() ||
      !j.value("from", nlohmann::json()).is_number_unsigned() ||
      !j.value("to", nlohmann::json()).is_number_unsigned()) {
    return InvalidArgument("proof: expected {\"from\", \"to\", \"proof\": [base64, ...]}", "proof");
  }
  if (j["from"].get<uint64_t>() != from || j["to"].get<uint64_t>() != to) {
    return FailedPrecondition("proof: is from " + j["from"].dump() + " to " + j["to"].dump() +
                              ", needed from " + std::to_string(from) + " to " +
                              std::to_string(to));
  }
  std::vector<Hash> proof;
  for (const auto& h : j["proof"]) {
    if (!h.is_string()) return InvalidArgument("proof: hashes are base64 strings", "proof");
    VX_ASSIGN_OR_RETURN(Bytes raw, Base64Decode(h.get<std::string>(), "proof hash"));
    if (raw.size() != 32) return InvalidArgument("proof: a hash is not 32 bytes", "proof");
    Hash hash;
    std::copy(raw.begin(), raw.end(), hash.begin());
    proof.push_back(hash);
  }
  return proof;
}

Status WriteState(const std::string& path, const std::string& note) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << note;
    out.flush();
    if (!out) return Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable("cannot replace " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::string> Witness(const WitnessOptions& o) {
  VX_ASSIGN_OR_RETURN(Cosigner cosigner, LoadOrCreateKey(o));
  auto next = eventstore::OpenCheckpoint(o.checkpoint, o.log_keys);
  if (!next.ok()) {
    return InvalidArgument("the checkpoint does not verify with the log's key: " +
                           next.status().message());
  }
  if (std::filesystem::exists(o.state_path)) {
    std::ifstream in(o.state_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto last = eventstore::OpenCheckpoint(text.str(), o.log_keys);
    if (!last.ok()) {
      return FailedPrecondition("the state " + o.state_path +
                                " does not verify with the log's key: " + last.status().message());
    }
    if (last->origin != next->origin) {
      return FailedPrecondition("the checkpoint is of log " + next->origin + ", the state of " +
                                last->origin);
    }
    if (next->size < last->size) {
      return FailedPrecondition("rollback: the checkpoint has " + std::to_string(next->size) +
                                " entries, fewer than the " + std::to_string(last->size) +
                                " this witness cosigned");
    }
    if (next->size == last->size && next->root != last->root) {
      return FailedPrecondition("split view: another root for tree size " +
                                std::to_string(next->size) + " than the one this witness cosigned");
    }
    if (next->size > last->size) {
      if (o.proof.empty()) {
        return FailedPrecondition("a consistency proof from " + std::to_string(last->size) +
                                  " to " + std::to_string(next->size) + " is needed (--proof)");
      }
      VX_ASSIGN_OR_RETURN(auto proof, ParseProof(o.proof, last->size, next->size));
      Status consistent =
          merkle::VerifyConsistency(last->size, next->size, last->root, next->root, proof);
      if (!consistent.ok()) {
        return FailedPrecondition("the log does not extend the checkpoint this witness cosigned: " +
                                  consistent.message());
      }
    }
  }
  VX_RETURN_IF_ERROR(WriteState(o.state_path, o.checkpoint));
  const uint64_t now =
      o.clock_s ? o.clock_s()
                : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  // The whole note text is cosigned, extension lines included (tlog-cosignature); the line goes
  // after the log's own.
  const size_t split = o.checkpoint.rfind("\n\n");
  const std::string signed_body = o.checkpoint.substr(0, split + 1);
  return o.checkpoint + cosigner.SignatureLine(signed_body, now);
}

}  // namespace vaxledger::tools
