#include "core/jws.h"

#include <catch2/catch.hpp>

namespace vaxledger {
namespace {

Ed25519Key Rfc8032Key() {
  auto seed = HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  REQUIRE(seed.ok());
  Seed s;
  std::copy(seed->begin(), seed->end(), s.begin());
  return Ed25519Key::FromSeed(s);
}

TEST_CASE("RFC 8037 A.4: the Ed25519 JWS example, byte for byte") {
  const std::string expected =
      "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  Ed25519Key key = Rfc8032Key();
  CHECK(SignJws("Example of Ed25519 signing", key) == expected);
  // RFC 8037 A.2: the public key as the JWK "x" member.
  CHECK(Base64UrlEncode(ByteView(key.public_key().data(), 32)) ==
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  auto payload = VerifyJws(expected, {{"", key.public_key(), ""}});
  REQUIRE(payload.ok());
  CHECK(*payload == "Example of Ed25519 signing");
}

TEST_CASE("forged, altered or weakened tokens are refused as Unauthenticated") {
  Ed25519Key key = Rfc8032Key();
  const std::string good = SignJws("payload", key, "idp-1");
  const std::vector<JwsVerifyKey> keys = {{"idp-1", key.public_key(), "idp.example"}};
  REQUIRE(VerifyJws(good, keys).ok());

  std::string altered = good;
  altered[good.find('.') + 2] ^= 0x01;  // inside the payload
  CHECK(VerifyJws(altered, keys).status().code() == Code::kUnauthenticated);

  const std::string none = Base64UrlEncode(AsBytes(R"({"alg":"none"})")) + "." +
                           Base64UrlEncode(AsBytes("payload")) + ".";
  CHECK_THAT(VerifyJws(none, keys).status().message(), Catch::Contains("alg must be EdDSA"));
  CHECK_THAT(VerifyJws("only.two", keys).status().message(), Catch::Contains("three"));
  CHECK_THAT(VerifyJws(good, {{"idp-2", key.public_key(), ""}}).status().message(),
             Catch::Contains("unknown key id idp-1"));
  Ed25519Key other = Ed25519Key::Generate();
  CHECK_THAT(VerifyJws(good, {{"idp-1", other.public_key(), ""}}).status().message(),
             Catch::Contains("does not verify"));
}

TEST_CASE("assertion claims: exp, aud and sub are checked") {
  Ed25519Key key = Rfc8032Key();
  const std::vector<JwsVerifyKey> keys = {{"idp", key.public_key(), "idp.example"}};
  const AssertionRules rules{"vaxledger", 600, 60};
  auto token = [&](nlohmann::json claims) {
    claims["iss"] = "idp.example";
    if (!claims.contains("iat") && claims.contains("exp"))
      claims["iat"] = claims["exp"].get<int64_t>() - 300;
    return SignJws(claims.dump(), key, "idp");
  };
  const int64_t now = 1'800'000'000;
  auto ok = VerifyAssertion(
      token({{"sub", "85073003328"}, {"aud", "vaxledger"}, {"exp", now + 300}}), keys, rules, now);
  REQUIRE(ok.ok());
  CHECK(ok->claims["sub"] == "85073003328");
  CHECK(ok->subject == "85073003328");
  CHECK(ok->accepted_until_s == now + 300 + 60);
  CHECK(VerifyAssertion(token({{"sub", "x"}, {"aud", {"other", "vaxledger"}}, {"exp", now}}), keys,
                        rules, now)
            .ok());
  CHECK_THAT(VerifyAssertion(token({{"sub", "x"}, {"aud", "vaxledger"}, {"exp", now - 61}}), keys,
                             rules, now)
                 .status()
                 .message(),
             Catch::Contains("expired"));
  CHECK_THAT(VerifyAssertion(token({{"sub", "x"}, {"aud", "elsewhere"}, {"exp", now + 1}}), keys,
                             rules, now)
                 .status()
                 .message(),
             Catch::Contains("aud"));
  CHECK_THAT(VerifyAssertion(token({{"aud", "vaxledger"}, {"exp", now + 1}}), keys, rules, now)
                 .status()
                 .message(),
             Catch::Contains("sub"));
  auto no_exp =
      VerifyAssertion(token({{"sub", "x"}, {"aud", "vaxledger"}, {"iat", now}}), keys, rules, now);
  CHECK(no_exp.status().code() == Code::kUnauthenticated);
  CHECK(no_exp.status().field() == "assertion.exp");
}

// The rules of docs/api.md, "Sessions and assertions": each refusal names the claim (as the
// field) and the rule. Regression (issue 13 point 2): an exp in 2999 was accepted, and iat, nbf
// and iss were not looked at.
TEST_CASE("assertion lifetime, issuer and validity window are bounded") {
  Ed25519Key key = Rfc8032Key();
  const std::vector<JwsVerifyKey> keys = {{"idp", key.public_key(), "idp.example"}};
  const AssertionRules rules{"vaxledger", /*max_lifetime_s=*/600, /*leeway_s=*/60};
  const int64_t now = 1'800'000'000;
  const nlohmann::json good = {{"iss", "idp.example"},
                               {"sub", "x"},
                               {"aud", "vaxledger"},
                               {"iat", now - 10},
                               {"exp", now + 590}};
  auto check = [&](const nlohmann::json& claims) {
    return VerifyAssertion(SignJws(claims.dump(), key, "idp"), keys, rules, now);
  };
  auto with = [&](const char* claim, nlohmann::json value) {
    nlohmann::json c = good;
    if (value.is_null()) {
      c.erase(claim);
    } else {
      c[claim] = value;
    }
    return check(c);
  };
  auto refused = [&](const Result<Assertion>& r, const std::string& field,
                     const std::string& rule) {
    INFO(r.status().message());
    CHECK(r.status().code() == Code::kUnauthenticated);
    CHECK(r.status().field() == field);
    CHECK_THAT(r.status().message(), Catch::Contains(rule));
  };
  REQUIRE(check(good).ok());

  // exp: years away (the 2999 of the report), or just beyond max_lifetime + leeway from now.
  refused(with("exp", int64_t{32503680000}), "assertion.exp", "at most 600 s from now");
  refused(with("exp", now + 661), "assertion.exp", "at most 600 s from now");
  refused(with("exp", "soon"), "assertion.exp", "integer");
  // exp - iat beyond the lifetime, even when exp is near.
  nlohmann::json long_lived = good;
  long_lived["iat"] = now - 3600;
  long_lived["exp"] = now + 60;
  refused(check(long_lived), "assertion.exp", "at most 600 s after iat");
  nlohmann::json backwards = good;
  backwards["iat"] = now + 10;
  backwards["exp"] = now + 10;
  refused(check(backwards), "assertion.exp", "after iat");

  // iat: required, not in the future beyond the skew.
  refused(with("iat", nullptr), "assertion.iat", "required");
  refused(with("iat", now + 61), "assertion.iat", "in the future");
  CHECK(with("iat", now + 60).ok());  // within the clock skew
  refused(with("iat", 1.5), "assertion.iat", "integer");

  // nbf: optional; when there, not after now + skew.
  CHECK(with("nbf", now).ok());
  CHECK(with("nbf", now + 60).ok());
  refused(with("nbf", now + 61), "assertion.nbf", "not valid yet");
  refused(with("nbf", "now"), "assertion.nbf", "integer");

  // iss: required, and the issuer of the key that verified the signature.
  refused(with("iss", nullptr), "assertion.iss", "required");
  refused(with("iss", "other.example"), "assertion.iss", "issuer of the key");
  const std::vector<JwsVerifyKey> unnamed = {{"idp", key.public_key(), ""}};
  refused(VerifyAssertion(SignJws(good.dump(), key, "idp"), unnamed, rules, now), "assertion.iss",
          "none configured");

  // aud: this registry's, and a registry without an audience accepts none.
  refused(with("aud", "vaxledger-test"), "assertion.aud", "must name this registry");
  refused(VerifyAssertion(SignJws(good.dump(), key, "idp"), keys, AssertionRules{}, now),
          "assertion.aud", "must name this registry");
}

TEST_CASE("an assertion's id names its signature: the same bytes, the same id; others differ") {
  Ed25519Key key = Rfc8032Key();
  const std::vector<JwsVerifyKey> keys = {{"idp", key.public_key(), "idp.example"}};
  const int64_t now = 1'800'000'000;
  nlohmann::json claims = {{"iss", "idp.example"}, {"sub", "x"},      {"aud", "vaxledger"},
                           {"iat", now},           {"exp", now + 60}, {"jti", "1"}};
  const std::string one = SignJws(claims.dump(), key, "idp");
  claims["jti"] = "2";
  const std::string two = SignJws(claims.dump(), key, "idp");
  auto a = VerifyAssertion(one, keys, {"vaxledger", 600, 60}, now);
  auto b = VerifyAssertion(one, keys, {"vaxledger", 600, 60}, now);
  auto c = VerifyAssertion(two, keys, {"vaxledger", 600, 60}, now);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a->id == b->id);
  CHECK(a->id != c->id);
}

TEST_CASE("base64url round-trips and refuses padding and the standard alphabet") {
  for (size_t n = 0; n < 40; ++n) {
    Bytes data(n, 0);
    RandomBytes(data.data(), n);
    auto back = Base64UrlDecode(Base64UrlEncode(data));
    REQUIRE(back.ok());
    CHECK(*back == data);
  }
  CHECK_FALSE(Base64UrlDecode("aGVsbG8=").ok());
  CHECK_FALSE(Base64UrlDecode("ab+/").ok());
  CHECK_FALSE(Base64UrlDecode("a").ok());
}

}  // namespace
}  // namespace vaxledger
