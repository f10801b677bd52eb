// `vaxledger ledger witness`: an independent witness an auditor runs (c2sp.org/tlog-witness's
// checks, offline: the auditor fetches the checkpoint and the consistency proof, e.g. from
// GET /v1/ledger/checkpoint and GET /v1/ledger/proof/consistency?from=OLD).
//
// It verifies the checkpoint with the log's key, compares it with the last checkpoint it
// cosigned (its state file): a smaller tree is a rollback, the same size with another root a
// split view, a larger tree needs a consistency proof from the old size that verifies. Only
// then does it store the new checkpoint as its state (written to a temporary file and renamed)
// and cosign it (core/cosignature.h). The first checkpoint it sees is trusted on first use.
//
//   state file  = the last cosigned checkpoint note (re-verified with the log's key on load)
//   key file    = cosigner skey (core/cosignature.h), mode 0600, made on first use with --name
//   proof file  = JSON {"from": OLD, "to": NEW, "proof": [base64 hash, ...]} (what the
//                 registry's consistency route and `ledger consistency` print)
//
// Thread-safety: one witness per state file at a time (no lock is taken).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger::tools {

struct WitnessOptions {
  std::string key_path;    // the cosigner's private key; created when absent and `name` is set
  std::string name;        // the cosigner's name for a new key (e.g. "auditor.example/w1")
  std::string state_path;  // the last checkpoint cosigned; absent on the first run
  std::vector<NoteVerifierKey> log_keys;  // the log's verifier keys
  std::string checkpoint;                 // the new checkpoint note
  std::string proof;                      // the proof file's text; empty when none
  std::function<uint64_t()> clock_s;      // POSIX seconds; default the system clock
};

// The checkpoint with the witness's cosignature line appended. FailedPrecondition naming what
// is wrong for a rollback, a split view, or a missing or failing consistency proof (the state
// is then unchanged); InvalidArgument for a checkpoint or proof that does not parse or verify.
Result<std::string> Witness(const WitnessOptions& options);

}  // namespace vaxledger::tools
