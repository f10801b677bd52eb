// Named Ed25519 keys in the C2SP signed-note text forms.
//
//   verifier key  = name "+" hex8(key_id) "+" base64(0x01 || public_key)
//   private key   = "PRIVATE+KEY+" name "+" hex8(key_id) "+" base64(0x01 || seed)
//   key_id        = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public_key)
//
// A name is 1..255 printable ASCII characters without "+" or spaces. The same 4-byte key id
// names the key that signed each event (SPEC §3) and each checkpoint.
// Thread-safe: immutable values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger {

using KeyId = std::array<uint8_t, 4>;

// InvalidArgument naming the rule when `name` cannot be a key name.
Status ValidateKeyName(std::string_view name);

KeyId ComputeKeyId(std::string_view name, const PublicKey& public_key);

// A key's public half: what a verifier needs.
struct NoteVerifierKey {
  std::string name;
  KeyId key_id{};
  PublicKey public_key{};

  std::string ToText() const;  // the verifier key text form
  static Result<NoteVerifierKey> Parse(std::string_view text);
};

// A named signing key.
class NoteSigner {
 public:
  // Requires ValidateKeyName(name).ok().
  NoteSigner(std::string name, Ed25519Key key);

  static Result<NoteSigner> Parse(std::string_view private_key_text);
  std::string ToPrivateText() const;

  const std::string& name() const { return name_; }
  const KeyId& key_id() const { return key_id_; }
  const Ed25519Key& key() const { return key_; }
  NoteVerifierKey verifier() const { return {name_, key_id_, key_.public_key()}; }

 private:
  std::string name_;
  Ed25519Key key_;
  KeyId key_id_{};
};

}  // namespace vaxledger
