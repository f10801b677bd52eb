// C2SP signed notes (c2sp.org/signed-note), Ed25519 only:
//
//   note      = text LF signature+          ; text: UTF-8 without NUL, ends with LF, no blank
//   signature = "— " name " " base64(key_id[4] || sig[64]) LF   ; "—" is U+2014
//
// The signed message is `text` (up to and including its last LF before the blank line).
// Opening a note ignores signatures by unknown keys, fails on any known key whose signature does
// not verify, and requires at least one verified signature.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger {

// Signs `text` (which must end with LF and hold no blank line) with every signer.
// InvalidArgument when `text` breaks those rules.
Result<std::string> SignNote(std::string_view text, const std::vector<const NoteSigner*>& signers);

struct OpenedNote {
  std::string text;                   // the signed text
  std::vector<std::string> verified;  // names of the known keys whose signatures verified
};

// Parses and verifies `note`. InvalidArgument when it is malformed (the message says which
// rule), when a known key's signature does not verify, or when no known key signed it.
Result<OpenedNote> OpenNote(std::string_view note, const std::vector<NoteVerifierKey>& known);

}  // namespace vaxledger
