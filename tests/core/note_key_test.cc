#include "core/note_key.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vaxledger {
namespace {

nlohmann::json SignedNoteVectors() {
  std::ifstream in(std::string(VX_VECTORS_DIR) + "/signed_note.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

TEST_CASE("a C2SP private key parses and yields the published verifier key") {
  auto keys = SignedNoteVectors()["keys"];
  auto signer = NoteSigner::Parse(keys["PeterNeumann"]["skey"].get<std::string>());
  REQUIRE(signer.ok());
  CHECK(signer->name() == "PeterNeumann");
  CHECK(signer->verifier().ToText() == keys["PeterNeumann"]["vkey"].get<std::string>());
  CHECK(signer->ToPrivateText() == keys["PeterNeumann"]["skey"].get<std::string>());
}

TEST_CASE("every published verifier key parses and round-trips") {
  for (const auto& [name, k] : SignedNoteVectors()["keys"].items()) {
    auto vkey = NoteVerifierKey::Parse(k["vkey"].get<std::string>());
    REQUIRE(vkey.ok());
    CHECK(vkey->name == name);
    CHECK(vkey->ToText() == k["vkey"].get<std::string>());
  }
}

TEST_CASE("bad verifier keys are refused with the rule they break") {
  const std::string good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  auto wrong_id =
      NoteVerifierKey::Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  CHECK(wrong_id.status().message() == "verifier key: key id does not match the name and key");
  auto renamed =
      NoteVerifierKey::Parse("PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  CHECK(renamed.status().code() == Code::kInvalidArgument);
  auto wrong_alg =
      NoteVerifierKey::Parse("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  CHECK(wrong_alg.status().code() == Code::kInvalidArgument);
  CHECK(NoteVerifierKey::Parse("only+two").status().code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName("has space").code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName("").code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName("plus+sign").code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName("no\xc2\xa0"
                        "break")
            .code() == Code::kInvalidArgument);  // U+00A0
  CHECK(ValidateKeyName("bad\xffutf8").code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName("overlong\xc0\xaf").code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName(std::string(kMaxKeyNameBytes + 1, 'a')).code() == Code::kInvalidArgument);
  CHECK(ValidateKeyName(std::string(kMaxKeyNameBytes, 'a')).ok());
  // Letters of any script are fine (C2SP forbids only Unicode spaces and '+').
  CHECK(ValidateKeyName("zo\xc3\xab.example/r\xc3\xa9gistre").ok());
  CHECK(ValidateKeyName("\xe4\xbe\x8b\xe3\x81\x88.jp").ok());
  CHECK(NoteVerifierKey::Parse(good).ok());
}

TEST_CASE("a generated key round-trips through its private text") {
  NoteSigner signer("example.org/log", Ed25519Key::Generate());
  auto again = NoteSigner::Parse(signer.ToPrivateText());
  REQUIRE(again.ok());
  CHECK(again->key().public_key() == signer.key().public_key());
  CHECK(again->key_id() == ComputeKeyId("example.org/log", signer.key().public_key()));
}

}  // namespace
}  // namespace vaxledger
