// Witness cosignatures of checkpoints (c2sp.org/tlog-cosignature, the Ed25519 type):
//
//   cosigner vkey  = name "+" hex8(key_id) "+" base64(0x04 || public_key[32])
//   cosigner skey  = "PRIVATE+KEY+" name "+" hex8(key_id) "+" base64(0x04 || seed[32])
//   key_id         = SHA-256(name || 0x0A || 0x04 || public_key)[:4]
//   signed message = "cosignature/v1" LF "time " decimal(timestamp) LF checkpoint_body
//   signature line = "— " name " " base64(key_id[4] || u64be(timestamp) || sig[64]) LF
//
// checkpoint_body is the checkpoint's note text (with its final LF, without the signatures). A
// cosignature says: as of `timestamp` (POSIX seconds), this is the largest tree the witness has
// seen of that log, consistent with every earlier one. The skey form is ours (C2SP defines the
// vkey only); names follow ValidateKeyName. A cosignature line is an unknown key's signature to
// OpenNote, so cosigned checkpoints still open with the log's key alone.
//
// Thread-safety: immutable values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger {

inline constexpr uint8_t kCosignatureAlgorithm = 0x04;

KeyId CosignerKeyId(std::string_view name, const PublicKey& public_key);

// "cosignature/v1\ntime T\n" followed by `checkpoint_body`.
std::string CosignedMessage(std::string_view checkpoint_body, uint64_t timestamp);

struct CosignerVerifierKey {
  std::string name;
  KeyId key_id{};
  PublicKey public_key{};

  std::string ToText() const;
  // InvalidArgument naming the rule for a malformed key, another algorithm than 0x04, or a key
  // id that does not match.
  static Result<CosignerVerifierKey> Parse(std::string_view text);
};

class Cosigner {
 public:
  // Requires ValidateKeyName(name).ok().
  Cosigner(std::string name, Ed25519Key key);
  static Result<Cosigner> Parse(std::string_view private_key_text);
  std::string ToPrivateText() const;

  const std::string& name() const { return name_; }
  CosignerVerifierKey verifier() const { return {name_, key_id_, key_.public_key()}; }

  // The signature line (with its LF) cosigning `checkpoint_body` at `timestamp` (< 2^63).
  std::string SignatureLine(std::string_view checkpoint_body, uint64_t timestamp) const;

 private:
  std::string name_;
  Ed25519Key key_;
  KeyId key_id_{};
};

// The timestamp of `key`'s cosignature in the signed note `note`. NotFound when no line has the
// key's name and id; InvalidArgument when one does but does not verify, or the note is malformed.
Result<uint64_t> VerifyCosignature(std::string_view note, const CosignerVerifierKey& key);

}  // namespace vaxledger
