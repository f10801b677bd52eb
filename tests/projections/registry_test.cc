#include "projections/registry.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "projections/mail_outbox.h"
#include "projections/rebuild.h"
#include "projections/view_store.h"
#include "tests/common/child_process.h"
#include "tests/core/registry_world.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::projections {
namespace {

using eventstore::testing::OpenRocksDbLog;
using eventstore::testing::TempDir;
using vaxledger::testing::MakeInsz;
using vaxledger::testing::MakeRiziv;
using vaxledger::testing::World;

constexpr PseudonymKey kKey{1, 2, 3};

// The key store every registry of these tests shares (as the registries of one data directory
// share DIR/keys).
std::shared_ptr<MemorySubjects> Keys() {
  static const auto keys = std::make_shared<MemorySubjects>(kKey);
  return keys;
}

RebuildOptions KeyedRebuild() {
  RebuildOptions o;
  o.subjects = Keys().get();
  return o;
}

RegistryOptions Options(const std::string& views_dir) {
  RegistryOptions o;
  o.views_dir = views_dir;
  o.subjects = Keys();
  o.clock_us = [] { return World::kNow; };
  return o;
}

std::unique_ptr<Registry> OpenRegistry(eventstore::EventLog& log, const std::string& views_dir) {
  auto r = Registry::Open(log, Options(views_dir));
  REQUIRE(r.ok());
  return std::move(r).value();
}

using ViewDump = std::map<std::string, std::map<std::string, std::string>>;

// The first difference between two dumps, for failure messages.
std::string FirstDifference(const ViewDump& a, const ViewDump& b) {
  for (const auto& [view, records] : a) {
    auto other = b.find(view);
    if (other == b.end()) return "view " + view + " missing on the right";
    for (const auto& [key, value] : records) {
      auto it = other->second.find(key);
      if (it == other->second.end()) return view + " " + key + " missing on the right";
      if (it->second != value) return view + " " + key + ": " + value + " != " + it->second;
    }
    if (records.size() != other->second.size()) return view + ": more records on the right";
  }
  return "";
}

// Every record of every view in `views_dir`: view -> key -> JSON.
ViewDump Dump(const std::string& views_dir) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (auto name : kViewNames) {
    auto store = ViewStore::Open(views_dir, std::string(name), /*read_only=*/true);
    REQUIRE(store.ok());
    REQUIRE((*store)
                ->ForEachRecord([&](const std::string& k, const std::string& v) {
                  out[std::string(name)][k] = v;
                  return Status::Ok();
                })
                .ok());
  }
  return out;
}

Caller As(const std::string& insz, const std::string& entity = {},
          const std::string& on_behalf_of = {}) {
  return CallerFor(*Keys(), insz, entity, on_behalf_of).value();
}

// Grants the administrator role as `vaxledger init --admin` does.
void Bootstrap(eventstore::EventLog& log, const std::string& admin_insz) {
  eventstore::AppendBatch b;
  auto grant = ToNewEvent(FirstAdministratorGrant(*Keys(), admin_insz).value(),
                          eventstore::EventId::Random(), eventstore::EventId(), *Keys());
  REQUIRE(grant.ok());
  b.events.push_back(std::move(grant).value());
  REQUIRE(log.Append(b).ok());
}

const std::string kAdmin = MakeInsz(1);
const std::string kAdmin2 = MakeInsz(2);  // the second administrator an erasure needs

// Creates entity `id` of `kind` with physicians `inszs`, approved by the administrator.
void MakeEntity(Registry& r, const std::string& id, const std::string& kind,
                const std::vector<std::string>& inszs, int seed) {
  for (size_t i = 0; i < inszs.size(); ++i) {
    RequestAccess a{"acc-" + id + "-" + std::to_string(i),
                    "Dr " + std::to_string(i),
                    "dr@example.be",
                    MakeRiziv(seed + static_cast<int>(i), "004"),
                    "terms-1",
                    i == 0 ? "" : id,
                    std::nullopt};
    if (i == 0) a.new_entity = NewEntity{kind, "Entity " + id, "", "flanders"};
    auto req = r.Execute(As(inszs[i]), a);
    REQUIRE(req.ok());
    auto ok = r.Execute(As(kAdmin), DecideRequest{req->id, true, "", id});
    REQUIRE(ok.ok());
  }
}

// A random mix of valid and invalid commands over a small world, from several threads.
struct Workload {
  std::vector<std::string> entities;
  std::vector<std::string> physicians;  // INSZ, physician of entity i % entities
  std::vector<std::string> patients;
  uint64_t accepted = 0, refused = 0;

  explicit Workload(Registry& r) {
    for (int i = 0; i < 6; ++i) {
      entities.push_back("ent" + std::to_string(i));
      std::vector<std::string> docs = {MakeInsz(100 + 2 * i), MakeInsz(101 + 2 * i)};
      MakeEntity(r, entities.back(), i % 2 ? "group_practice" : "organisation", docs,
                 20000 + 10 * i);
      physicians.insert(physicians.end(), docs.begin(), docs.end());
    }
    for (int i = 0; i < 300; ++i) patients.push_back(MakeInsz(400 + i));
    REQUIRE(r.Execute(As(kAdmin), ChangeRole{kAdmin2, "administrator", true}).ok());
  }

  Command Random(std::mt19937& rng, Registry& r, Caller& caller, int n) {
    auto pick = [&](size_t size) {
      return std::uniform_int_distribution<size_t>(0, size - 1)(rng);
    };
    const size_t e = pick(entities.size());
    caller = As(physicians[2 * e + pick(2)], entities[e]);
    const std::string id = "c" + std::to_string(n) + "-" + std::to_string(rng());
    switch (pick(12)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        RegisterVaccination v;
        v.vaccination_id = id;
        v.patient.insz = patients[pick(patients.size())];
        const char* products[] = {"EU/1/20/1528", "EU/1/20/1507", "EU/1/18/1326", "EU/1/06/337"};
        v.product = products[pick(4)];
        v.lot = pick(8) ? "LOT" + std::to_string(pick(3)) : "";
        v.dose = 1 + static_cast<int>(pick(3));
        v.date = "2026-11-" + std::to_string(10 + pick(15));  // sometimes in the future
        v.consent = {pick(2) ? "given" : "refused", "2026-11-01"};
        return v;
      }
      case 4: {
        // Correct or retract one of this entity's registrations.
        auto target = r.Read([&](const RegistryState& s) {
          std::pair<std::string, std::string> t;
          if (auto list = s.vaccinations.ByEntity(entities[e]); !list.empty()) {
            const auto& r = list[pick(list.size())];
            t = {r.patient, r.vaccination};
          }
          return t;
        });
        REQUIRE(target.ok());
        if (pick(2)) return RetractVaccination{target->first, target->second, "mistake"};
        return CorrectVaccination{target->first, target->second, std::nullopt, std::string("LOT9"),
                                  std::nullopt,  std::nullopt,   "typo"};
      }
      case 5:
        return ReceiveStock{"EU/1/20/1528", "LOT" + std::to_string(pick(3)), "2099-01-31",
                            static_cast<int64_t>(1 + pick(50))};
      case 6:
        return RequestLink{
            id, MakeInsz(800 + static_cast<int>(pick(100))), "Staff", "s@example.be", false, ""};
      case 7: {
        auto members = r.Read([&](const RegistryState& s) {
          std::vector<std::string> m;
          for (const auto& [person, member] : s.membership.FindEntity(entities[e])->members) {
            if (pick(3) == 0) m.push_back(person);
          }
          return m;
        });
        REQUIRE(members.ok());
        return RequestUnlink{id, *members};
      }
      case 10: {
        // Issue 16: an erasure asked for a patient or a collaborator (staff); a second
        // administrator approves it below. Patients and staff come back under new subjects.
        caller = As(pick(2) ? kAdmin : kAdmin2);
        RequestErasure c;
        c.request_id = id;
        c.reason = "retention ended";
        if (pick(3)) {
          c.kind = "patient";
          c.patient.insz = patients[pick(patients.size())];
        } else {
          c.kind = "person";
          c.insz = MakeInsz(800 + static_cast<int>(pick(100)));
        }
        return c;
      }
      default: {
        caller = As(pick(2) ? kAdmin : kAdmin2);
        auto pending = r.Read([&](const RegistryState& s) {
          auto list = s.requests.Pending();
          return list.empty() ? std::string() : list[pick(list.size())]->id;
        });
        REQUIRE(pending.ok());
        return DecideRequest{*pending, pick(3) != 0, pick(3) ? "" : "no", ""};
      }
    }
  }

  void Run(Registry& r, int threads, int per_thread) {
    std::vector<std::thread> workers;
    std::mutex m;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::mt19937 rng(1234 + t);
        uint64_t ok = 0, no = 0;
        for (int i = 0; i < per_thread; ++i) {
          Caller caller;
          Command c = Random(rng, r, caller, t * per_thread + i);
          auto out = r.Execute(caller, c);
          if (out.ok()) {
            ++ok;
          } else {
            // Refusals are ordinary; a broken registry is not.
            const Code code = out.status().code();
            if (code == Code::kInternal || code == Code::kDataLoss || code == Code::kUnavailable) {
              FAIL_CHECK("unexpected " << out.status().ToString());
            }
            ++no;
          }
        }
        std::lock_guard g(m);
        accepted += ok;
        refused += no;
      });
    }
    for (auto& w : workers) w.join();
  }
};

TEST_CASE("Random commands from 4 threads, then a rebuild from scratch: the views are equal") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/live");
  auto follower = OpenRegistry(*log, dir.path() + "/restarted");
  Workload work(*registry);
  work.Run(*registry, 4, 400);
  // The second registry stops half-way and catches up from its stored position at restart.
  follower.reset();
  work.Run(*registry, 4, 400);
  INFO("accepted " << work.accepted << ", refused " << work.refused);
  CHECK(work.accepted > 600);
  CHECK(work.refused > 50);
  const auto head = log->Head().size;
  // Erasures were decided too (and refused: the same administrator approving their own).
  size_t erased = 0;
  for (eventstore::Position p = 0; p < head; p += 1000) {
    auto events = log->Read(p, 1000);
    REQUIRE(events.ok());
    for (const auto& e : *events) erased += e.event.type == event_type::kSubjectErased;
  }
  INFO("erasures " << erased);
  CHECK(erased > 5);
  CHECK(registry->applied() == head);
  follower = OpenRegistry(*log, dir.path() + "/restarted");
  CHECK(follower->applied() == head);
  registry.reset();
  follower.reset();

  auto rebuilt = RebuildViews(log->storage(), dir.path() + "/rebuilt", KeyedRebuild());
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->events == head);
  const auto live = Dump(dir.path() + "/live");
  CHECK(live.at("vaccinations").size() > 100);
  CHECK(live.at("membership").size() > 10);
  CHECK(FirstDifference(live, Dump(dir.path() + "/rebuilt")) == "");
  CHECK(FirstDifference(live, Dump(dir.path() + "/restarted")) == "");
}

TEST_CASE("A view whose schema version changed is rebuilt when the registry opens") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/views");
  MakeEntity(*registry, "e1", "group_practice", {MakeInsz(10), MakeInsz(11)}, 30000);
  registry.reset();
  const auto before = Dump(dir.path() + "/views");
  {
    auto store = ViewStore::Open(dir.path() + "/views", "membership");
    REQUIRE(store.ok());
    REQUIRE((*store)->Write({{"e/e1", std::string("{\"id\":\"e1\"}")}}, log->Head().size, 99).ok());
  }
  CHECK(*ViewStore::CurrentGeneration(dir.path() + "/views", "membership") == 1);
  registry = OpenRegistry(*log, dir.path() + "/views");
  registry.reset();
  CHECK(*ViewStore::CurrentGeneration(dir.path() + "/views", "membership") == 2);
  CHECK(Dump(dir.path() + "/views") == before);  // the damaged record was rebuilt from the log
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/views/membership.1"));
}

TEST_CASE("A rebuild killed half-way leaves the old views in use; a second rebuild succeeds") {
  TempDir dir;
  const std::string views = dir.path() + "/views";
  {
    auto log = OpenRocksDbLog(dir.path() + "/log", true);
    Bootstrap(*log, kAdmin);
    auto registry = OpenRegistry(*log, views);
    Workload work(*registry);
    work.Run(*registry, 2, 200);
  }
  const auto before = Dump(views);
  // The child rebuilds with small writes and is killed (SIGKILL) while it writes the
  // vaccinations view: the rebuild applies all views together and publishes them once every one
  // is complete, so none is published and the old generations serve.
  {
    vaxledger::testing::ChildProcess child(
        {VX_REBUILD_CHILD, dir.path() + "/log", views, "vaccinations", "32"});
    const int status = child.Wait();
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
  }
  CHECK(*ViewStore::CurrentGeneration(views, "membership") == 1);
  CHECK(*ViewStore::CurrentGeneration(views, "vaccinations") == 1);  // the old one serves
  CHECK(std::filesystem::exists(views + "/vaccinations.2"));         // the unfinished one
  CHECK(FirstDifference(before, Dump(views)) == "");

  auto log = OpenRocksDbLog(dir.path() + "/log", false);
  {
    auto registry = OpenRegistry(*log, views);  // serves from the old vaccinations view
    CHECK(registry->applied() == log->Head().size);
  }
  auto again = RebuildViews(log->storage(), views, KeyedRebuild());
  REQUIRE(again.ok());
  for (auto name : kViewNames) REQUIRE(ViewStore::RemoveStale(views, std::string(name)).ok());
  CHECK(*ViewStore::CurrentGeneration(views, "vaccinations") == 2);
  CHECK(FirstDifference(before, Dump(views)) == "");
  CHECK_FALSE(std::filesystem::exists(views + "/vaccinations.1"));
}

TEST_CASE("As of a position or a time: membership and vaccinations as they were") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/views");
  const std::string p1 = MakeInsz(10), p2 = MakeInsz(11), patient = MakeInsz(50);
  MakeEntity(*registry, "e1", "group_practice", {p1, p2}, 30000);
  const eventstore::Position two_members = log->Head().size;
  const int64_t two_members_time = log->Head().last_recorded_at_us;
  const std::string p2_id = As(p2).person;
  REQUIRE(registry->Execute(As(p1, "e1"), RequestUnlink{"u1", {p2_id}}).ok());
  REQUIRE(registry->Execute(As(kAdmin), DecideRequest{"u1", true, "", ""}).ok());

  RegisterVaccination v;
  v.vaccination_id = "v1";
  v.patient.insz = patient;
  v.product = "EU/1/20/1528";
  v.lot = "A1";
  v.dose = 1;
  v.date = "2026-11-20";
  v.consent = {"given", "2026-11-20"};
  REQUIRE(registry->Execute(As(p1, "e1"), v).ok());
  const eventstore::Position registered = log->Head().size;
  const std::string pid = PatientId(registry->subjects(), v.patient).value();
  REQUIRE(registry->Execute(As(p1, "e1"), RetractVaccination{pid, "v1", "wrong patient"}).ok());

  auto then = EntityAsOf(log->storage(), *Keys(), "e1", {two_members, std::nullopt});
  REQUIRE(then.ok());
  CHECK(then->members.size() == 2);
  auto by_time = EntityAsOf(log->storage(), *Keys(), "e1", {std::nullopt, two_members_time});
  REQUIRE(by_time.ok());
  CHECK(by_time->members.size() == 2);
  auto now = EntityAsOf(log->storage(), *Keys(), "e1", {});
  REQUIRE(now.ok());
  CHECK(now->members.size() == 1);
  CHECK(*now ==
        *registry->Read([](const RegistryState& s) { return *s.membership.FindEntity("e1"); }));
  CHECK(EntityAsOf(log->storage(), *Keys(), "e1", {1, std::nullopt}).status().code() ==
        Code::kNotFound);

  auto active = PatientAsOf(log->storage(), *Keys(), pid, {registered, std::nullopt});
  REQUIRE(active.ok());
  CHECK(active->vaccinations.at(0).status == "active");
  auto retracted = PatientAsOf(log->storage(), *Keys(), pid, {});
  REQUIRE(retracted.ok());
  CHECK(retracted->vaccinations.at(0).status == "entered_in_error");
}

TEST_CASE("Two concurrent unlink approvals for the last two members: at most one succeeds") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/views");
  for (int round = 0; round < 10; ++round) {
    const std::string e = "race" + std::to_string(round);
    const std::string a = MakeInsz(10 + 2 * round), b = MakeInsz(11 + 2 * round);
    MakeEntity(*registry, e, "group_practice", {a, b}, 31000 + 10 * round);
    REQUIRE(registry->Execute(As(a, e), RequestUnlink{e + "-ua", {As(a).person}}).ok());
    REQUIRE(registry->Execute(As(b, e), RequestUnlink{e + "-ub", {As(b).person}}).ok());
    Result<Outcome> first = Internal("not run"), second = Internal("not run");
    std::thread t1([&] {
      first = registry->Execute(As(kAdmin), DecideRequest{e + "-ua", true, "", ""});
    });
    std::thread t2([&] {
      second = registry->Execute(As(kAdmin), DecideRequest{e + "-ub", true, "", ""});
    });
    t1.join();
    t2.join();
    CHECK(first.ok() + second.ok() == 1);
    const Status& refused = first.ok() ? second.status() : first.status();
    CHECK(refused.code() == Code::kFailedPrecondition);
    auto members = registry->Read(
        [&](const RegistryState& s) { return s.membership.FindEntity(e)->members.size(); });
    CHECK(*members == 1);
  }
}

TEST_CASE("Opening a registry reads a bounded number of records, whatever the log holds") {
  // Count reads through the stores: a clean reopen reads none, and one behind the log reads
  // what its tail touches, not what the log holds.
  std::vector<uint64_t> clean, with_tail;
  for (int patients : {20, 400}) {
    TempDir dir;
    auto log = OpenRocksDbLog(dir.path() + "/log", true);
    Bootstrap(*log, kAdmin);
    const std::string doctor = MakeInsz(10);
    {
      auto registry = OpenRegistry(*log, dir.path() + "/views");
      MakeEntity(*registry, "e1", "practice", {doctor}, 30000);
      for (int i = 0; i < patients; ++i) {
        RegisterVaccination v;
        v.vaccination_id = "v" + std::to_string(i);
        v.patient.insz = MakeInsz(100 + i);
        v.product = "EU/1/20/1528";
        v.lot = "A1";
        v.dose = 1;
        v.date = "2026-11-20";
        v.consent = {"given", "2026-11-20"};
        REQUIRE(registry->Execute(As(doctor, "e1"), v).ok());
      }
    }
    auto reopened = OpenRegistry(*log, dir.path() + "/views");
    clean.push_back(reopened->records_read());
    reopened.reset();
    // Five registrations the views have not applied (a second set of views takes them).
    {
      auto other = OpenRegistry(*log, dir.path() + "/other");
      for (int i = 0; i < 5; ++i) {
        RegisterVaccination v;
        v.vaccination_id = "w" + std::to_string(i);
        v.patient.insz = MakeInsz(600 + i);
        v.product = "EU/1/20/1528";
        v.lot = "A1";
        v.dose = 1;
        v.date = "2026-11-20";
        v.consent = {"given", "2026-11-20"};
        REQUIRE(other->Execute(As(doctor, "e1"), v).ok());
      }
    }
    auto behind = OpenRegistry(*log, dir.path() + "/views");
    CHECK(behind->applied() == log->Size());
    with_tail.push_back(behind->records_read());
  }
  CHECK(clean[0] == 0);
  CHECK(clean[1] == 0);
  CHECK(with_tail[0] == with_tail[1]);
  CHECK(with_tail[1] > 0);
  CHECK(with_tail[1] < 60);  // a few records (patient, stock lots) per event of the tail
}

TEST_CASE("A record that lags its stream is caught up from the log before a command is decided") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  const std::string p1 = MakeInsz(10), p2 = MakeInsz(11);
  {
    auto registry = OpenRegistry(*log, dir.path() + "/views");
    MakeEntity(*registry, "e1", "group_practice", {p1, p2}, 30000);
  }
  // Views that do not follow the log: what others append next is not applied to them.
  RegistryOptions options = Options(dir.path() + "/views");
  options.follow = false;
  auto stale = Registry::Open(*log, options);
  REQUIRE(stale.ok());
  const eventstore::Position applied = (*stale)->applied();
  {
    auto other = OpenRegistry(*log, dir.path() + "/other");
    REQUIRE(other->Execute(As(p1, "e1"), RequestUnlink{"u1", {As(p2).person}}).ok());
    REQUIRE(other->Execute(As(kAdmin), DecideRequest{"u1", true, "", ""}).ok());
  }
  REQUIRE(log->Size() > applied);
  // The stale views still list p2 as a member ...
  auto member = (*stale)->Read([&](const RegistryState& s) {
    return s.membership.FindEntity("e1")->members.contains(As(p2).person);
  });
  REQUIRE(member.ok());
  CHECK(*member);
  // ... but a registration by p2 is decided on the entity as the log has it: p2 was unlinked.
  // (A registration expects only the patient's stream: the log alone would not refuse it.)
  RegisterVaccination v;
  v.vaccination_id = "v1";
  v.patient.insz = MakeInsz(50);
  v.product = "EU/1/20/1528";
  v.lot = "A1";
  v.dose = 1;
  v.date = "2026-11-20";
  v.consent = {"given", "2026-11-20"};
  auto refused = (*stale)->Execute(As(p2, "e1"), v);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kPermissionDenied);
  // p1, still linked, registers: decided after the same catch-up, appended at the head.
  auto registered = (*stale)->Execute(As(p1, "e1"), v);
  REQUIRE(registered.ok());
  CHECK(registered->positions.front() == log->Size() - 1);
  CHECK((*stale)->applied() == applied);  // the views themselves did not move
}

TEST_CASE("A command is decided on what other streams' events changed, even unapplied") {
  // A HAIO linked to a second entity: only that entity's stream says so (member.linked), yet the
  // person's record (its entities) changes. A qualification change must reach both entities.
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  const std::string a = MakeInsz(10), b = MakeInsz(11), haio = MakeInsz(12);
  const std::string training = MakeRiziv(30123, "005"), qualified = MakeRiziv(30123, "004");
  {
    auto registry = OpenRegistry(*log, dir.path() + "/views");
    MakeEntity(*registry, "e1", "practice", {a}, 30000);
    MakeEntity(*registry, "e2", "practice", {b}, 30010);
    REQUIRE(
        registry
            ->Execute(As(a, "e1"), RequestLink{"l1", haio, "Dr H", "h@example.be", true, training})
            .ok());
    REQUIRE(registry->Execute(As(kAdmin), DecideRequest{"l1", true, "", ""}).ok());
  }
  RegistryOptions options = Options(dir.path() + "/views");
  options.follow = false;
  auto stale = Registry::Open(*log, options);
  REQUIRE(stale.ok());
  {
    auto other = OpenRegistry(*log, dir.path() + "/other");
    REQUIRE(
        other->Execute(As(b, "e2"), RequestLink{"l2", haio, "Dr H", "h@example.be", true, training})
            .ok());
    REQUIRE(other->Execute(As(kAdmin), DecideRequest{"l2", true, "", ""}).ok());
  }
  REQUIRE((*stale)->Execute(As(kAdmin), ChangeQualification{As(haio).person, qualified}).ok());
  auto version = log->StreamVersion(EntityStream("e2"));
  REQUIRE(version.ok());
  REQUIRE(version->has_value());
  auto last = log->ReadStream(EntityStream("e2"), **version, 1);
  REQUIRE(last.ok());
  REQUIRE(last->size() == 1);
  CHECK((*last)[0].event.type == event_type::kQualificationChanged);
}

TEST_CASE("An idempotent retry returns the first result and appends nothing") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/views");
  MakeEntity(*registry, "e1", "practice", {MakeInsz(10)}, 30000);
  ReceiveStock c{"EU/1/20/1528", "L1", "2027-01-01", 10};
  auto first = registry->Execute(As(MakeInsz(10), "e1"), c, "key-1");
  REQUIRE(first.ok());
  const auto size = log->Head().size;
  auto retry = registry->Execute(As(MakeInsz(10), "e1"), c, "key-1");
  REQUIRE(retry.ok());
  CHECK(retry->already_stored);
  CHECK(retry->positions.front() == first->positions.front());
  CHECK(log->Head().size == size);
  auto stock = registry->Read([](const RegistryState& s) {
    return s.stock.Find("e1")->lots.at("EU/1/20/1528|L1").received;
  });
  CHECK(*stock == 10);
  // Another key is another command.
  REQUIRE(registry->Execute(As(MakeInsz(10), "e1"), c, "key-2").ok());
  CHECK(log->Head().size == size + 1);
}

TEST_CASE("The outbox writes one mail per access decision, to the requester, once") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/views");
  const std::string outbox_dir = dir.path() + "/outbox";
  auto outbox = MailOutbox::Open(*log, *registry, outbox_dir);
  REQUIRE(outbox.ok());
  MakeEntity(*registry, "e1", "group_practice", {MakeInsz(10)}, 30000);
  RequestAccess ask{"acc-x", "Dr. X", "x@example.be", MakeRiziv(30009, "004"),
                    "t",     "e1",    std::nullopt};
  REQUIRE(registry->Execute(As(MakeInsz(12)), ask).ok());
  REQUIRE(registry->Execute(As(kAdmin), DecideRequest{"acc-x", false, "unknown to us", ""}).ok());
  REQUIRE((*outbox)->WaitFor(log->Head().size, std::chrono::seconds(10)).ok());
  auto mails = [&] {
    std::vector<std::string> texts;
    for (const auto& f : std::filesystem::directory_iterator(outbox_dir)) {
      if (f.path().extension() != ".eml") continue;
      std::ifstream in(f.path());
      texts.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return texts;
  };
  auto written = mails();
  REQUIRE(written.size() == 2);  // the approval of MakeEntity's request, and the rejection
  const bool has_rejection = std::any_of(written.begin(), written.end(), [](const std::string& m) {
    return m.find("To: Dr. X <x@example.be>") != std::string::npos &&
           m.find("Reden: unknown to us") != std::string::npos &&  // in Dutch
           m.find("Motif : unknown to us") != std::string::npos;   // and in French
  });
  CHECK(has_rejection);
  // Reopened, it resumes after what it did: no mail is written twice.
  outbox->reset();
  auto again = MailOutbox::Open(*log, *registry, outbox_dir);
  REQUIRE(again.ok());
  REQUIRE((*again)->WaitFor(log->Head().size, std::chrono::seconds(10)).ok());
  CHECK(mails().size() == 2);
}

TEST_CASE("Views that have applied more events than the log holds refuse to open, naming them") {
  TempDir dir;
  const std::string views = dir.path() + "/views";
  eventstore::Position applied = 0;
  {
    auto log = OpenRocksDbLog(dir.path() + "/log", true);
    Bootstrap(*log, kAdmin);
    for (int i = 0; i < 5; ++i) REQUIRE(log->Append(eventstore::testing::OneEvent("other")).ok());
    auto registry = OpenRegistry(*log, views);
    applied = registry->applied();
    REQUIRE(applied > 1);
  }
  // A log that lost its last events (here: a fresh one holding only the first), same views.
  auto shorter = OpenRocksDbLog(dir.path() + "/shorter", true);
  eventstore::AppendBatch one;
  one.events.push_back(eventstore::testing::MakeEvent("registry"));
  REQUIRE(shorter->Append(one).ok());
  auto refused = Registry::Open(*shorter, Options(views));
  CHECK(refused.status().code() == Code::kDataLoss);
  CHECK_THAT(refused.status().message(),
             Catch::Contains("positions 1.." + std::to_string(applied - 1) + " are missing"));
  CHECK_THAT(refused.status().message(), Catch::Contains("view membership"));
}

TEST_CASE("An outbox that has looked past the log's end refuses to open") {
  TempDir dir;
  auto log = OpenRocksDbLog(dir.path() + "/log", true);
  Bootstrap(*log, kAdmin);
  auto registry = OpenRegistry(*log, dir.path() + "/views");
  std::filesystem::create_directories(dir.path() + "/outbox");
  std::ofstream(dir.path() + "/outbox/position") << log->Size() + 5 << "\n";
  auto outbox = MailOutbox::Open(*log, *registry, dir.path() + "/outbox");
  CHECK(outbox.status().code() == Code::kDataLoss);
  CHECK_THAT(outbox.status().message(), Catch::Contains("are missing from the log"));
}

}  // namespace
}  // namespace vaxledger::projections
