// The export file: one self-contained text file with everything an auditor needs to verify the
// log offline — leaves, signatures, checkpoints and keys — and nothing that needs RocksDB.
// docs/ledger.md gives the grammar; in short:
//
//   "vaxledger-export/v1" LF
//   "size " decimal LF                              ; number of leaves
//   ("key " decimal SP vkey LF)+                    ; the key schedule: first key from 0, then
//                                                   ; each rotation's key from the index after it
//   "checkpoint " decimal LF note                   ; the latest checkpoint (note: its length)
//   ( "leaf " index SP hex8(key_id) SP base64(signature) SP base64(leaf) LF
//     [ "checkpoint " decimal LF note ] )*          ; the checkpoint of size index+1, if any
//   "end " decimal(leaf lines) SP decimal(checkpoints after the header) LF
//
// Every value has exactly one spelling (decimals without leading zeros, lower-case hex, strict
// base64), so any changed byte either breaks the grammar or changes a signed value.
//
// Thread-safety: an ExportReader is used by one thread at a time.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/note_key.h"
#include "core/status.h"
#include "eventstore/log_storage.h"
#include "eventstore/log_verifier.h"

namespace vaxledger::eventstore {

// Writes the export of `storage` (all records up to its latest checkpoint) to `path`; the key
// lines are the log's key schedule (ReadKeySchedule). `progress(done, total)` may be empty.
Status WriteExport(LogStorage& storage, const std::string& path,
                   const std::function<void(Position, Position)>& progress = {});

// Reads an export file as a LedgerSource for VerifyLedger. A malformed leaf line comes back as a
// malformed record at the position it should hold; a malformed file structure is DataLoss naming
// the line.
class ExportReader : public LedgerSource {
 public:
  static Result<std::unique_ptr<ExportReader>> Open(const std::string& path);
  ~ExportReader() override;

  // The key lines: the first key (from 0), then each rotation's, by the index it signs from.
  const std::vector<std::pair<Position, NoteVerifierKey>>& keys() const { return keys_; }

  Result<std::optional<std::string>> LatestCheckpoint() override;
  Result<Position> RecordCount() override;
  Result<LogStorage::RawScan> ScanRecords(Position from, size_t max) override;
  Result<std::vector<std::pair<uint64_t, std::string>>> CheckpointsBetween(uint64_t from,
                                                                           uint64_t to) override;

  // After every record was scanned: reads the end line and checks its counts. DataLoss when the
  // file has more lines, no end line, or counts that do not match what was read.
  Status Finish();

 private:
  ExportReader() = default;
  Result<bool> ReadLine(std::string& line);  // false at end of file
  Result<std::string> ReadNote(const std::string& header_line);

  std::FILE* file_ = nullptr;
  char* buf_ = nullptr;  // getline's buffer, reused from line to line
  size_t cap_ = 0;
  uint64_t line_no_ = 0;
  uint64_t leaves_read_ = 0;
  uint64_t checkpoints_read_ = 0;  // after the header
  Position size_ = 0;
  std::vector<std::pair<Position, NoteVerifierKey>> keys_;
  std::string latest_;
  std::vector<std::pair<uint64_t, std::string>> checkpoints_;  // read, not yet handed out
  std::string pending_line_;                                   // a line read ahead
  bool has_pending_ = false;
};

}  // namespace vaxledger::eventstore
