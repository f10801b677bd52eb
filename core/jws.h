// Compact JWS signed with EdDSA over Ed25519 (RFC 7515, RFC 8037): the form in which the
// identity provider hands a person a signed assertion (SPEC §4).
//
//   jws = base64url(header) "." base64url(payload) "." base64url(signature)
//   header = {"alg":"EdDSA", "kid": key id (optional), ...}; signature over the first two parts
//
// Only "EdDSA" is accepted ("none" and every other alg are refused), so a token cannot choose a
// weaker check. Refusals are Unauthenticated with the reason.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger {

struct JwsVerifyKey {
  std::string kid;  // matched against the header's "kid"; a token without kid tries every key
  PublicKey key{};
};

// Signs `payload` with header {"alg":"EdDSA"} plus "kid" when not empty.
std::string SignJws(std::string_view payload, const Ed25519Key& key, std::string_view kid = {});

// The payload of a valid compact JWS signed by one of `keys`.
Result<std::string> VerifyJws(std::string_view jws, const std::vector<JwsVerifyKey>& keys);

// Verifies the JWS and its claims as an identity-provider assertion: a JSON object whose "exp"
// (seconds since the epoch) is after `now_s - leeway_s`, whose "aud" is (or, as an array,
// contains) `audience`, and which has a string "sub". Returns the claims.
Result<nlohmann::json> VerifyAssertion(std::string_view jws, const std::vector<JwsVerifyKey>& keys,
                                       std::string_view audience, int64_t now_s,
                                       int64_t leeway_s = 60);

}  // namespace vaxledger
