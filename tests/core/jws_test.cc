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
  auto payload = VerifyJws(expected, {{"", key.public_key()}});
  REQUIRE(payload.ok());
  CHECK(*payload == "Example of Ed25519 signing");
}

TEST_CASE("forged, altered or weakened tokens are refused as Unauthenticated") {
  Ed25519Key key = Rfc8032Key();
  const std::string good = SignJws("payload", key, "idp-1");
  const std::vector<JwsVerifyKey> keys = {{"idp-1", key.public_key()}};
  REQUIRE(VerifyJws(good, keys).ok());

  std::string altered = good;
  altered[good.find('.') + 2] ^= 0x01;  // inside the payload
  CHECK(VerifyJws(altered, keys).status().code() == Code::kUnauthenticated);

  const std::string none = Base64UrlEncode(AsBytes(R"({"alg":"none"})")) + "." +
                           Base64UrlEncode(AsBytes("payload")) + ".";
  CHECK_THAT(VerifyJws(none, keys).status().message(), Catch::Contains("alg must be EdDSA"));
  CHECK_THAT(VerifyJws("only.two", keys).status().message(), Catch::Contains("three"));
  CHECK_THAT(VerifyJws(good, {{"idp-2", key.public_key()}}).status().message(),
             Catch::Contains("unknown key id idp-1"));
  Ed25519Key other = Ed25519Key::Generate();
  CHECK_THAT(VerifyJws(good, {{"idp-1", other.public_key()}}).status().message(),
             Catch::Contains("does not verify"));
}

TEST_CASE("assertion claims: exp, aud and sub are checked") {
  Ed25519Key key = Rfc8032Key();
  const std::vector<JwsVerifyKey> keys = {{"idp", key.public_key()}};
  auto token = [&](const nlohmann::json& claims) { return SignJws(claims.dump(), key, "idp"); };
  const int64_t now = 1'800'000'000;
  auto ok =
      VerifyAssertion(token({{"sub", "85073003328"}, {"aud", "vaxledger"}, {"exp", now + 300}}),
                      keys, "vaxledger", now);
  REQUIRE(ok.ok());
  CHECK((*ok)["sub"] == "85073003328");
  CHECK(VerifyAssertion(token({{"sub", "x"}, {"aud", {"other", "vaxledger"}}, {"exp", now}}), keys,
                        "vaxledger", now)
            .ok());
  CHECK_THAT(VerifyAssertion(token({{"sub", "x"}, {"aud", "vaxledger"}, {"exp", now - 61}}), keys,
                             "vaxledger", now)
                 .status()
                 .message(),
             Catch::Contains("expired"));
  CHECK_THAT(VerifyAssertion(token({{"sub", "x"}, {"aud", "elsewhere"}, {"exp", now + 1}}), keys,
                             "vaxledger", now)
                 .status()
                 .message(),
             Catch::Contains("aud"));
  CHECK_THAT(
      VerifyAssertion(token({{"aud", "vaxledger"}, {"exp", now + 1}}), keys, "vaxledger", now)
          .status()
          .message(),
      Catch::Contains("sub"));
  CHECK_THAT(VerifyAssertion(token({{"sub", "x"}, {"aud", "vaxledger"}}), keys, "vaxledger", now)
                 .status()
                 .message(),
             Catch::Contains("exp"));
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
