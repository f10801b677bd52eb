#include "http/sessions.h"

#include "core/encoding.h"

namespace vaxledger::http {

Hash SessionStore::Key(std::string_view token) { return Sha256(AsBytes(token)); }

Result<std::string> SessionStore::Create(Session session, int64_t now_us) {
  uint8_t secret[32];
  RandomBytes(secret, sizeof secret);
  std::string token = Base64UrlEncode(ByteView(secret, sizeof secret));
  session.created_us = now_us;
  session.expires_us =
      now_us + std::chrono::duration_cast<std::chrono::microseconds>(options_.ttl).count();
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= options_.max_sessions) {
    // Drop expired sessions before refusing.
    std::erase_if(sessions_, [&](const auto& s) { return s.second.expires_us <= now_us; });
    if (sessions_.size() >= options_.max_sessions) {
      return ResourceExhausted("too many sessions; try again later");
    }
  }
  sessions_[Key(token)] = std::move(session);
  return token;
}

Result<Session> SessionStore::Find(std::string_view token, int64_t now_us) const {
  std::lock_guard lock(mutex_);
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
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(Key(token));
  if (it == sessions_.end() || it->second.expires_us <= now_us) {
    return Status(Code::kUnauthenticated, "the session is unknown or expired: log in again");
  }
  change(it->second);
  return Status::Ok();
}

void SessionStore::Revoke(std::string_view token) {
  std::lock_guard lock(mutex_);
  sessions_.erase(Key(token));
}

}  // namespace vaxledger::http
