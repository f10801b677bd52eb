#include "core/jws.h"

#include <optional>

namespace vaxledger {
namespace {

Status Refuse(const std::string& why) {
  return Status(Code::kUnauthenticated, "assertion: " + why, "assertion");
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

namespace {

struct Verified {
  std::string payload;
  const JwsVerifyKey* key = nullptr;  // the key whose signature verified
  Signature signature{};
};

Result<Verified> Verify(std::string_view jws, const std::vector<JwsVerifyKey>& keys) {
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
  Verified out;
  std::copy(sig_raw->begin(), sig_raw->end(), out.signature.begin());
  const std::string kid = header.contains("kid") && header["kid"].is_string()
                              ? header["kid"].get<std::string>()
                              : std::string();
  const ByteView input = AsBytes(jws.substr(0, second));
  bool known = false;
  for (const JwsVerifyKey& k : keys) {
    if (!kid.empty() && k.kid != kid) continue;
    known = true;
    if (Ed25519Verify(k.key, input, out.signature)) {
      out.payload = std::string(AsChars(*payload));
      out.key = &k;
      return out;
    }
  }
  return Refuse(known ? "the signature does not verify" : "signed by an unknown key id " + kid);
}

Status RefuseClaim(const std::string& claim, const std::string& rule) {
  return Status(Code::kUnauthenticated, "assertion: " + claim + ": " + rule, "assertion." + claim);
}

// The integer claim `name`, or nullopt when absent; a refusal when it is not an integer.
Result<std::optional<int64_t>> TimeClaim(const nlohmann::json& claims, const std::string& name) {
  if (!claims.contains(name)) return std::optional<int64_t>();
  const auto& v = claims[name];
  if (!v.is_number_integer()) {
    return RefuseClaim(name, "must be an integer (seconds since 1970-01-01 UTC)");
  }
  return std::optional<int64_t>(v.get<int64_t>());
}

}  // namespace

Result<std::string> VerifyJws(std::string_view jws, const std::vector<JwsVerifyKey>& keys) {
  VX_ASSIGN_OR_RETURN(Verified v, Verify(jws, keys));
  return std::move(v.payload);
}

Result<Assertion> VerifyAssertion(std::string_view jws, const std::vector<JwsVerifyKey>& keys,
                                  const AssertionRules& rules, int64_t now_s) {
  VX_ASSIGN_OR_RETURN(Verified v, Verify(jws, keys));
  Assertion out;
  out.claims = nlohmann::json::parse(v.payload, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json& claims = out.claims;
  if (!claims.is_object()) return Refuse("the payload is not a JSON object");

  const std::string want_iss = v.key->issuer;
  if (!claims.contains("iss") || !claims["iss"].is_string()) {
    return RefuseClaim("iss", "is required (a string naming the identity provider)");
  }
  if (want_iss.empty() || claims["iss"].get<std::string>() != want_iss) {
    return RefuseClaim(
        "iss", "must be the issuer of the key that signed it" +
                   (want_iss.empty() ? std::string(" (none configured)") : " (" + want_iss + ")"));
  }

  bool audience_ok = false;
  if (claims.contains("aud")) {
    const auto& aud = claims["aud"];
    if (aud.is_string()) audience_ok = aud.get<std::string>() == rules.audience;
    if (aud.is_array()) {
      for (const auto& a : aud) {
        audience_ok |= a.is_string() && a.get<std::string>() == rules.audience;
      }
    }
  }
  if (rules.audience.empty() || !audience_ok) {
    return RefuseClaim("aud", "must name this registry (" + rules.audience + ")");
  }
  if (!claims.contains("sub") || !claims["sub"].is_string()) {
    return RefuseClaim("sub", "is required (a string)");
  }
  out.subject = claims["sub"].get<std::string>();

  const std::string max = std::to_string(rules.max_lifetime_s) + " s";
  VX_ASSIGN_OR_RETURN(auto exp, TimeClaim(claims, "exp"));
  if (!exp) return RefuseClaim("exp", "is required");
  if (*exp < now_s - rules.leeway_s) return RefuseClaim("exp", "expired");
  if (*exp - now_s > rules.max_lifetime_s + rules.leeway_s) {
    return RefuseClaim("exp", "may be at most " + max + " from now");
  }
  VX_ASSIGN_OR_RETURN(auto iat, TimeClaim(claims, "iat"));
  if (!iat) return RefuseClaim("iat", "is required");
  if (*iat > now_s + rules.leeway_s) return RefuseClaim("iat", "is in the future");
  if (*iat >= *exp) return RefuseClaim("exp", "must be after iat");
  if (*exp - *iat > rules.max_lifetime_s) {
    return RefuseClaim("exp", "may be at most " + max + " after iat");
  }
  VX_ASSIGN_OR_RETURN(auto nbf, TimeClaim(claims, "nbf"));
  if (nbf && *nbf > now_s + rules.leeway_s) return RefuseClaim("nbf", "not valid yet");

  out.id = Sha256(ByteView(v.signature.data(), v.signature.size()));
  out.accepted_until_s = *exp + rules.leeway_s;
  return out;
}

}  // namespace vaxledger
