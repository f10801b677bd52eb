#include "http/sessions.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/encoding.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::http {
namespace {

using eventstore::testing::TempDir;

constexpr int64_t kHour = 3600LL * 1000000;
constexpr int64_t kSecond = 1000000;

Session Person(const std::string& person) {
  return Session{person, "85073003328", "Name", "n@example.be", "e1", "", 0, 0};
}

AssertionUse Assertion(uint8_t n, int64_t until_s) {
  AssertionUse a;
  a.id.fill(n);
  a.accepted_until_s = until_s;
  return a;
}

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
  CHECK(store.Revoke(*other).ok());
  CHECK(store.Find(*other, kHour).status().code() == Code::kUnauthenticated);
  CHECK(store.Find("not-a-token", 0).status().code() == Code::kUnauthenticated);

  // The limit: expired sessions make room, live ones do not.
  REQUIRE(store.Create(s, 9 * kHour).ok());
  REQUIRE(store.Create(s, 9 * kHour).ok());
  REQUIRE(store.Create(s, 9 * kHour).ok());
  CHECK(store.Create(s, 9 * kHour).status().code() == Code::kResourceExhausted);
}

// Regression (issue 13 point 2): one person's 100,000 logins made every login by anyone 429 for
// the sessions' 8 hours. Now a person's logins beyond the per-person limit end their own oldest
// sessions, and the global limit stays out of one person's reach.
TEST_CASE("Sessions: one person's many logins end their own oldest sessions, not others' logins") {
  SessionOptions options;
  options.max_sessions = 20;
  options.max_sessions_per_person = 3;
  SessionStore store(options);
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    auto t = store.Create(Person("mallory"), i * kSecond);
    REQUIRE(t.ok());
    tokens.push_back(*t);
  }
  CHECK(store.size() == 3);
  for (int i = 0; i < 97; ++i) {
    CHECK(store.Find(tokens[i], 100 * kSecond).status().code() == Code::kUnauthenticated);
  }
  for (int i = 97; i < 100; ++i) CHECK(store.Find(tokens[i], 100 * kSecond).ok());
  auto alice = store.Create(Person("alice"), 100 * kSecond);
  REQUIRE(alice.ok());
  CHECK(store.Find(*alice, 101 * kSecond)->person == "alice");

  // The global bound remains, as a memory bound: 4 sessions + 16 of other people fill it.
  for (int p = 0; p < 5; ++p) {
    for (int i = 0; i < 3; ++i) REQUIRE(store.Create(Person("p" + std::to_string(p)), 0).ok());
  }
  REQUIRE(store.Create(Person("p5"), 0).ok());
  CHECK(store.size() == 20);
  CHECK(store.Create(Person("p6"), 0).status().code() == Code::kResourceExhausted);
  // Someone at their own limit still logs in (their oldest session makes room).
  CHECK(store.Create(Person("mallory"), 101 * kSecond).ok());
  CHECK(store.size() == 20);
}

// Regression (issue 13 point 2): one assertion was exchanged 100,000 times for sessions.
TEST_CASE("Sessions: an assertion opens one session and its record goes once it cannot be used") {
  SessionStore store;
  const int64_t now = 1'800'000'000 * kSecond;
  const AssertionUse a = Assertion(1, 1'800'000'100);
  auto first = store.Create(Person("p1"), now, &a);
  REQUIRE(first.ok());
  auto replay = store.Create(Person("p1"), now + kSecond, &a);
  CHECK(replay.status().code() == Code::kUnauthenticated);
  CHECK(replay.status().field() == "assertion");
  CHECK_THAT(replay.status().message(), Catch::Contains("already exchanged"));
  CHECK(store.size() == 1);  // the refusal changed nothing
  // Another assertion of the same person opens another session.
  const AssertionUse b = Assertion(2, 1'800'000'100);
  CHECK(store.Create(Person("p1"), now + kSecond, &b).ok());
  // Ending the session does not make its assertion usable again.
  REQUIRE(store.Revoke(*first).ok());
  CHECK(store.Create(Person("p1"), now + 2 * kSecond, &a).status().code() ==
        Code::kUnauthenticated);
  // After accepted_until_s (and the once-a-minute purge) the record is dropped: memory stays
  // bounded by the logins of the last few minutes.
  CHECK(store.Create(Person("p1"), now + 200 * kSecond, &a).ok());
}

std::string Contents(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

// Regression (issue 13 point 13): sessions lived in memory only; a restart logged everyone out.
TEST_CASE("Sessions: a reopened store has every session, change, logout and used assertion") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/sessions";
  const int64_t now = 1'800'000'000 * kSecond;
  const AssertionUse a = Assertion(7, 1'800'000'000 + 7200);  // accepted for 2 hours
  std::string kept, ended, old;
  {
    SessionOptions short_lived;
    short_lived.ttl = std::chrono::seconds(60);
    auto store = SessionStore::Open(dir, short_lived, now);
    REQUIRE(store.ok());
    old = *(*store)->Create(Person("p3"), now);  // expires at now + 60 s
  }
  {
    auto store = SessionStore::Open(dir, {}, now);
    REQUIRE(store.ok());
    CHECK((*store)->Find(old, now).ok());
    kept = *(*store)->Create(Person("p1"), now, &a);
    ended = *(*store)->Create(Person("p2"), now);
    REQUIRE((*store)->Update(kept, now, [](Session& s) { s.entity = "e9"; }).ok());
    REQUIRE((*store)->Revoke(ended).ok());
  }
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    INFO(f.path());
    CHECK((f.status().permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    ++files;
  }
  CHECK(files >= 5);  // CURRENT, IDENTITY, LOCK, LOG, MANIFEST, OPTIONS, the WAL...
  // Only hashes of tokens are stored.
  const std::string bytes = Contents(dir);
  CHECK(bytes.find(kept) == std::string::npos);
  const Hash h = Sha256(AsBytes(kept));
  CHECK(bytes.find(std::string(reinterpret_cast<const char*>(h.data()), h.size())) !=
        std::string::npos);

  auto store = SessionStore::Open(dir, {}, now + kHour);
  REQUIRE(store.ok());
  auto found = (*store)->Find(kept, now + kHour);
  REQUIRE(found.ok());
  CHECK(found->person == "p1");
  CHECK(found->entity == "e9");
  CHECK(found->insz == "85073003328");
  CHECK(found->expires_us == now + 8 * kHour);
  CHECK((*store)->Find(ended, now + kHour).status().code() == Code::kUnauthenticated);
  CHECK((*store)->Find(old, now + kHour).status().code() == Code::kUnauthenticated);
  CHECK((*store)->size() == 1);  // the expired one was dropped on opening
  CHECK((*store)->Create(Person("p1"), now + kHour, &a).status().code() == Code::kUnauthenticated);
  // One process at a time.
  CHECK_FALSE(SessionStore::Open(dir, {}, now).ok());
}

TEST_CASE("Sessions: a store directory that others may read is refused") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/sessions";
  REQUIRE(SessionStore::Open(dir, {}, 0).ok());
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  auto open = SessionStore::Open(dir, {}, 0);
  CHECK(open.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(open.status().message(), Catch::Contains("chmod 700"));
}

}  // namespace
}  // namespace vaxledger::http
