#include "projections/read_recorder.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/registry_state.h"
#include "eventstore/memory_storage.h"
#include "projections/payload_codec.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::projections {
namespace {

using eventstore::RecordedEvent;
using nlohmann::json;

constexpr int64_t kStart = 1795521600LL * 1000000;  // 2026-11-24T12:00:00Z
constexpr int64_t kMs = 1000;

// An in-memory log and a clock the test moves by hand.
struct Fixture {
  Fixture() {
    auto storage = std::make_unique<eventstore::MemoryStorage>();
    raw = storage.get();
    auto opened = eventstore::EventLog::Open(std::move(storage), eventstore::testing::TestSigner());
    REQUIRE(opened.ok());
    log = std::move(opened).value();
  }
  // Options driven by `now` (no thread of the recorder, unless the test turns it on).
  ReadRecorderOptions Manual() {
    ReadRecorderOptions o;
    o.clock_us = [this] { return now.load(); };
    o.background = false;
    return o;
  }
  std::vector<RecordedEvent> Events() {
    auto events = log->Read(0, 1000);
    REQUIRE(events.ok());
    return std::move(events).value();
  }
  eventstore::MemoryStorage* raw = nullptr;
  std::unique_ptr<eventstore::EventLog> log;
  std::atomic<int64_t> now{kStart};
};

Caller Reader(const std::string& person, const std::string& entity = "demo-linde") {
  Caller c;
  c.person = person;
  c.entity = entity;
  return c;
}

json Reads(const RecordedEvent& e) {
  auto payload = DecodePayload(e.event.type, AsBytes(e.event.payload));
  REQUIRE(payload.ok());
  return payload->at("reads");
}

TEST_CASE("read recorder: one reader's reads in one window are one event listing them all") {
  Fixture f;
  ReadRecorder reads(*f.log, f.Manual());
  const Caller staff = Reader("staff-1");
  for (int i = 0; i < 50; ++i) {
    REQUIRE(reads.Record(staff, "staff", "physician-1", "patient-" + std::to_string(i)).ok());
    f.now += 1 * kMs;  // the last read at 49 ms
  }
  f.now = kStart + 99 * kMs;
  REQUIRE(reads.AppendDue().ok());
  CHECK(f.log->Size() == 0);  // the window has not lasted 100 ms yet

  f.now = kStart + 100 * kMs;
  REQUIRE(reads.AppendDue().ok());
  auto events = f.Events();
  REQUIRE(events.size() == 1);
  const eventstore::NewEvent& e = events[0].event;
  CHECK(e.type == event_type::kPatientsRead);
  CHECK(e.type == std::string("patients.read"));
  CHECK(e.stream == "reads:staff-1");
  CHECK(e.actor == eventstore::Actor{"staff-1", "staff"});
  CHECK(e.on_behalf_of == eventstore::Actor{"physician-1", "physician"});
  CHECK(e.entity == "demo-linde");
  const json list = Reads(events[0]);
  REQUIRE(list.size() == 50);
  for (int i = 0; i < 50; ++i) {
    CHECK(list[i]["patient"] == "patient-" + std::to_string(i));
    CHECK(list[i]["at_us"] == kStart + i * kMs);
  }
  // Nothing is appended twice; the next read opens a new window.
  REQUIRE(reads.Flush().ok());
  CHECK(f.log->Size() == 1);
  REQUIRE(reads.Record(staff, "staff", "physician-1", "patient-x").ok());
  REQUIRE(reads.Flush().ok());
  REQUIRE(f.Events().size() == 2);
  CHECK(Reads(f.Events()[1]).size() == 1);
}

TEST_CASE("read recorder: each reader gets an event of their own reads") {
  Fixture f;
  ReadRecorder reads(*f.log, f.Manual());
  // Interleaved: two physicians; the same person in another entity; the same person for
  // another physician; a physician naming themselves (no on-behalf-of).
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p1").ok());
  REQUIRE(reads.Record(Reader("b"), "physician", "b", "p2").ok());
  REQUIRE(reads.Record(Reader("a"), "physician", "a", "p3").ok());
  REQUIRE(reads.Record(Reader("b"), "physician", "", "p4").ok());
  REQUIRE(reads.Record(Reader("a", "other-entity"), "physician", "", "p5").ok());
  REQUIRE(reads.Record(Reader("s"), "staff", "a", "p6").ok());
  REQUIRE(reads.Record(Reader("s"), "staff", "b", "p7").ok());
  f.now += 100 * kMs;
  REQUIRE(reads.AppendDue().ok());

  std::map<std::string, std::vector<std::string>> by_reader;
  for (const RecordedEvent& e : f.Events()) {
    CHECK(e.event.type == "patients.read");
    CHECK(e.event.stream == "reads:" + e.event.actor.person);
    const std::string reader =
        e.event.actor.person + "|" + e.event.entity + "|" + e.event.on_behalf_of.person;
    for (const json& r : Reads(e)) by_reader[reader].push_back(r["patient"]);
  }
  CHECK(f.Events().size() == 5);
  CHECK(by_reader["a|demo-linde|"] == std::vector<std::string>{"p1", "p3"});
  CHECK(by_reader["b|demo-linde|"] == std::vector<std::string>{"p2", "p4"});
  CHECK(by_reader["a|other-entity|"] == std::vector<std::string>{"p5"});
  CHECK(by_reader["s|demo-linde|a"] == std::vector<std::string>{"p6"});
  CHECK(by_reader["s|demo-linde|b"] == std::vector<std::string>{"p7"});
}

TEST_CASE("read recorder: reads beyond the maximum per event split into more events") {
  Fixture f;
  ReadRecorderOptions o = f.Manual();
  o.max_reads_per_event = 3;
  ReadRecorder reads(*f.log, o);
  for (int i = 0; i < 7; ++i) {
    REQUIRE(reads.Record(Reader("a"), "physician", "", "p" + std::to_string(i)).ok());
  }
  // The two full windows go at once; the seventh read's window waits for its 100 ms.
  REQUIRE(reads.AppendDue().ok());
  auto events = f.Events();
  REQUIRE(events.size() == 2);
  CHECK(Reads(events[0]) ==
        json::parse(R"([{"patient":"p0","at_us":)" + std::to_string(kStart) +
                    R"(},{"patient":"p1","at_us":)" + std::to_string(kStart) +
                    R"(},{"patient":"p2","at_us":)" + std::to_string(kStart) + "}]"));
  CHECK(Reads(events[1]).size() == 3);
  CHECK(Reads(events[1])[0]["patient"] == "p3");
  f.now += 100 * kMs;
  REQUIRE(reads.AppendDue().ok());
  events = f.Events();
  REQUIRE(events.size() == 3);
  REQUIRE(Reads(events[2]).size() == 1);
  CHECK(Reads(events[2])[0]["patient"] == "p6");
}

TEST_CASE("read recorder: destruction appends every read still queued") {
  Fixture f;
  {
    ReadRecorderOptions o;  // the real clock and thread, a window that cannot close in a test
    o.window = std::chrono::hours(1);
    ReadRecorder reads(*f.log, o);
    REQUIRE(reads.Record(Reader("a"), "physician", "", "p1").ok());
    REQUIRE(reads.Record(Reader("a"), "physician", "", "p2").ok());
    REQUIRE(reads.Record(Reader("b"), "physician", "", "p3").ok());
    CHECK(f.log->Size() == 0);
  }
  auto events = f.Events();
  REQUIRE(events.size() == 2);
  CHECK(Reads(events[0]).size() + Reads(events[1]).size() == 3);
}

TEST_CASE("read recorder: the thread appends a window once it has lasted the window") {
  Fixture f;
  ReadRecorderOptions o;
  o.window = std::chrono::milliseconds(5);
  ReadRecorder reads(*f.log, o);
  auto subscription = f.log->Subscribe(0);
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p1").ok());
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p2").ok());
  auto got = subscription->Next(10, std::chrono::seconds(30));  // wakes when it is appended
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK(Reads((*got)[0]).size() == 2);
}

TEST_CASE("read recorder: Record does not wait for the disk") {
  Fixture f;
  ReadRecorderOptions o;
  o.window = std::chrono::microseconds(0);  // every read is due at once
  ReadRecorder reads(*f.log, o);
  f.raw->HoldCommits(true);
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p1").ok());
  f.raw->WaitForCommitsEntered(1);  // the thread's append is stuck in the storage
  for (int i = 0; i < 100; ++i) {
    REQUIRE(reads.Record(Reader("a"), "physician", "", "p" + std::to_string(i)).ok());
  }
  f.raw->HoldCommits(false);
  REQUIRE(reads.Flush().ok());
  size_t recorded = 0;
  for (const RecordedEvent& e : f.Events()) recorded += Reads(e).size();
  CHECK(recorded == 101);
  CHECK(f.Events().size() < 101);  // the reads that waited share events
}

TEST_CASE("read recorder: a failed append refuses every later read") {
  Fixture f;
  ReadRecorder reads(*f.log, f.Manual());
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p1").ok());
  f.raw->FailNextCommits(1);
  Status flushed = reads.Flush();
  CHECK_FALSE(flushed.ok());
  Status refused = reads.Record(Reader("b"), "physician", "", "p2");
  CHECK(refused.code() == Code::kUnavailable);
  CHECK_THAT(refused.message(), Catch::Contains("reads cannot be recorded"));
  CHECK(reads.Record(Reader("a"), "physician", "", "p3").code() == Code::kUnavailable);
}

TEST_CASE("read recorder: a full queue refuses reads until they are appended") {
  Fixture f;
  ReadRecorderOptions o = f.Manual();
  o.max_queued = 3;
  ReadRecorder reads(*f.log, o);
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p1").ok());
  REQUIRE(reads.Record(Reader("b"), "physician", "", "p2").ok());
  REQUIRE(reads.Record(Reader("a"), "physician", "", "p3").ok());
  Status refused = reads.Record(Reader("c"), "physician", "", "p4");
  CHECK(refused.code() == Code::kUnavailable);
  CHECK_THAT(refused.message(), Catch::Contains("too many reads"));
  REQUIRE(reads.Flush().ok());
  CHECK(reads.Record(Reader("c"), "physician", "", "p4").ok());
}

}  // namespace
}  // namespace vaxledger::projections
