// Sessions: what a person gets after the identity provider's signed assertion was checked
// (SPEC §4). A session token is 32 random bytes (base64url, 43 characters); the store keeps only
// its SHA-256, so a copy of the store (or of memory) does not give anyone a usable token.
//
// A session expires `ttl` after it was created, and is revoked at logout. Sessions live in
// memory: a restart logs everyone out (they log in again; nothing else is lost).
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

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
  // Most sessions at once; creating one more gives ResourceExhausted. Default 100000.
  size_t max_sessions = 100000;
};

class SessionStore {
 public:
  explicit SessionStore(SessionOptions options = {}) : options_(options) {}

  // Stores `session` (expiring ttl after now_us) and returns its token.
  Result<std::string> Create(Session session, int64_t now_us);
  // The session of `token`. Unauthenticated when it is unknown, revoked or expired.
  Result<Session> Find(std::string_view token, int64_t now_us) const;
  // Changes the session of `token` with `change`. Unauthenticated as Find.
  Status Update(std::string_view token, int64_t now_us,
                const std::function<void(Session&)>& change);
  // Ends the session; a no-op for an unknown token.
  void Revoke(std::string_view token);

 private:
  static Hash Key(std::string_view token);
  SessionOptions options_;
  mutable std::mutex mutex_;
  std::map<Hash, Session> sessions_;  // by SHA-256(token)
};

}  // namespace vaxledger::http
