#include "http/sessions.h"

#include <catch2/catch.hpp>

namespace vaxledger::http {
namespace {

constexpr int64_t kHour = 3600LL * 1000000;

TEST_CASE("Sessions: a random token, stored only as its hash, expiring, revocable") {
  SessionStore store(SessionOptions{std::chrono::hours(8), 3});
  const Session s{"p1", "85073003328", "Name", "n@example.be", "e1", "", 0, 0};
  auto token = store.Create(s, 0);
  REQUIRE(token.ok());
  CHECK(token->size() == 43);  // 32 bytes, base64url without padding
  auto other = store.Create(s, 0);
  REQUIRE(other.ok());
  CHECK(*other != *token);

  auto found = store.Find(*token, 7 * kHour);
  REQUIRE(found.ok());
  CHECK(found->person == "p1");
  CHECK(found->expires_us == 8 * kHour);
  auto expired = store.Find(*token, 8 * kHour);
  CHECK(expired.status().code() == Code::kUnauthenticated);
  CHECK_THAT(expired.status().message(), Catch::Contains("expired"));

  CHECK(store.Update(*other, kHour, [](Session& x) { x.entity = "e2"; }).ok());
  CHECK(store.Find(*other, kHour)->entity == "e2");
  store.Revoke(*other);
  CHECK(store.Find(*other, kHour).status().code() == Code::kUnauthenticated);
  CHECK(store.Find("not-a-token", 0).status().code() == Code::kUnauthenticated);

  // The limit: expired sessions make room, live ones do not.
  REQUIRE(store.Create(s, 9 * kHour).ok());
  REQUIRE(store.Create(s, 9 * kHour).ok());
  REQUIRE(store.Create(s, 9 * kHour).ok());
  CHECK(store.Create(s, 9 * kHour).status().code() == Code::kResourceExhausted);
}

}  // namespace
}  // namespace vaxledger::http
