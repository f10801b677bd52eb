// CheckpointFile: the latest checkpoint the log acknowledged, kept OUTSIDE the log's database, so
// that a log that lost acknowledged events (a damaged or truncated write-ahead log, a restored
// old copy of the database) is noticed at open instead of re-using their positions.
//
// The file has two fixed slots and is written in place (docs/storage.md, "Checkpoint file"):
// each write fills the slot not holding the newest checkpoint and syncs it (fdatasync), so a torn
// write leaves the other slot intact, and the file never grows: writing it needs no free space.
//
//   file = slot slot                                   ; 2 x 4096 bytes
//   slot = "VXCF" seq:u64be length:u32be note[length] sha256[32] zero-padding
//   sha256 = SHA-256 of everything in the slot before it
//
// The newest checkpoint is the valid slot with the highest seq.
//
// Thread-safety: not thread-safe; the log's committer thread is its only writer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vaxledger::eventstore {

inline constexpr size_t kCheckpointSlotBytes = 4096;
// magic + seq + length + sha256
inline constexpr size_t kCheckpointSlotOverhead = 4 + 8 + 4 + 32;
static_assert(kCheckpointSlotOverhead == 48);

class CheckpointFile {
 public:
  ~CheckpointFile();
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;

  // Opens the file at `path`, creating it (mode 0600, both slots empty, directory synced) when
  // it does not exist and `create` is set. FailedPrecondition when it is missing and `create` is
  // not set; DataLoss when it exists but is not two slots long or no slot is valid while one is
  // not empty (the message names the file).
  static Result<std::unique_ptr<CheckpointFile>> Open(const std::string& path, bool create);

  // The newest checkpoint in the file at `path`, read without opening it for writing (beside a
  // running server). nullopt when the file does not exist or holds none yet; DataLoss as Open.
  static Result<std::optional<std::string>> ReadLatest(const std::string& path);

  // The newest checkpoint written, or nullopt when the file holds none yet.
  const std::optional<std::string>& latest() const { return latest_; }

  // Writes `note` (at most kCheckpointSlotBytes - kCheckpointSlotOverhead bytes) to the older
  // slot and syncs it. InvalidArgument when too long; Unavailable on an I/O error (the file
  // still holds the previous checkpoint in its other slot).
  Status Write(std::string_view note);

  const std::string& path() const { return path_; }

 private:
  CheckpointFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status Load();  // reads both slots; sets seq_, newest_, latest_
  int fd_;
  std::string path_;
  uint64_t seq_ = 0;  // seq of the newest slot; 0 = none
  int newest_ = 1;    // the slot holding it (the first write goes to slot 0)
  std::optional<std::string> latest_;
};

}  // namespace vaxledger::eventstore
