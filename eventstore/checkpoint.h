// Checkpoints: C2SP tlog-checkpoint signed notes over the log's Merkle tree.
//
//   checkpoint text = origin LF decimal(size) LF base64(root) LF *(extension LF)
//                     ; every line non-empty (c2sp.org/tlog-checkpoint)
//   checkpoint      = signed note (core/signed_note.h) of that text, key name = origin
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger::eventstore {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  bool operator==(const Checkpoint&) const = default;
};

std::string CheckpointText(const Checkpoint& checkpoint);

// Signs the checkpoint text with `signer`, whose name must be the origin.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const NoteSigner& signer);

// Opens a signed checkpoint: the note must verify under one of `keys` (see OpenNote) and its text
// be a checkpoint; extension lines after the root are allowed and ignored. InvalidArgument says
// which rule is broken.
Result<Checkpoint> OpenCheckpoint(std::string_view note, const std::vector<NoteVerifierKey>& keys);

// The tree size a checkpoint note claims, read from its second line WITHOUT checking anything
// else (to choose the key to open it with). InvalidArgument when there is no such line.
Result<uint64_t> ParseCheckpointSize(std::string_view note);

}  // namespace vaxledger::eventstore
