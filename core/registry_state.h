// The registry's views (SPEC §2): membership, the administrators' request queue, vaccinations and
// vaccine stock, each built by a pure function of the view and an event, in position order.
//
// The same code builds the live views (projections/), a rebuild from scratch, and the as-of views
// an auditor asks for: a view never reads anything but its own state and the event.
//
// Event types, their streams and payload fields are listed in docs/domain.md. Personal data
// (names, INSZ, e-mail) arrives in DomainEvent::personal, never in the payload.
//
// Every view records the keys of the records an Apply changed (TakeDirty), so that its
// persistence writes only those; a rebuild, which writes everything once, turns that off
// (set_track_dirty) and writes AllKeys. Records are encoded as JSON (EncodeRecord / LoadRecord).
//
// Thread-safety: plain values; callers serialise access.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace vaxledger {

// Event types (docs/domain.md).
namespace event_type {
inline constexpr const char* kAccessRequested = "access.requested";
inline constexpr const char* kAccessApproved = "access.approved";
inline constexpr const char* kAccessRejected = "access.rejected";
inline constexpr const char* kEntityCreated = "entity.created";
inline constexpr const char* kLinkRequested = "link.requested";
inline constexpr const char* kLinkApproved = "link.approved";
inline constexpr const char* kLinkRejected = "link.rejected";
inline constexpr const char* kUnlinkRequested = "unlink.requested";
inline constexpr const char* kUnlinkApproved = "unlink.approved";
inline constexpr const char* kUnlinkRejected = "unlink.rejected";
inline constexpr const char* kMemberLinked = "member.linked";
inline constexpr const char* kMemberUnlinked = "member.unlinked";
inline constexpr const char* kQualificationChanged = "qualification.changed";
inline constexpr const char* kVaccinationRegistered = "vaccination.registered";
inline constexpr const char* kVaccinationCorrected = "vaccination.corrected";
inline constexpr const char* kVaccinationEnteredInError = "vaccination.entered_in_error";
inline constexpr const char* kConsentRecorded = "consent.recorded";
inline constexpr const char* kStockReceived = "stock.received";
inline constexpr const char* kStockAdjusted = "stock.adjusted";
inline constexpr const char* kRoleGranted = "role.granted";
inline constexpr const char* kRoleRevoked = "role.revoked";
inline constexpr const char* kPatientRead = "patient.read";
inline constexpr const char* kPatientsRead = "patients.read";  // many reads of one reader
// A member's declaration that their entity cares for a patient it has not registered a dose
// for ("break the glass"): reasoned, in the patient's stream, listed for auditors.
inline constexpr const char* kCareDeclared = "care.declared";
inline constexpr const char* kCertificateIssued = "certificate.issued";  // docs/certificates.md
inline constexpr const char* kCertificateRevoked = "certificate.revoked";
}  // namespace event_type

// Stream names. None carries a personal identifier: people and patients are named by pseudonyms.
std::string EntityStream(const std::string& entity_id);    // "entity:<id>"
std::string PersonStream(const std::string& person_id);    // "person:<pseudonym>"
std::string PatientStream(const std::string& patient_id);  // "patient:<pseudonym>"
std::string StockStream(const std::string& entity_id);     // "stock:<id>"

// An event as the domain sees it. A decision fills stream .. data_subject; the log fills
// position, stream_version and recorded_at_us.
struct DomainEvent {
  std::string stream;
  std::string type;
  std::string actor;         // person id (pseudonym) or "system"
  std::string actor_role;    // physician, haio, staff, administrator, auditor, system
  std::string on_behalf_of;  // the physician's person id when staff or a HAIO act for them
  std::string entity;
  nlohmann::json payload = nlohmann::json::object();
  nlohmann::json personal;   // null, or an object of personal data about data_subject
  std::string data_subject;  // the pseudonym personal is about

  uint64_t position = 0;
  uint64_t stream_version = 0;
  int64_t recorded_at_us = 0;
};

// ---- Membership ----------------------------------------------------------------------------

struct Member {
  std::string person;  // person id
  std::string role;    // physician, haio, staff
  std::string name;
  std::string riziv;                   // physicians and HAIOs
  std::string trainer;                 // HAIOs: the physician (praktijkopleider)
  std::vector<std::string> linked_to;  // staff: the physicians they act for
  int64_t since_us = 0;
  uint64_t since_position = 0;
  bool operator==(const Member&) const = default;
};

struct Entity {
  std::string id;
  std::string kind;  // practice, group_practice, organisation
  std::string name;
  std::string kbo;                        // 10 digits or empty
  std::string region;                     // flanders, brussels, wallonia, german_speaking
  uint64_t version = 0;                   // version of the entity stream last applied
  std::map<std::string, Member> members;  // by person id
  std::set<std::string> pending;          // ids of pending link and unlink requests
  size_t Physicians() const;
  bool operator==(const Entity&) const = default;
};

struct Person {
  std::string id;
  std::string name;
  std::string email;
  std::string riziv;
  std::set<std::string> roles;     // system roles: administrator, auditor
  std::set<std::string> entities;  // entities the person is linked to
  std::string pending_access;      // id of the pending access request, or empty
  uint64_t version = 0;            // version of the person stream last applied
  bool has_stream = false;
  bool operator==(const Person&) const = default;
};

class MembershipView {
 public:
  void Apply(const DomainEvent& e);
  const Entity* FindEntity(const std::string& id) const;
  const Person* FindPerson(const std::string& id) const;
  const std::map<std::string, Entity>& entities() const { return entities_; }
  size_t administrators() const { return administrators_; }

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::vector<std::string> AllKeys() const;
  // The record at `key` as JSON text, or nullopt when it no longer exists.
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  Status LoadRecord(const std::string& key, const std::string& value);
  bool operator==(const MembershipView& o) const;

 private:
  Entity& EntityFor(const DomainEvent& e);
  Person& PersonFor(const std::string& id);
  std::map<std::string, Entity> entities_;  // key "e/<id>"
  std::map<std::string, Person> people_;    // key "p/<id>"
  size_t administrators_ = 0;
  std::set<std::string> dirty_;
  bool track_dirty_ = true;
};

// ---- Requests (the administrators' queue) ----------------------------------------------------

struct Request {
  std::string id;
  std::string kind;    // access, link, unlink
  std::string status;  // pending, approved, rejected
  std::string entity;  // the entity joined, created (once approved) or changed
  std::string person;  // the person the request is about (access, link)
  std::string requested_by;
  std::string role;  // access: physician; link: haio or staff
  std::string name;  // of the person (personal data)
  std::string email;
  std::string riziv;
  std::string terms_version;
  nlohmann::json new_entity;         // access: {kind, name, kbo, region} of an entity to create
  std::vector<std::string> members;  // unlink: person ids
  std::string trainer;               // link of a HAIO: the requesting physician
  std::string decided_by;
  std::string reason;
  int64_t requested_at_us = 0;
  int64_t decided_at_us = 0;
  uint64_t position = 0;  // of the request event
  bool operator==(const Request&) const = default;
};

class RequestsView {
 public:
  void Apply(const DomainEvent& e);
  const Request* Find(const std::string& id) const;
  // Pending requests in the order they were made.
  std::vector<const Request*> Pending() const;
  const std::map<std::string, Request>& all() const { return requests_; }

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::vector<std::string> AllKeys() const;
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  Status LoadRecord(const std::string& key, const std::string& value);
  bool operator==(const RequestsView& o) const { return requests_ == o.requests_; }

 private:
  std::map<std::string, Request> requests_;  // key "r/<id>"
  std::set<std::string> dirty_;
  bool track_dirty_ = true;
};

// ---- Vaccinations ----------------------------------------------------------------------------

// One change to a registration: `kind` corrected (product, lot, dose, date hold the values
// before it), entered_in_error, or consent (consent holds the new decision).
struct VaccinationChange {
  std::string kind;
  std::string product;
  std::string lot;
  int dose = 0;
  std::string date;
  std::string consent;
  std::string reason;
  std::string by;  // person id
  int64_t at_us = 0;
  uint64_t position = 0;
  bool operator==(const VaccinationChange&) const = default;
};

struct Vaccination {
  std::string id;
  std::string product;
  std::string lot;
  int dose = 0;
  std::string date;  // YYYY-MM-DD, when it was given
  std::string entity;
  std::string performer;  // person id of who gave it
  std::string recorder;   // person id of who entered it
  std::string consent;    // given, refused
  std::string consent_date;
  std::string consent_by;
  std::string status = "active";  // active, entered_in_error
  std::string reason;             // of the last correction or of the retraction
  uint64_t corrections = 0;
  int64_t recorded_at_us = 0;
  uint64_t position = 0;  // of the registration
  // What changed after the registration, oldest first: corrections (with the values they
  // replaced), the retraction and consent changes, each with its reason and who made it.
  std::vector<VaccinationChange> history;
  bool operator==(const Vaccination&) const = default;
};

// A proof of vaccination issued for the patient (docs/certificates.md).
struct IssuedCertificate {
  std::string uvci;
  std::string vaccination_id;
  std::string entity;            // the issuing entity
  std::string issued_by;         // person id
  std::string kid;               // base64, of the document signer
  std::string signature_sha256;  // base64
  int dn = 0;
  int sd = 0;
  int64_t issued_at_us = 0;
  int64_t expires_at_us = 0;
  std::string status = "valid";  // valid, revoked
  std::string revoked_reason;
  std::string revoked_by;
  int64_t revoked_at_us = 0;
  uint64_t position = 0;  // of certificate.issued
  // Personal data (the event's personal part): the names on it and the HC1 text itself.
  std::string family_name;
  std::string given_name;
  std::string hc1;
  bool operator==(const IssuedCertificate&) const = default;
};

struct Patient {
  std::string id;  // pseudonym
  std::string insz;
  std::string name;
  std::string birth_date;
  uint64_t version = 0;  // version of the patient stream last applied
  std::vector<Vaccination> vaccinations;
  // entity -> until when (UTC microseconds) its latest care declaration holds
  std::map<std::string, int64_t> declared_care;
  // Whether `entity` has a current care relationship with the patient at `now_us` (SPEC §2
  // flow 9): a registration of its own that is not entered in error, or a care declaration
  // that has not run out.
  bool CaredForBy(const std::string& entity, int64_t now_us) const;
  std::vector<IssuedCertificate> certificates;  // in issuing order
  const Vaccination* Find(const std::string& vaccination_id) const;
  const IssuedCertificate* FindCertificate(const std::string& uvci) const;
  bool operator==(const Patient&) const = default;
};

class VaccinationsView {
 public:
  void Apply(const DomainEvent& e);
  const Patient* FindPatient(const std::string& id) const;
  // (patient id, vaccination id) registered by `entity`, in registration order.
  const std::vector<std::pair<std::string, std::string>>* ByEntity(const std::string& entity) const;
  // The patient a certificate was issued for, or nullptr.
  const std::string* CertificatePatient(const std::string& uvci) const;
  // Revoked certificates' UVCIs by the position of their issuing (the revocation list).
  const std::map<uint64_t, std::string>& revoked_certificates() const { return revoked_; }

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::vector<std::string> AllKeys() const;
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  Status LoadRecord(const std::string& key, const std::string& value);
  bool operator==(const VaccinationsView& o) const { return patients_ == o.patients_; }

 private:
  Vaccination* FindMutable(Patient& p, const std::string& vaccination_id);
  std::unordered_map<std::string, Patient> patients_;  // key "v/<patient id>"
  // Derived from patients_ (not persisted on its own).
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> by_entity_;
  void ApplyCertificate(Patient& p, const DomainEvent& e);  // core/registry_certificates.cc
  void IndexCertificates(const Patient& p);
  std::unordered_map<std::string, std::string> certificate_patient_;  // derived: uvci -> patient
  std::map<uint64_t, std::string> revoked_;                           // derived
  std::set<std::string> dirty_;
  bool track_dirty_ = true;
};

// ---- Stock -----------------------------------------------------------------------------------

struct StockLot {
  std::string product;
  std::string lot;
  std::string expiry;  // YYYY-MM-DD, empty when only used and never received
  int64_t received = 0;
  int64_t adjusted = 0;  // sum of adjustments (losses negative)
  int64_t used = 0;      // active registrations from this lot
  int64_t OnHand() const { return received + adjusted - used; }
  // Doses used that were never in stock: what the stock view shows as a shortfall.
  int64_t Shortfall() const { return OnHand() < 0 ? -OnHand() : 0; }
  bool operator==(const StockLot&) const = default;
};

struct EntityStock {
  std::string entity;
  uint64_t version = 0;  // version of the stock stream last applied
  bool has_stream = false;
  std::map<std::string, StockLot> lots;  // by "product|lot"
  bool operator==(const EntityStock&) const = default;
};

class StockView {
 public:
  void Apply(const DomainEvent& e);
  const EntityStock* Find(const std::string& entity) const;

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::vector<std::string> AllKeys() const;
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  Status LoadRecord(const std::string& key, const std::string& value);
  bool operator==(const StockView& o) const { return stock_ == o.stock_; }

 private:
  StockLot& LotFor(const std::string& entity, const std::string& product, const std::string& lot);
  // Keys "s/<entity>" (version) and "l/<entity>/<product>|<lot>" (one lot each), so that a
  // registration rewrites one small record.
  std::map<std::string, EntityStock> stock_;
  std::set<std::string> dirty_;
  bool track_dirty_ = true;
};

// The four views together: what commands are decided on.
struct RegistryState {
  MembershipView membership;
  RequestsView requests;
  VaccinationsView vaccinations;
  StockView stock;
  void set_track_dirty(bool on) {
    membership.set_track_dirty(on);
    requests.set_track_dirty(on);
    vaccinations.set_track_dirty(on);
    stock.set_track_dirty(on);
  }
  void Apply(const DomainEvent& e) {
    membership.Apply(e);
    requests.Apply(e);
    vaccinations.Apply(e);
    stock.Apply(e);
  }
};

}  // namespace vaxledger
