// The registry's views (SPEC §2): membership, the administrators' request queue, vaccinations and
// vaccine stock, each built by a pure function of the view and an event, in position order.
//
// The same code builds the live views (projections/), a rebuild from scratch, and the as-of views
// an auditor asks for: a view never reads anything but its own state and the event.
//
// Event types, their streams and payload fields are listed in docs/domain.md. Personal data
// (names, INSZ, e-mail) arrives in DomainEvent::personal, never in the payload.
//
// A view holds its records in memory in one of two ways:
//   - all of them (no source: tests, as-of replays of one stream, the domain's unit tests);
//   - a working set (set_source): a record is read from the view's store on disk (RecordSource)
//     the first time a Find or an Apply needs it, and kept for the life of the working set. The
//     live registry makes one working set per command, per read and per batch of events it
//     applies (projections/registry.h), so that memory follows the work, not the history.
// Queries over many records (the request queue, an entity's registrations, the revocation list,
// the administrators, the entity search) read index records of the store in working-set mode
// (keys in docs/storage.md, "Views"); a working set's scans see the store, not changes it applied
// itself and has not written.
//
// Every view records the keys of the records an Apply changed (TakeDirty), so that its
// persistence writes only those (index records included). Records are encoded by EncodeRecord
// and decoded when a working set reads them. A record that cannot be read or decoded makes
// load_status() an error (DataLoss, Unavailable), which the registry returns instead of the
// answer computed without it.
//
// Thread-safety: plain values; callers serialise access (also for const methods: a working set
// fills itself from its source).
#pragma once

#include <cstdint>
#include <functional>
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
// Issue 16: an erasure asked for, decided, and done (docs/domain.md "Erasure").
inline constexpr const char* kErasureRequested = "erasure.requested";
inline constexpr const char* kErasureApproved = "erasure.approved";
inline constexpr const char* kErasureRejected = "erasure.rejected";
inline constexpr const char* kSubjectErased = "subject.erased";
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

// The stored records of one view, as a working set reads them (projections/view_store.h).
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The record at `key`, or nullopt when there is none.
  virtual Result<std::optional<std::string>> Get(const std::string& key) const = 0;
  // f(key, value) for the records whose key starts with `prefix` and is >= `start`, in key
  // order, until f returns false.
  virtual Status Scan(
      const std::string& prefix, const std::string& start,
      const std::function<bool(const std::string&, const std::string&)>& f) const = 0;
};

// A stream record a working set has read, with the version it reflects (nullopt: the record, or
// its stream, did not exist), so that the registry can check it against the log.
struct StreamRead {
  std::string stream;
  std::optional<uint64_t> version;
};

// A stored record (key and value of a view store) as JSON, for people to read (`vaxledger
// projections dump`); a record that does not decode gives {"error": ...}.
nlohmann::json RecordAsJson(const std::string& key, const std::string& value);

// "%020llu": positions in index keys, so that key order is position order.
std::string PositionKey(uint64_t position);

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
  bool erased = false;  // the person's personal data is erased: no name
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
  bool erased = false;  // personal data erased (issue 16): no name, no e-mail
  bool operator==(const Person&) const = default;
};

class MembershipView {
 public:
  void Apply(const DomainEvent& e);
  const Entity* FindEntity(const std::string& id) const;
  const Person* FindPerson(const std::string& id) const;
  // f(entity) for every entity in id order until f returns false.
  void ForEachEntity(const std::function<bool(const Entity&)>& f) const;
  size_t administrators() const;

  void set_source(const RecordSource* source) { source_ = source; }
  const Status& load_status() const { return load_status_; }
  // The entity and person streams this working set read (see StreamRead).
  void AppendStreamReads(std::vector<StreamRead>& out) const;

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  // The record at `key` as JSON text, or nullopt when it no longer exists.
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  bool operator==(const MembershipView& o) const;

 private:
  Entity& EntityFor(const DomainEvent& e);
  Person& PersonFor(const std::string& id);
  void Load(const std::string& key) const;
  // Mutable: a working set fills them from its source in const Finds.
  mutable std::map<std::string, Entity> entities_;  // key "e/<id>"
  mutable std::map<std::string, Person> people_;    // key "p/<id>"; index "a/<id>": administrators
  mutable std::set<std::string> looked_up_;         // keys read from the source (found or not)
  mutable Status load_status_;
  const RecordSource* source_ = nullptr;
  size_t administrators_ = 0;  // without a source only
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
  // f(request) for every request made at or after `from_position`, in the order they were made,
  // until f returns false.
  void ForEach(uint64_t from_position, const std::function<bool(const Request&)>& f) const;
  // The latest access request `person` made, or nullptr.
  const Request* LatestAccessRequest(const std::string& person) const;
  // f(request) for every request about `person` (its `person`) or asked by them, until f
  // returns false: the records an erasure of the person changes (index "s/" and "b/").
  void ForEachOf(const std::string& person, const std::function<bool(const Request&)>& f) const;

  void set_source(const RecordSource* source) { source_ = source; }
  const Status& load_status() const { return load_status_; }

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  bool operator==(const RequestsView& o) const { return requests_ == o.requests_; }

 private:
  void Load(const std::string& id) const;
  void MarkDirty(const Request& r);
  // Key "r/<id>"; indexes "o/<position>/<id>" (every request), "q/<position>/<id>" (pending),
  // "b/<requested_by>/<position>/<id>" (by requester).
  mutable std::map<std::string, Request> requests_;
  mutable std::set<std::string> looked_up_;
  mutable Status load_status_;
  const RecordSource* source_ = nullptr;
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
  bool erased =
      false;  // personal data erased (issue 16): no insz, name, birth date, names on certificates
  bool operator==(const Patient&) const = default;
};

class VaccinationsView {
 public:
  void Apply(const DomainEvent& e);
  const Patient* FindPatient(const std::string& id) const;
  struct EntityRegistration {
    uint64_t position = 0;  // of the registration
    std::string patient;
    std::string vaccination;
  };
  // Up to `max` registrations by `entity` at or after `from_position`, in registration order.
  std::vector<EntityRegistration> ByEntity(const std::string& entity, uint64_t from_position = 0,
                                           size_t max = SIZE_MAX) const;
  // The patient a certificate was issued for, or nullptr.
  const std::string* CertificatePatient(const std::string& uvci) const;
  // Revoked certificates' UVCIs by the position of their issuing (the revocation list).
  std::map<uint64_t, std::string> RevokedCertificates() const;

  void set_source(const RecordSource* source) { source_ = source; }
  const Status& load_status() const { return load_status_; }
  void AppendStreamReads(std::vector<StreamRead>& out) const;

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  bool operator==(const VaccinationsView& o) const { return patients_ == o.patients_; }

 private:
  Vaccination* FindMutable(Patient& p, const std::string& vaccination_id);
  void Load(const std::string& id) const;
  void Fail(Status s) const;
  mutable std::unordered_map<std::string, Patient> patients_;  // key "v/<patient id>"
  mutable std::set<std::string> looked_up_;
  mutable Status load_status_;
  const RecordSource* source_ = nullptr;
  // Indexes. Without a source they are derived from patients_ in memory; in a working set they
  // are records: "x/<entity>/<position>" -> "<patient> <vaccination>", "c/<uvci>" -> patient,
  // "k/<position>" -> uvci (revoked), and these maps hold only what this working set wrote or
  // read.
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> by_entity_;
  std::map<std::string, std::string> new_by_entity_;        // "x/..." keys this working set added
  void ApplyCertificate(Patient& p, const DomainEvent& e);  // core/registry_certificates.cc
  mutable std::unordered_map<std::string, std::string> certificate_patient_;  // uvci -> patient
  std::map<uint64_t, std::string> revoked_;
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

  void set_source(const RecordSource* source) { source_ = source; }
  const Status& load_status() const { return load_status_; }
  void AppendStreamReads(std::vector<StreamRead>& out) const;

  std::set<std::string> TakeDirty() { return std::exchange(dirty_, {}); }
  void set_track_dirty(bool on) { track_dirty_ = on; }
  std::optional<std::string> EncodeRecord(const std::string& key) const;
  bool operator==(const StockView& o) const { return stock_ == o.stock_; }

 private:
  StockLot& LotFor(const std::string& entity, const std::string& product, const std::string& lot);
  // Reads the entity's stock record and all its lots (a working set needs them together).
  void Load(const std::string& entity) const;
  mutable std::set<std::string> looked_up_;  // entities
  mutable Status load_status_;
  const RecordSource* source_ = nullptr;
  // Keys "s/<entity>" (version) and "l/<entity>/<product>|<lot>" (one lot each), so that a
  // registration rewrites one small record.
  mutable std::map<std::string, EntityStock> stock_;
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
  // The first error any view met reading its source, or OK.
  Status load_status() const {
    for (const Status* s : {&membership.load_status(), &requests.load_status(),
                            &vaccinations.load_status(), &stock.load_status()}) {
      if (!s->ok()) return *s;
    }
    return Status::Ok();
  }
  // Every stream record this working set read, with the version it reflects.
  std::vector<StreamRead> StreamReads() const {
    std::vector<StreamRead> out;
    membership.AppendStreamReads(out);
    vaccinations.AppendStreamReads(out);
    stock.AppendStreamReads(out);
    return out;
  }
};

}  // namespace vaxledger
