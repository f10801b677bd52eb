#include "core/view_records.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <random>

namespace vaxledger {
namespace {

// Every field set, each to a value of its own, so that a field read into another or not at
// all shows in the comparison.
Member FullMember(const std::string& person) {
  Member m;
  m.person = person;
  m.role = "staff";
  m.name = "Lies Staf " + person;
  m.riziv = "10000000" + person.substr(0, 3);
  m.trainer = "trainer-" + person;
  m.linked_to = {"physician-2", "physician-1", "physician-3"};  // order kept
  m.since_us = 1'700'000'000'000'001;
  m.since_position = 42;
  return m;
}

Entity FullEntity() {
  Entity e;
  e.id = "demo-linde";
  e.kind = "group_practice";
  e.name = "Groepspraktijk De Linde";
  e.kbo = "0123456749";
  e.region = "flanders";
  e.version = 17;
  e.members["p-aaa"] = FullMember("p-aaa");
  e.members["p-bbb"] = FullMember("p-bbb");
  e.members["p-bbb"].role = "physician";
  e.pending = {"req-1", "req-2"};
  return e;
}

Person FullPerson() {
  Person p;
  p.id = "person-1";
  p.name = "Dr. Els Peeters";
  p.email = "els@example.be";
  p.riziv = "10000017005";
  p.roles = {"administrator", "auditor"};
  p.entities = {"entity-1", "entity-2"};
  p.pending_access = "req-9";
  p.version = 3;
  p.has_stream = true;
  return p;
}

Request FullRequest() {
  Request r;
  r.id = "req-1";
  r.kind = "access";
  r.status = "approved";
  r.entity = "entity-7";
  r.person = "person-1";
  r.requested_by = "person-2";
  r.role = "physician";
  r.name = "Dr. Nina Nieuw";
  r.email = "nina@example.be";
  r.riziv = "10000017005";
  r.terms_version = "2026-01";
  r.new_entity = {
      {"kind", "practice"}, {"name", "Praktijk Nieuw"}, {"kbo", ""}, {"region", "brussels"}};
  r.members = {"person-4", "person-3"};
  r.trainer = "person-5";
  r.decided_by = "person-6";
  r.reason = "verified by phone";
  r.requested_at_us = 1'700'000'000'000'002;
  r.decided_at_us = 1'700'000'000'000'003;
  r.position = 99;
  return r;
}

VaccinationChange FullChange(int i) {
  VaccinationChange c;
  c.kind = "corrected";
  c.product = "EU/1/20/1507";
  c.lot = "LOT-OLD-" + std::to_string(i);
  c.dose = 2 + i;
  c.date = "2026-10-0" + std::to_string(1 + i % 9);
  c.consent = "refused";
  c.reason = "typo " + std::to_string(i);
  c.by = "person-8";
  c.at_us = 1'700'000'000'000'100 + i;
  c.position = 200 + i;
  return c;
}

Vaccination FullVaccination(int i) {
  Vaccination v;
  v.id = "vac-" + std::to_string(i);
  v.product = "EU/1/20/1528";
  v.lot = "FK512" + std::to_string(i);
  v.dose = 1 + i;
  v.date = "2026-11-2" + std::to_string(i % 10);
  v.entity = "entity-1";
  v.performer = "person-1";
  v.recorder = "person-2";
  v.consent = "given";
  v.consent_date = "2026-11-19";
  v.consent_by = "person-3";
  v.status = "entered_in_error";
  v.reason = "wrong patient";
  v.corrections = 2;
  v.recorded_at_us = 1'700'000'000'000'004 + i;
  v.position = 300 + i;
  v.history = {FullChange(i), FullChange(i + 1)};
  v.history[1].kind = "entered_in_error";
  return v;
}

IssuedCertificate FullCertificate(int i) {
  IssuedCertificate c;
  c.uvci = "URN:UVCI:01:BE:ABC" + std::to_string(i);
  c.vaccination_id = "vac-" + std::to_string(i);
  c.entity = "entity-1";
  c.issued_by = "person-1";
  c.kid = "a2lkLWJhc2U2NA==";
  c.signature_sha256 = "c2lnbmF0dXJl";
  c.dn = 2;
  c.sd = 3;
  c.issued_at_us = 1'700'000'000'000'005;
  c.expires_at_us = 1'800'000'000'000'006;
  c.status = "revoked";
  c.revoked_reason = "issued in error";
  c.revoked_by = "person-7";
  c.revoked_at_us = 1'700'000'000'000'007;
  c.position = 400 + i;
  c.family_name = "Janssens";
  c.given_name = "Jan";
  c.hc1 = "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N";
  return c;
}

Patient FullPatient(int vaccinations = 5) {
  Patient p;
  p.id = "patient-1";
  p.insz = "85073003328";
  p.name = "Jan Janssens";
  p.birth_date = "1985-07-30";
  p.version = 12;
  for (int i = 0; i < vaccinations; ++i) p.vaccinations.push_back(FullVaccination(i));
  p.declared_care = {{"entity-2", 1'700'000'000'000'008}, {"entity-3", -5}};
  p.certificates = {FullCertificate(0), FullCertificate(1)};
  return p;
}

StockLot FullLot(const std::string& lot) {
  StockLot l;
  l.product = "EU/1/20/1528";
  l.lot = lot;
  l.expiry = "2027-01-31";
  l.received = 100;
  l.adjusted = -3;
  l.used = 250;
  return l;
}

EntityStock FullStock() {
  EntityStock s;
  s.entity = "entity-1";
  s.version = 8;
  s.has_stream = true;
  s.lots["EU/1/20/1528|FK1"] = FullLot("FK1");
  s.lots["EU/1/20/1528|FK2"] = FullLot("FK2");
  return s;
}

// Decodes `bytes` with the decoder of `T`.
template <typename T>
Status DecodeAs(std::string_view bytes, T& out) {
  if constexpr (std::is_same_v<T, Entity>) return DecodeEntity(bytes, out);
  if constexpr (std::is_same_v<T, Person>) return DecodePerson(bytes, out);
  if constexpr (std::is_same_v<T, Request>) return DecodeRequest(bytes, out);
  if constexpr (std::is_same_v<T, Patient>) return DecodePatient(bytes, out);
  if constexpr (std::is_same_v<T, EntityStock>) return DecodeEntityStock(bytes, out);
  if constexpr (std::is_same_v<T, StockLot>) return DecodeStockLot(bytes, out);
}

std::string EncodeAny(const Entity& v) { return EncodeEntity(v); }
std::string EncodeAny(const Person& v) { return EncodePerson(v); }
std::string EncodeAny(const Request& v) { return EncodeRequest(v); }
std::string EncodeAny(const Patient& v) { return EncodePatient(v); }
std::string EncodeAny(const EntityStock& v) { return EncodeEntityStock(v); }
std::string EncodeAny(const StockLot& v) { return EncodeStockLot(v); }

template <typename T>
T RoundTrip(const T& value) {
  T out;
  Status s = DecodeAs(EncodeAny(value), out);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return out;
}

// Every proper prefix of `bytes` and every garbage string is refused with DataLoss, and the
// output is left as it was.
template <typename T>
void CheckRefusesDamage(const T& value, const std::string& what) {
  const std::string bytes = EncodeAny(value);
  const T untouched = value;
  for (size_t n = 0; n < bytes.size(); ++n) {
    T out = value;
    Status s = DecodeAs(std::string_view(bytes.data(), n), out);
    INFO(what << " cut to " << n << " of " << bytes.size() << " bytes");
    REQUIRE(s.code() == Code::kDataLoss);
    CHECK(s.message().find(what) != std::string::npos);
    CHECK(out == untouched);
  }
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::string garbage(random() % 300, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    // Every other one with the record's size prefix and identifier, so that it gets further.
    if (i % 2 == 1 && garbage.size() >= 12) {
      const auto size = static_cast<uint32_t>(garbage.size() - 4);  // little-endian hosts
      std::memcpy(&garbage[0], &size, 4);
      std::memcpy(&garbage[8], bytes.data() + 8, 4);
    }
    T out = value;
    Status s = DecodeAs(garbage, out);
    INFO(what << " garbage #" << i);
    REQUIRE(s.code() == Code::kDataLoss);
    CHECK(out == untouched);
  }
  // A flipped byte anywhere: refused, or (inside a string or a scalar) a different record, but
  // never a crash or a read outside the buffer (the sanitizer builds check the latter).
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0xA5);
    T out;
    Status s = DecodeAs(flipped, out);
    INFO(what << " flipped at " << at);
    CHECK((s.ok() || s.code() == Code::kDataLoss));
  }
}

TEST_CASE("view records: every record type round-trips with every field set") {
  CHECK(RoundTrip(FullEntity()) == FullEntity());
  CHECK(RoundTrip(FullPerson()) == FullPerson());
  CHECK(RoundTrip(FullRequest()) == FullRequest());
  CHECK(RoundTrip(FullPatient()) == FullPatient());
  CHECK(RoundTrip(FullStock()) == FullStock());
  CHECK(RoundTrip(FullLot("FK9")) == FullLot("FK9"));
}

TEST_CASE("view records: empty records round-trip") {
  CHECK(RoundTrip(Entity{}) == Entity{});
  CHECK(RoundTrip(Person{}) == Person{});
  CHECK(RoundTrip(Request{}) == Request{});
  CHECK(RoundTrip(Patient{}) == Patient{});
  CHECK(RoundTrip(EntityStock{}) == EntityStock{});
  CHECK(RoundTrip(StockLot{}) == StockLot{});
  // Empty strings where the struct's default is not empty are kept as empty.
  Patient p;
  p.vaccinations.emplace_back();
  p.vaccinations[0].status = "";
  p.certificates.emplace_back();
  p.certificates[0].status = "";
  p.vaccinations.emplace_back();  // status "active", the default
  CHECK(RoundTrip(p) == p);
  // Default-constructed members of collections.
  Entity e;
  e.members[""] = Member{};
  e.pending = {""};
  CHECK(RoundTrip(e) == e);
}

TEST_CASE("view records: extreme scalars and arbitrary bytes in strings") {
  Vaccination v;
  v.dose = std::numeric_limits<int>::min();
  v.corrections = std::numeric_limits<uint64_t>::max();
  v.recorded_at_us = std::numeric_limits<int64_t>::min();
  v.position = std::numeric_limits<uint64_t>::max();
  v.lot = std::string("a\0b\xff\xfe", 5);  // a NUL inside, bytes that are not UTF-8
  Patient p;
  p.vaccinations = {v};
  p.name = "Ëlise Ñúñez 李";
  p.declared_care = {{"", std::numeric_limits<int64_t>::max()}};
  CHECK(RoundTrip(p) == p);
  StockLot l;
  l.received = std::numeric_limits<int64_t>::max();
  l.adjusted = std::numeric_limits<int64_t>::min();
  l.used = -1;
  CHECK(RoundTrip(l) == l);
}

TEST_CASE("view records: Request::new_entity is null, an empty object or its four strings") {
  Request r;
  r.new_entity = nullptr;
  CHECK(RoundTrip(r).new_entity.is_null());
  r.new_entity = nlohmann::json::object();
  CHECK(RoundTrip(r).new_entity == nlohmann::json::object());
  r.new_entity = {{"kind", "organisation"}, {"name", "Org"}};  // kbo and region absent
  CHECK(RoundTrip(r) == r);
  // What the format does not keep (header contract): other members and non-string values.
  r.new_entity = {{"kind", "practice"}, {"kbo", 123}, {"other", "x"}};
  CHECK(RoundTrip(r).new_entity == nlohmann::json{{"kind", "practice"}});
  r.new_entity = nlohmann::json::array({1, 2});
  CHECK(RoundTrip(r).new_entity.is_null());
}

TEST_CASE("view records: a record is compact") {
  // No field names in the bytes (bench/view_records_bench compares the sizes with JSON).
  const std::string bytes = EncodePatient(FullPatient());
  CHECK(bytes.find("recorded_at_us") == std::string::npos);
  CHECK(bytes.find("vaccination_id") == std::string::npos);
  CHECK(EncodeStockLot(StockLot{}).size() <= 24);
}

TEST_CASE("view records: damaged bytes give DataLoss naming the record type, never a crash") {
  CheckRefusesDamage(FullEntity(), "entity");
  CheckRefusesDamage(FullPerson(), "person");
  CheckRefusesDamage(FullRequest(), "request");
  CheckRefusesDamage(FullPatient(2), "patient");
  CheckRefusesDamage(FullStock(), "stock");
  CheckRefusesDamage(FullLot("FK1"), "stock lot");
  CheckRefusesDamage(Entity{}, "entity");
  CheckRefusesDamage(Patient{}, "patient");
}

TEST_CASE("view records: a record of one kind is refused by the decoder of another") {
  Person p;
  Status s = DecodePerson(EncodeEntity(FullEntity()), p);
  CHECK(s.code() == Code::kDataLoss);
  CHECK(s.message().find("person") != std::string::npos);
  EntityStock stock;
  CHECK(DecodeEntityStock(EncodeStockLot(FullLot("FK1")), stock).code() == Code::kDataLoss);
  StockLot lot;
  CHECK(DecodeStockLot(EncodeEntityStock(FullStock()), lot).code() == Code::kDataLoss);
  Patient patient;
  CHECK(DecodePatient(EncodeRequest(FullRequest()), patient).code() == Code::kDataLoss);
  Request request;
  CHECK(DecodeRequest(EncodePatient(FullPatient()), request).code() == Code::kDataLoss);
  Entity entity;
  CHECK(DecodeEntity(EncodePerson(FullPerson()), entity).code() == Code::kDataLoss);
}

TEST_CASE("view records: a key listed twice is refused") {
  Entity e;
  e.members["a"] = FullMember("same");
  e.members["b"] = FullMember("same");  // two map keys, one person: encoded twice
  Entity out;
  Status s = DecodeEntity(EncodeEntity(e), out);
  CHECK(s.code() == Code::kDataLoss);
  CHECK(s.message().find("member \"same\" twice") != std::string::npos);
  CHECK(out == Entity{});

  EntityStock stock;
  stock.lots["x"] = FullLot("FK1");
  stock.lots["y"] = FullLot("FK1");
  EntityStock stock_out;
  s = DecodeEntityStock(EncodeEntityStock(stock), stock_out);
  CHECK(s.code() == Code::kDataLoss);
  CHECK(s.message().find("EU/1/20/1528|FK1") != std::string::npos);
}

TEST_CASE("view records: bytes at any alignment decode") {
  const std::string bytes = EncodePatient(FullPatient());
  for (size_t shift = 0; shift < 8; ++shift) {
    std::string buffer(shift, 'x');
    buffer += bytes;
    Patient out;
    REQUIRE(DecodePatient(std::string_view(buffer).substr(shift), out).ok());
    CHECK(out == FullPatient());
  }
}

TEST_CASE("view records: the encoding is deterministic") {
  CHECK(EncodePatient(FullPatient()) == EncodePatient(FullPatient()));
  CHECK(EncodeEntity(FullEntity()) == EncodeEntity(RoundTrip(FullEntity())));
}

}  // namespace
}  // namespace vaxledger
