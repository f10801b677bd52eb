// The public ledger routes (SPEC §3, issue 5), served from an EventLog:
//
//   GET /v1/ledger/checkpoint                      the latest checkpoint, text/plain
//   GET /v1/ledger/proof/inclusion?index=I&size=N  {"index","size","leaf_hash","proof":[...]}
//   GET /v1/ledger/proof/consistency?from=M&to=N   {"from","to","proof":[...]}
//   GET /v1/ledger/keys                            {"keys":[{"vkey","from_index"}]}
//
// Hashes are base64. `size` and `to` default to the latest checkpoint's size. These routes are
// public: checkpoints, proofs and keys carry no personal data. (The leaves, which do, are served
// to auditors only, with authentication: not here yet.)
//
// Thread-safety: the handlers may run on any thread; `log` must outlive the router.
#pragma once

#include "eventstore/event_log.h"
#include "http/router.h"

namespace vaxledger::http {

void AddLedgerRoutes(Router& router, eventstore::EventLog& log);

// GET /healthz (the process answers) and GET /readyz (the log answers reads and accepts writes;
// 503 with the reason otherwise: a full disk, a failed commit).
void AddHealthRoutes(Router& router, eventstore::EventLog& log);

}  // namespace vaxledger::http
