// C2SP signed notes (c2sp.org/signed-note), Ed25519 only:
//
//   note      = text LF signature+          ; LF here: the blank line that ends the text
//   text      = line+                       ; line = *(UTF-8 but LF) LF; empty lines allowed
//   signature = "— " name " " base64(key_id[4] || sig[64]) LF   ; "—" is U+2014
//
// The whole note is valid UTF-8 without ASCII control characters other than LF. The text is
// separated from the signatures by the note's last blank line, so it may itself hold empty
// lines; the signed message is the text, up to and including its final LF. Names follow
// ValidateKeyName (core/note_key.h). At most kMaxNoteSignatures signature lines.
// Opening a note ignores signatures by unknown keys, fails on any known key whose signature does
// not verify, and requires at least one verified signature.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger {

// Most signature lines a note may have (C2SP: verifiers must accept at least 16; Go's
// golang.org/x/mod/sumdb/note accepts 100).
inline constexpr size_t kMaxNoteSignatures = 100;

// Signs `text` (non-empty, ending with LF, valid UTF-8 without control characters but LF) with
// every signer. InvalidArgument when `text` breaks those rules.
Result<std::string> SignNote(std::string_view text, const std::vector<const NoteSigner*>& signers);

struct OpenedNote {
  std::string text;                   // the signed text
  std::vector<std::string> verified;  // names of the known keys whose signatures verified
};

// Parses and verifies `note`. InvalidArgument when it is malformed (the message says which
// rule), when a known key's signature does not verify, or when no known key signed it.
Result<OpenedNote> OpenNote(std::string_view note, const std::vector<NoteVerifierKey>& known);

}  // namespace vaxledger
