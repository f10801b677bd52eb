// Erasure through the registry (issue 16): on a RocksDB log with the durable key store, the
// views, a rebuild, as-of, the sealed leaves, and a crash at each step of an erasure.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "core/personal_cipher.h"
#include "projections/payload_codec.h"
#include "projections/rebuild.h"
#include "projections/view_store.h"
#include "projections/views.h"
#include "tests/common/child_process.h"
#include "tests/core/registry_world.h"
#include "tests/eventstore/test_util.h"
#include "tests/projections/erasure_shared.h"

namespace vaxledger::projections {
namespace {

using eventstore::testing::TempDir;
using vaxledger::testing::ErasureDir;
using vaxledger::testing::MakeInsz;
using vaxledger::testing::MakeRiziv;
using vaxledger::testing::OpenErasureDir;

const std::string kAdmin = MakeInsz(1), kAdmin2 = MakeInsz(2), kDoctor = MakeInsz(3);
const std::string kPatient = MakeInsz(40);
const std::string kName = "Zelda Vergeetmenietje";

Caller As(ErasureDir& d, const std::string& insz, const std::string& entity = {}) {
  return CallerFor(*d.keys, insz, entity).value();
}

// Two administrators, a practice with its physician, and one registration of kPatient.
std::string Setup(ErasureDir& d) {
  eventstore::AppendBatch b;
  b.events.push_back(ToNewEvent(FirstAdministratorGrant(*d.keys, kAdmin).value(),
                                eventstore::EventId::Random(), {}, *d.keys)
                         .value());
  REQUIRE(d.log->Append(b).ok());
  Registry& r = *d.registry;
  REQUIRE(r.Execute(As(d, kAdmin), ChangeRole{kAdmin2, "administrator", true}).ok());
  auto asked = r.Execute(As(d, kDoctor),
                         RequestAccess{"acc", "Dr. D", "d@example.be", MakeRiziv(10001, "004"),
                                       "terms", "", NewEntity{"practice", "P", "", "flanders"}});
  REQUIRE(asked.ok());
  REQUIRE(r.Execute(As(d, kAdmin), DecideRequest{"acc", true, "", "pr"}).ok());
  RegisterVaccination v;
  v.vaccination_id = "v1";
  v.patient = PatientRef{kPatient, kName, "1985-07-30"};
  v.product = "EU/1/20/1528";
  v.lot = "FK1";
  v.dose = 1;
  v.date = "2026-11-20";
  v.consent = {"given", "2026-11-20"};
  REQUIRE(r.Execute(As(d, kDoctor, "pr"), v).ok());
  return FindPatientId(*d.keys, v.patient).value().value();
}

// The log's events of `stream`, decoded with the key store.
std::vector<DomainEvent> StreamEvents(ErasureDir& d, const std::string& stream) {
  std::vector<DomainEvent> out;
  auto events = d.log->Read(0, d.log->Size());
  REQUIRE(events.ok());
  for (const auto& e : *events) {
    if (e.event.stream != stream) continue;
    auto decoded = ToDomainEvent(e, *d.keys);
    REQUIRE(decoded.ok());
    out.push_back(*decoded);
  }
  return out;
}

TEST_CASE("erasure: the key goes, the views and a rebuild keep the facts and lose the person") {
  TempDir dir;
  auto d = OpenErasureDir(dir.path(), true);
  REQUIRE(d.ok());
  const std::string pid = Setup(*d);
  const eventstore::Position registered = d->log->Size();
  auto events = StreamEvents(*d, PatientStream(pid));
  REQUIRE(events.size() == 1);
  CHECK(events[0].personal["name"] == kName);  // readable while the key exists

  // The leaf holds the personal data sealed: the name is not in it.
  auto leaves = d->log->Read(registered - 1, 1);
  REQUIRE(leaves.ok());
  CHECK(leaves->at(0).event.personal_data.find(kName) == std::string::npos);
  CHECK(leaves->at(0).event.personal_data.find(kPatient) == std::string::npos);

  Registry& r = *d->registry;
  REQUIRE(r.Execute(As(*d, kAdmin), RequestErasure{"er", "patient", PatientRef{kPatient, "", ""},
                                                   "", "unlawful entry"})
              .ok());
  auto approved = r.Execute(As(*d, kAdmin2), DecideRequest{"er", true, "", ""});
  REQUIRE(approved.ok());
  CHECK_FALSE(d->keys->Key(pid)->has_value());
  CHECK(d->keys->Erasing()->empty());

  auto patient = r.Read([&](const RegistryState& s) { return *s.vaccinations.FindPatient(pid); });
  REQUIRE(patient.ok());
  CHECK(patient->erased);
  CHECK(patient->name.empty());
  CHECK(patient->insz.empty());
  CHECK(patient->birth_date.empty());
  REQUIRE(patient->vaccinations.size() == 1);
  CHECK(patient->vaccinations[0].lot == "FK1");

  // Every event of the stream reads as erased now, also those before the erasure.
  events = StreamEvents(*d, PatientStream(pid));
  REQUIRE(events.size() == 4);  // registered, erasure.requested, .approved, subject.erased
  CHECK(events[0].personal == nlohmann::json{{"erased", true}});
  CHECK(events[3].type == event_type::kSubjectErased);
  auto then = PatientAsOf(d->log->storage(), *d->keys, pid, {registered, std::nullopt});
  REQUIRE(then.ok());
  CHECK(then->name.empty());
  CHECK(then->erased);

  // A rebuild from the log gives the same records as the live views.
  RebuildOptions o;
  o.subjects = d->keys.get();
  REQUIRE(RebuildViews(d->log->storage(), dir.path() + "/rebuilt", o).ok());
  auto rebuilt = ViewStore::Open(dir.path() + "/rebuilt", "vaccinations", true);
  REQUIRE(rebuilt.ok());
  auto record = (*rebuilt)->Get("v/" + pid);
  REQUIRE(record.ok());
  REQUIRE(record->has_value());
  auto live = r.Read(
      [&](const RegistryState& s) { return s.vaccinations.EncodeRecord("v/" + pid).value_or(""); });
  REQUIRE(live.ok());
  CHECK(**record == *live);

  // Nothing new is written about the erased subject; its INSZ is a new patient.
  RegisterVaccination again;
  again.vaccination_id = "v2";
  again.patient = PatientRef{kPatient, kName, ""};
  again.product = "EU/1/20/1507";
  again.lot = "X";
  again.dose = 1;
  again.date = "2026-11-21";
  again.consent = {"given", "2026-11-21"};
  REQUIRE(r.Execute(As(*d, kDoctor, "pr"), again).ok());
  CHECK(FindPatientId(*d->keys, again.patient).value().value() != pid);
}

TEST_CASE(
    "personal data that does not open with its subject's key is DataLoss naming the position") {
  TempDir dir;
  auto d = OpenErasureDir(dir.path(), true);
  REQUIRE(d.ok());
  const std::string pid = Setup(*d);
  auto events = d->log->Read(0, d->log->Size());
  REQUIRE(events.ok());
  eventstore::RecordedEvent r = events->back();
  REQUIRE(r.event.stream == PatientStream(pid));
  SECTION("a byte of the ciphertext changed") {
    r.event.personal_data[30] = static_cast<char>(r.event.personal_data[30] ^ 1);
  }
  SECTION("sealed with another key") {
    DataKey other;
    other.fill(7);
    r.event.personal_data =
        SealPersonal(other, ByteView(r.event.event_id.bytes.data(), 16), r.event.data_subject,
                     AsBytes(EncodePersonalData({{"name", "X"}}).value()))
            .value();
  }
  SECTION("moved to another event") { r.event.event_id = eventstore::EventId::Random(); }
  auto decoded = ToDomainEvent(r, *d->keys);
  CHECK(decoded.status().code() == Code::kDataLoss);
  CHECK_THAT(decoded.status().message(),
             Catch::Contains("event at position " + std::to_string(r.position)));
}

TEST_CASE("a crash in the middle of an erasure leaves the key or the erasure event, never both") {
  for (const std::string step : {"marked", "appended"}) {
    DYNAMIC_SECTION("killed at " << step) {
      TempDir dir;
      std::string pid;
      {
        auto d = OpenErasureDir(dir.path(), true);
        REQUIRE(d.ok());
        pid = Setup(*d);
      }
      {
        vaxledger::testing::ChildProcess child({VX_ERASURE_CHILD, dir.path(), step, kPatient});
        const int status = child.Wait();
        REQUIRE(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);
      }
      // Before anything finishes it: the mark is on disk.
      {
        auto keys = eventstore::KeyStore::Open(dir.path() + "/keys",
                                               vaxledger::testing::kErasurePseudonymKey);
        REQUIRE(keys.ok());
        CHECK((*keys)->Erasing()->contains(pid));
      }
      auto d = OpenErasureDir(dir.path(), false);  // the registry's Open settles the mark
      REQUIRE(d.ok());
      CHECK(d->keys->Erasing()->empty());
      const bool key = d->keys->Key(pid)->has_value();
      size_t erasure_events = 0;
      for (const DomainEvent& e : StreamEvents(*d, PatientStream(pid))) {
        erasure_events += e.type == event_type::kSubjectErased;
      }
      CHECK(key != (erasure_events == 1));  // exactly one of the two
      auto patient = d->registry->Read(
          [&](const RegistryState& s) { return *s.vaccinations.FindPatient(pid); });
      REQUIRE(patient.ok());
      if (step == "marked") {
        CHECK(key);
        CHECK(patient->name == kName);
      } else {
        CHECK_FALSE(key);
        CHECK(patient->erased);
        CHECK(patient->name.empty());
      }
    }
  }
}

}  // namespace
}  // namespace vaxledger::projections
