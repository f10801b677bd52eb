// LogStorage: where the event log keeps its records and indexes. The seam between the log's
// logic (EventLog: sequencing, signing, group commit) and a storage engine. Two
// implementations: RocksDB (rocksdb_storage.h) and memory (memory_storage.h); tests run one
// conformance suite against both.
//
// A record is one event as stored: its leaf, and the signature and key id next to it.
// docs/storage.md writes down the RocksDB form.
//
// Thread-safety: implementations are thread-safe. EventLog calls Commit from one thread only;
// reads may come from any thread at any time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/merkle.h"
#include "core/note_key.h"
#include "core/status.h"
#include "eventstore/event.h"

namespace vaxledger::eventstore {

struct StoredRecord {
  Position position = 0;
  KeyId key_id{};
  Signature signature{};
  Bytes leaf;
};

struct StreamEntry {
  std::string stream;
  uint64_t version = 0;
  Position position = 0;
};

// A perfect node of the Merkle tree (core/merkle.h) at level >= kMinStoredTreeLevel. Lower
// levels are not stored: they are hashed from at most 2^kMinStoredTreeLevel - 1 stored leaves
// when needed, which keeps the writes per event down (one node per 16 leaves instead of one per
// leaf) for at most 15 more leaf reads per proof.
inline constexpr uint8_t kMinStoredTreeLevel = 4;

struct TreeNode {
  uint8_t level = 1;
  uint64_t index = 0;
  Hash hash{};
};

// Everything one commit adds. Records are at consecutive positions starting at the storage's
// current RecordCount().
struct CommitBatch {
  std::vector<StoredRecord> records;
  std::vector<StreamEntry> stream_entries;              // one per record
  std::vector<std::pair<EventId, Position>> event_ids;  // one per record
  std::vector<TreeNode> tree_nodes;                     // the nodes the records complete
  // The signed checkpoint of the tree after this commit: becomes the latest, and joins the
  // history under its tree size.
  std::string checkpoint;
  uint64_t checkpoint_size = 0;
  // Set on the commit of position 0 only: the verifier-key text of the log's first key.
  std::string first_key;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Writes the whole batch atomically; when it returns OK the batch is durable (if the storage
  // was opened durable). ResourceExhausted when the storage refused the batch before writing any
  // of it (Writable() failed: the disk is nearly full); the storage stays usable and a later
  // commit may succeed. On any other error nothing of the batch is visible, but its outcome
  // after a reopen is unknown and the storage may refuse further commits (RocksDB enters a
  // read-only error state after a failed sync).
  virtual Status Commit(const CommitBatch& batch) = 0;

  // Ok when a commit would be attempted now; otherwise why not (ResourceExhausted: free space
  // below the storage's reserve; FailedPrecondition: opened read-only). Cheap; thread-safe.
  virtual Status Writable() { return Status::Ok(); }

  // The number of records = the next position.
  virtual Result<Position> RecordCount() = 0;

  // Up to `max` records starting at `from`, going up (forward) or down. Stops early at a missing
  // position (for forward reads of a damaged store, the caller sees the gap). DataLoss when a
  // stored value cannot be parsed as a record.
  virtual Result<std::vector<StoredRecord>> ReadRecords(Position from, size_t max,
                                                        bool forward) = 0;

  // Like ReadRecords forward, but returns every stored record in [from, from+max) whatever gaps
  // there are, so that a verifier can name a missing position. Never fails on a bad value: such a
  // record comes back with an empty leaf and `malformed` set to its position.
  struct RawScan {
    std::vector<StoredRecord> records;
    std::vector<Position> malformed;
  };
  virtual Result<RawScan> ScanRecords(Position from, size_t max) = 0;

  virtual Result<std::optional<Position>> FindEventId(const EventId& id) = 0;

  // The version of the stream's last event, or nullopt when the stream has none.
  virtual Result<std::optional<uint64_t>> StreamHeadVersion(std::string_view stream) = 0;

  // The Merkle tree node (level >= kMinStoredTreeLevel, index). NotFound when it is not stored.
  virtual Result<Hash> ReadTreeNode(uint8_t level, uint64_t index) = 0;

  // The checkpoint of the last commit, or nullopt when nothing was ever committed.
  virtual Result<std::optional<std::string>> ReadCheckpoint() = 0;

  // The verifier-key text of the key that signed position 0, or nullopt for an empty log.
  virtual Result<std::optional<std::string>> ReadFirstKey() = 0;

  // Every checkpoint signed, by tree size: up to `max` from size `from` upwards.
  virtual Result<std::vector<std::pair<uint64_t, std::string>>> ReadCheckpoints(uint64_t from,
                                                                                size_t max) = 0;

  // Positions of the stream's events from `from_version`, up to `max`, going up or down.
  virtual Result<std::vector<Position>> ReadStreamPositions(std::string_view stream,
                                                            uint64_t from_version, size_t max,
                                                            bool forward) = 0;
};

// Reads the tree's perfect nodes from `storage`: stored nodes from kMinStoredTreeLevel up; below,
// hashed from the stored leaves. `storage` must outlive the reader.
merkle::NodeReader TreeNodeReader(LogStorage& storage);

// The log's keys: the first key from position 0, then each key a rotation names, from the
// position after the rotation. Empty for an empty log. DataLoss when a stored key does not parse.
Result<std::vector<std::pair<Position, NoteVerifierKey>>> ReadKeySchedule(LogStorage& storage);

// Record value (docs/storage.md):  format:u8 (=1) || key_id[4] || signature[64] || leaf
inline constexpr uint8_t kRecordFormat = 1;
inline constexpr size_t kRecordHeaderSize = 1 + 4 + 64;
static_assert(kRecordHeaderSize == 69);

Bytes EncodeRecordValue(const StoredRecord& record);
// DataLoss when `value` is too short or has an unknown format byte.
Status DecodeRecordValue(ByteView value, StoredRecord* record);

}  // namespace vaxledger::eventstore
