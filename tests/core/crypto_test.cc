#include "core/crypto.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vaxledger {
namespace {

nlohmann::json LoadVectors(const std::string& name) {
  std::ifstream in(std::string(VX_VECTORS_DIR) + "/" + name);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

template <size_t N>
std::array<uint8_t, N> FromHex(const std::string& hex) {
  auto bytes = HexDecode(hex);
  REQUIRE(bytes.ok());
  REQUIRE(bytes->size() == N);
  std::array<uint8_t, N> out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

TEST_CASE("RFC 8032 Ed25519 vectors: keys and signatures match byte for byte") {
  auto vectors = LoadVectors("ed25519.json");
  REQUIRE(vectors["tests"].size() >= 3);
  for (const auto& t : vectors["tests"]) {
    auto key = Ed25519Key::FromSeed(FromHex<32>(t["seed"]));
    CHECK(HexEncode(ByteView(key.public_key().data(), 32)) == t["public_key"].get<std::string>());
    auto message = HexDecode(t["message_hex"].get<std::string>());
    REQUIRE(message.ok());
    Signature sig = key.Sign(*message);
    CHECK(HexEncode(ByteView(sig.data(), sig.size())) == t["signature"].get<std::string>());
    CHECK(Ed25519Verify(key.public_key(), *message, sig));
    // One flipped bit in the signature or the message must not verify.
    Signature bad = sig;
    bad[10] ^= 0x01;
    CHECK_FALSE(Ed25519Verify(key.public_key(), *message, bad));
    Bytes other = *message;
    other.push_back(0x00);
    CHECK_FALSE(Ed25519Verify(key.public_key(), other, sig));
  }
}

TEST_CASE("SHA-256 of the empty string and of a split input") {
  CHECK(HexEncode(AsBytes(Sha256(ByteView()))) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256(AsBytes("ab"), AsBytes("c")) == Sha256(AsBytes("abc")));
}

TEST_CASE("hex and base64 round-trip and refuse bad text") {
  Bytes data = {0x00, 0xff, 0x10, 0x7f};
  CHECK(HexEncode(data) == "00ff107f");
  CHECK(*HexDecode("00ff107f") == data);
  CHECK(HexDecode("0g").status().code() == Code::kInvalidArgument);
  CHECK(HexDecode("abc").status().code() == Code::kInvalidArgument);
  CHECK(Base64Encode(AsBytes("hello")) == "aGVsbG8=");
  CHECK(*Base64Decode("aGVsbG8=") == Bytes(AsBytes("hello")));
  CHECK(Base64Decode("aGVsbG8").status().code() == Code::kInvalidArgument);
  CHECK(Base64Decode("a*==").status().code() == Code::kInvalidArgument);
  // One spelling per value: non-zero padding bits, a missing or misplaced pad are refused.
  CHECK(Base64Decode("aGVsbG9=").status().code() == Code::kInvalidArgument);
  CHECK(Base64Decode("aGVsbB==").status().code() == Code::kInvalidArgument);
  CHECK(Base64Decode("aGVsbA=A").status().code() == Code::kInvalidArgument);
  CHECK(Base64Decode("aGVs=G8=").status().code() == Code::kInvalidArgument);
  CHECK(*Base64Decode("aGVsbA==") == Bytes(AsBytes("hell")));
  CHECK(*Base64Decode("") == Bytes());
  // Round trip of every length up to 64 against libsodium's encoder.
  for (size_t n = 0; n <= 64; ++n) {
    Bytes data(n, 0);
    RandomBytes(data.data(), n);
    auto back = Base64Decode(Base64Encode(data));
    REQUIRE(back.ok());
    CHECK(*back == data);
  }
}

}  // namespace
}  // namespace vaxledger

namespace vaxledger {
namespace {

TEST_CASE("decimals have one spelling") {
  CHECK(*ParseDecimal("0") == 0);
  CHECK(*ParseDecimal("18446744073709551615") == UINT64_MAX);
  for (const char* bad : {"", "01", "+1", "-1", "1a", " 1", "18446744073709551616"}) {
    INFO(bad);
    CHECK(ParseDecimal(bad, "size").status().field() == "size");
  }
}

}  // namespace
}  // namespace vaxledger
