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
  // For VerifyAssertion: the "iss" that an assertion signed with this key must carry (the
  // identity provider's name; for a C2SP verifier key, its name). Empty: every assertion signed
  // with this key is refused.
  std::string issuer;
};

// Signs `payload` with header {"alg":"EdDSA"} plus "kid" when not empty.
std::string SignJws(std::string_view payload, const Ed25519Key& key, std::string_view kid = {});

// The payload of a valid compact JWS signed by one of `keys`.
Result<std::string> VerifyJws(std::string_view jws, const std::vector<JwsVerifyKey>& keys);

// What an identity-provider assertion must satisfy to open a session (docs/api.md, "Sessions and
// assertions"). Times are seconds since the epoch.
struct AssertionRules {
  // The "aud" an assertion must carry (as a string, or an array containing it). Required: the
  // server uses the registry's origin (the name in its checkpoints), so that an assertion made
  // for another registry, e.g. a test instance trusting the same provider, opens nothing here.
  std::string audience;
  // Longest lifetime: exp - iat and exp - now may not exceed it. Default 600 (10 minutes).
  int64_t max_lifetime_s = 600;
  // Clock skew tolerated between the provider and this server, for exp, iat and nbf. Default 60.
  int64_t leeway_s = 60;
};

// A checked assertion.
struct Assertion {
  nlohmann::json claims;  // the payload, a JSON object
  std::string subject;    // "sub"
  // Names this assertion for replay refusal: SHA-256 of the signature's 64 bytes (a signature
  // covers header and payload, and an Ed25519 signature cannot be altered and still verify).
  Hash id{};
  // After this (exp + leeway_s), VerifyAssertion refuses it anyway: a record of its use can be
  // forgotten then.
  int64_t accepted_until_s = 0;
};

// Verifies the JWS and its claims as an identity-provider assertion. Refusals are
// Unauthenticated, with the claim as field ("assertion.exp") and the rule in the message:
//   iss  a string equal to the issuer of the key that verified the signature;
//   aud  rules.audience, or an array containing it;
//   sub  a string;
//   exp  an integer, exp >= now - leeway (not expired), exp - now <= max_lifetime + leeway;
//   iat  an integer, iat <= now + leeway (not in the future), iat < exp,
//        exp - iat <= max_lifetime;
//   nbf  optional; an integer, nbf <= now + leeway.
Result<Assertion> VerifyAssertion(std::string_view jws, const std::vector<JwsVerifyKey>& keys,
                                  const AssertionRules& rules, int64_t now_s);

}  // namespace vaxledger
