#include "core/jws.h"

namespace vaxledger {
namespace {

Status Refuse(const std::string& why) {
  return Status(Code::kUnauthenticated, "assertion: " + why);
}

}  // namespace

std::string SignJws(std::string_view payload, const Ed25519Key& key, std::string_view kid) {
  nlohmann::json header = {{"alg", "EdDSA"}};
  if (!kid.empty()) header["kid"] = std::string(kid);
  std::string input =
      Base64UrlEncode(AsBytes(header.dump())) + "." + Base64UrlEncode(AsBytes(payload));
  Signature sig = key.Sign(AsBytes(input));
  return input + "." + Base64UrlEncode(ByteView(sig.data(), sig.size()));
}

Result<std::string> VerifyJws(std::string_view jws, const std::vector<JwsVerifyKey>& keys) {
  const size_t first = jws.find('.');
  const size_t second = first == std::string_view::npos ? first : jws.find('.', first + 1);
  if (second == std::string_view::npos || jws.find('.', second + 1) != std::string_view::npos) {
    return Refuse("not a compact JWS (three base64url parts)");
  }
  auto header_raw = Base64UrlDecode(jws.substr(0, first));
  auto payload = Base64UrlDecode(jws.substr(first + 1, second - first - 1));
  auto sig_raw = Base64UrlDecode(jws.substr(second + 1));
  if (!header_raw.ok() || !payload.ok() || !sig_raw.ok()) return Refuse("a part is not base64url");
  auto header = nlohmann::json::parse(AsChars(*header_raw), nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return Refuse("the header is not a JSON object");
  if (!header.contains("alg") || header["alg"] != "EdDSA") return Refuse("alg must be EdDSA");
  if (header.contains("crit")) return Refuse("no critical header extensions are understood");
  if (sig_raw->size() != 64) return Refuse("the signature is not 64 bytes");
  Signature sig;
  std::copy(sig_raw->begin(), sig_raw->end(), sig.begin());
  const std::string kid = header.contains("kid") && header["kid"].is_string()
                              ? header["kid"].get<std::string>()
                              : std::string();
  const ByteView input = AsBytes(jws.substr(0, second));
  bool known = false;
  for (const JwsVerifyKey& k : keys) {
    if (!kid.empty() && k.kid != kid) continue;
    known = true;
    if (Ed25519Verify(k.key, input, sig)) return std::string(AsChars(*payload));
  }
  return Refuse(known ? "the signature does not verify" : "signed by an unknown key id " + kid);
}

Result<nlohmann::json> VerifyAssertion(std::string_view jws, const std::vector<JwsVerifyKey>& keys,
                                       std::string_view audience, int64_t now_s, int64_t leeway_s) {
  VX_ASSIGN_OR_RETURN(std::string payload, VerifyJws(jws, keys));
  auto claims = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return Refuse("the payload is not a JSON object");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer()) {
    return Refuse("exp is missing or not an integer");
  }
  if (claims["exp"].get<int64_t>() < now_s - leeway_s) return Refuse("expired");
  bool audience_ok = false;
  if (claims.contains("aud")) {
    const auto& aud = claims["aud"];
    if (aud.is_string()) audience_ok = aud.get<std::string>() == audience;
    if (aud.is_array()) {
      for (const auto& a : aud) audience_ok |= a.is_string() && a.get<std::string>() == audience;
    }
  }
  if (!audience_ok) return Refuse("aud does not name this registry");
  if (!claims.contains("sub") || !claims["sub"].is_string()) return Refuse("sub is missing");
  return claims;
}

}  // namespace vaxledger
