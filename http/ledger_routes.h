// The public ledger routes (SPEC §3, issue 5), served from an EventLog:
//
//   GET /v1/ledger/checkpoint                      the latest checkpoint, text/plain
//   GET /v1/ledger/proof/inclusion?index=I&size=N  {"index","size","leaf_hash","proof":[...]}
//   GET /v1/ledger/proof/consistency?from=M&to=N   {"from","to","proof":[...]}
//   GET /v1/ledger/keys                            {"keys":[{"vkey","from_index"}]}
//   POST /v1/ledger/cosignatures                   a checkpoint cosigned by witnesses
//
// Witnesses (`vaxledger ledger witness`, c2sp.org/tlog-cosignature) post the checkpoints they
// cosigned; the registry keeps, per witness it trusts (LedgerRoutesOptions::witnesses), the
// cosignature of the largest checkpoint, and GET /v1/ledger/checkpoint carries the lines of the
// witnesses that cosigned the latest checkpoint. Kept in memory: after a restart, witnesses
// post again.
//
// Hashes are base64. `size` and `to` default to the latest checkpoint's size. These routes are
// public: checkpoints, proofs and keys carry no personal data. (The leaves, which do, are served
// to auditors only, with authentication: not here yet.)
//
// Thread-safety: the handlers may run on any thread; `log` must outlive the router.
#pragma once

#include <vector>

#include "core/cosignature.h"
#include "eventstore/event_log.h"
#include "http/router.h"

namespace vaxledger::http {

struct LedgerRoutesOptions {
  // The witnesses whose cosignatures are accepted and published. Default none (the POST route
  // then refuses everything).
  std::vector<CosignerVerifierKey> witnesses;
};

void AddLedgerRoutes(Router& router, eventstore::EventLog& log, LedgerRoutesOptions options = {});

// GET /healthz (the process answers) and GET /readyz (the log answers reads and accepts writes;
// 503 with the reason otherwise: a full disk, a failed commit).
void AddHealthRoutes(Router& router, eventstore::EventLog& log);

}  // namespace vaxledger::http
