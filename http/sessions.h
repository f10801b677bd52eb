// Sessions: what a person gets after the identity provider's signed assertion was checked
// (SPEC §4; the rules: docs/api.md, "Sessions and assertions"). A session token is 32 random
// bytes (base64url, 43 characters); the store keeps only its SHA-256, so a copy of the store (or
// of memory) does not give anyone a usable token.
//
// A session expires `ttl` after it was created, and is revoked at logout. A person has at most
// `max_sessions_per_person` live sessions: one more login ends that person's oldest session (a
// new device or browser always gets in; one person cannot fill the store for others).
//
// An assertion opens at most one session: Create records the assertion's id (with the session,
// in one atomic write) and refuses one recorded before, until the assertion could no longer be
// accepted anyway (Assertion::accepted_until_s), when the record is dropped.
//
// Durability: a store opened with Open keeps everything in a small RocksDB database in its own
// directory (docs/storage.md, "Sessions"): every change is written (and, by default, synced)
// before the call returns, so a restart or a crash is invisible to users. The in-memory store
// (the constructor) keeps the same rules without a disk, for tests.
//
// Thread-safety: thread-safe. Find does not wait for another call's disk write.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger::http {

struct Session {
  std::string person;  // person id (pseudonym)
  std::string insz;
  std::string name;
  std::string email;
  std::string entity;        // the entity acted for; empty until chosen
  std::string on_behalf_of;  // staff: the physician acted for
  int64_t created_us = 0;
  int64_t expires_us = 0;
};

struct SessionOptions {
  // How long a session lasts. Default 8 hours.
  std::chrono::seconds ttl{8 * 3600};
  // Most live sessions at once, all people together: a memory bound (about 300 bytes each).
  // Creating one more gives ResourceExhausted. Default 100000. One person cannot reach it
  // (max_sessions_per_person).
  size_t max_sessions = 100000;
  // Most live sessions of one person; a login beyond it ends that person's oldest session.
  // Default 10.
  size_t max_sessions_per_person = 10;
  // Sync each write to disk before the call returns (a login or logout survives a crash of the
  // machine). Default true. Only for a store from Open.
  bool sync = true;
};

// The assertion a login exchanges (from VerifyAssertion): its id and until when it is accepted.
struct AssertionUse {
  Hash id{};
  int64_t accepted_until_s = 0;
};

class SessionStore {
 public:
  // An in-memory store: nothing survives the object.
  explicit SessionStore(SessionOptions options = {});
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // Opens the store in `dir` (a RocksDB database, created with mode 0700 when missing), loads
  // its live sessions and drops what expired before `now_us`. FailedPrecondition when `dir` can
  // be read by others (group or other permission bits) or holds another format; the database's
  // errors as their Status (Unavailable when another process has it open).
  static Result<std::unique_ptr<SessionStore>> Open(const std::string& dir, SessionOptions options,
                                                    int64_t now_us);

  // Stores `session` (expiring ttl after now_us) and returns its token. With `assertion`:
  // Unauthenticated (field "assertion") when that assertion already opened a session.
  // ResourceExhausted at max_sessions. Beyond max_sessions_per_person, the person's oldest
  // session ends. Nothing changes on a refusal.
  Result<std::string> Create(Session session, int64_t now_us,
                             const AssertionUse* assertion = nullptr);
  // The session of `token`. Unauthenticated when it is unknown, revoked or expired.
  Result<Session> Find(std::string_view token, int64_t now_us) const;
  // Changes the session of `token` with `change` (which may not change person or times).
  // Unauthenticated as Find; the store's write error as its Status.
  Status Update(std::string_view token, int64_t now_us,
                const std::function<void(Session&)>& change);
  // Ends the session; OK for an unknown token. The store's write error as its Status.
  Status Revoke(std::string_view token);
  // Ends every session of `person` and compacts the store, so that nothing of theirs (INSZ,
  // name, e-mail) stays in its files: an erasure (issue 16). How many ended.
  Result<size_t> EndPerson(const std::string& person);
  // The people who have live sessions (to end those of people erased while the server was
  // down: `vaxledger serve` at start).
  std::vector<std::string> People() const;

  // Live sessions (tests, metrics).
  size_t size() const;

  // Where the keys live (in memory or a RocksDB database); defined in sessions.cc.
  class Backend;

 private:
  SessionStore(SessionOptions options, std::unique_ptr<Backend> backend);
  static Hash Key(std::string_view token);
  Status Load(int64_t now_us);
  // Drops sessions and assertion records that expired; at most once a minute unless `force`.
  // Requires write_mutex_.
  Status PurgeLocked(int64_t now_us, bool force);
  void InsertLocked(const Hash& key, Session session);
  void EraseLocked(const Hash& key);

  SessionOptions options_;
  std::unique_ptr<Backend> backend_;
  // Writers (Create, Update, Revoke, purges) take write_mutex_ for the whole change, then
  // mutex_ (exclusively) only to apply it in memory; Find takes mutex_ shared.
  std::mutex write_mutex_;
  int64_t last_purge_us_ = 0;  // guarded by write_mutex_
  mutable std::shared_mutex mutex_;
  std::map<Hash, Session> sessions_;                                     // by SHA-256(token)
  std::map<std::string, std::set<std::pair<int64_t, Hash>>> by_person_;  // (created_us, key)
  std::set<std::pair<int64_t, Hash>> by_expiry_;                         // (expires_us, key)
};

}  // namespace vaxledger::http
