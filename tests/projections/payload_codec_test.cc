#include "projections/payload_codec.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <set>

#include "core/certificate/uvci.h"
#include "core/registry_certificates.h"
#include "eventstore/payloads_generated.h"
#include "projections/views.h"
#include "tests/core/registry_world.h"

namespace vaxledger::projections {
namespace {

using nlohmann::json;
using testing::MakeInsz;
using testing::MakeRiziv;
using testing::World;
namespace fbp = vaxledger::fb::payload;

std::string Base64Of(size_t n, uint8_t fill) { return Base64Encode(Bytes(n, fill)); }

// Runs a command that must be accepted.
Decision Accept(World& w, const Caller& caller, const Command& command) {
  auto d = w.Do(caller, command);
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  return *d;
}

// A registry's life in which every command the domain has is decided, so that the log holds
// every event type Decide writes, with every optional part (a new entity with a KBO, a HAIO's
// trainer, staff links, a patient without INSZ, personal data of each kind).
World EveryDecision() {
  World w;
  const std::string admin = MakeInsz(1), p1 = MakeInsz(2), p2 = MakeInsz(3), p3 = MakeInsz(4);
  const std::string haio = MakeInsz(5), staff = MakeInsz(6), other = MakeInsz(7);
  const std::string auditor = MakeInsz(8);
  const Caller a = w.Person(admin);
  w.Bootstrap(admin);  // role.granted with personal data (the INSZ)

  // Access: create (with a KBO), join, reject.
  auto req = Accept(
      w, w.Person(p1),
      RequestAccess{"r1", "Dr. Een", "een@example.be", MakeRiziv(10001, "004"), "terms-2026-01", "",
                    NewEntity{"group_practice", "Groep", "0403.019.261", "flanders"}});
  Accept(w, a, DecideRequest{req.id, true, "welcome", "g1"});
  req = Accept(w, w.Person(p2),
               RequestAccess{"r2", "Dr. Twee", "twee@example.be", MakeRiziv(10002, "004"),
                             "terms-2026-01", "g1", std::nullopt});
  Accept(w, a, DecideRequest{req.id, true, "", ""});
  req = Accept(w, w.Person(p3),
               RequestAccess{"r3", "Dr. Drie", "drie@example.be", MakeRiziv(10003, "004"),
                             "terms-2026-01", "", NewEntity{"practice", "Drie", "", "brussels"}});
  Accept(w, a, DecideRequest{req.id, false, "unknown physician", ""});

  // Links: a HAIO and staff approved, one rejected; an unlink rejected, then approved.
  const Caller c1 = w.Person(p1, "g1");
  req = Accept(w, c1,
               RequestLink{"l1", haio, "Haio", "haio@example.be", true, MakeRiziv(10005, "005")});
  Accept(w, a, DecideRequest{req.id, true, "", ""});
  req = Accept(w, c1, RequestLink{"l2", staff, "Staff", "staff@example.be", false, ""});
  Accept(w, a, DecideRequest{req.id, true, "", ""});
  req = Accept(w, c1, RequestLink{"l3", other, "Other", "other@example.be", false, ""});
  Accept(w, a, DecideRequest{req.id, false, "not known here", ""});
  const std::string staff_id = w.PersonIdOf(staff);
  req = Accept(w, c1, RequestUnlink{"u1", {staff_id}});
  Accept(w, a, DecideRequest{req.id, false, "still needed", ""});
  req = Accept(w, c1, RequestUnlink{"u2", {staff_id}});
  Accept(w, a, DecideRequest{req.id, true, "left", ""});

  // Qualification and roles.
  Accept(w, a, ChangeQualification{w.PersonIdOf(haio), MakeRiziv(10005, "004")});
  Accept(w, a, ChangeRole{auditor, "auditor", true});
  Accept(w, a, ChangeRole{auditor, "auditor", false});

  // Vaccinations: with INSZ (and name and birth date), without; corrected, consent, retracted.
  RegisterVaccination v;
  v.vaccination_id = "v1";
  v.patient = PatientRef{MakeInsz(101), "Pat Ient", "1985-07-30"};
  v.product = "EU/1/20/1528";
  v.lot = "FK1234";
  v.dose = 1;
  v.date = "2026-11-20";
  v.consent = {"given", "2026-11-20"};
  Accept(w, c1, v);
  const std::string pid = w.PatientIdOf(v.patient);
  v.vaccination_id = "v2";
  v.patient = PatientRef{"", "Zonder Insz", "2001-02-03"};
  v.date = "2026-11-21";
  Accept(w, c1, v);
  Accept(w, c1,
         CorrectVaccination{pid, "v1", std::nullopt, std::string("FK9999"), 2, std::nullopt,
                            "wrong lot"});
  Accept(w, c1, RecordConsent{pid, "v1", {"refused", "2026-11-22"}});
  v.vaccination_id = "v3";
  v.patient = PatientRef{MakeInsz(101), "", ""};
  v.product = "EU/1/20/1507";
  Accept(w, c1, v);
  Accept(w, c1, RetractVaccination{pid, "v3", "wrong patient"});
  Accept(w, w.Person(p2, "g1"), DeclareCare{PatientRef{MakeInsz(102), "", ""}, "urgent", 48});

  // Certificates.
  IssueCertificate issue;
  issue.patient = pid;
  issue.vaccination_id = "v1";
  issue.uvci = certificate::NewUvci();
  issue.kid = Base64Of(8, 1);
  issue.signature_sha256 = Base64Of(32, 2);
  issue.dn = 2;
  issue.sd = 2;
  issue.expires_at_us = World::kNow + 365LL * 24 * 3600 * 1000000;
  issue.family_name = "Ient";
  issue.given_name = "Pat";
  issue.hc1 = "HC1:6BFOXN...";
  Accept(w, c1, issue);
  Accept(w, c1, RevokeCertificate{pid, issue.uvci, "issued by mistake"});

  // Stock.
  Accept(w, c1, ReceiveStock{"EU/1/20/1528", "FK1234", "2027-06-30", 100});
  Accept(w, c1, AdjustStock{"EU/1/20/1528", "FK1234", -3, "broken vials"});

  // Impact: a population file (the last band has no upper bound).
  auto population = impact::ParsePopulationCsv(
      "region,age_from,age_to,population\nflanders,0,17,100\nflanders,18,,200\n", "test.csv");
  REQUIRE(population.ok());
  Accept(w, a, LoadPopulation{*population});

  // Erasure (issue 16): asked, rejected, asked again, approved by a second administrator, and
  // the operator's direct erasure.
  const std::string admin2 = MakeInsz(9);
  Accept(w, a, ChangeRole{admin2, "administrator", true});
  const Caller a2 = w.Person(admin2);
  RegisterVaccination once = v;
  once.vaccination_id = "v9";
  once.patient = PatientRef{MakeInsz(109), "Te Wissen", ""};
  Accept(w, c1, once);
  req = Accept(w, a, RequestErasure{"er1", "patient", once.patient, "", "unlawful entry"});
  Accept(w, a, DecideRequest{req.id, false, "not yet", ""});
  req = Accept(w, a, RequestErasure{"er2", "patient", once.patient, "", "unlawful entry"});
  Accept(w, a2, DecideRequest{req.id, true, "", ""});
  once.vaccination_id = "v10";
  once.patient = PatientRef{MakeInsz(110), "", ""};
  Accept(w, c1, once);
  Caller system;
  system.person = "system";
  Accept(w, system, EraseSubject{"er3", "patient", once.patient, "", "court order"});
  return w;
}

// The read trail's payloads, which the registry writes itself rather than through Decide.
std::vector<std::pair<std::string, json>> ReadTrailPayloads() {
  return {{event_type::kPatientRead, {{"patient", "p-1"}}},
          {"patients.read",
           {{"reads", json::array({{{"patient", "p-1"}, {"at_us", int64_t{1795521600000000}}},
                                   {{"patient", "p-2"}, {"at_us", int64_t{1795521600000001}}}})}}},
          {"patients.read", {{"reads", json::array()}}}};
}

json Decoded(std::string_view type, const std::string& bytes) {
  auto d = DecodePayload(type, AsBytes(bytes));
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  return *d;
}

TEST_CASE("every event a decision writes round-trips through its table, and every type has one") {
  World w = EveryDecision();
  std::set<std::string> seen;
  for (const DomainEvent& e : w.log()) {
    INFO(e.type << " " << e.payload.dump() << " personal " << e.personal.dump());
    REQUIRE(PayloadTable(e.type).has_value());
    seen.insert(e.type);
    auto bytes = EncodePayload(e.type, e.payload);
    INFO(bytes.status().ToString());
    REQUIRE(bytes.ok());
    CHECK(Decoded(e.type, *bytes) == e.payload);
    if (e.personal.is_object()) {
      auto personal = EncodePersonalData(e.personal);
      INFO(personal.status().ToString());
      REQUIRE(personal.ok());
      auto back = DecodePersonalData(AsBytes(*personal));
      REQUIRE(back.ok());
      CHECK(*back == e.personal);
    }

    // Through the envelope as the registry appends and reads it (an erased subject's personal
    // data is not written any more).
    if (e.personal.is_object() && !w.subjects().Key(e.data_subject).value()) {
      auto refused =
          ToNewEvent(e, eventstore::EventId::Random(), eventstore::EventId::Random(), w.subjects());
      CHECK(refused.status().code() == Code::kFailedPrecondition);
      CHECK(refused.status().field() == "data_subject");
      continue;
    }
    auto n =
        ToNewEvent(e, eventstore::EventId::Random(), eventstore::EventId::Random(), w.subjects());
    REQUIRE(n.ok());
    CHECK(n->payload == *bytes);
    eventstore::RecordedEvent r;
    r.position = e.position;
    r.stream_version = e.stream_version;
    r.recorded_at_us = e.recorded_at_us;
    r.event = *n;
    auto back = ToDomainEvent(r, w.subjects());
    REQUIRE(back.ok());
    CHECK(back->payload == e.payload);
    CHECK(back->personal == e.personal);
    CHECK(back->data_subject == e.data_subject);
  }
  for (const auto& [type, payload] : ReadTrailPayloads()) {
    INFO(type << " " << payload.dump());
    seen.insert(type);
    auto bytes = EncodePayload(type, payload);
    REQUIRE(bytes.ok());
    CHECK(Decoded(type, *bytes) == payload);
  }
  // Every type with a table is one the domain writes, and the other way round.
  const std::set<std::string> tables(PayloadTypes().begin(), PayloadTypes().end());
  CHECK(seen == tables);
  CHECK(tables.size() == 31);
}

TEST_CASE("optional fields stay absent, empty ones stay empty") {
  const json sparse = {{"request_id", "r1"}};
  CHECK(Decoded("access.rejected", *EncodePayload("access.rejected", sparse)) == sparse);
  const json empty = {{"request_id", ""}, {"reason", ""}};
  CHECK(Decoded("access.rejected", *EncodePayload("access.rejected", empty)) == empty);
  const json none = json::object();
  CHECK(Decoded("stock.adjusted", *EncodePayload("stock.adjusted", none)) == none);
  CHECK(Decoded("stock.adjusted", *EncodePayload("stock.adjusted", {{"delta", 0}})) ==
        json{{"delta", 0}});
  CHECK(Decoded("unlink.requested",
                *EncodePayload("unlink.requested", {{"members", json::array()}})) ==
        json{{"members", json::array()}});
  const json limits = {{"quantity", INT64_MIN}, {"product", "x"}};
  CHECK(Decoded("stock.received", *EncodePayload("stock.received", limits)) == limits);
  const json top = {{"quantity", INT64_MAX}};
  CHECK(Decoded("stock.received", *EncodePayload("stock.received", top)) == top);
}

TEST_CASE("the codec writes the tables of payloads.fbs, field by field") {
  // Encoded by the codec, read through the generated accessors.
  const json payload = {{"vaccination_id", "v1"},
                        {"patient", "p1"},
                        {"product", "EU/1/20/1528"},
                        {"dose", 2},
                        {"consent", {{"decision", "given"}, {"by", "x"}}}};
  auto bytes = EncodePayload("vaccination.registered", payload);
  REQUIRE(bytes.ok());
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  REQUIRE(verifier.VerifyBuffer<fbp::VaccinationRegistered>("VXP1"));
  const auto* t = flatbuffers::GetRoot<fbp::VaccinationRegistered>(bytes->data());
  CHECK(t->vaccination_id()->str() == "v1");
  CHECK(t->patient()->str() == "p1");
  CHECK(t->product()->str() == "EU/1/20/1528");
  CHECK(t->lot() == nullptr);
  CHECK(t->dose().value() == 2);
  CHECK(t->date() == nullptr);
  CHECK(t->consent()->decision()->str() == "given");
  CHECK(t->consent()->date() == nullptr);
  CHECK(t->consent()->by()->str() == "x");

  // Built with the generated builder, decoded by the codec.
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fbp::PatientReadEntry>> reads = {
      fbp::CreatePatientReadEntryDirect(b, "p-1", 7), fbp::CreatePatientReadEntryDirect(b, "p-2")};
  b.Finish(fbp::CreatePatientsReadDirect(b, &reads), "VXP1");
  const std::string built(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  CHECK(Decoded("patients.read", built) ==
        json{{"reads", json::array({{{"patient", "p-1"}, {"at_us", 7}}, {{"patient", "p-2"}}})}});

  flatbuffers::FlatBufferBuilder p;
  p.Finish(fbp::CreatePersonalDirect(p, "85073000123", nullptr, nullptr, "1985-07-30", nullptr,
                                     nullptr, "HC1:x"),
           "VXP1");
  auto personal = DecodePersonalData(ByteView(p.GetBufferPointer(), p.GetSize()));
  REQUIRE(personal.ok());
  CHECK(*personal == json{{"insz", "85073000123"}, {"birth_date", "1985-07-30"}, {"hc1", "HC1:x"}});
}

// Encoding `payload` as `type` is refused, naming `field` and saying `text`.
void Refused(std::string_view type, const json& payload, const std::string& field,
             const std::string& text) {
  INFO(type << " " << payload.dump(-1, ' ', false, json::error_handler_t::replace));
  auto r = EncodePayload(type, payload);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().field() == field);
  CHECK_THAT(r.status().message(), Catch::Contains(text));
}

TEST_CASE("a field the table does not have is refused, naming it: nothing is dropped") {
  Refused("access.rejected", {{"request_id", "r1"}, {"reasn", "typo"}}, "reasn",
          "reasn is not a field of table AccessRejected");
  Refused("vaccination.registered", {{"consent", {{"decision", "given"}, {"when", "now"}}}},
          "consent.when", "consent.when is not a field of table Consent");
  Refused("patients.read", {{"reads", json::array({{{"patient", "a"}}, {{"who", "b"}}})}},
          "reads[1].who", "not a field");
  auto personal = EncodePersonalData({{"name", "An"}, {"phone", "0470"}});
  REQUIRE_FALSE(personal.ok());
  CHECK(personal.status().code() == Code::kInvalidArgument);
  CHECK(personal.status().field() == "phone");
  CHECK_THAT(personal.status().message(),
             Catch::Contains("personal data: phone is not a field of table Personal"));
  auto type = EncodePayload("vaccination.unknown", json::object());
  CHECK(type.status().code() == Code::kInvalidArgument);
  CHECK(type.status().field() == "type");
  CHECK_FALSE(PayloadTable("registry.initialised").has_value());
  CHECK_FALSE(PayloadTable("ledger.key_rotated").has_value());
}

TEST_CASE("a value of the wrong JSON type or out of range is refused, naming the field") {
  Refused("vaccination.registered", {{"dose", "1"}}, "dose", "must be an integer");
  Refused("vaccination.registered", {{"dose", 1.5}}, "dose", "must be an integer");
  Refused("vaccination.registered", {{"dose", true}}, "dose", "must be an integer");
  Refused("vaccination.registered", {{"dose", nullptr}}, "dose", "must be an integer");
  Refused("vaccination.registered", {{"dose", int64_t{1} << 31}}, "dose",
          "from -2147483648 to 2147483647");
  Refused("vaccination.registered", {{"dose", -(int64_t{1} << 31) - 1}}, "dose", "integer");
  Refused("stock.received", {{"quantity", uint64_t{1} << 63}}, "quantity", "integer");
  Refused("vaccination.registered", {{"product", 7}}, "product", "must be a string");
  Refused("vaccination.registered", {{"product", nullptr}}, "product", "must be a string");
  Refused("vaccination.registered", {{"product", "\xff\xfe"}}, "product", "not valid UTF-8");
  Refused("vaccination.registered", {{"consent", "given"}}, "consent", "must be a JSON object");
  Refused("vaccination.corrected", {{"now", {{"dose", "2"}}}}, "now.dose", "integer");
  Refused("unlink.requested", {{"members", "a"}}, "members", "array of strings");
  Refused("unlink.requested", {{"members", json::array({"a", 2})}}, "members[1]",
          "must be a string");
  Refused("patients.read", {{"reads", json::array({"a"})}}, "reads[0]", "JSON object");
  Refused("patients.read", {{"reads", {{"patient", "a"}}}}, "reads", "array of objects");
  Refused("patients.read", {{"reads", json::array({{{"at_us", "now"}}})}}, "reads[0].at_us",
          "integer");
  Refused("care.declared", json::array(), "payload", "must be a JSON object");
  Refused("care.declared", "text", "payload", "must be a JSON object");
  auto personal = EncodePersonalData({{"insz", 85073000123}});
  CHECK(personal.status().field() == "insz");
}

// Decoding `bytes` as `type` is refused as DataLoss naming the type, or succeeds with an object
// that encodes again to the same object. Never a crash, never a read outside `bytes`.
void DecodesOrRefuses(std::string_view type, const std::string& bytes) {
  // A copy of exactly the size, so that the sanitizers see a read past its end.
  auto data = std::make_unique<uint8_t[]>(bytes.size() + 1);
  std::memcpy(data.get(), bytes.data(), bytes.size());
  auto d = DecodePayload(type, ByteView(data.get(), bytes.size()));
  if (!d.ok()) {
    CHECK(d.status().code() == Code::kDataLoss);
    CHECK_THAT(d.status().message(), Catch::Contains("payload of " + std::string(type)));
    return;
  }
  auto again = EncodePayload(type, *d);
  REQUIRE(again.ok());
  CHECK(Decoded(type, *again) == *d);
}

TEST_CASE("garbage, JSON text and damaged buffers are DataLoss, never a crash") {
  // The payload as the earlier log format held it.
  auto text = DecodePayload("vaccination.registered",
                            AsBytes(R"({"vaccination_id":"v1","patient":"p","dose":1})"));
  CHECK(text.status().code() == Code::kDataLoss);
  CHECK_THAT(text.status().message(), Catch::Contains("payload of vaccination.registered") &&
                                          Catch::Contains("VaccinationRegistered") &&
                                          Catch::Contains("VXP1"));
  CHECK(DecodePayload("access.approved", ByteView()).status().code() == Code::kDataLoss);
  CHECK(DecodePersonalData(AsBytes("{\"name\":\"An\"}")).status().code() == Code::kDataLoss);
  CHECK(DecodePayload("no.such", AsBytes("xxxxxxxxxxxx")).status().code() == Code::kDataLoss);

  // A string that is not UTF-8 in an otherwise valid buffer.
  flatbuffers::FlatBufferBuilder b;
  b.Finish(fbp::CreatePatientReadDirect(b, "\xc3\x28"), "VXP1");
  auto bad = DecodePayload(event_type::kPatientRead, ByteView(b.GetBufferPointer(), b.GetSize()));
  CHECK(bad.status().code() == Code::kDataLoss);
  CHECK_THAT(bad.status().message(), Catch::Contains("UTF-8"));

  std::mt19937 rng(12);
  World w = EveryDecision();
  for (const DomainEvent& e : w.log()) {
    const std::string good = *EncodePayload(e.type, e.payload);
    // Every truncation, every byte flipped, and random bytes of the same length.
    for (size_t n = 0; n < good.size(); ++n) DecodesOrRefuses(e.type, good.substr(0, n));
    for (size_t i = 0; i < good.size(); ++i) {
      std::string flipped = good;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << (rng() % 8)));
      DecodesOrRefuses(e.type, flipped);
      flipped[i] = static_cast<char>(rng());
      DecodesOrRefuses(e.type, flipped);
    }
    std::string noise(good.size(), '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    DecodesOrRefuses(e.type, noise);
    std::memcpy(noise.data() + 4, "VXP1", 4);  // past the identifier check, into the verifier
    DecodesOrRefuses(e.type, noise);
  }
}

TEST_CASE("a buffer at any alignment decodes, as a leaf holds it") {
  const json payload = {{"patient", "p"}, {"reason", "r"}, {"until_us", int64_t{1} << 50}};
  const std::string bytes = *EncodePayload("care.declared", payload);
  std::vector<uint8_t> storage(bytes.size() + 16);
  for (size_t shift = 0; shift < 8; ++shift) {
    std::memcpy(storage.data() + shift, bytes.data(), bytes.size());
    auto d = DecodePayload("care.declared", ByteView(storage.data() + shift, bytes.size()));
    INFO("shift " << shift);
    REQUIRE(d.ok());
    CHECK(*d == payload);
  }
}

TEST_CASE("ToDomainEvent names the position of a payload that is not its table") {
  MemorySubjects keys(PseudonymKey{});
  eventstore::RecordedEvent r;
  r.position = 41;
  r.event.type = event_type::kStockReceived;
  r.event.stream = "stock:e1";
  r.event.payload = R"({"product":"x"})";
  auto d = ToDomainEvent(r, keys);
  CHECK(d.status().code() == Code::kDataLoss);
  CHECK_THAT(d.status().message(), Catch::Contains("event at position 41") &&
                                       Catch::Contains("payload of stock.received"));
  r.event.payload = *EncodePayload(event_type::kStockReceived, {{"product", "x"}});
  r.event.personal_data = "{}";
  r.event.data_subject = *keys.Pseudonym("patient", "x");
  d = ToDomainEvent(r, keys);
  CHECK(d.status().code() == Code::kDataLoss);
  CHECK_THAT(d.status().message(),
             Catch::Contains("event at position 41") && Catch::Contains("personal data"));
  r.event.personal_data.clear();
  REQUIRE(ToDomainEvent(r, keys).ok());
  CHECK(ToDomainEvent(r, keys)->payload == json{{"product", "x"}});

  // The ledger's own events keep their format and are not decoded.
  r.event.type = "registry.initialised";
  r.event.payload = R"({"origin":"o","vkey":"k"})";
  REQUIRE(ToDomainEvent(r, keys).ok());
  CHECK(ToDomainEvent(r, keys)->payload.is_null());

  // A decision's event with a field its table lacks is not appended.
  DomainEvent e;
  e.type = event_type::kStockReceived;
  e.payload = {{"product", "x"}, {"colour", "blue"}};
  auto n = ToNewEvent(e, eventstore::EventId::Random(), {}, keys);
  CHECK(n.status().code() == Code::kInvalidArgument);
  CHECK(n.status().field() == "colour");
}

}  // namespace
}  // namespace vaxledger::projections
