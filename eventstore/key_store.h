// The data directory's key store, DIR/keys/: core/subjects.h's `Subjects` on RocksDB.
// docs/storage.md ("Key store") gives the records as a grammar.
//
//   "format"          -> "vaxledger-keys-1"
//   "i/" index        -> pseudonym                     index = SubjectIndex(...), 32 hex
//   "s/" pseudonym    -> data_key[32] || index          (the index as its 32 hex digits)
//   "e/" pseudonym    -> request id                     an erasure in progress
//   "p/" pseudonym    -> ""                             an erasure whose purge is not finished
//
// Durability: every write (a new subject's "i/" and "s/" records, an erasure, an "e/" mark) is
// one WriteBatch with sync = true, written before the call returns; a crash leaves it entirely
// or not at all. A damaged write-ahead log refuses the open (DataLoss) instead of silently
// dropping the keys written after the damage.
//
// Erase deletes the records in one synced batch and then makes the key physically gone from
// the store's files: it flushes the memtable (the write-ahead logs that held the key become
// obsolete and are deleted: none is archived or recycled), compacts the ranges of the "s/" and
// "i/" records with a forced bottommost compaction (the old values and the tombstones are
// dropped, the table files that held them deleted), and makes RocksDB write a new MANIFEST
// (which holds the first and last key of every table file). A crash in between leaves a "p/"
// record, and the next Open finishes the purge over the whole store. The store keeps no copy
// of a key in memory: reads go to RocksDB, whose block cache holds blocks of table files; after
// the compaction the blocks of the deleted files can no longer be reached and are evicted in
// time. Blocks the file system freed are not overwritten: full-disk encryption covers those.
//
// Errors are Status values naming the store's directory. The directory is created with mode
// 0700; one that group or others may enter is refused. The table files are not compressed
// (data keys are random and do not compress) and store every key whole (no prefix sharing), so
// that searching the files for a key or an index finds it where it is.
//
// Thread-safety: thread-safe. Concurrent Pseudonym calls for one identifier return one
// pseudonym. A Pseudonym or Key call that runs concurrently with the Erase of the same subject
// may still see the subject: the caller orders an erasure after the commands about its subject.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "core/subjects.h"

namespace rocksdb {
class DB;
}

namespace vaxledger::eventstore {

struct KeyStoreOptions {
  // RocksDB's block cache for the store's table blocks (bytes). Default: 8 MiB.
  size_t cache_bytes = size_t{8} << 20;
  // The memtable (bytes): beyond it, writes are flushed to a table file. Default: 4 MiB.
  size_t write_buffer_bytes = size_t{4} << 20;
  // The size of a table file RocksDB writes (target_file_size_base) and of level 1
  // (max_bytes_for_level_base): an erasure rewrites the files that hold the subject's records
  // and level 1, so both are small. Defaults: 4 MiB and 16 MiB (RocksDB's: 64 and 256 MiB; an
  // erasure in a store of 200,000 subjects took ~230 ms with these and ~0.7-1.5 s with those).
  uint64_t table_file_bytes = uint64_t{4} << 20;
  uint64_t level1_bytes = uint64_t{16} << 20;
  // Table files RocksDB keeps open. Default: 64.
  int max_open_files = 64;
  // Open for reading only, beside a process that has it open for writing (replay, rebuild):
  // the store must exist; Pseudonym (for a new subject), Erase and the marks are refused
  // (FailedPrecondition). A read-only store sees what was written when it was opened.
  bool read_only = false;
};

class KeyStore : public vaxledger::Subjects {
 public:
  // Opens the store in `dir`, creating the directory (mode 0700, its parent must exist) and
  // the database when missing. An existing empty database without a format record (a creation
  // cut short) gets one. Errors: FailedPrecondition when `dir` is not a directory, may be
  // entered by group or others, holds another vaxledger-keys-N format, or holds a database
  // with records but no format record (not a key store); DataLoss when the format record is
  // something else or RocksDB finds the database damaged; Unavailable when another process
  // has it open. Finishes the purge of an erasure a crash interrupted ("p/" records).
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& dir,
                                                const PseudonymKey& pseudonym_key,
                                                const KeyStoreOptions& options = {});

  ~KeyStore() override;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Pseudonym and Find: DataLoss when the identifier's index record does not hold a pseudonym.
  Result<std::string> Pseudonym(std::string_view kind, std::string_view identifier) override;
  Result<std::optional<std::string>> Find(std::string_view kind,
                                          std::string_view identifier) const override;
  // nullopt for a subject that has no key, and for a string that is not a pseudonym. DataLoss
  // (naming the subject) when the stored value is shorter than 32 bytes.
  Result<std::optional<DataKey>> Key(std::string_view subject) const override;
  // One RocksDB MultiGet for all of them.
  Result<std::vector<std::optional<DataKey>>> Keys(
      const std::vector<std::string>& subjects) const override;
  // InvalidArgument when `subject` is not a pseudonym (32 lower-case hex digits); otherwise as
  // in Subjects, with the purge above before it returns. A failed purge returns its error and
  // leaves a "p/" record: calling Erase again (or the next Open) finishes it.
  Status Erase(std::string_view subject) override;
  // InvalidArgument when `subject` is not a pseudonym.
  Status MarkErasing(std::string_view subject, std::string_view request_id) override;
  Status ClearErasing(std::string_view subject) override;
  Result<std::map<std::string, std::string>> Erasing() const override;

  const std::string& dir() const { return dir_; }

 private:
  struct Impl;
  explicit KeyStore(std::unique_ptr<Impl> impl, std::string dir);

  std::unique_ptr<Impl> impl_;
  std::string dir_;
};

}  // namespace vaxledger::eventstore
