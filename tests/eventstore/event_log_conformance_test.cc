// The event log's contract, run against every LogStorage implementation.
#include "eventstore/event_log.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <future>
#include <set>
#include <thread>

#include "core/merkle.h"
#include "eventstore/checkpoint.h"
#include "eventstore/log_verifier.h"
#include "eventstore/memory_storage.h"
#include "eventstore/rocksdb_storage.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

using testing::MakeEvent;
using testing::OneEvent;

using testing::TestSigner;

struct MemoryBackend {
  std::unique_ptr<LogStorage> Open() { return std::make_unique<MemoryStorage>(); }
};

struct RocksDbBackend {
  testing::TempDir dir;
  std::unique_ptr<LogStorage> Open() {
    RocksDbStorageOptions o;
    o.create_if_missing = true;
    auto s = OpenRocksDbStorage(dir.path() + "/db", o);
    REQUIRE(s.ok());
    return std::move(s).value();
  }
};

template <typename Backend>
std::unique_ptr<EventLog> OpenLog(Backend& backend, EventLogOptions options = {}) {
  auto log = EventLog::Open(backend.Open(), TestSigner(), std::move(options));
  REQUIRE(log.ok());
  return std::move(log).value();
}

AppendResult MustAppend(EventLog& log, const AppendBatch& batch) {
  auto r = log.Append(batch);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

#define LOG_BACKENDS MemoryBackend, RocksDbBackend

TEMPLATE_TEST_CASE("positions are 0, 1, 2, ... in commit order, chained and signed",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  CHECK(log->Head().size == 0);
  AppendBatch two;
  two.events = {MakeEvent("a"), MakeEvent("b")};
  auto r1 = MustAppend(*log, two);
  REQUIRE(r1.events.size() == 2);
  CHECK(r1.events[0].position == 0);
  CHECK(r1.events[1].position == 1);
  auto r2 = MustAppend(*log, OneEvent("a"));
  CHECK(r2.events[0].position == 2);
  CHECK(r2.events[0].stream_version == 1);
  CHECK(log->Head().size == 3);

  auto events = log->Read(0, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);
  Hash prev{};
  int64_t prev_time = 0;
  for (size_t i = 0; i < events->size(); ++i) {
    const RecordedEvent& e = (*events)[i];
    CHECK(e.position == i);
    CHECK(e.prev_leaf_hash == prev);
    CHECK(e.leaf_hash == LeafHash(e.leaf));
    CHECK(e.recorded_at_us >= prev_time);
    CHECK(e.key_id == TestSigner().key_id());
    CHECK(Ed25519Verify(TestSigner().key().public_key(), EventSignedMessage(e.leaf_hash),
                        e.signature));
    prev = e.leaf_hash;
    prev_time = e.recorded_at_us;
  }
  CHECK(log->Head().last_leaf_hash == prev);
  CHECK((*events)[1].event.stream == "b");
  CHECK((*events)[1].event.event_id == two.events[1].event_id);
}

TEMPLATE_TEST_CASE("reads go forwards and backwards by position and by stream", "[conformance]",
                   LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  for (int i = 0; i < 10; ++i) MustAppend(*log, OneEvent(i % 2 ? "odd" : "even"));

  auto fwd = log->Read(3, 4);
  REQUIRE(fwd.ok());
  REQUIRE(fwd->size() == 4);
  CHECK(fwd->front().position == 3);
  CHECK(fwd->back().position == 6);

  auto back = log->Read(100, 3, /*forward=*/false);  // from past the head: starts at the head
  REQUIRE(back.ok());
  REQUIRE(back->size() == 3);
  CHECK((*back)[0].position == 9);
  CHECK((*back)[2].position == 7);

  auto past_end = log->Read(10, 5);
  REQUIRE(past_end.ok());
  CHECK(past_end->empty());

  auto odd = log->ReadStream("odd", 1, 3);
  REQUIRE(odd.ok());
  REQUIRE(odd->size() == 3);
  CHECK((*odd)[0].stream_version == 1);
  CHECK((*odd)[0].position == 3);
  CHECK((*odd)[2].position == 7);

  auto even_back = log->ReadStream("even", 4, 10, /*forward=*/false);
  REQUIRE(even_back.ok());
  REQUIRE(even_back->size() == 5);
  CHECK((*even_back)[0].stream_version == 4);
  CHECK((*even_back)[4].stream_version == 0);

  auto none = log->ReadStream("nothing", 0, 10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK(*log->StreamVersion("odd") == std::optional<uint64_t>(4));
  CHECK(*log->StreamVersion("nothing") == std::nullopt);
  // "ev" is a prefix of "even" and must not see its events.
  auto prefix = log->ReadStream("ev", 0, 10);
  REQUIRE(prefix.ok());
  CHECK(prefix->empty());
  CHECK(*log->StreamVersion("ev") == std::nullopt);
}

TEMPLATE_TEST_CASE("expected versions: every kind against every stream state", "[conformance]",
                   LOG_BACKENDS) {
  // Stream states: no stream, last version 0, last version 1.
  struct Case {
    ExpectedVersion expected;
    bool ok[3];
  };
  const Case cases[] = {
      {ExpectedVersion::Any(), {true, true, true}},
      {ExpectedVersion::NoStream(), {true, false, false}},
      {ExpectedVersion::StreamExists(), {false, true, true}},
      {ExpectedVersion::Exactly(0), {false, true, false}},
      {ExpectedVersion::Exactly(1), {false, false, true}},
  };
  for (const Case& c : cases) {
    for (int state = 0; state < 3; ++state) {
      TestType backend;
      auto log = OpenLog(backend);
      for (int i = 0; i < state; ++i) MustAppend(*log, OneEvent("s"));
      const Position before = log->Head().size;
      auto r = log->Append(OneEvent("s", c.expected));
      INFO("expected " << c.expected.ToString() << ", stream state " << state);
      CHECK(r.ok() == c.ok[state]);
      if (r.ok()) {
        CHECK(r->events[0].stream_version == static_cast<uint64_t>(state));
        CHECK(log->Head().size == before + 1);
      } else {
        CHECK(r.status().code() == Code::kAborted);
        const std::string actual =
            state == 0 ? "actual no stream" : "actual version " + std::to_string(state - 1);
        CHECK_THAT(r.status().message(), Catch::Contains(actual));
        CHECK(log->Head().size == before);
      }
    }
  }
}

TEMPLATE_TEST_CASE("a batch over several streams is all or nothing", "[conformance]",
                   LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  MustAppend(*log, OneEvent("entity-1"));
  AppendBatch batch;
  batch.events = {MakeEvent("entity-1"), MakeEvent("person-9"), MakeEvent("entity-1")};
  batch.expectations = {{"entity-1", ExpectedVersion::Exactly(0)},
                        {"person-9", ExpectedVersion::StreamExists()}};
  auto refused = log->Append(batch);
  CHECK(refused.status().code() == Code::kAborted);
  CHECK(log->Head().size == 1);
  CHECK(*log->StreamVersion("person-9") == std::nullopt);

  batch.expectations[1].expected = ExpectedVersion::NoStream();
  auto r = MustAppend(*log, batch);
  CHECK(r.events[0].stream_version == 1);
  CHECK(r.events[1].stream_version == 0);
  CHECK(r.events[2].stream_version == 2);
  CHECK(log->Head().size == 4);
}

TEMPLATE_TEST_CASE("an expectation may guard a stream the batch does not write", "[conformance]",
                   LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  MustAppend(*log, OneEvent("entity-1"));
  AppendBatch batch;
  batch.events = {MakeEvent("request-1")};
  batch.expectations = {{"entity-1", ExpectedVersion::Exactly(0)}};
  MustAppend(*log, batch);
  MustAppend(*log, OneEvent("entity-1"));
  batch.events = {MakeEvent("request-2")};
  CHECK(log->Append(batch).status().code() == Code::kAborted);
}

TEMPLATE_TEST_CASE("appending stored event ids returns the original positions and writes nothing",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  AppendBatch batch;
  batch.events = {MakeEvent("s"), MakeEvent("t")};
  batch.expectations = {{"s", ExpectedVersion::NoStream()}};
  auto first = MustAppend(*log, batch);
  CHECK_FALSE(first.already_stored);
  MustAppend(*log, OneEvent("s"));
  // The same batch again: its expectation no longer holds, but it is a retry.
  auto again = MustAppend(*log, batch);
  CHECK(again.already_stored);
  REQUIRE(again.events.size() == 2);
  CHECK(again.events[0].position == first.events[0].position);
  CHECK(again.events[1].position == first.events[1].position);
  CHECK(again.events[1].stream_version == first.events[1].stream_version);
  CHECK(log->Head().size == 3);

  // Some ids stored, some new: refused, naming the stored one.
  AppendBatch mixed;
  mixed.events = {MakeEvent("s"), batch.events[0]};
  auto r = log->Append(mixed);
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().field() == "events[1].event_id");
  CHECK_THAT(r.status().message(), Catch::Contains("already stored at position 0"));
  CHECK(log->Head().size == 3);
}

TEMPLATE_TEST_CASE("a retry racing its original in the same commit group is answered once",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  AppendBatch batch;
  batch.events = {MakeEvent("s")};
  std::vector<std::thread> threads;
  std::vector<Result<AppendResult>> results(8, Result<AppendResult>(Internal("not run")));
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { results[i] = log->Append(batch); });
  }
  for (auto& t : threads) t.join();
  int fresh = 0;
  for (auto& r : results) {
    REQUIRE(r.ok());
    CHECK(r->events[0].position == 0);
    if (!r->already_stored) ++fresh;
  }
  CHECK(fresh == 1);
  CHECK(log->Head().size == 1);
}

TEMPLATE_TEST_CASE("bad input is refused with InvalidArgument and writes nothing", "[conformance]",
                   LOG_BACKENDS) {
  TestType backend;
  EventLogOptions options;
  options.max_leaf_bytes = 4096;
  auto log = OpenLog(backend, options);
  MustAppend(*log, OneEvent("s"));

  auto expect_refused = [&](const AppendBatch& b, const std::string& field) {
    const Position before = log->Head().size;
    auto r = log->Append(b);
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().field() == field);
    CHECK(log->Head().size == before);
  };
  expect_refused(AppendBatch{}, "events");

  AppendBatch big;
  big.events = {MakeEvent("s", std::string(5000, 'x'))};
  expect_refused(big, "events[0].payload");
  AppendBatch fits;
  fits.events = {MakeEvent("s", std::string(3000, 'x'))};
  MustAppend(*log, fits);
  CHECK(log->Head().size == 2);

  const std::vector<std::string> bad_streams = {"",
                                                "-leading-dash",
                                                "has space",
                                                "tab\there",
                                                "\xc3\xbcnicode",
                                                std::string("nul\0byte", 8),
                                                std::string(201, 'a')};
  for (const std::string& bad : bad_streams) {
    AppendBatch b;
    b.events = {MakeEvent(bad)};
    INFO("stream '" << bad << "'");
    expect_refused(b, "events[0].stream");
  }

  AppendBatch twice;
  twice.events = {MakeEvent("s"), MakeEvent("s")};
  twice.events[1].event_id = twice.events[0].event_id;
  CHECK(log->Append(twice).status().field() == "events[1].event_id");

  AppendBatch nil_id;
  nil_id.events = {MakeEvent("s")};
  nil_id.events[0].event_id = EventId{};
  CHECK(log->Append(nil_id).status().field() == "events[0].event_id");

  AppendBatch two_expectations = OneEvent("s");
  two_expectations.expectations.push_back({"s", ExpectedVersion::Any()});
  CHECK(log->Append(two_expectations).status().field() == "expectations");

  AppendBatch too_many;
  for (int i = 0; i < 1001; ++i) too_many.events.push_back(MakeEvent("s"));
  CHECK(log->Append(too_many).status().field() == "events");

  CHECK(log->Head().size == 2);
}

TEMPLATE_TEST_CASE("concurrent appenders get unique, gapless positions and per-stream order",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::vector<std::vector<Position>> positions(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "writer-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = log->Append(OneEvent(
            stream, i == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(i - 1)));
        if (!r.ok()) return;  // counted as missing below
        positions[t].push_back(r->events[0].position);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<Position> all;
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(positions[t].size() == kPerThread);
    CHECK(std::is_sorted(positions[t].begin(), positions[t].end()));
    all.insert(positions[t].begin(), positions[t].end());
  }
  CHECK(all.size() == kThreads * kPerThread);
  CHECK(*all.rbegin() == kThreads * kPerThread - 1);
  CHECK(log->Head().size == kThreads * kPerThread);
}

TEMPLATE_TEST_CASE("optimistic writers racing on one stream: no lost and no doubled versions",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kPerThread;) {
        auto v = log->StreamVersion("counter");
        if (!v.ok()) return;
        auto expected = *v ? ExpectedVersion::Exactly(**v) : ExpectedVersion::NoStream();
        auto r = log->Append(OneEvent("counter", expected));
        if (r.ok()) {
          ++done;
        } else if (r.status().code() == Code::kAborted) {
          ++conflicts;
        } else {
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(*log->StreamVersion("counter") == std::optional<uint64_t>(kThreads * kPerThread - 1));
  CHECK(log->Head().size == kThreads * kPerThread);
  auto events = log->ReadStream("counter", 0, 1000);
  REQUIRE(events.ok());
  for (size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].stream_version == i);
}

TEMPLATE_TEST_CASE("a subscription catches up, then follows live without skipping or reordering",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  for (int i = 0; i < 100; ++i) MustAppend(*log, OneEvent("s"));

  constexpr Position kTotal = 2000;
  auto sub = log->Subscribe(50);
  std::thread writer([&] {
    for (Position i = 100; i < kTotal; i += 10) {
      AppendBatch b;
      for (int j = 0; j < 10; ++j) b.events.push_back(MakeEvent("w" + std::to_string(j % 3)));
      if (!log->Append(b).ok()) return;
    }
  });
  // A slow subscriber: it takes few events at a time and hashes each one again.
  std::vector<Position> seen;
  while (seen.size() < kTotal - 50) {
    auto batch = sub->Next(3, std::chrono::seconds(10));
    REQUIRE(batch.ok());
    REQUIRE_FALSE(batch->empty());  // a time-out here means the subscriber missed a wake-up
    for (const auto& e : *batch) {
      CHECK(LeafHash(e.leaf) == e.leaf_hash);
      seen.push_back(e.position);
    }
  }
  writer.join();
  for (size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == 50 + i);
  CHECK(sub->cursor() == kTotal);
}

TEMPLATE_TEST_CASE("Cancel wakes a waiting subscription", "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  auto sub = log->Subscribe(0);
  std::thread canceller([&] { sub->Cancel(); });
  auto start = std::chrono::steady_clock::now();
  auto r = sub->Next(10, std::chrono::seconds(30));
  canceller.join();
  REQUIRE(r.ok());
  CHECK(r->empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("after a failed commit the log refuses appends and keeps serving reads") {
  auto storage = std::make_unique<MemoryStorage>();
  MemoryStorage* raw = storage.get();
  auto log = EventLog::Open(std::move(storage), TestSigner());
  REQUIRE(log.ok());
  MustAppend(**log, OneEvent("s"));
  raw->FailNextCommits(1);
  auto failed = (*log)->Append(OneEvent("s"));
  CHECK(failed.status().code() == Code::kUnavailable);
  auto after = (*log)->Append(OneEvent("s"));
  CHECK(after.status().code() == Code::kUnavailable);
  CHECK_THAT(after.status().message(), Catch::Contains("restart"));
  CHECK((*log)->Head().size == 1);
  auto read = (*log)->Read(0, 10);
  REQUIRE(read.ok());
  CHECK(read->size() == 1);
}

TEST_CASE("an append returns only after its commit has returned from storage") {
  auto storage = std::make_unique<MemoryStorage>();
  MemoryStorage* raw = storage.get();
  auto log = EventLog::Open(std::move(storage), TestSigner());
  REQUIRE(log.ok());
  raw->HoldCommits(true);
  auto pending = std::async(std::launch::async, [&] { return (*log)->Append(OneEvent("s")); });
  raw->WaitForCommitsEntered(1);
  // The commit is inside storage and held there: the append cannot have been acknowledged.
  CHECK(pending.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  CHECK((*log)->Head().size == 0);
  raw->HoldCommits(false);
  auto result = pending.get();
  REQUIRE(result.ok());
  CHECK((*log)->Head().size == 1);
}

TEST_CASE("appends beyond the queue limit are refused with ResourceExhausted") {
  EventLogOptions options;
  options.max_queued_events = 4;
  auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner(), options);
  REQUIRE(log.ok());
  AppendBatch five;
  for (int i = 0; i < 5; ++i) five.events.push_back(MakeEvent("s"));
  auto refused = (*log)->Append(five);
  CHECK(refused.status().code() == Code::kResourceExhausted);
  CHECK_THAT(refused.status().message(), Catch::Contains("already queued"));
  CHECK((*log)->Head().size == 0);
  five.events.pop_back();
  CHECK((*log)->Append(five).ok());
}

TEST_CASE("recorded times never go backwards, whatever the clock does") {
  int64_t now = 1'000'000;
  EventLogOptions options;
  options.clock_us = [&] { return now -= 10; };  // a clock running backwards
  auto log = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner(), options);
  REQUIRE(log.ok());
  for (int i = 0; i < 5; ++i) MustAppend(**log, OneEvent("s"));
  auto events = (*log)->Read(0, 10);
  REQUIRE(events.ok());
  for (size_t i = 1; i < events->size(); ++i) {
    CHECK((*events)[i].recorded_at_us >= (*events)[i - 1].recorded_at_us);
  }
}

TEMPLATE_TEST_CASE("each commit extends the Merkle tree and signs a checkpoint of it",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  CHECK(log->Head().checkpoint.empty());
  CHECK(log->Head().root == merkle::EmptyRoot());
  std::vector<Checkpoint> seen;
  for (int i = 0; i < 40; ++i) {
    AppendBatch b;
    for (int j = 0; j <= i % 4; ++j) b.events.push_back(MakeEvent("s" + std::to_string(j)));
    MustAppend(*log, b);
    auto cp = OpenCheckpoint(log->Head().checkpoint, {TestSigner().verifier()});
    REQUIRE(cp.ok());
    CHECK(cp->origin == TestSigner().name());
    CHECK(cp->size == log->Head().size);
    CHECK(cp->root == log->Head().root);
    seen.push_back(*cp);
  }
  // The root is the RFC 6962 root of the leaf hashes.
  const uint64_t size = log->Head().size;
  auto events = log->Read(0, size);
  REQUIRE(events.ok());
  merkle::CompactRange naive;
  for (const auto& e : *events) naive.Append(e.leaf_hash);
  CHECK(naive.Root() == log->Head().root);

  for (uint64_t index = 0; index < size; index += 7) {
    auto proof = log->InclusionProof(index, size);
    REQUIRE(proof.ok());
    CHECK(merkle::VerifyInclusion(index, size, (*events)[index].leaf_hash, *proof, log->Head().root)
              .ok());
  }
  // Every earlier checkpoint is consistent with the latest one.
  for (const Checkpoint& old : seen) {
    auto proof = log->ConsistencyProof(old.size, size);
    REQUIRE(proof.ok());
    CHECK(merkle::VerifyConsistency(old.size, size, old.root, log->Head().root, *proof).ok());
    auto root = log->RootAt(old.size);
    REQUIRE(root.ok());
    CHECK(*root == old.root);
  }
  CHECK(log->InclusionProof(0, size + 1).status().field() == "size");
  CHECK(log->InclusionProof(size, size).status().field() == "index");
  CHECK(log->ConsistencyProof(1, size + 1).status().field() == "to");
  CHECK(log->ConsistencyProof(size, size - 1).status().field() == "from");
}

TEMPLATE_TEST_CASE("a key rotation is signed by the old key; what follows by the new one",
                   "[conformance]", LOG_BACKENDS) {
  TestType backend;
  auto log = OpenLog(backend);
  for (int i = 0; i < 5; ++i) MustAppend(*log, OneEvent("s"));
  NoteSigner next(TestSigner().name(), Ed25519Key::Generate());
  auto position = log->RotateKey(next);
  REQUIRE(position.ok());
  CHECK(*position == 5);
  CHECK(log->Head().key.ToText() == next.verifier().ToText());
  for (int i = 0; i < 5; ++i) MustAppend(*log, OneEvent("s"));

  auto events = log->Read(0, 100);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 11);
  CHECK((*events)[5].event.type == kKeyRotatedType);
  CHECK((*events)[5].event.payload == next.verifier().ToText());
  for (const auto& e : *events) {
    CHECK(e.key_id == (e.position <= 5 ? TestSigner().key_id() : next.key_id()));
  }
  // The checkpoint is signed by the key in force.
  CHECK(OpenCheckpoint(log->Head().checkpoint, {next.verifier()}).ok());
  CHECK_FALSE(OpenCheckpoint(log->Head().checkpoint, {TestSigner().verifier()}).ok());

  // Verifiers follow the chain from the first key; the new key alone is not a first key.
  auto report = VerifyLog(log->storage(), {TestSigner().verifier()});
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK(report->checkpoints_verified == 11);
  REQUIRE(report->final_key.has_value());
  CHECK(report->final_key->ToText() == next.verifier().ToText());
  auto wrong_anchor = VerifyLog(log->storage(), {next.verifier()});
  REQUIRE(wrong_anchor.ok());
  CHECK(wrong_anchor->first_failure == std::optional<Position>(0));
  auto schedule = ReadKeySchedule(log->storage());
  REQUIRE(schedule.ok());
  REQUIRE(schedule->size() == 2);
  CHECK((*schedule)[1].first == 6);

  // Nobody appends to the keys stream by hand, and a rotation needs a new key of the same name.
  AppendBatch forged;
  forged.events = {MakeEvent(std::string(kKeysStream))};
  CHECK(log->Append(forged).status().field() == "events[0].stream");
  CHECK(log->RotateKey(next).status().code() == Code::kInvalidArgument);
  CHECK(log->RotateKey(NoteSigner("other.name", Ed25519Key::Generate())).status().field() == "key");
}

}  // namespace
}  // namespace vaxledger::eventstore
