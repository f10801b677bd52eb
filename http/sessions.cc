#include "http/sessions.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/encoding.h"
#include "eventstore/rocksdb_status.h"

namespace vaxledger::http {

// Where the store's keys live: a std::map (in memory) or a RocksDB database. Keys and values as
// in docs/storage.md, "Sessions"; both iterate in bytewise key order.
class SessionStore::Backend {
 public:
  using Batch = std::vector<std::pair<std::string, std::optional<std::string>>>;
  virtual ~Backend() = default;
  virtual Result<bool> Contains(const std::string& key) = 0;
  // Puts (value) and deletes (nullopt) atomically.
  virtual Status Write(const Batch& batch) = 0;
  // Calls `f` for every key that starts with `prefix`, in key order.
  virtual Status Scan(std::string_view prefix,
                      const std::function<Status(std::string_view, std::string_view)>& f) = 0;
  // Leaves no older version of any key in the backend's files (erasure, issue 16).
  virtual Status Compact() { return Status::Ok(); }
};

namespace {

using nlohmann::json;

constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormat = "vaxledger-sessions-1";
constexpr char kSessionPrefix = 's';
constexpr char kAssertionPrefix = 'a';
constexpr int64_t kPurgeEveryUs = 60LL * 1000000;

std::string HashKey(char prefix, const Hash& h) {
  std::string key(1, prefix);
  key.append(reinterpret_cast<const char*>(h.data()), h.size());
  return key;
}

std::string EncodeSession(const Session& s) {
  return json{{"person", s.person},
              {"insz", s.insz},
              {"name", s.name},
              {"email", s.email},
              {"entity", s.entity},
              {"on_behalf_of", s.on_behalf_of},
              {"created_us", s.created_us},
              {"expires_us", s.expires_us}}
      .dump();
}

Result<Session> DecodeSession(std::string_view value) {
  auto j = json::parse(value, nullptr, /*allow_exceptions=*/false);
  Session s;
  auto text = [&](const char* name, std::string& out) {
    if (!j.contains(name) || !j[name].is_string()) return false;
    out = j[name].get<std::string>();
    return true;
  };
  auto number = [&](const char* name, int64_t& out) {
    if (!j.contains(name) || !j[name].is_number_integer()) return false;
    out = j[name].get<int64_t>();
    return true;
  };
  if (!j.is_object() || !text("person", s.person) || !text("insz", s.insz) ||
      !text("name", s.name) || !text("email", s.email) || !text("entity", s.entity) ||
      !text("on_behalf_of", s.on_behalf_of) || !number("created_us", s.created_us) ||
      !number("expires_us", s.expires_us)) {
    return DataLoss("a session record is not the documented JSON object");
  }
  return s;
}

class MemoryBackend final : public SessionStore::Backend {
 public:
  Result<bool> Contains(const std::string& key) override { return data_.contains(key); }
  Status Write(const Batch& batch) override {
    for (const auto& [key, value] : batch) {
      if (value) {
        data_[key] = *value;
      } else {
        data_.erase(key);
      }
    }
    return Status::Ok();
  }
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view, std::string_view)>& f) override {
    for (auto it = data_.lower_bound(std::string(prefix));
         it != data_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      VX_RETURN_IF_ERROR(f(it->first, it->second));
    }
    return Status::Ok();
  }

 private:
  std::map<std::string, std::string> data_;
};

// RocksDB creates its files 0644 (less the umask); this file system makes every file it
// creates 0600 at once, for this database only (the directory is 0700 as well).
class OwnerOnlyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  static const char* kClassName() { return "VaxledgerOwnerOnlyFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return OwnerOnly(f, target()->NewWritableFile(f, o, r, dbg));
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return OwnerOnly(f, target()->ReopenWritableFile(f, o, r, dbg));
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    return OwnerOnly(f, target()->ReuseWritableFile(f, old, o, r, dbg));
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return OwnerOnly(f, target()->NewRandomRWFile(f, o, r, dbg));
  }
  rocksdb::IOStatus NewLogger(const std::string& f, const rocksdb::IOOptions& o,
                              std::shared_ptr<rocksdb::Logger>* r,
                              rocksdb::IODebugContext* dbg) override {
    return OwnerOnly(f, target()->NewLogger(f, o, r, dbg));
  }
  rocksdb::IOStatus LockFile(const std::string& f, const rocksdb::IOOptions& o,
                             rocksdb::FileLock** l, rocksdb::IODebugContext* dbg) override {
    return OwnerOnly(f, target()->LockFile(f, o, l, dbg));
  }

 private:
  static rocksdb::IOStatus OwnerOnly(const std::string& f, rocksdb::IOStatus created) {
    if (!created.ok() || ::chmod(f.c_str(), 0600) == 0) return created;
    return rocksdb::IOStatus::IOError("chmod 600 " + f, std::strerror(errno));
  }
};

class RocksBackend final : public SessionStore::Backend {
 public:
  RocksBackend(std::unique_ptr<rocksdb::Env> env, std::unique_ptr<rocksdb::DB> db, bool sync)
      : env_(std::move(env)), db_(std::move(db)) {
    write_options_.sync = sync;
  }
  Result<bool> Contains(const std::string& key) override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return false;
    VX_RETURN_IF_ERROR(eventstore::FromRocks(s, "sessions: read"));
    return true;
  }
  Status Write(const Batch& batch) override {
    rocksdb::WriteBatch b;
    for (const auto& [key, value] : batch) {
      rocksdb::Status s = value ? b.Put(key, *value) : b.Delete(key);
      VX_RETURN_IF_ERROR(eventstore::FromRocks(s, "sessions: write"));
    }
    return eventstore::FromRocks(db_->Write(write_options_, &b), "sessions: write");
  }
  Status Compact() override {
    rocksdb::FlushOptions flush;
    VX_RETURN_IF_ERROR(eventstore::FromRocks(db_->Flush(flush), "sessions: flush"));
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    return eventstore::FromRocks(db_->CompactRange(options, nullptr, nullptr), "sessions: compact");
  }
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view, std::string_view)>& f) override {
    rocksdb::ReadOptions read;
    read.verify_checksums = true;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Next()) {
      VX_RETURN_IF_ERROR(f(std::string_view(it->key().data(), it->key().size()),
                           std::string_view(it->value().data(), it->value().size())));
    }
    return eventstore::FromRocks(it->status(), "sessions: read");
  }

 private:
  std::unique_ptr<rocksdb::Env> env_;  // outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
};

// Creates `dir` (mode 0700) when missing; refuses one that others may read.
Status PrepareDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unavailable("sessions: cannot create " + dir + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return Unavailable("sessions: cannot read " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition("sessions: " + dir + " is not a directory");
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition("sessions: " + dir +
                              " may be read by others (it holds who is logged in): chmod 700 " +
                              dir);
  }
  return Status::Ok();
}

}  // namespace

SessionStore::SessionStore(SessionOptions options)
    : SessionStore(options, std::make_unique<MemoryBackend>()) {}

SessionStore::SessionStore(SessionOptions options, std::unique_ptr<Backend> backend)
    : options_(options), backend_(std::move(backend)) {}

SessionStore::~SessionStore() = default;

Result<std::unique_ptr<SessionStore>> SessionStore::Open(const std::string& dir,
                                                         SessionOptions options, int64_t now_us) {
  VX_RETURN_IF_ERROR(PrepareDirectory(dir));
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(
      std::make_shared<OwnerOnlyFileSystem>(rocksdb::FileSystem::Default()));
  rocksdb::Options db_options;
  db_options.env = env.get();
  db_options.create_if_missing = true;
  db_options.paranoid_checks = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.write_buffer_size = 4 << 20;
  db_options.max_open_files = 64;
  db_options.keep_log_file_num = 2;
  db_options.max_log_file_size = 1 << 20;
  rocksdb::DB* raw = nullptr;
  VX_RETURN_IF_ERROR(
      eventstore::FromRocks(rocksdb::DB::Open(db_options, dir, &raw), "sessions: open " + dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string format;
  rocksdb::Status got = db->Get(rocksdb::ReadOptions(), std::string(kFormatKey), &format);
  if (got.IsNotFound()) {
    rocksdb::WriteOptions w;
    w.sync = true;
    VX_RETURN_IF_ERROR(eventstore::FromRocks(
        db->Put(w, std::string(kFormatKey), std::string(kFormat)), "sessions: write"));
  } else {
    VX_RETURN_IF_ERROR(eventstore::FromRocks(got, "sessions: read"));
    if (format != kFormat) {
      return FailedPrecondition("sessions: " + dir + " holds format " + format + ", not " +
                                std::string(kFormat));
    }
  }
  std::unique_ptr<SessionStore> store(new SessionStore(
      options, std::make_unique<RocksBackend>(std::move(env), std::move(db), options.sync)));
  VX_RETURN_IF_ERROR(store->Load(now_us));
  return store;
}

Hash SessionStore::Key(std::string_view token) { return Sha256(AsBytes(token)); }

Status SessionStore::Load(int64_t now_us) {
  std::lock_guard write(write_mutex_);
  VX_RETURN_IF_ERROR(
      backend_->Scan(std::string(1, kSessionPrefix), [&](std::string_view key, std::string_view v) {
        Hash h{};
        if (key.size() != 1 + h.size()) {
          return DataLoss("sessions: a session key is not 33 bytes");
        }
        std::copy(key.begin() + 1, key.end(), reinterpret_cast<char*>(h.data()));
        VX_ASSIGN_OR_RETURN(Session s, DecodeSession(v));
        InsertLocked(h, std::move(s));
        return Status::Ok();
      }));
  return PurgeLocked(now_us, /*force=*/true);
}

void SessionStore::InsertLocked(const Hash& key, Session session) {
  std::unique_lock lock(mutex_);
  by_person_[session.person].emplace(session.created_us, key);
  by_expiry_.emplace(session.expires_us, key);
  sessions_[key] = std::move(session);
}

void SessionStore::EraseLocked(const Hash& key) {
  std::unique_lock lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  auto person = by_person_.find(it->second.person);
  if (person != by_person_.end()) {
    person->second.erase({it->second.created_us, key});
    if (person->second.empty()) by_person_.erase(person);
  }
  by_expiry_.erase({it->second.expires_us, key});
  sessions_.erase(it);
}

Status SessionStore::PurgeLocked(int64_t now_us, bool force) {
  if (!force && now_us - last_purge_us_ < kPurgeEveryUs) return Status::Ok();
  Backend::Batch batch;
  std::vector<Hash> expired;
  for (auto it = by_expiry_.begin(); it != by_expiry_.end() && it->first <= now_us; ++it) {
    expired.push_back(it->second);
    batch.emplace_back(HashKey(kSessionPrefix, it->second), std::nullopt);
  }
  const int64_t now_s = now_us / 1000000;
  VX_RETURN_IF_ERROR(backend_->Scan(std::string(1, kAssertionPrefix),
                                    [&](std::string_view key, std::string_view value) {
                                      auto until = ParseDecimal(value, "accepted_until_s");
                                      // A record that does not parse is kept: refusing an assertion
                                      // is the safe side.
                                      if (until.ok() && static_cast<int64_t>(*until) < now_s) {
                                        batch.emplace_back(std::string(key), std::nullopt);
                                      }
                                      return Status::Ok();
                                    }));
  if (!batch.empty()) VX_RETURN_IF_ERROR(backend_->Write(batch));
  for (const Hash& h : expired) EraseLocked(h);
  last_purge_us_ = now_us;
  return Status::Ok();
}

Result<std::string> SessionStore::Create(Session session, int64_t now_us,
                                         const AssertionUse* assertion) {
  uint8_t secret[32];
  RandomBytes(secret, sizeof secret);
  std::string token = Base64UrlEncode(ByteView(secret, sizeof secret));
  const Hash key = Key(token);
  session.created_us = now_us;
  session.expires_us =
      now_us + std::chrono::duration_cast<std::chrono::microseconds>(options_.ttl).count();

  // Writers are serialised by write_mutex_, so the maps can be read here without mutex_.
  std::lock_guard write(write_mutex_);
  VX_RETURN_IF_ERROR(PurgeLocked(now_us, /*force=*/false));
  Backend::Batch batch;
  if (assertion != nullptr) {
    const std::string used = HashKey(kAssertionPrefix, assertion->id);
    VX_ASSIGN_OR_RETURN(bool seen, backend_->Contains(used));
    if (seen) {
      return Status(Code::kUnauthenticated,
                    "assertion: already exchanged for a session (an assertion opens one session): "
                    "log in at the identity provider again",
                    "assertion");
    }
    batch.emplace_back(used, std::to_string(assertion->accepted_until_s));
  }
  // The person's oldest sessions make room for this one.
  std::vector<Hash> ended;
  if (auto mine = by_person_.find(session.person); mine != by_person_.end()) {
    const size_t keep =
        options_.max_sessions_per_person == 0 ? 0 : options_.max_sessions_per_person - 1;
    for (auto it = mine->second.begin(); mine->second.size() - ended.size() > keep; ++it) {
      ended.push_back(it->second);
    }
  }
  if (sessions_.size() - ended.size() >= options_.max_sessions) {
    VX_RETURN_IF_ERROR(PurgeLocked(now_us, /*force=*/true));
    // The purge may have removed some of `ended` already (expired ones).
    std::erase_if(ended, [&](const Hash& h) { return !sessions_.contains(h); });
    if (sessions_.size() - ended.size() >= options_.max_sessions) {
      return ResourceExhausted("too many sessions; try again later");
    }
  }
  for (const Hash& h : ended) batch.emplace_back(HashKey(kSessionPrefix, h), std::nullopt);
  batch.emplace_back(HashKey(kSessionPrefix, key), EncodeSession(session));
  VX_RETURN_IF_ERROR(backend_->Write(batch));
  for (const Hash& h : ended) EraseLocked(h);
  InsertLocked(key, std::move(session));
  return token;
}

Result<Session> SessionStore::Find(std::string_view token, int64_t now_us) const {
  std::shared_lock lock(mutex_);
  auto it = sessions_.find(Key(token));
  if (it == sessions_.end()) {
    return Status(Code::kUnauthenticated, "the session is unknown or ended: log in again");
  }
  if (it->second.expires_us <= now_us) {
    return Status(Code::kUnauthenticated, "the session expired: log in again");
  }
  return it->second;
}

Status SessionStore::Update(std::string_view token, int64_t now_us,
                            const std::function<void(Session&)>& change) {
  const Hash key = Key(token);
  std::lock_guard write(write_mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || it->second.expires_us <= now_us) {
    return Status(Code::kUnauthenticated, "the session is unknown or expired: log in again");
  }
  Session changed = it->second;
  change(changed);
  changed.person = it->second.person;
  changed.created_us = it->second.created_us;
  changed.expires_us = it->second.expires_us;
  VX_RETURN_IF_ERROR(backend_->Write({{HashKey(kSessionPrefix, key), EncodeSession(changed)}}));
  std::unique_lock lock(mutex_);
  it->second = std::move(changed);
  return Status::Ok();
}

Status SessionStore::Revoke(std::string_view token) {
  const Hash key = Key(token);
  std::lock_guard write(write_mutex_);
  if (!sessions_.contains(key)) return Status::Ok();
  VX_RETURN_IF_ERROR(backend_->Write({{HashKey(kSessionPrefix, key), std::nullopt}}));
  EraseLocked(key);
  return Status::Ok();
}

Result<size_t> SessionStore::EndPerson(const std::string& person) {
  std::lock_guard write(write_mutex_);
  std::vector<Hash> keys;
  {
    std::shared_lock lock(mutex_);
    if (auto it = by_person_.find(person); it != by_person_.end()) {
      for (const auto& [created, key] : it->second) keys.push_back(key);
    }
  }
  if (keys.empty()) return size_t{0};
  Backend::Batch batch;
  for (const Hash& key : keys) batch.emplace_back(HashKey(kSessionPrefix, key), std::nullopt);
  VX_RETURN_IF_ERROR(backend_->Write(batch));
  for (const Hash& key : keys) EraseLocked(key);
  VX_RETURN_IF_ERROR(backend_->Compact());
  return keys.size();
}

std::vector<std::string> SessionStore::People() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  out.reserve(by_person_.size());
  for (const auto& [person, keys] : by_person_) out.push_back(person);
  return out;
}

size_t SessionStore::size() const {
  std::shared_lock lock(mutex_);
  return sessions_.size();
}

}  // namespace vaxledger::http
