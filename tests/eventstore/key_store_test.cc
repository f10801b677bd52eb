#include "eventstore/key_store.h"

#include <rocksdb/db.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "core/pseudonym.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

PseudonymKey FixedKey() {
  PseudonymKey key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  return key;
}

std::unique_ptr<KeyStore> OpenStore(const std::string& dir, const PseudonymKey& key = FixedKey()) {
  auto store = KeyStore::Open(dir, key);
  INFO(store.status().message());
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::string Pseudonym(KeyStore& store, std::string_view kind, std::string_view identifier) {
  auto p = store.Pseudonym(kind, identifier);
  INFO(p.status().message());
  REQUIRE(p.ok());
  return *p;
}

DataKey KeyOf(const KeyStore& store, const std::string& subject) {
  auto key = store.Key(subject);
  INFO(key.status().message());
  REQUIRE(key.ok());
  REQUIRE(key->has_value());
  return **key;
}

// The database as someone with write access to DIR/keys sees it (docs/storage.md).
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir, &raw).ok());
    db_.reset(raw);
  }
  std::optional<std::string> Get(const std::string& key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &v);
    if (s.IsNotFound()) return std::nullopt;
    REQUIRE(s.ok());
    return v;
  }
  void Put(const std::string& key, const std::string& value) {
    REQUIRE(db_->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  void Delete(const std::string& key) { REQUIRE(db_->Delete(rocksdb::WriteOptions(), key).ok()); }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

// Every byte of every file under `dir`, file by file.
std::vector<std::pair<std::string, std::string>> ReadAllFiles(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    REQUIRE(in);
    files.emplace_back(entry.path().filename().string(),
                       std::string(std::istreambuf_iterator<char>(in), {}));
  }
  REQUIRE(!files.empty());
  return files;
}

// The names of the files under `dir` that hold `needle`.
std::vector<std::string> FilesHolding(const std::string& dir, std::string_view needle) {
  std::vector<std::string> holding;
  for (const auto& [name, bytes] : ReadAllFiles(dir)) {
    if (bytes.find(needle) != std::string::npos) holding.push_back(name);
  }
  return holding;
}

std::string Bytes32(const DataKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

TEST_CASE("key store: the index of an identifier is the documented keyed hash") {
  // Golden value: key = 00 01 .. 1f, HMAC-SHA-256(key, "person" 0x00 "85073003328")[0..16].
  const Pseudonymizer pseudonyms(FixedKey());
  CHECK(SubjectIndex(pseudonyms, "person", "85073003328") == "b7ff34f96c0f7d458e7d8129040e999f");
  CHECK(SubjectIndex(pseudonyms, "patient", "85073003328") == "0cb85961177999d7a8774c487dea7900");
  const Hash mac =
      HmacSha256(ByteView(FixedKey().data(), 32), AsBytes(std::string_view("person\0"
                                                                           "85073003328",
                                                                           18)));
  CHECK(SubjectIndex(pseudonyms, "person", "85073003328") == HexEncode(ByteView(mac.data(), 16)));

  // And the records are as docs/storage.md writes them.
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  std::string subject;
  DataKey key;
  {
    auto store = OpenStore(dir);
    subject = Pseudonym(*store, "person", "85073003328");
    key = KeyOf(*store, subject);
  }
  RawDb raw(dir);
  CHECK(raw.Get("format") == std::optional<std::string>("vaxledger-keys-1"));
  CHECK(raw.Get("i/b7ff34f96c0f7d458e7d8129040e999f") == std::optional(subject));
  CHECK(raw.Get("s/" + subject) ==
        std::optional(Bytes32(key) + "b7ff34f96c0f7d458e7d8129040e999f"));
}

TEST_CASE("key store: one pseudonym per identifier and kind, across calls and reopen") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  std::string person, patient, other;
  DataKey key;
  {
    auto store = OpenStore(dir);
    // Find does not create.
    auto none = store->Find("person", "85073003328");
    REQUIRE(none.ok());
    CHECK(!none->has_value());
    CHECK(!store->Find("person", "85073003328")->has_value());

    person = Pseudonym(*store, "person", "85073003328");
    CHECK(person.size() == 32);
    CHECK(person.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(Pseudonym(*store, "person", "85073003328") == person);
    CHECK(store->Find("person", "85073003328")->value() == person);
    patient = Pseudonym(*store, "patient", "85073003328");
    CHECK(patient != person);
    other = Pseudonym(*store, "person", "85073003427");
    CHECK(other != person);
    key = KeyOf(*store, person);
    CHECK(KeyOf(*store, patient) != key);
    // Not a subject here: no key.
    CHECK(!store->Key(std::string(32, 'a'))->has_value());
    CHECK(!store->Key("not a pseudonym")->has_value());
  }
  auto store = OpenStore(dir);
  CHECK(Pseudonym(*store, "person", "85073003328") == person);
  CHECK(store->Find("patient", "85073003328")->value() == patient);
  CHECK(KeyOf(*store, person) == key);
  CHECK(store->Find("person", "85073003427")->value() == other);

  // Another pseudonym key: another index, so another subject.
  store.reset();
  PseudonymKey another = FixedKey();
  another[0] ^= 1;
  store = OpenStore(dir, another);
  CHECK(!store->Find("person", "85073003328")->has_value());
}

TEST_CASE("key store: concurrent first uses of one identifier make one subject") {
  testing::TempDir tmp;
  auto store = OpenStore(tmp.path() + "/keys");
  constexpr int kThreads = 8;
  std::vector<std::string> seen(kThreads);
  std::vector<std::string> errors(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      auto p = store->Pseudonym("patient", "85073003328");
      if (p.ok()) {
        seen[t] = *p;
      } else {
        errors[t] = p.status().message();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO(errors[t]);
    CHECK(errors[t].empty());
    CHECK(seen[t].size() == 32);
  }
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 1);
}

TEST_CASE("key store: an erased subject has no key, no index, and its identifier a new subject") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  std::string erased, kept, reborn;
  DataKey kept_key;
  {
    auto store = OpenStore(dir);
    erased = Pseudonym(*store, "person", "85073003328");
    kept = Pseudonym(*store, "person", "85073003427");
    kept_key = KeyOf(*store, kept);
    REQUIRE(store->Erase(erased).ok());
    CHECK(!store->Key(erased)->has_value());
    CHECK(!store->Find("person", "85073003328")->has_value());
    reborn = Pseudonym(*store, "person", "85073003328");
    CHECK(reborn != erased);
    CHECK(KeyOf(*store, reborn) != KeyOf(*store, kept));
    // Erasing again, or a subject never seen, is not an error.
    CHECK(store->Erase(erased).ok());
    CHECK(store->Erase(std::string(32, '0')).ok());
    // A string that is not a pseudonym is refused.
    Status bad = store->Erase("p1");
    CHECK(bad.code() == Code::kInvalidArgument);
    CHECK(bad.field() == "subject");
  }
  auto store = OpenStore(dir);
  CHECK(!store->Key(erased)->has_value());
  CHECK(store->Find("person", "85073003328")->value() == reborn);
  CHECK(KeyOf(*store, kept) == kept_key);
}

TEST_CASE("key store: erasures in progress survive reopen, and Erase clears its mark") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  std::string a, b;
  {
    auto store = OpenStore(dir);
    a = Pseudonym(*store, "person", "85073003328");
    b = Pseudonym(*store, "patient", "85073003427");
    CHECK(store->Erasing()->empty());
    REQUIRE(store->MarkErasing(a, "request-1").ok());
    REQUIRE(store->MarkErasing(b, "request-2").ok());
    CHECK(store->MarkErasing("p1", "request-3").code() == Code::kInvalidArgument);
  }
  {
    auto store = OpenStore(dir);
    auto erasing = store->Erasing();
    REQUIRE(erasing.ok());
    CHECK(*erasing == std::map<std::string, std::string>{{a, "request-1"}, {b, "request-2"}});
    REQUIRE(store->ClearErasing(b).ok());
    REQUIRE(store->Erase(a).ok());
    CHECK(store->Erasing()->empty());
    // b was forgotten, not erased.
    CHECK(store->Key(b)->has_value());
  }
  auto store = OpenStore(dir);
  CHECK(store->Erasing()->empty());
  CHECK(!store->Key(a)->has_value());
}

TEST_CASE("key store: no file of the store holds an erased key or its index") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  const Pseudonymizer pseudonyms(FixedKey());
  std::vector<std::string> subjects;
  std::vector<DataKey> keys;
  {
    auto store = OpenStore(dir);
    for (int i = 0; i < 200; ++i) {
      subjects.push_back(Pseudonym(*store, "person", "person-" + std::to_string(i)));
      keys.push_back(KeyOf(*store, subjects.back()));
    }
  }  // closing flushes the 200 subjects into a table file
  auto store = OpenStore(dir);
  // One subject that only the write-ahead log and the memtable hold when it is erased.
  const std::string late = Pseudonym(*store, "person", "late");
  const DataKey late_key = KeyOf(*store, late);
  const std::string late_index = SubjectIndex(pseudonyms, "person", "late");
  const std::string erased_index = SubjectIndex(pseudonyms, "person", "person-57");
  // Before: the keys are there to be found (so that the search below could fail).
  CHECK(!FilesHolding(dir, Bytes32(keys[57])).empty());
  CHECK(!FilesHolding(dir, erased_index).empty());
  CHECK(!FilesHolding(dir, Bytes32(late_key)).empty());

  // One erasure at a time, each searched for at once (before RocksDB's own compactions, which
  // start at 4 table files in level 0, could remove the key by themselves).
  REQUIRE(store->Erase(subjects[57]).ok());
  CHECK(FilesHolding(dir, Bytes32(keys[57])).empty());
  CHECK(FilesHolding(dir, erased_index).empty());
  CHECK(!FilesHolding(dir, Bytes32(late_key)).empty());
  REQUIRE(store->Erase(late).ok());
  const auto check = [&] {
    CHECK(FilesHolding(dir, Bytes32(keys[57])).empty());
    CHECK(FilesHolding(dir, erased_index).empty());
    CHECK(FilesHolding(dir, Bytes32(late_key)).empty());
    CHECK(FilesHolding(dir, late_index).empty());
    // The other subjects' keys and indexes are still there.
    CHECK(!FilesHolding(dir, Bytes32(keys[56])).empty());
    CHECK(!FilesHolding(dir, SubjectIndex(pseudonyms, "person", "person-58")).empty());
    CHECK(!FilesHolding(dir, Bytes32(keys[199])).empty());
  };
  check();  // while the store is open
  CHECK(KeyOf(*store, subjects[58]) == keys[58]);
  store.reset();
  check();  // and once it is closed
  store = OpenStore(dir);
  CHECK(!store->Key(subjects[57])->has_value());
  CHECK(KeyOf(*store, subjects[199]) == keys[199]);
}

TEST_CASE("key store: an erasure purges every level of a store spread over many files") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  KeyStoreOptions small;  // tiny sizes, so that 3000 subjects fill several levels
  small.write_buffer_bytes = 64 << 10;
  small.table_file_bytes = 32 << 10;
  small.level1_bytes = 128 << 10;
  auto opened = KeyStore::Open(dir, FixedKey(), small);
  REQUIRE(opened.ok());
  auto store = std::move(opened).value();
  std::vector<std::string> subjects;
  std::vector<DataKey> keys;
  for (int i = 0; i < 3000; ++i) {
    subjects.push_back(Pseudonym(*store, "patient", std::to_string(i)));
    keys.push_back(KeyOf(*store, subjects.back()));
  }
  size_t tables = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    tables += entry.path().extension() == ".sst";
  }
  CHECK(tables > 8);
  for (int victim : {5, 1500, 2999}) {
    CHECK(!FilesHolding(dir, Bytes32(keys[victim])).empty());
    REQUIRE(store->Erase(subjects[victim]).ok());
    CHECK(FilesHolding(dir, Bytes32(keys[victim])).empty());
    CHECK(FilesHolding(dir,
                       SubjectIndex(Pseudonymizer(FixedKey()), "patient", std::to_string(victim)))
              .empty());
    CHECK(!FilesHolding(dir, Bytes32(keys[victim + (victim < 2999 ? 1 : -1)])).empty());
  }
  CHECK(KeyOf(*store, subjects[1000]) == keys[1000]);
}

TEST_CASE("key store: an erasure whose purge a crash cut short is finished at open") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  std::string victim;
  DataKey victim_key;
  {
    auto store = OpenStore(dir);
    for (int i = 0; i < 20; ++i) (void)Pseudonym(*store, "person", "p" + std::to_string(i));
    victim = Pseudonym(*store, "person", "victim");
    victim_key = KeyOf(*store, victim);
  }
  const std::string index = SubjectIndex(Pseudonymizer(FixedKey()), "person", "victim");
  {
    // What Erase's batch leaves when the process dies right after it.
    RawDb raw(dir);
    raw.Delete("s/" + victim);
    raw.Delete("i/" + index);
    raw.Put("p/" + victim, "");
  }
  CHECK(!FilesHolding(dir, Bytes32(victim_key)).empty());
  auto store = OpenStore(dir);
  CHECK(FilesHolding(dir, Bytes32(victim_key)).empty());
  CHECK(FilesHolding(dir, index).empty());
  CHECK(!store->Key(victim)->has_value());
  store.reset();
  RawDb raw(dir);
  CHECK(!raw.Get("p/" + victim).has_value());
}

TEST_CASE("key store: a damaged data key record is DataLoss naming the subject, and erasable") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  std::string subject;
  {
    auto store = OpenStore(dir);
    subject = Pseudonym(*store, "person", "85073003328");
  }
  RawDb(dir).Put("s/" + subject, "short");
  auto store = OpenStore(dir);
  auto key = store->Key(subject);
  REQUIRE(key.status().code() == Code::kDataLoss);
  CHECK(key.status().message().find(subject) != std::string::npos);
  CHECK(key.status().message().find(dir) != std::string::npos);
  REQUIRE(store->Erase(subject).ok());
  CHECK(!store->Key(subject)->has_value());
  CHECK(!store->Find("person", "85073003328")->has_value());

  // An index record that does not hold a pseudonym.
  store.reset();
  RawDb(dir).Put("i/" + SubjectIndex(Pseudonymizer(FixedKey()), "person", "85073003427"), "x");
  store = OpenStore(dir);
  CHECK(store->Find("person", "85073003427").status().code() == Code::kDataLoss);
  CHECK(store->Pseudonym("person", "85073003427").status().code() == Code::kDataLoss);
}

TEST_CASE("key store: another format, or a database that is not a key store, is refused") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  { auto store = OpenStore(dir); }
  RawDb(dir).Put("format", "vaxledger-keys-2");
  auto refused = KeyStore::Open(dir, FixedKey());
  REQUIRE(refused.status().code() == Code::kFailedPrecondition);
  CHECK(refused.status().message().find("vaxledger-keys-2") != std::string::npos);
  CHECK(refused.status().message().find("vaxledger-keys-1") != std::string::npos);
  CHECK(refused.status().message().find(dir) != std::string::npos);

  RawDb(dir).Put("format", "vaxledger-log-3");
  refused = KeyStore::Open(dir, FixedKey());
  REQUIRE(refused.status().code() == Code::kDataLoss);
  CHECK(refused.status().message().find("vaxledger-log-3") != std::string::npos);
  CHECK(refused.status().message().find("vaxledger-keys-1") != std::string::npos);

  // A RocksDB database with records but no format record.
  const std::string other = tmp.path() + "/other";
  REQUIRE(::mkdir(other.c_str(), 0700) == 0);
  RawDb(other).Put("something", "else");
  refused = KeyStore::Open(other, FixedKey());
  REQUIRE(refused.status().code() == Code::kFailedPrecondition);
  CHECK(refused.status().message().find("format") != std::string::npos);

  // An empty one (a creation cut short) becomes a key store.
  const std::string empty = tmp.path() + "/empty";
  REQUIRE(::mkdir(empty.c_str(), 0700) == 0);
  { RawDb raw(empty); }
  auto store = KeyStore::Open(empty, FixedKey());
  REQUIRE(store.ok());
}

TEST_CASE("key store: a directory others may enter is refused, a new one is mode 0700") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/keys";
  { auto store = OpenStore(dir); }
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::chmod(dir.c_str(), 0750) == 0);
  auto refused = KeyStore::Open(dir, FixedKey());
  CHECK(refused.status().code() == Code::kFailedPrecondition);
  CHECK(refused.status().message().find("chmod 700") != std::string::npos);
  // And a second process (here: a second open) is told the store is in use.
  REQUIRE(::chmod(dir.c_str(), 0700) == 0);
  auto store = OpenStore(dir);
  auto again = KeyStore::Open(dir, FixedKey());
  CHECK(again.status().code() == Code::kUnavailable);
}

}  // namespace
}  // namespace vaxledger::eventstore
