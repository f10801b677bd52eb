#include "projections/view_store.h"

#include "eventstore/rocksdb_logger.h"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "eventstore/rocksdb_status.h"

namespace vaxledger::projections {

namespace fs = std::filesystem;
using eventstore::FromRocks;

namespace {

constexpr std::string_view kPositionKey = "!position";
constexpr std::string_view kSchemaKey = "!schema";

std::string PointerPath(const std::string& dir, const std::string& name) {
  return dir + "/" + name + ".current";
}
std::string GenerationPath(const std::string& dir, const std::string& name, uint64_t g) {
  return dir + "/" + name + "." + std::to_string(g);
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable("cannot sync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

struct ViewStore::Rep {
  std::unique_ptr<rocksdb::DB> db;
  bool bulk = false;  // a rebuild's store: no WAL, flushed at Publish
  std::atomic<uint64_t> records_read{0};
};

class ViewStore::Snapshot {
 public:
  Snapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~Snapshot() { db_->ReleaseSnapshot(snapshot_); }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

ViewStore::ViewStore(std::unique_ptr<Rep> rep, std::string views_dir, std::string name,
                     uint64_t generation)
    : rep_(std::move(rep)),
      views_dir_(std::move(views_dir)),
      name_(std::move(name)),
      generation_(generation) {}

ViewStore::~ViewStore() {
  if (rep_ && rep_->db) IgnoreError(FromRocks(rep_->db->Close(), "close"));  // best effort
}

Result<uint64_t> ViewStore::CurrentGeneration(const std::string& views_dir,
                                              const std::string& name) {
  std::ifstream in(PointerPath(views_dir, name));
  if (!in) return uint64_t{0};
  std::string text;
  std::getline(in, text);
  auto g = ParseU64(text);
  if (!g || *g == 0) return DataLoss(PointerPath(views_dir, name) + " does not hold a generation");
  return *g;
}

namespace {

std::mutex cache_mutex;
size_t cache_bytes = 64u << 20;
std::shared_ptr<rocksdb::Cache> shared_cache;  // guarded by cache_mutex

std::shared_ptr<rocksdb::Cache> SharedCache() {
  std::lock_guard g(cache_mutex);
  if (!shared_cache) shared_cache = rocksdb::NewLRUCache(cache_bytes);
  return shared_cache;
}

Result<std::unique_ptr<rocksdb::DB>> OpenDb(const std::string& path, bool create, bool read_only) {
  rocksdb::Options options;
  // Memory is bounded: data blocks live in one cache shared by every view store; memtables are
  // small (a rebuild's are larger: fewer, larger sorted runs).
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = SharedCache();
  // Index and filter blocks stay in memory beside the cache (about 1.3 bytes per key: ~13 MiB at
  // 10M records), so that a point read never reads them from the file again.
  table.cache_index_and_filter_blocks = false;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = create ? (64u << 20) : (16u << 20);
  options.max_write_buffer_number = 2;
  // Off the data disk: a LOG write that a full disk made fail aborts RocksDB at its next line.
  options.info_log = eventstore::AsRocksLogger(eventstore::NewRocksDbLogger(path));
  options.create_if_missing = create;
  options.error_if_exists = create;
  options.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(options, path, &raw)
                                : rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Unavailable("view " + path + " is in use by another process");
    }
    return FromRocks(s, "open view " + path);
  }
  return std::unique_ptr<rocksdb::DB>(raw);
}

}  // namespace

Result<std::unique_ptr<ViewStore>> ViewStore::Open(const std::string& views_dir,
                                                   const std::string& name, bool read_only) {
  VX_ASSIGN_OR_RETURN(uint64_t generation, CurrentGeneration(views_dir, name));
  auto rep = std::make_unique<Rep>();
  if (generation == 0) return NotFound("view " + name + " has never been built");
  VX_ASSIGN_OR_RETURN(rep->db,
                      OpenDb(GenerationPath(views_dir, name, generation), false, read_only));
  std::unique_ptr<ViewStore> store(new ViewStore(std::move(rep), views_dir, name, generation));
  for (auto [key, out] : {std::pair{kPositionKey, 0}, std::pair{kSchemaKey, 1}}) {
    std::string value;
    rocksdb::Status s = store->rep_->db->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) continue;
    VX_RETURN_IF_ERROR(FromRocks(s, "read view " + name));
    auto v = ParseU64(value);
    if (!v) return DataLoss("view " + name + ": " + std::string(key) + " is not a number");
    if (out == 0) store->position_ = *v;
    if (out == 1) store->schema_ = static_cast<int>(*v);
  }
  return store;
}

Result<std::unique_ptr<ViewStore>> ViewStore::CreateNext(const std::string& views_dir,
                                                         const std::string& name) {
  std::error_code ec;
  fs::create_directories(views_dir, ec);
  if (ec) return FailedPrecondition("cannot create " + views_dir + ": " + ec.message());
  VX_ASSIGN_OR_RETURN(uint64_t current, CurrentGeneration(views_dir, name));
  uint64_t next = current + 1;
  // Skip leftovers of interrupted rebuilds.
  while (fs::exists(GenerationPath(views_dir, name, next))) {
    fs::remove_all(GenerationPath(views_dir, name, next), ec);
    if (ec) ++next;
  }
  auto rep = std::make_unique<Rep>();
  rep->bulk = true;
  VX_ASSIGN_OR_RETURN(rep->db, OpenDb(GenerationPath(views_dir, name, next), true, false));
  return std::unique_ptr<ViewStore>(new ViewStore(std::move(rep), views_dir, name, next));
}

Status ViewStore::Publish() {
  if (!rep_->bulk) return FailedPrecondition("only a rebuilt generation is published");
  VX_RETURN_IF_ERROR(FromRocks(rep_->db->Flush(rocksdb::FlushOptions()), "flush view " + name_));
  VX_RETURN_IF_ERROR(FromRocks(rep_->db->SyncWAL(), "sync view " + name_));
  const std::string pointer = PointerPath(views_dir_, name_);
  const std::string tmp = pointer + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << generation_ << "\n";
    out.flush();
    if (!out) return Unavailable("cannot write " + tmp);
  }
  VX_RETURN_IF_ERROR(SyncPath(tmp, false));
  if (std::rename(tmp.c_str(), pointer.c_str()) != 0) {
    return Unavailable("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  VX_RETURN_IF_ERROR(SyncPath(views_dir_, true));
  rep_->bulk = false;
  return Status::Ok();
}

Status ViewStore::RemoveStale(const std::string& views_dir, const std::string& name) {
  VX_ASSIGN_OR_RETURN(uint64_t current, CurrentGeneration(views_dir, name));
  std::error_code ec;
  if (!fs::exists(views_dir, ec)) return Status::Ok();
  const std::string prefix = name + ".";
  for (const auto& entry : fs::directory_iterator(views_dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (!entry.is_directory() || !file.starts_with(prefix)) continue;
    auto g = ParseU64(std::string_view(file).substr(prefix.size()));
    if (!g || *g == current) continue;
    // A generation a running server still has open is locked: leave it for its next start.
    auto db = OpenDb(entry.path().string(), false, false);
    if (!db.ok()) continue;
    IgnoreError(FromRocks((*db)->Close(), "close"));  // it is removed next
    db->reset();
    fs::remove_all(entry.path(), ec);
  }
  return Status::Ok();
}

void ViewStore::SetCacheBytes(size_t bytes) {
  std::lock_guard g(cache_mutex);
  cache_bytes = bytes;
  if (shared_cache) shared_cache->SetCapacity(bytes);
}

std::shared_ptr<const ViewStore::Snapshot> ViewStore::TakeSnapshot() const {
  return std::make_shared<const Snapshot>(rep_->db.get());
}

Result<std::optional<std::string>> ViewStore::Get(const std::string& key,
                                                  const Snapshot* at) const {
  rocksdb::ReadOptions options;
  if (at != nullptr) options.snapshot = at->get();
  std::string value;
  rep_->records_read.fetch_add(1, std::memory_order_relaxed);
  rocksdb::Status s = rep_->db->Get(options, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  VX_RETURN_IF_ERROR(FromRocks(s, "read view " + name_));
  return std::optional<std::string>(std::move(value));
}

Status ViewStore::Scan(const std::string& prefix, const std::string& start,
                       const std::function<bool(const std::string&, const std::string&)>& f,
                       const Snapshot* at) const {
  rocksdb::ReadOptions options;
  if (at != nullptr) options.snapshot = at->get();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(options));
  for (it->Seek(std::max(prefix, start)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    rep_->records_read.fetch_add(1, std::memory_order_relaxed);
    if (!f(it->key().ToString(), it->value().ToString())) break;
  }
  return FromRocks(it->status(), "scan view " + name_);
}

Status ViewStore::Compact(const std::string& prefix) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  VX_RETURN_IF_ERROR(FromRocks(rep_->db->Flush(flush), "flush view " + name_));
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  options.exclusive_manual_compaction = false;
  if (prefix.empty()) {
    return FromRocks(rep_->db->CompactRange(options, nullptr, nullptr), "compact view " + name_);
  }
  const std::string end = prefix + std::string(1, '\xff');
  const rocksdb::Slice begin_slice(prefix), end_slice(end);
  return FromRocks(rep_->db->CompactRange(options, &begin_slice, &end_slice),
                   "compact view " + name_);
}

uint64_t ViewStore::records_read() const {
  return rep_->records_read.load(std::memory_order_relaxed);
}

Status ViewStore::ForEachRecord(
    const std::function<Status(const std::string&, const std::string&)>& f) {
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().starts_with("!")) continue;
    rep_->records_read.fetch_add(1, std::memory_order_relaxed);
    VX_RETURN_IF_ERROR(f(it->key().ToString(), it->value().ToString()));
  }
  return FromRocks(it->status(), "scan view " + name_);
}

Status ViewStore::Write(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& records,
    std::optional<uint64_t> position, int schema) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : records) {
    if (value) {
      VX_RETURN_IF_ERROR(FromRocks(batch.Put(key, *value), "write view " + name_));
    } else {
      VX_RETURN_IF_ERROR(FromRocks(batch.Delete(key), "write view " + name_));
    }
  }
  if (position) {
    VX_RETURN_IF_ERROR(
        FromRocks(batch.Put(kPositionKey, std::to_string(*position)), "write view " + name_));
    VX_RETURN_IF_ERROR(
        FromRocks(batch.Put(kSchemaKey, std::to_string(schema)), "write view " + name_));
  }
  rocksdb::WriteOptions options;
  options.disableWAL = rep_->bulk;
  VX_RETURN_IF_ERROR(FromRocks(rep_->db->Write(options, &batch), "write view " + name_));
  if (position) {
    position_ = position;
    schema_ = schema;
  }
  return Status::Ok();
}

}  // namespace vaxledger::projections
