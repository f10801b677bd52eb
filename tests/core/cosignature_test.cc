#include "core/cosignature.h"

#include <catch2/catch.hpp>

#include "core/encoding.h"
#include "core/signed_note.h"

namespace vaxledger {
namespace {

const std::string kBody =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

TEST_CASE("the cosigned message is the C2SP header, the time line and the checkpoint body") {
  CHECK(CosignedMessage(kBody, 1679315147) ==
        "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  CHECK(CosignedMessage(kBody, 0).starts_with("cosignature/v1\ntime 0\n"));
}

TEST_CASE("cosigner keys: key id with type 0x04, text forms round-trip, other types refused") {
  Cosigner w("witness.example.com/w1", Ed25519Key::Generate());
  const PublicKey pk = w.verifier().public_key;
  CHECK(w.verifier().key_id == CosignerKeyId("witness.example.com/w1", pk));
  CHECK(w.verifier().key_id != ComputeKeyId("witness.example.com/w1", pk));  // 0x01 differs
  Bytes input(AsBytes(std::string("witness.example.com/w1\n")));
  input.push_back(0x04);
  input.append(pk.data(), pk.size());
  const Hash h = Sha256(input);
  CHECK(std::equal(h.begin(), h.begin() + 4, w.verifier().key_id.begin()));

  auto vkey = CosignerVerifierKey::Parse(w.verifier().ToText());
  REQUIRE(vkey.ok());
  CHECK(vkey->public_key == pk);
  auto again = Cosigner::Parse(w.ToPrivateText());
  REQUIRE(again.ok());
  CHECK(again->verifier().ToText() == w.verifier().ToText());
  // A signed-note (0x01) verifier key is not a cosigner key.
  NoteSigner log("example.com/log", Ed25519Key::Generate());
  CHECK(CosignerVerifierKey::Parse(log.verifier().ToText()).status().code() ==
        Code::kInvalidArgument);
}

TEST_CASE("a cosignature line: key id, big-endian timestamp, signature; it verifies and only so") {
  NoteSigner log("example.com/behind-the-sofa", Ed25519Key::Generate());
  auto note = SignNote(kBody, {&log});
  REQUIRE(note.ok());
  Cosigner w("witness.example.com/w1", Ed25519Key::Generate());
  const std::string line = w.SignatureLine(kBody, 1679315147);
  const std::string cosigned = *note + line;

  auto raw = Base64Decode(line.substr(line.rfind(' ') + 1, line.size() - line.rfind(' ') - 2));
  REQUIRE(raw.ok());
  REQUIRE(raw->size() == 4 + 8 + 64);
  uint64_t ts = 0;
  for (size_t i = 4; i < 12; ++i) ts = (ts << 8) | (*raw)[i];
  CHECK(ts == 1679315147);
  Signature sig;
  std::copy(raw->begin() + 12, raw->end(), sig.begin());
  CHECK(Ed25519Verify(w.verifier().public_key, AsBytes(CosignedMessage(kBody, ts)), sig));

  auto verified = VerifyCosignature(cosigned, w.verifier());
  REQUIRE(verified.ok());
  CHECK(*verified == 1679315147);
  // To a signed-note verifier the cosignature is an unknown key's line: ignored.
  CHECK(OpenNote(cosigned, {log.verifier()}).ok());
  // Another witness has no line here; a changed body does not verify.
  Cosigner other("witness.example.com/w2", Ed25519Key::Generate());
  CHECK(VerifyCosignature(cosigned, other.verifier()).status().code() == Code::kNotFound);
  std::string changed = cosigned;
  changed[changed.find("20852163")] = '3';
  CHECK(VerifyCosignature(changed, w.verifier()).status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace vaxledger
