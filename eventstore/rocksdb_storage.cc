#include "eventstore/rocksdb_storage.h"
#include "eventstore/rocksdb_logger.h"
#include "eventstore/rocksdb_status.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace vaxledger::eventstore {
namespace {

// Column families (docs/storage.md).
constexpr const char* kMetaCf = "default";
constexpr const char* kLogCf = "log";
constexpr const char* kStreamsCf = "streams";
constexpr const char* kEventIdsCf = "event_ids";
constexpr const char* kTreeCf = "tree";
constexpr const char* kCheckpointsCf = "checkpoints";
constexpr std::string_view kFormatKey = "format";
// The log's format version (docs/storage.md). 3: registry events' payloads and personal data
// are FlatBuffers tables (eventstore/payloads.fbs) instead of JSON text.
constexpr std::string_view kFormatValue = "vaxledger-log-4";
constexpr std::string_view kFormatPrefix = "vaxledger-log-";
constexpr std::string_view kCheckpointKey = "checkpoint";
constexpr std::string_view kFirstKeyKey = "first_key";

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string PositionKey(Position p) {
  std::string k;
  PutBigEndian64(&k, p);
  return k;
}

// stream || 0x00 || version:u64be. Stream names never contain 0x00, so a stream's keys are
// contiguous and sort by version.
std::string StreamKey(std::string_view stream, uint64_t version) {
  std::string k(stream);
  k.push_back('\0');
  PutBigEndian64(&k, version);
  return k;
}

// level:u8 || index:u64be
std::string TreeKey(uint8_t level, uint64_t index) {
  std::string k(1, static_cast<char>(level));
  PutBigEndian64(&k, index);
  return k;
}

ByteView SliceBytes(const rocksdb::Slice& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string MiB(uint64_t bytes) {
  return std::to_string(bytes >> 20) + "." +
         std::to_string(((bytes & ((1 << 20) - 1)) * 10) >> 20) + " MiB";
}

// Ok when the file system of `path` has at least `reserve` bytes free for an unprivileged
// user; ResourceExhausted saying how much is free otherwise.
Status CheckFreeSpace(const std::string& path, uint64_t reserve) {
  if (reserve == 0) return Status::Ok();
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return Unavailable("cannot stat the file system of " + path + ": " + std::strerror(errno));
  }
  const uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= reserve) return Status::Ok();
  return ResourceExhausted("disk nearly full: " + MiB(free_bytes) + " free on the file system of " +
                           path + ", below the reserve of " + MiB(reserve) +
                           "; writes resume by themselves once space is freed");
}

class RocksDbStorage : public LogStorage {
 public:
  RocksDbStorage(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs,
                 RocksDbStorageOptions options, std::string path)
      : db_(std::move(db)), cfs_(std::move(cfs)), options_(options), path_(std::move(path)) {}

  ~RocksDbStorage() override {
    // After a failed write RocksDB has stopped writing; a flush would touch the write-ahead log
    // writer that failed, which RocksDB does not allow (it asserts). Close without it: the WAL
    // replay at the next open restores everything that was committed.
    if (!options_.read_only && !write_failed_.load()) {
      // Everything committed is already in the synced WAL; flushing the memtables now only spares
      // the next open a WAL replay. A failure leaves that replay to do.
      IgnoreError(FromRocks(db_->Flush(rocksdb::FlushOptions(), cfs_), "flush on close"));
    }
    for (auto* cf : cfs_) {
      // Closing a handle only fails for the default family, which is not ours to destroy.
      IgnoreError(FromRocks(db_->DestroyColumnFamilyHandle(cf), "close column family"));
    }
    IgnoreError(FromRocks(db_->Close(), "close"));  // nothing left to do with a close error
  }

  rocksdb::ColumnFamilyHandle* meta() const { return cfs_[0]; }
  rocksdb::ColumnFamilyHandle* log() const { return cfs_[1]; }
  rocksdb::ColumnFamilyHandle* streams() const { return cfs_[2]; }
  rocksdb::ColumnFamilyHandle* ids() const { return cfs_[3]; }
  rocksdb::ColumnFamilyHandle* tree() const { return cfs_[4]; }
  rocksdb::ColumnFamilyHandle* checkpoints() const { return cfs_[5]; }

  Status CheckFormat(bool created) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta(), kFormatKey, &value);
    if (s.IsNotFound() && created && !options_.read_only) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      return FromRocks(db_->Put(wo, meta(), kFormatKey, kFormatValue), "write format");
    }
    VX_RETURN_IF_ERROR(FromRocks(s, "read format"));
    if (value != kFormatValue && value.starts_with(kFormatPrefix)) {
      // Another version of this log (nothing in production holds an earlier one).
      return FailedPrecondition("this data directory holds log format " + value +
                                "; this vaxledger reads " + std::string(kFormatValue) +
                                " only: open it with the vaxledger that wrote it, or start a new "
                                "data directory (vaxledger init)");
    }
    if (value != kFormatValue) {
      return DataLoss("database format is '" + value + "', expected '" + std::string(kFormatValue) +
                      "'");
    }
    return Status::Ok();
  }

  Status Writable() override {
    if (options_.read_only) return FailedPrecondition("the event log is open read-only");
    if (write_failed_.load()) {
      return Unavailable("a write to the event log's database failed; restart to recover");
    }
    return CheckFreeSpace(path_, options_.min_free_bytes);
  }

  Status Commit(const CommitBatch& batch) override {
    if (Status w = Writable(); w.code() == Code::kResourceExhausted) return w;
    rocksdb::WriteBatch wb;
    for (const auto& r : batch.records) {
      Bytes value = EncodeRecordValue(r);
      VX_RETURN_IF_ERROR(
          FromRocks(wb.Put(log(), PositionKey(r.position), AsChars(value)), "batch"));
    }
    for (const auto& e : batch.stream_entries) {
      VX_RETURN_IF_ERROR(FromRocks(
          wb.Put(streams(), StreamKey(e.stream, e.version), PositionKey(e.position)), "batch"));
    }
    for (const auto& [id, pos] : batch.event_ids) {
      rocksdb::Slice key(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
      VX_RETURN_IF_ERROR(FromRocks(wb.Put(ids(), key, PositionKey(pos)), "batch"));
    }
    for (const auto& n : batch.tree_nodes) {
      VX_RETURN_IF_ERROR(FromRocks(
          wb.Put(tree(), TreeKey(n.level, n.index),
                 rocksdb::Slice(reinterpret_cast<const char*>(n.hash.data()), n.hash.size())),
          "batch"));
    }
    if (!batch.first_key.empty()) {
      VX_RETURN_IF_ERROR(FromRocks(wb.Put(meta(), kFirstKeyKey, batch.first_key), "batch"));
    }
    if (!batch.checkpoint.empty()) {
      VX_RETURN_IF_ERROR(FromRocks(wb.Put(meta(), kCheckpointKey, batch.checkpoint), "batch"));
      VX_RETURN_IF_ERROR(FromRocks(
          wb.Put(checkpoints(), PositionKey(batch.checkpoint_size), batch.checkpoint), "batch"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    Status s = FromRocks(db_->Write(wo, &wb), "commit");
    if (!s.ok()) write_failed_.store(true);
    return s;
  }

  Result<Position> RecordCount() override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log()));
    it->SeekToLast();
    VX_RETURN_IF_ERROR(FromRocks(it->status(), "read log head"));
    if (!it->Valid()) return Position{0};
    if (it->key().size() != 8) return DataLoss("log key is not 8 bytes");
    return GetBigEndian64(it->key().data()) + 1;
  }

  Result<std::vector<StoredRecord>> ReadRecords(Position from, size_t max, bool forward) override {
    std::vector<StoredRecord> out;
    if (max == 0) return out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log()));
    std::string start = PositionKey(from);
    if (forward) {
      it->Seek(start);
    } else {
      it->SeekForPrev(start);
    }
    Position expected = from;
    while (it->Valid() && out.size() < max) {
      if (it->key().size() != 8) return DataLoss("log key is not 8 bytes");
      Position p = GetBigEndian64(it->key().data());
      if (!forward && out.empty()) expected = p;  // a backward read starts at the head
      if (p != expected) break;                   // a gap: stop, the caller sees fewer
      StoredRecord r;
      r.position = p;
      Status s = DecodeRecordValue(SliceBytes(it->value()), &r);
      if (!s.ok()) return DataLoss("position " + std::to_string(p) + ": " + s.message());
      out.push_back(std::move(r));
      if (forward) {
        ++expected;
        it->Next();
      } else {
        if (p == 0) break;
        --expected;
        it->Prev();
      }
    }
    VX_RETURN_IF_ERROR(FromRocks(it->status(), "read log"));
    return out;
  }

  Result<RawScan> ScanRecords(Position from, size_t max) override {
    RawScan scan;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log()));
    std::string end = PositionKey(from + max);
    for (it->Seek(PositionKey(from)); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      StoredRecord r;
      if (it->key().size() != 8) {
        scan.malformed.push_back(from + scan.records.size());
        continue;
      }
      r.position = GetBigEndian64(it->key().data());
      if (!DecodeRecordValue(SliceBytes(it->value()), &r).ok()) {
        scan.malformed.push_back(r.position);
        r.leaf.clear();
      }
      scan.records.push_back(std::move(r));
    }
    VX_RETURN_IF_ERROR(FromRocks(it->status(), "scan log"));
    return scan;
  }

  Result<std::optional<Position>> FindEventId(const EventId& id) override {
    std::string value;
    rocksdb::Slice key(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ids(), key, &value);
    if (s.IsNotFound()) return std::optional<Position>();
    VX_RETURN_IF_ERROR(FromRocks(s, "read event id"));
    if (value.size() != 8) return DataLoss("event id index value is not 8 bytes");
    return std::optional<Position>(GetBigEndian64(value.data()));
  }

  Result<std::optional<uint64_t>> StreamHeadVersion(std::string_view stream) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams()));
    it->SeekForPrev(StreamKey(stream, UINT64_MAX));
    VX_RETURN_IF_ERROR(FromRocks(it->status(), "read stream head"));
    if (!it->Valid()) return std::optional<uint64_t>();
    rocksdb::Slice k = it->key();
    if (k.size() != stream.size() + 9 || std::memcmp(k.data(), stream.data(), stream.size()) != 0 ||
        k[stream.size()] != '\0') {
      return std::optional<uint64_t>();
    }
    return std::optional<uint64_t>(GetBigEndian64(k.data() + stream.size() + 1));
  }

  Result<Hash> ReadTreeNode(uint8_t level, uint64_t index) override {
    std::string value;
    VX_RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), tree(), TreeKey(level, index), &value),
                  "read tree node " + std::to_string(level) + "/" + std::to_string(index)));
    if (value.size() != 32) return DataLoss("tree node value is not 32 bytes");
    Hash h;
    std::memcpy(h.data(), value.data(), 32);
    return h;
  }

  Result<std::optional<std::string>> ReadCheckpoint() override { return ReadMeta(kCheckpointKey); }

  Result<std::optional<std::string>> ReadFirstKey() override { return ReadMeta(kFirstKeyKey); }

  Result<std::optional<std::string>> ReadMeta(std::string_view key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    VX_RETURN_IF_ERROR(FromRocks(s, "read " + std::string(key)));
    return std::optional<std::string>(std::move(value));
  }

  Result<std::vector<std::pair<uint64_t, std::string>>> ReadCheckpoints(uint64_t from,
                                                                        size_t max) override {
    std::vector<std::pair<uint64_t, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints()));
    for (it->Seek(PositionKey(from)); it->Valid() && out.size() < max; it->Next()) {
      if (it->key().size() != 8) return DataLoss("checkpoint key is not 8 bytes");
      out.emplace_back(GetBigEndian64(it->key().data()), it->value().ToString());
    }
    VX_RETURN_IF_ERROR(FromRocks(it->status(), "read checkpoints"));
    return out;
  }

  Result<std::vector<Position>> ReadStreamPositions(std::string_view stream, uint64_t from_version,
                                                    size_t max, bool forward) override {
    std::vector<Position> out;
    if (max == 0) return out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams()));
    std::string start = StreamKey(stream, from_version);
    std::string prefix = StreamKey(stream, 0).substr(0, stream.size() + 1);
    if (forward) {
      it->Seek(start);
    } else {
      it->SeekForPrev(start);
    }
    for (; it->Valid() && out.size() < max; forward ? it->Next() : it->Prev()) {
      if (!it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) break;
      if (it->value().size() != 8) return DataLoss("stream index value is not 8 bytes");
      out.push_back(GetBigEndian64(it->value().data()));
    }
    VX_RETURN_IF_ERROR(FromRocks(it->status(), "read stream"));
    return out;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  RocksDbStorageOptions options_;
  std::string path_;
  std::atomic<bool> write_failed_{false};
};

// After an open that failed with Corruption: what RocksDB logged about it (the write-ahead log
// file and the bytes it could not replay), or else the WAL files, so that the message names the
// file.
std::string CorruptionDetail(const std::string& path, const RocksDbLogger& logger) {
  std::string found = LastCorruption(logger);
  if (!found.empty()) return " (RocksDB: " + found + ")";
  std::string wals;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".log") wals += " " + entry.path().filename().string();
  }
  return wals.empty() ? std::string() : " (in the write-ahead log:" + wals + ")";
}

}  // namespace

Result<std::unique_ptr<LogStorage>> OpenRocksDbStorage(const std::string& path,
                                                       RocksDbStorageOptions options) {
  std::error_code ec;
  bool exists = std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec);
  if (!exists && (!options.create_if_missing || options.read_only)) {
    return FailedPrecondition("no event log database at " + path);
  }
  if (!exists) {
    // Personal data lives in here: only the owner may enter (umask aside).
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return FailedPrecondition("cannot create " + path + ": " + std::strerror(errno));
    }
  }
  if (!options.read_only) {
    // Opening writes (a new MANIFEST and WAL); on a full disk RocksDB's failure path is not
    // safe, so do not start it there.
    VX_RETURN_IF_ERROR(CheckFreeSpace(path, options.min_free_bytes));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  // A torn last record is dropped (it was never acknowledged); damage anywhere else refuses the
  // open instead of silently dropping everything after it (kPointInTimeRecovery would).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.paranoid_checks = true;
  // The info log off the data disk: RocksDB aborts when it logs through a LOG writer that a full
  // disk made fail (rocksdb_logger.h).
  auto logger = NewRocksDbLogger(path);
  db_options.info_log = AsRocksLogger(logger);
  // With an SstFileManager RocksDB recovers by itself from a flush or compaction that hit a full
  // disk, once space is back.
  db_options.sst_file_manager.reset(rocksdb::NewSstFileManager(rocksdb::Env::Default()));
  db_options.max_background_jobs = 2;
  // Every commit writes to the small default and checkpoints families too, so the WAL could only
  // be recycled once RocksDB's default cap (4 x all write buffers, ~3 GiB here) forced flushes:
  // cap it at 256 MiB, which bounds both the disk it takes and the replay after a crash.
  db_options.max_total_wal_size = 256 << 20;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = 64 << 20;
  // Event ids are looked up at every append, and almost always missing: a Bloom filter answers
  // those without reading table blocks.
  rocksdb::ColumnFamilyOptions ids_options = cf_options;
  rocksdb::BlockBasedTableOptions ids_table;
  ids_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  ids_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(ids_table));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : {kMetaCf, kLogCf, kStreamsCf}) descriptors.emplace_back(name, cf_options);
  descriptors.emplace_back(kEventIdsCf, ids_options);
  descriptors.emplace_back(kTreeCf, cf_options);
  descriptors.emplace_back(kCheckpointsCf, cf_options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &raw)
          : rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Unavailable("the event log at " + path +
                       " is in use by another process (a running `vaxledger serve`?)");
  }
  if (s.IsCorruption()) {
    return DataLoss("open " + path + ": " + s.ToString() + CorruptionDetail(path, *logger));
  }
  VX_RETURN_IF_ERROR(FromRocks(s, "open " + path));
  auto storage = std::make_unique<RocksDbStorage>(std::unique_ptr<rocksdb::DB>(raw),
                                                  std::move(handles), options, path);
  VX_RETURN_IF_ERROR(storage->CheckFormat(/*created=*/!exists));
  return std::unique_ptr<LogStorage>(std::move(storage));
}

}  // namespace vaxledger::eventstore
