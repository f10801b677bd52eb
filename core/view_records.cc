#include "core/view_records.h"

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/view_records_generated.h"

namespace vaxledger {
namespace {

namespace fbv = fb::view;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::String;
using flatbuffers::Vector;

// The file identifier of each record kind (core/view_records.fbs, docs/storage.md).
constexpr const char* kEntityIdentifier = "VRE1";
constexpr const char* kPersonIdentifier = "VRP1";
constexpr const char* kRequestIdentifier = "VRR1";
constexpr const char* kPatientIdentifier = "VRV1";
constexpr const char* kStockIdentifier = "VRS1";
constexpr const char* kLotIdentifier = "VRL1";

// ---- Encoding ------------------------------------------------------------------------------
// FlatBuffers builds back to front: every string, vector and child table of a table is created
// before the table's builder starts.

// "" is written as an absent field (read back as "").
Offset<String> Str(FlatBufferBuilder& b, const std::string& s) {
  return s.empty() ? Offset<String>() : b.CreateString(s);
}

// Absent when empty.
template <typename Range>
Offset<Vector<Offset<String>>> Strings(FlatBufferBuilder& b, const Range& strings) {
  if (strings.empty()) return {};
  std::vector<Offset<String>> offsets;
  offsets.reserve(strings.size());
  for (const std::string& s : strings) offsets.push_back(b.CreateString(s));
  return b.CreateVector(offsets);
}

// Absent when empty.
template <typename T>
Offset<Vector<Offset<T>>> Tables(FlatBufferBuilder& b, const std::vector<Offset<T>>& tables) {
  return tables.empty() ? Offset<Vector<Offset<T>>>() : b.CreateVector(tables);
}

template <typename T>
std::string Finish(FlatBufferBuilder& b, Offset<T> root, const char* identifier) {
  b.FinishSizePrefixed(root, identifier);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

Offset<fbv::Member> Put(FlatBufferBuilder& b, const Member& m) {
  const auto person = Str(b, m.person);
  const auto role = Str(b, m.role);
  const auto name = Str(b, m.name);
  const auto riziv = Str(b, m.riziv);
  const auto trainer = Str(b, m.trainer);
  const auto linked_to = Strings(b, m.linked_to);
  fbv::MemberBuilder t(b);
  t.add_person(person);
  t.add_role(role);
  t.add_name(name);
  t.add_riziv(riziv);
  t.add_trainer(trainer);
  t.add_linked_to(linked_to);
  t.add_since_us(m.since_us);
  t.add_since_position(m.since_position);
  t.add_erased(m.erased);
  return t.Finish();
}

// Request::new_entity: the string members kind, name, kbo and region of an object.
Offset<fbv::NewEntity> PutNewEntity(FlatBufferBuilder& b, const nlohmann::json& j) {
  if (!j.is_object()) return {};
  auto member = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return Offset<String>();
    return b.CreateString(it->get_ref<const std::string&>());  // also "": it is present
  };
  const auto kind = member("kind");
  const auto name = member("name");
  const auto kbo = member("kbo");
  const auto region = member("region");
  fbv::NewEntityBuilder t(b);
  t.add_kind(kind);
  t.add_name(name);
  t.add_kbo(kbo);
  t.add_region(region);
  return t.Finish();
}

Offset<fbv::VaccinationChange> Put(FlatBufferBuilder& b, const VaccinationChange& c) {
  const auto kind = Str(b, c.kind);
  const auto product = Str(b, c.product);
  const auto lot = Str(b, c.lot);
  const auto date = Str(b, c.date);
  const auto consent = Str(b, c.consent);
  const auto reason = Str(b, c.reason);
  const auto by = Str(b, c.by);
  fbv::VaccinationChangeBuilder t(b);
  t.add_kind(kind);
  t.add_product(product);
  t.add_lot(lot);
  t.add_dose(c.dose);
  t.add_date(date);
  t.add_consent(consent);
  t.add_reason(reason);
  t.add_by(by);
  t.add_at_us(c.at_us);
  t.add_position(c.position);
  return t.Finish();
}

Offset<fbv::Vaccination> Put(FlatBufferBuilder& b, const Vaccination& v) {
  const auto id = Str(b, v.id);
  const auto product = Str(b, v.product);
  const auto lot = Str(b, v.lot);
  const auto date = Str(b, v.date);
  const auto entity = Str(b, v.entity);
  const auto performer = Str(b, v.performer);
  const auto recorder = Str(b, v.recorder);
  const auto consent = Str(b, v.consent);
  const auto consent_date = Str(b, v.consent_date);
  const auto consent_by = Str(b, v.consent_by);
  const auto status = Str(b, v.status);
  const auto reason = Str(b, v.reason);
  std::vector<Offset<fbv::VaccinationChange>> changes;
  changes.reserve(v.history.size());
  for (const VaccinationChange& c : v.history) changes.push_back(Put(b, c));
  const auto history = Tables(b, changes);
  fbv::VaccinationBuilder t(b);
  t.add_id(id);
  t.add_product(product);
  t.add_lot(lot);
  t.add_dose(v.dose);
  t.add_date(date);
  t.add_entity(entity);
  t.add_performer(performer);
  t.add_recorder(recorder);
  t.add_consent(consent);
  t.add_consent_date(consent_date);
  t.add_consent_by(consent_by);
  t.add_status(status);
  t.add_reason(reason);
  t.add_corrections(v.corrections);
  t.add_recorded_at_us(v.recorded_at_us);
  t.add_position(v.position);
  t.add_history(history);
  return t.Finish();
}

Offset<fbv::IssuedCertificate> Put(FlatBufferBuilder& b, const IssuedCertificate& c) {
  const auto uvci = Str(b, c.uvci);
  const auto vaccination_id = Str(b, c.vaccination_id);
  const auto entity = Str(b, c.entity);
  const auto issued_by = Str(b, c.issued_by);
  const auto kid = Str(b, c.kid);
  const auto signature_sha256 = Str(b, c.signature_sha256);
  const auto status = Str(b, c.status);
  const auto revoked_reason = Str(b, c.revoked_reason);
  const auto revoked_by = Str(b, c.revoked_by);
  const auto family_name = Str(b, c.family_name);
  const auto given_name = Str(b, c.given_name);
  const auto hc1 = Str(b, c.hc1);
  fbv::IssuedCertificateBuilder t(b);
  t.add_uvci(uvci);
  t.add_vaccination_id(vaccination_id);
  t.add_entity(entity);
  t.add_issued_by(issued_by);
  t.add_kid(kid);
  t.add_signature_sha256(signature_sha256);
  t.add_dn(c.dn);
  t.add_sd(c.sd);
  t.add_issued_at_us(c.issued_at_us);
  t.add_expires_at_us(c.expires_at_us);
  t.add_status(status);
  t.add_revoked_reason(revoked_reason);
  t.add_revoked_by(revoked_by);
  t.add_revoked_at_us(c.revoked_at_us);
  t.add_position(c.position);
  t.add_family_name(family_name);
  t.add_given_name(given_name);
  t.add_hc1(hc1);
  return t.Finish();
}

Offset<fbv::StockLot> Put(FlatBufferBuilder& b, const StockLot& l) {
  const auto product = Str(b, l.product);
  const auto lot = Str(b, l.lot);
  const auto expiry = Str(b, l.expiry);
  fbv::StockLotBuilder t(b);
  t.add_product(product);
  t.add_lot(lot);
  t.add_expiry(expiry);
  t.add_received(l.received);
  t.add_adjusted(l.adjusted);
  t.add_used(l.used);
  return t.Finish();
}

// ---- Decoding ------------------------------------------------------------------------------

std::string Get(const String* s) { return s == nullptr ? std::string() : s->str(); }

// The root table of `bytes` once the verifier has accepted it as a buffer of `T` with
// `identifier`, or DataLoss naming `what`. FlatBuffers reads scalars in place, so bytes that are
// not 8-byte aligned are first copied into `aligned`, which must outlive the result.
template <typename T>
Result<const T*> Verified(std::string_view bytes, const char* identifier, const char* what,
                          std::unique_ptr<uint64_t[]>& aligned) {
  if (bytes.empty()) return DataLoss(std::string("view record: the ") + what + " record is empty");
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return DataLoss(std::string("view record: the ") + what + " record is too large (" +
                    std::to_string(bytes.size()) + " bytes)");
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned = std::make_unique<uint64_t[]>((bytes.size() + 7) / 8);
    std::memcpy(aligned.get(), bytes.data(), bytes.size());
    data = reinterpret_cast<const uint8_t*>(aligned.get());
  }
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifySizePrefixedBuffer<T>(identifier)) {
    return DataLoss(std::string("view record: the ") + what + " record (" +
                    std::to_string(bytes.size()) + " bytes) is not a well-formed \"" + identifier +
                    "\" FlatBuffers table of that size");
  }
  return flatbuffers::GetSizePrefixedRoot<T>(data);
}

Status Duplicate(const char* what, const char* collection, const std::string& key) {
  return DataLoss(std::string("view record: the ") + what + " record lists " + collection + " \"" +
                  key + "\" twice");
}

// Strings of a vector into a set, refusing a duplicate.
Status GetSet(const Vector<Offset<String>>* v, const char* what, const char* collection,
              std::set<std::string>& out) {
  if (v == nullptr) return Status::Ok();
  for (const String* s : *v) {
    if (!out.insert(s->str()).second) return Duplicate(what, collection, s->str());
  }
  return Status::Ok();
}

std::vector<std::string> GetList(const Vector<Offset<String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const String* s : *v) out.push_back(s->str());
  return out;
}

Member Get(const fbv::Member& t) {
  Member m;
  m.person = Get(t.person());
  m.role = Get(t.role());
  m.name = Get(t.name());
  m.riziv = Get(t.riziv());
  m.trainer = Get(t.trainer());
  m.linked_to = GetList(t.linked_to());
  m.since_us = t.since_us();
  m.since_position = t.since_position();
  m.erased = t.erased();
  return m;
}

VaccinationChange Get(const fbv::VaccinationChange& t) {
  VaccinationChange c;
  c.kind = Get(t.kind());
  c.product = Get(t.product());
  c.lot = Get(t.lot());
  c.dose = t.dose();
  c.date = Get(t.date());
  c.consent = Get(t.consent());
  c.reason = Get(t.reason());
  c.by = Get(t.by());
  c.at_us = t.at_us();
  c.position = t.position();
  return c;
}

Vaccination Get(const fbv::Vaccination& t) {
  Vaccination v;
  v.id = Get(t.id());
  v.product = Get(t.product());
  v.lot = Get(t.lot());
  v.dose = t.dose();
  v.date = Get(t.date());
  v.entity = Get(t.entity());
  v.performer = Get(t.performer());
  v.recorder = Get(t.recorder());
  v.consent = Get(t.consent());
  v.consent_date = Get(t.consent_date());
  v.consent_by = Get(t.consent_by());
  v.status = Get(t.status());
  v.reason = Get(t.reason());
  v.corrections = t.corrections();
  v.recorded_at_us = t.recorded_at_us();
  v.position = t.position();
  if (const auto* history = t.history()) {
    v.history.reserve(history->size());
    for (const fbv::VaccinationChange* c : *history) v.history.push_back(Get(*c));
  }
  return v;
}

IssuedCertificate Get(const fbv::IssuedCertificate& t) {
  IssuedCertificate c;
  c.uvci = Get(t.uvci());
  c.vaccination_id = Get(t.vaccination_id());
  c.entity = Get(t.entity());
  c.issued_by = Get(t.issued_by());
  c.kid = Get(t.kid());
  c.signature_sha256 = Get(t.signature_sha256());
  c.dn = t.dn();
  c.sd = t.sd();
  c.issued_at_us = t.issued_at_us();
  c.expires_at_us = t.expires_at_us();
  c.status = Get(t.status());
  c.revoked_reason = Get(t.revoked_reason());
  c.revoked_by = Get(t.revoked_by());
  c.revoked_at_us = t.revoked_at_us();
  c.position = t.position();
  c.family_name = Get(t.family_name());
  c.given_name = Get(t.given_name());
  c.hc1 = Get(t.hc1());
  return c;
}

StockLot Get(const fbv::StockLot& t) {
  StockLot l;
  l.product = Get(t.product());
  l.lot = Get(t.lot());
  l.expiry = Get(t.expiry());
  l.received = t.received();
  l.adjusted = t.adjusted();
  l.used = t.used();
  return l;
}

// The key of a lot in EntityStock::lots (as StockView::LotFor makes it).
std::string LotKey(const StockLot& l) { return l.product + "|" + l.lot; }

}  // namespace

// ---- Membership ----------------------------------------------------------------------------

std::string EncodeEntity(const Entity& e) {
  FlatBufferBuilder b(256);
  const auto id = Str(b, e.id);
  const auto kind = Str(b, e.kind);
  const auto name = Str(b, e.name);
  const auto kbo = Str(b, e.kbo);
  const auto region = Str(b, e.region);
  std::vector<Offset<fbv::Member>> members;
  members.reserve(e.members.size());
  for (const auto& [person, m] : e.members) members.push_back(Put(b, m));
  const auto member_vector = Tables(b, members);
  const auto pending = Strings(b, e.pending);
  fbv::EntityBuilder t(b);
  t.add_id(id);
  t.add_kind(kind);
  t.add_name(name);
  t.add_kbo(kbo);
  t.add_region(region);
  t.add_version(e.version);
  t.add_members(member_vector);
  t.add_pending(pending);
  return Finish(b, t.Finish(), kEntityIdentifier);
}

Status DecodeEntity(std::string_view bytes, Entity& out) {
  std::unique_ptr<uint64_t[]> aligned;
  VX_ASSIGN_OR_RETURN(const fbv::Entity* t,
                      Verified<fbv::Entity>(bytes, kEntityIdentifier, "entity", aligned));
  Entity e;
  e.id = Get(t->id());
  e.kind = Get(t->kind());
  e.name = Get(t->name());
  e.kbo = Get(t->kbo());
  e.region = Get(t->region());
  e.version = t->version();
  if (const auto* members = t->members()) {
    for (const fbv::Member* m : *members) {
      Member member = Get(*m);
      std::string person = member.person;
      if (!e.members.emplace(std::move(person), std::move(member)).second) {
        return Duplicate("entity", "member", Get(m->person()));
      }
    }
  }
  VX_RETURN_IF_ERROR(GetSet(t->pending(), "entity", "pending request", e.pending));
  out = std::move(e);
  return Status::Ok();
}

std::string EncodePerson(const Person& p) {
  FlatBufferBuilder b(256);
  const auto id = Str(b, p.id);
  const auto name = Str(b, p.name);
  const auto email = Str(b, p.email);
  const auto riziv = Str(b, p.riziv);
  const auto roles = Strings(b, p.roles);
  const auto entities = Strings(b, p.entities);
  const auto pending_access = Str(b, p.pending_access);
  fbv::PersonBuilder t(b);
  t.add_id(id);
  t.add_name(name);
  t.add_email(email);
  t.add_riziv(riziv);
  t.add_roles(roles);
  t.add_entities(entities);
  t.add_pending_access(pending_access);
  t.add_version(p.version);
  t.add_has_stream(p.has_stream);
  t.add_erased(p.erased);
  return Finish(b, t.Finish(), kPersonIdentifier);
}

Status DecodePerson(std::string_view bytes, Person& out) {
  std::unique_ptr<uint64_t[]> aligned;
  VX_ASSIGN_OR_RETURN(const fbv::Person* t,
                      Verified<fbv::Person>(bytes, kPersonIdentifier, "person", aligned));
  Person p;
  p.id = Get(t->id());
  p.name = Get(t->name());
  p.email = Get(t->email());
  p.riziv = Get(t->riziv());
  VX_RETURN_IF_ERROR(GetSet(t->roles(), "person", "role", p.roles));
  VX_RETURN_IF_ERROR(GetSet(t->entities(), "person", "entity", p.entities));
  p.pending_access = Get(t->pending_access());
  p.version = t->version();
  p.has_stream = t->has_stream();
  p.erased = t->erased();
  out = std::move(p);
  return Status::Ok();
}

// ---- Requests --------------------------------------------------------------------------------

std::string EncodeRequest(const Request& r) {
  FlatBufferBuilder b(512);
  const auto id = Str(b, r.id);
  const auto kind = Str(b, r.kind);
  const auto status = Str(b, r.status);
  const auto entity = Str(b, r.entity);
  const auto person = Str(b, r.person);
  const auto requested_by = Str(b, r.requested_by);
  const auto role = Str(b, r.role);
  const auto name = Str(b, r.name);
  const auto email = Str(b, r.email);
  const auto riziv = Str(b, r.riziv);
  const auto terms_version = Str(b, r.terms_version);
  const auto new_entity = PutNewEntity(b, r.new_entity);
  const auto members = Strings(b, r.members);
  const auto trainer = Str(b, r.trainer);
  const auto decided_by = Str(b, r.decided_by);
  const auto reason = Str(b, r.reason);
  fbv::RequestBuilder t(b);
  t.add_id(id);
  t.add_kind(kind);
  t.add_status(status);
  t.add_entity(entity);
  t.add_person(person);
  t.add_requested_by(requested_by);
  t.add_role(role);
  t.add_name(name);
  t.add_email(email);
  t.add_riziv(riziv);
  t.add_terms_version(terms_version);
  t.add_new_entity(new_entity);
  t.add_members(members);
  t.add_trainer(trainer);
  t.add_decided_by(decided_by);
  t.add_reason(reason);
  t.add_requested_at_us(r.requested_at_us);
  t.add_decided_at_us(r.decided_at_us);
  t.add_position(r.position);
  return Finish(b, t.Finish(), kRequestIdentifier);
}

Status DecodeRequest(std::string_view bytes, Request& out) {
  std::unique_ptr<uint64_t[]> aligned;
  VX_ASSIGN_OR_RETURN(const fbv::Request* t,
                      Verified<fbv::Request>(bytes, kRequestIdentifier, "request", aligned));
  Request r;
  r.id = Get(t->id());
  r.kind = Get(t->kind());
  r.status = Get(t->status());
  r.entity = Get(t->entity());
  r.person = Get(t->person());
  r.requested_by = Get(t->requested_by());
  r.role = Get(t->role());
  r.name = Get(t->name());
  r.email = Get(t->email());
  r.riziv = Get(t->riziv());
  r.terms_version = Get(t->terms_version());
  if (const fbv::NewEntity* n = t->new_entity()) {
    r.new_entity = nlohmann::json::object();
    if (n->kind() != nullptr) r.new_entity["kind"] = n->kind()->str();
    if (n->name() != nullptr) r.new_entity["name"] = n->name()->str();
    if (n->kbo() != nullptr) r.new_entity["kbo"] = n->kbo()->str();
    if (n->region() != nullptr) r.new_entity["region"] = n->region()->str();
  }
  r.members = GetList(t->members());
  r.trainer = Get(t->trainer());
  r.decided_by = Get(t->decided_by());
  r.reason = Get(t->reason());
  r.requested_at_us = t->requested_at_us();
  r.decided_at_us = t->decided_at_us();
  r.position = t->position();
  out = std::move(r);
  return Status::Ok();
}

// ---- Vaccinations ----------------------------------------------------------------------------

std::string EncodePatient(const Patient& p) {
  FlatBufferBuilder b(1024);
  const auto id = Str(b, p.id);
  const auto insz = Str(b, p.insz);
  const auto name = Str(b, p.name);
  const auto birth_date = Str(b, p.birth_date);
  std::vector<Offset<fbv::Vaccination>> vaccinations;
  vaccinations.reserve(p.vaccinations.size());
  for (const Vaccination& v : p.vaccinations) vaccinations.push_back(Put(b, v));
  const auto vaccination_vector = Tables(b, vaccinations);
  std::vector<Offset<fbv::CareDeclaration>> care;
  care.reserve(p.declared_care.size());
  for (const auto& [entity, until_us] : p.declared_care) {
    const auto entity_offset = Str(b, entity);
    fbv::CareDeclarationBuilder c(b);
    c.add_entity(entity_offset);
    c.add_until_us(until_us);
    care.push_back(c.Finish());
  }
  const auto care_vector = Tables(b, care);
  std::vector<Offset<fbv::IssuedCertificate>> certificates;
  certificates.reserve(p.certificates.size());
  for (const IssuedCertificate& c : p.certificates) certificates.push_back(Put(b, c));
  const auto certificate_vector = Tables(b, certificates);
  fbv::PatientBuilder t(b);
  t.add_id(id);
  t.add_insz(insz);
  t.add_name(name);
  t.add_birth_date(birth_date);
  t.add_version(p.version);
  t.add_vaccinations(vaccination_vector);
  t.add_declared_care(care_vector);
  t.add_certificates(certificate_vector);
  t.add_erased(p.erased);
  return Finish(b, t.Finish(), kPatientIdentifier);
}

Status DecodePatient(std::string_view bytes, Patient& out) {
  std::unique_ptr<uint64_t[]> aligned;
  VX_ASSIGN_OR_RETURN(const fbv::Patient* t,
                      Verified<fbv::Patient>(bytes, kPatientIdentifier, "patient", aligned));
  Patient p;
  p.id = Get(t->id());
  p.insz = Get(t->insz());
  p.name = Get(t->name());
  p.birth_date = Get(t->birth_date());
  p.version = t->version();
  p.erased = t->erased();
  if (const auto* vaccinations = t->vaccinations()) {
    p.vaccinations.reserve(vaccinations->size());
    for (const fbv::Vaccination* v : *vaccinations) p.vaccinations.push_back(Get(*v));
  }
  if (const auto* care = t->declared_care()) {
    for (const fbv::CareDeclaration* c : *care) {
      if (!p.declared_care.emplace(Get(c->entity()), c->until_us()).second) {
        return Duplicate("patient", "a care declaration of entity", Get(c->entity()));
      }
    }
  }
  if (const auto* certificates = t->certificates()) {
    p.certificates.reserve(certificates->size());
    for (const fbv::IssuedCertificate* c : *certificates) p.certificates.push_back(Get(*c));
  }
  out = std::move(p);
  return Status::Ok();
}

// ---- Stock -----------------------------------------------------------------------------------

std::string EncodeEntityStock(const EntityStock& s) {
  FlatBufferBuilder b(128);
  const auto entity = Str(b, s.entity);
  std::vector<Offset<fbv::StockLot>> lots;
  lots.reserve(s.lots.size());
  for (const auto& [key, l] : s.lots) lots.push_back(Put(b, l));
  const auto lot_vector = Tables(b, lots);
  fbv::EntityStockBuilder t(b);
  t.add_entity(entity);
  t.add_version(s.version);
  t.add_has_stream(s.has_stream);
  t.add_lots(lot_vector);
  return Finish(b, t.Finish(), kStockIdentifier);
}

Status DecodeEntityStock(std::string_view bytes, EntityStock& out) {
  std::unique_ptr<uint64_t[]> aligned;
  VX_ASSIGN_OR_RETURN(const fbv::EntityStock* t,
                      Verified<fbv::EntityStock>(bytes, kStockIdentifier, "stock", aligned));
  EntityStock s;
  s.entity = Get(t->entity());
  s.version = t->version();
  s.has_stream = t->has_stream();
  if (const auto* lots = t->lots()) {
    for (const fbv::StockLot* l : *lots) {
      StockLot lot = Get(*l);
      std::string key = LotKey(lot);
      if (s.lots.contains(key)) return Duplicate("stock", "lot", key);
      s.lots.emplace(std::move(key), std::move(lot));
    }
  }
  out = std::move(s);
  return Status::Ok();
}

std::string EncodeStockLot(const StockLot& l) {
  FlatBufferBuilder b(128);
  return Finish(b, Put(b, l), kLotIdentifier);
}

Status DecodeStockLot(std::string_view bytes, StockLot& out) {
  std::unique_ptr<uint64_t[]> aligned;
  VX_ASSIGN_OR_RETURN(const fbv::StockLot* t,
                      Verified<fbv::StockLot>(bytes, kLotIdentifier, "stock lot", aligned));
  out = Get(*t);
  return Status::Ok();
}

}  // namespace vaxledger
