// Verifies a stored log from position 0: every record present, every leaf well formed and at its
// own position, each leaf's prev_leaf_hash equal to the leaf hash before it, recorded times
// non-decreasing, and every signature valid under a known key. Then the checkpoints: every
// checkpoint in the history is signed by a known key and holds the Merkle root of the leaves at
// its size, and the latest one covers the whole log.
//
// The work is spread over a pool of threads (signature checks dominate); the storage is read in
// chunks by the calling thread.
//
// Thread-safety: VerifyLog may run while the log is being appended to; it verifies the records
// present when each chunk is read, up to the record count it saw at the start.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"
#include "eventstore/checkpoint.h"
#include "eventstore/log_storage.h"

namespace vaxledger::eventstore {

struct VerifyOptions {
  // Threads, counting the caller; 0 = one per core. Default 0.
  size_t threads = 0;
  // Records per unit of work. Default 2048.
  size_t chunk_records = 2048;
  // Called now and then with (records verified, records in all); may be empty.
  std::function<void(Position, Position)> progress;
  // A checkpoint kept outside the source (the data directory's checkpoint file): it is checked
  // like the source's own (signed by the key in force at its size, the Merkle root of the leaves
  // at its size), and a source with fewer records than it fails, naming the missing positions.
  // Default: none.
  std::optional<std::string> acknowledged_checkpoint;
};

struct VerifyReport {
  Position verified = 0;                     // records that verified, from 0
  Position size = 0;                         // records in the log when verification started
  std::optional<Position> first_failure;     // the first position that does not verify
  std::string reason;                        // why it does not
  uint64_t checkpoints_verified = 0;         // checkpoints whose signature and root verified
  std::string checkpoint_problem;            // the first checkpoint that does not verify, and why
  Hash root{};                               // the Merkle root of the verified records
  std::optional<NoteVerifierKey> final_key;  // the key in force after the last record
  bool ok() const { return !first_failure.has_value() && checkpoint_problem.empty(); }
};

// What verification reads: records in position order, and checkpoints. A LogStorage is one (see
// VerifyLog); an export file is another (ledger_export.h).
class LedgerSource {
 public:
  virtual ~LedgerSource() = default;
  // The latest checkpoint, or nullopt. Called first.
  virtual Result<std::optional<std::string>> LatestCheckpoint() = 0;
  // The number of records. Called second.
  virtual Result<Position> RecordCount() = 0;
  // Records in [from, from + max), as LogStorage::ScanRecords. Called with from = 0 and then
  // each time with the end of the previous call.
  virtual Result<LogStorage::RawScan> ScanRecords(Position from, size_t max) = 0;
  // The checkpoints of tree sizes in [from, to], by size. Called once per scanned range, after
  // ScanRecords has covered `to`.
  virtual Result<std::vector<std::pair<uint64_t, std::string>>> CheckpointsBetween(uint64_t from,
                                                                                   uint64_t to) = 0;
};

// `keys` are the trusted first keys: position 0 must be signed by one of them. From there the
// verifier follows the log's key rotations (event.h): each position must be signed by the key in
// force, and each checkpoint of size S by the key in force after leaf S-1.
// Returns a report; a Status error only when the source itself cannot be read.
Result<VerifyReport> VerifyLedger(LedgerSource& source, const std::vector<NoteVerifierKey>& keys,
                                  const VerifyOptions& options = {});

// VerifyLedger over a stored log.
Result<VerifyReport> VerifyLog(LogStorage& storage, const std::vector<NoteVerifierKey>& keys,
                               const VerifyOptions& options = {});

// Verifies only the records from `verified.size` on (the tail since an earlier verification),
// as VerifyLog does, trusting what that verification established below it: `verified` is a
// checkpoint (already opened under the log's keys) whose leaves verified. The stored tree at
// its size must have its root, the chain continues from the stored leaf at size-1, the log's
// first key must be among `keys`, and the key in force at the start is the
// one the log's key schedule names. The tail's checkpoints and the latest one are checked as by
// VerifyLog. Cost: the tail, plus O(log n) tree nodes and the key rotations. A log shorter than
// `verified.size` fails at its end. verified.size == 0 is VerifyLog.
Result<VerifyReport> VerifyTail(LogStorage& storage, const Checkpoint& verified,
                                const std::vector<NoteVerifierKey>& keys,
                                const VerifyOptions& options = {});

}  // namespace vaxledger::eventstore
