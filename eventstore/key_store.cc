#include "eventstore/key_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/crypto.h"
#include "eventstore/rocksdb_logger.h"
#include "eventstore/rocksdb_status.h"

namespace vaxledger::eventstore {
namespace {

// Records (docs/storage.md, "Key store").
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormatValue = "vaxledger-keys-1";
constexpr std::string_view kFormatPrefix = "vaxledger-keys-";
constexpr std::string_view kIndexPrefix = "i/";
constexpr std::string_view kSubjectPrefix = "s/";
constexpr std::string_view kErasingPrefix = "e/";
constexpr std::string_view kPurgePrefix = "p/";
constexpr size_t kPseudonymSize = 32;
constexpr size_t kKeySize = std::tuple_size_v<DataKey>;
static_assert(kKeySize == 32);

std::string Record(std::string_view prefix, std::string_view name) {
  std::string k(prefix);
  k.append(name);
  return k;
}

rocksdb::Slice AsSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

bool IsPseudonym(std::string_view s) {
  if (s.size() != kPseudonymSize) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Creates `dir` (mode 0700) when missing; refuses one that others may enter.
Status PrepareDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unavailable("key store " + dir +
                       ": cannot create the directory: " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return Unavailable("key store " + dir + ": cannot read the directory: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition("key store " + dir + " is not a directory");
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition("key store " + dir +
                              " may be entered by others (it holds every subject's data key): "
                              "chmod 700 " +
                              dir);
  }
  return Status::Ok();
}

}  // namespace

struct KeyStore::Impl {
  Impl(std::unique_ptr<rocksdb::DB> d, const PseudonymKey& key, std::string directory)
      : db(std::move(d)), pseudonyms(key), dir(std::move(directory)) {}

  std::unique_ptr<rocksdb::DB> db;
  Pseudonymizer pseudonyms;
  std::string dir;
  // New subjects lock the stripe of their index, so that creations of different subjects run
  // together (RocksDB commits their synced writes as one group); an erasure locks every stripe.
  std::array<std::mutex, 64> create_mu;
  std::mutex& StripeOf(const std::string& index) {
    return create_mu[std::hash<std::string>()(index) % create_mu.size()];
  }
  std::mutex purge_mu;  // one purge at a time
  std::atomic<bool> write_failed{false};
  bool read_only = false;

  Status Rocks(const rocksdb::Status& s, std::string_view what) const {
    return FromRocks(s, "key store " + dir + ": " + std::string(what));
  }

  // The value of `key`, nullopt when absent.
  Result<std::optional<std::string>> Get(const std::string& key, std::string_view what) const {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    VX_RETURN_IF_ERROR(Rocks(s, what));
    return std::optional<std::string>(std::move(value));
  }

  Status Write(rocksdb::WriteBatch* batch, std::string_view what) {
    if (read_only) {
      return FailedPrecondition("key store " + dir + " is open read-only: cannot " +
                                std::string(what));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    Status s = Rocks(db->Write(wo, batch), what);
    if (!s.ok()) write_failed.store(true);
    return s;
  }

  // Every record under `prefix`: name (the key without the prefix) -> value.
  Result<std::map<std::string, std::string>> Scan(std::string_view prefix,
                                                  std::string_view what) const {
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(AsSlice(prefix)); it->Valid() && it->key().starts_with(AsSlice(prefix));
         it->Next()) {
      out.emplace(it->key().ToString().substr(prefix.size()), it->value().ToString());
    }
    VX_RETURN_IF_ERROR(Rocks(it->status(), what));
    return out;
  }

  // Makes deleted records physically gone from the files: flush, forced compaction of
  // `ranges` (each [first, last]; none: the whole store), a new MANIFEST, obsolete files
  // deleted. Then deletes the "p/" records of `subjects`.
  Status Purge(const std::vector<std::pair<std::string, std::string>>& ranges,
               const std::vector<std::string>& subjects) {
    std::lock_guard lock(purge_mu);
    if (write_failed.load()) {
      return Unavailable("key store " + dir + ": a write failed; restart to finish the erasure");
    }
    // The memtable to a table file: the write-ahead logs that held the deleted values become
    // obsolete and are deleted (WAL_ttl_seconds = WAL_size_limit_MB = 0: none is archived).
    rocksdb::FlushOptions flush;
    flush.wait = true;
    VX_RETURN_IF_ERROR(Rocks(db->Flush(flush), "erase: flush"));
    // Every table file that overlaps a range is rewritten down to the bottommost level, where
    // the deleted values and their tombstones are dropped.
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    if (ranges.empty()) {
      VX_RETURN_IF_ERROR(Rocks(db->CompactRange(compact, nullptr, nullptr), "erase: compact"));
    }
    for (const auto& [first, last] : ranges) {
      rocksdb::Slice begin(first), end(last);
      VX_RETURN_IF_ERROR(Rocks(db->CompactRange(compact, &begin, &end), "erase: compact"));
    }
    // The MANIFEST names the first and last key of every table file, a deleted record's among
    // them. With max_manifest_file_size = 0 every MANIFEST write starts a new file from the
    // live files only (the old one is deleted); a flush of the rewritten format record makes
    // one after the compactions above.
    rocksdb::WriteBatch batch;
    for (const auto& subject : subjects) {
      VX_RETURN_IF_ERROR(Rocks(batch.Delete(Record(kPurgePrefix, subject)), "erase: batch"));
    }
    VX_RETURN_IF_ERROR(
        Rocks(batch.Put(AsSlice(kFormatKey), AsSlice(kFormatValue)), "erase: batch"));
    VX_RETURN_IF_ERROR(Write(&batch, "erase: finish"));
    VX_RETURN_IF_ERROR(Rocks(db->Flush(flush), "erase: flush"));
    // RocksDB deletes obsolete files right after each flush and compaction; re-enabling file
    // deletions also looks for them at once, in this thread, so none is left when we return.
    VX_RETURN_IF_ERROR(Rocks(db->DisableFileDeletions(), "erase: delete obsolete files"));
    return Rocks(db->EnableFileDeletions(/*force=*/false), "erase: delete obsolete files");
  }

  // The pseudonym an index record names, nullopt when there is none.
  Result<std::optional<std::string>> ReadIndex(const std::string& index_key) const {
    VX_ASSIGN_OR_RETURN(std::optional<std::string> found, Get(index_key, "read index"));
    if (found && !IsPseudonym(*found)) {
      // (Not naming the index: with the pseudonym key it leads back to the identifier.)
      return DataLoss("key store " + dir + ": the index record of this identifier holds " +
                      std::to_string(found->size()) +
                      " bytes that are not a pseudonym (32 lower-case hex digits)");
    }
    return found;
  }

  Status CheckFormat(bool created) {
    VX_ASSIGN_OR_RETURN(std::optional<std::string> format,
                        Get(std::string(kFormatKey), "read format"));
    if (!format) {
      if (!created) {
        // An existing database with no format record: a creation cut short when it is empty,
        // else not a key store.
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
        it->SeekToFirst();
        VX_RETURN_IF_ERROR(Rocks(it->status(), "read format"));
        if (it->Valid()) {
          return FailedPrecondition("key store " + dir +
                                    " holds a RocksDB database without a format record: it is "
                                    "not a key store (" +
                                    std::string(kFormatValue) + ")");
        }
      }
      rocksdb::WriteBatch batch;
      VX_RETURN_IF_ERROR(
          Rocks(batch.Put(AsSlice(kFormatKey), AsSlice(kFormatValue)), "write format"));
      return Write(&batch, "write format");
    }
    if (*format == kFormatValue) return Status::Ok();
    if (format->starts_with(kFormatPrefix)) {
      return FailedPrecondition("key store " + dir + " holds format " + *format +
                                "; this vaxledger reads " + std::string(kFormatValue) +
                                " only: open it with the vaxledger that wrote it");
    }
    return DataLoss("key store " + dir + ": format record is '" + *format + "', expected '" +
                    std::string(kFormatValue) + "'");
  }
};

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& dir,
                                                 const PseudonymKey& pseudonym_key,
                                                 const KeyStoreOptions& options) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec);
  if (options.read_only && !exists) {
    return FailedPrecondition("key store " + dir + " does not exist");
  }
  if (!options.read_only) VX_RETURN_IF_ERROR(PrepareDirectory(dir));

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.paranoid_checks = true;
  // A torn last record was never acknowledged and is dropped; damage anywhere else refuses the
  // open rather than dropping the keys written after it.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  auto logger = NewRocksDbLogger(dir);
  db_options.info_log = AsRocksLogger(logger);
  db_options.max_open_files = options.max_open_files;
  // An erased key must not outlive its write-ahead log: obsolete WALs are deleted at once (not
  // archived), and old WAL files are never reused in place.
  db_options.WAL_ttl_seconds = 0;
  db_options.WAL_size_limit_MB = 0;
  db_options.recycle_log_file_num = 0;
  // Every MANIFEST write starts a new MANIFEST holding the live files only (see Purge).
  db_options.max_manifest_file_size = 0;
  db_options.write_buffer_size = options.write_buffer_bytes;
  db_options.compression = rocksdb::kNoCompression;
  // An erasure rewrites the table files that hold its records: small files and a small level 1
  // keep that to a few MiB whatever the size of the store.
  db_options.target_file_size_base = options.table_file_bytes;
  db_options.max_bytes_for_level_base = options.level1_bytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.cache_bytes);
  table.block_restart_interval = 1;  // every key stored whole
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, &raw)
                                        : rocksdb::DB::Open(db_options, dir, &raw);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Unavailable("key store " + dir +
                       " is in use by another process (a running "
                       "`vaxledger serve`?)");
  }
  if (s.IsCorruption()) {
    std::string found = LastCorruption(*logger);
    return DataLoss("key store " + dir + ": " + s.ToString() +
                    (found.empty() ? std::string() : " (RocksDB: " + found + ")"));
  }
  VX_RETURN_IF_ERROR(FromRocks(s, "key store " + dir + ": open"));
  auto impl = std::make_unique<Impl>(std::unique_ptr<rocksdb::DB>(raw), pseudonym_key, dir);
  impl->read_only = options.read_only;
  if (options.read_only) {
    VX_ASSIGN_OR_RETURN(auto format, impl->Get(std::string(kFormatKey), "read format"));
    if (format != std::optional<std::string>(std::string(kFormatValue))) {
      return FailedPrecondition("key store " + dir + " holds format " + format.value_or("(none)") +
                                "; this vaxledger reads " + std::string(kFormatValue) + " only");
    }
    return std::unique_ptr<KeyStore>(new KeyStore(std::move(impl), dir));
  }
  VX_RETURN_IF_ERROR(impl->CheckFormat(/*created=*/!exists));
  // Erasures whose purge a crash interrupted: purge the whole store (which erased records were
  // involved is no longer known; their records are gone).
  VX_ASSIGN_OR_RETURN(auto pending, impl->Scan(kPurgePrefix, "read pending erasures"));
  if (!pending.empty()) {
    std::vector<std::string> subjects;
    for (const auto& [subject, unused] : pending) subjects.push_back(subject);
    VX_RETURN_IF_ERROR(impl->Purge({}, subjects));
  }
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(impl), dir));
}

KeyStore::KeyStore(std::unique_ptr<Impl> impl, std::string dir)
    : impl_(std::move(impl)), dir_(std::move(dir)) {}

KeyStore::~KeyStore() {
  // Everything is already in the synced WAL; a flush only spares the next open a replay. After
  // a failed write RocksDB must not reuse the WAL writer that failed, so no flush then.
  if (!impl_->write_failed.load() && !impl_->read_only) {
    IgnoreError(impl_->Rocks(impl_->db->Flush(rocksdb::FlushOptions()), "flush on close"));
  }
  IgnoreError(impl_->Rocks(impl_->db->Close(), "close"));  // nothing left to do with an error
}

Result<std::string> KeyStore::Pseudonym(std::string_view kind, std::string_view identifier) {
  const std::string index = SubjectIndex(impl_->pseudonyms, kind, identifier);
  const std::string index_key = Record(kIndexPrefix, index);
  VX_ASSIGN_OR_RETURN(std::optional<std::string> found, impl_->ReadIndex(index_key));
  if (found) return *std::move(found);
  std::lock_guard lock(impl_->StripeOf(index));
  VX_ASSIGN_OR_RETURN(found, impl_->ReadIndex(index_key));
  if (found) return *std::move(found);  // made by another thread meanwhile
  std::string pseudonym = NewPseudonym();
  DataKey key;
  RandomBytes(key.data(), key.size());
  std::string value(reinterpret_cast<const char*>(key.data()), key.size());
  value += index;
  rocksdb::WriteBatch batch;
  VX_RETURN_IF_ERROR(impl_->Rocks(batch.Put(index_key, pseudonym), "new subject"));
  VX_RETURN_IF_ERROR(
      impl_->Rocks(batch.Put(Record(kSubjectPrefix, pseudonym), value), "new subject"));
  VX_RETURN_IF_ERROR(impl_->Write(&batch, "new subject"));
  return pseudonym;
}

Result<std::optional<std::string>> KeyStore::Find(std::string_view kind,
                                                  std::string_view identifier) const {
  return impl_->ReadIndex(Record(kIndexPrefix, SubjectIndex(impl_->pseudonyms, kind, identifier)));
}

Result<std::optional<DataKey>> KeyStore::Key(std::string_view subject) const {
  if (!IsPseudonym(subject)) return std::optional<DataKey>();
  VX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                      impl_->Get(Record(kSubjectPrefix, subject), "read data key"));
  if (!value) return std::optional<DataKey>();
  if (value->size() < kKeySize) {
    return DataLoss("key store " + dir_ + ": the record of subject " + std::string(subject) +
                    " is " + std::to_string(value->size()) + " bytes, shorter than its " +
                    std::to_string(kKeySize) + "-byte data key");
  }
  DataKey key;
  std::memcpy(key.data(), value->data(), kKeySize);
  return std::optional<DataKey>(key);
}

Result<std::vector<std::optional<DataKey>>> KeyStore::Keys(
    const std::vector<std::string>& subjects) const {
  std::vector<std::optional<DataKey>> out(subjects.size());
  std::vector<std::string> records;
  std::vector<size_t> at;  // index in `subjects` of each record looked up
  for (size_t i = 0; i < subjects.size(); ++i) {
    if (!IsPseudonym(subjects[i])) continue;
    records.push_back(Record(kSubjectPrefix, subjects[i]));
    at.push_back(i);
  }
  if (records.empty()) return out;
  std::vector<rocksdb::Slice> slices(records.begin(), records.end());
  std::vector<std::string> values(records.size());
  std::vector<rocksdb::Status> statuses =
      impl_->db->MultiGet(rocksdb::ReadOptions(), slices, &values);
  for (size_t j = 0; j < records.size(); ++j) {
    if (statuses[j].IsNotFound()) continue;
    VX_RETURN_IF_ERROR(impl_->Rocks(statuses[j], "read data keys"));
    if (values[j].size() < kKeySize) {
      return DataLoss("key store " + dir_ + ": the record of subject " + subjects[at[j]] + " is " +
                      std::to_string(values[j].size()) + " bytes, shorter than its " +
                      std::to_string(kKeySize) + "-byte data key");
    }
    DataKey key;
    std::memcpy(key.data(), values[j].data(), kKeySize);
    out[at[j]] = key;
  }
  return out;
}

Status KeyStore::Erase(std::string_view subject) {
  if (!IsPseudonym(subject)) {
    return InvalidArgument("subject must be a pseudonym (32 lower-case hex digits)", "subject");
  }
  const std::string subject_key = Record(kSubjectPrefix, subject);
  std::vector<std::pair<std::string, std::string>> ranges = {{subject_key, subject_key}};
  {
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(impl_->create_mu.size());
    for (std::mutex& m : impl_->create_mu) locks.emplace_back(m);
    VX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                        impl_->Get(subject_key, "erase: read data key"));
    std::vector<std::string> index_keys;
    if (value && value->size() >= kKeySize) {
      index_keys.push_back(Record(kIndexPrefix, value->substr(kKeySize)));
    } else if (value) {
      // A damaged record: find its index entries by their value.
      VX_ASSIGN_OR_RETURN(auto index, impl_->Scan(kIndexPrefix, "erase: read index"));
      for (const auto& [name, pseudonym] : index) {
        if (pseudonym == subject) index_keys.push_back(Record(kIndexPrefix, name));
      }
    }
    rocksdb::WriteBatch batch;
    VX_RETURN_IF_ERROR(impl_->Rocks(batch.Delete(subject_key), "erase: batch"));
    for (const auto& k : index_keys) {
      VX_RETURN_IF_ERROR(impl_->Rocks(batch.Delete(k), "erase: batch"));
      ranges.emplace_back(k, k);
    }
    VX_RETURN_IF_ERROR(impl_->Rocks(batch.Delete(Record(kErasingPrefix, subject)), "erase: batch"));
    VX_RETURN_IF_ERROR(
        impl_->Rocks(batch.Put(Record(kPurgePrefix, subject), rocksdb::Slice()), "erase: batch"));
    VX_RETURN_IF_ERROR(impl_->Write(&batch, "erase"));
  }
  return impl_->Purge(ranges, {std::string(subject)});
}

Status KeyStore::MarkErasing(std::string_view subject, std::string_view request_id) {
  if (!IsPseudonym(subject)) {
    return InvalidArgument("subject must be a pseudonym (32 lower-case hex digits)", "subject");
  }
  rocksdb::WriteBatch batch;
  VX_RETURN_IF_ERROR(impl_->Rocks(batch.Put(Record(kErasingPrefix, subject), AsSlice(request_id)),
                                  "mark erasing"));
  return impl_->Write(&batch, "mark erasing");
}

Status KeyStore::ClearErasing(std::string_view subject) {
  if (!IsPseudonym(subject)) {
    return InvalidArgument("subject must be a pseudonym (32 lower-case hex digits)", "subject");
  }
  rocksdb::WriteBatch batch;
  VX_RETURN_IF_ERROR(impl_->Rocks(batch.Delete(Record(kErasingPrefix, subject)), "clear erasing"));
  return impl_->Write(&batch, "clear erasing");
}

Result<std::map<std::string, std::string>> KeyStore::Erasing() const {
  return impl_->Scan(kErasingPrefix, "read erasures in progress");
}

}  // namespace vaxledger::eventstore
