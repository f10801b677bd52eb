// Named Ed25519 keys in the C2SP signed-note text forms.
//
//   verifier key  = name "+" hex8(key_id) "+" base64(0x01 || public_key)
//   private key   = "PRIVATE+KEY+" name "+" hex8(key_id) "+" base64(0x01 || seed)
//   key_id        = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public_key)
//
// A name is 1..255 bytes of UTF-8 without "+", Unicode spaces (the White_Space property, as
// Go's unicode.IsSpace) or control characters (c2sp.org/signed-note: "MUST NOT contain any
// Unicode spaces or plus"); letters of any script are fine. The same 4-byte key id
// names the key that signed each event (SPEC §3) and each checkpoint.
// Thread-safe: immutable values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger {

using KeyId = std::array<uint8_t, 4>;

// Longest key name accepted, in bytes (C2SP sets no limit; ours keeps key files and notes
// small).
inline constexpr size_t kMaxKeyNameBytes = 255;

// InvalidArgument naming the rule when `name` cannot be a key name.
Status ValidateKeyName(std::string_view name);

// The code points of `text`, which must be valid UTF-8 (shortest forms, no surrogates, at most
// U+10FFFF). InvalidArgument naming `what` otherwise.
Result<std::vector<char32_t>> DecodeUtf8(std::string_view text, std::string_view what);

// Whether `c` has the Unicode White_Space property (what Go's unicode.IsSpace tests).
bool IsUnicodeSpace(char32_t c);

// OK when `text` is valid UTF-8 without ASCII control characters other than LF, as C2SP
// requires of a whole signed note; InvalidArgument naming `what` and the rule otherwise.
Status CheckNoteCharacters(std::string_view text, std::string_view what);

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
