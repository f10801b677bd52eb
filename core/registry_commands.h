// Commands of the registry and the pure functions that decide them (SPEC §2, flows 1-6):
//
//   ResolveSubjects(subjects, command)          the pseudonyms the command names (core/subjects.h)
//   Decide(state, caller, command) -> Decision (events to append) | Status
//
// A decision reads nothing but its arguments: no clock (the caller's `now_us` is the time), no
// storage, no randomness (ids are chosen by the caller of Decide, pseudonyms by ResolveSubjects
// before it). The events of a decision are
// appended as one atomic batch with the decision's stream expectations, so a decision taken on a
// state that another append has since changed is refused by the log (Aborted) and taken again.
//
// Refusals, each naming the field (Status::field) and the rule:
//   InvalidArgument     malformed input (identifier, date, unknown product, missing lot, ...)
//   PermissionDenied    the caller's role or entity does not allow it
//   NotFound            the entity, request, member or vaccination does not exist (or the
//                       caller may not know that it does)
//   AlreadyExists       a duplicate (vaccination, pending request, member)
//   FailedPrecondition  the state does not allow it (at least one linked person, request
//                       already decided, last administrator)
// docs/domain.md lists every rule with the command that enforces it.
//
// Thread-safety: pure functions; the state must not change during a call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/impact.h"                 // flow 8: LoadPopulation
#include "core/registry_certificates.h"  // flow 7: IssueCertificate, RevokeCertificate
#include "core/registry_state.h"
#include "core/status.h"
#include "core/subjects.h"

namespace vaxledger {

// Who acts: established by the session (issue 4) or the command line.
struct Caller {
  std::string person;        // person id: the pseudonym of the INSZ the identity provider named
  std::string insz;          // that INSZ (personal data of access requests)
  std::string entity;        // the entity the session acts for, or empty
  std::string on_behalf_of;  // staff: the physician (person id) they act for; empty otherwise
  int64_t now_us = 0;        // the time of the command, UTC microseconds
};

struct NewEntity {
  std::string kind;  // practice, group_practice, organisation
  std::string name;
  std::string kbo;     // optional
  std::string region;  // flanders, brussels, wallonia, german_speaking
};

// Flow 1: an authenticated person asks for access as a physician.
struct RequestAccess {
  std::string request_id;
  std::string name;
  std::string email;
  std::string riziv;
  std::string terms_version;  // the terms of use the person accepted
  std::string join_entity;    // an existing entity to join, or empty with new_entity
  std::optional<NewEntity> new_entity;
};

// An administrator approves or rejects an access, link or unlink request.
struct DecideRequest {
  std::string request_id;
  bool approve = false;
  std::string reason;         // required when rejecting
  std::string new_entity_id;  // the id an approved access request's new entity gets
};

// Flow 3: a physician of the entity asks to link a collaborator.
struct RequestLink {
  std::string request_id;
  std::string insz;
  std::string name;
  std::string email;
  bool is_physician = false;  // "Is het een arts?": yes = a HAIO under the requester
  std::string riziv;          // required for a HAIO (qualification 005 or 006)
  std::string person = {};    // filled by ResolveSubjects: the subject of insz
};

// Flow 4: a physician of the entity asks to unlink members.
struct RequestUnlink {
  std::string request_id;
  std::vector<std::string> members;  // person ids
};

// An administrator records a person's new RIZIV qualification (e.g. a HAIO who qualified).
struct ChangeQualification {
  std::string person;  // person id
  std::string riziv;
};

// An administrator grants or revokes a system role.
struct ChangeRole {
  std::string insz;
  std::string role;  // administrator, auditor
  bool grant = true;
  std::string person = {};  // filled by ResolveSubjects: the subject of insz (empty: none yet)
};

// Flow 8 (issue 11): an administrator loads the population the impact figures divide by
// (docs/impact.md). Appends `population.loaded` to the stream "population".
struct LoadPopulation {
  impact::Population population;
};

struct PatientRef {
  std::string insz;  // or, for a person without one, name + birth_date
  std::string name;
  std::string birth_date;  // YYYY-MM-DD
};

struct Consent {
  std::string decision;  // given, refused
  std::string date;      // YYYY-MM-DD, not in the future
};

// Flow 5.
struct RegisterVaccination {
  std::string vaccination_id;
  PatientRef patient;
  std::string product;    // a code of the reference list (core/vaccines.h)
  std::string lot;        // required for COVID-19 vaccines
  int dose = 0;           // 1..10
  std::string date;       // YYYY-MM-DD, not in the future
  std::string performer;  // person id of who gave it; empty = the physician acted for
  Consent consent;
  std::string patient_id = {};  // filled by ResolveSubjects
};

struct CorrectVaccination {
  std::string patient;  // patient id
  std::string vaccination_id;
  std::optional<std::string> product;
  std::optional<std::string> lot;
  std::optional<int> dose;
  std::optional<std::string> date;
  std::string reason;
};

// Marks a registration "entered in error"; nothing is deleted.
struct RetractVaccination {
  std::string patient;
  std::string vaccination_id;
  std::string reason;
};

struct RecordConsent {
  std::string patient;
  std::string vaccination_id;
  Consent consent;
};

// Flow 9: a member declares that their entity cares for a patient it has registered no dose
// for, with a reason; it may then read the patient's record for `hours` (1..720, default 24).
struct DeclareCare {
  PatientRef patient;
  std::string reason;
  int hours = 24;
  std::string patient_id = {};  // filled by ResolveSubjects
};

// Flow 6.
struct ReceiveStock {
  std::string product;
  std::string lot;
  std::string expiry;  // YYYY-MM-DD
  int64_t quantity = 0;
};

struct AdjustStock {
  std::string product;
  std::string lot;
  int64_t delta = 0;  // negative for losses
  std::string reason;
};

// Issue 16: an administrator asks to erase the personal data of a patient or a person; another
// administrator approves it (DecideRequest), and the approval's `subject.erased` makes the
// registry delete the subject's data key (projections/registry.h "Erasure").
struct RequestErasure {
  std::string request_id;
  std::string kind;          // patient, person
  PatientRef patient;        // kind patient: insz, or name and birth_date
  std::string insz;          // kind person
  std::string reason;        // why (the law's ground); must not itself hold personal data
  std::string subject = {};  // filled by ResolveSubjects (never made: empty when there is none)
};

// The operator erases a subject directly (`vaxledger erase`: whoever holds the data directory
// acts as the system; no second administrator).
struct EraseSubject {
  std::string request_id;
  std::string kind;
  PatientRef patient;
  std::string insz;
  std::string reason;
  std::string subject = {};  // filled by ResolveSubjects
};

using Command =
    std::variant<RequestAccess, DecideRequest, RequestLink, RequestUnlink, ChangeQualification,
                 ChangeRole, RegisterVaccination, CorrectVaccination, RetractVaccination,
                 RecordConsent, ReceiveStock, AdjustStock, DeclareCare, IssueCertificate,
                 RevokeCertificate, LoadPopulation, RequestErasure, EraseSubject>;

// What a stream must look like for a decision's events to be appended: at `version`, or
// (nullopt) not existing yet.
struct StreamExpectation {
  std::string stream;
  std::optional<uint64_t> version;
};

struct Decision {
  std::vector<DomainEvent> events;
  std::vector<StreamExpectation> expectations;
  std::string id;                   // the resource created or changed (request, vaccination, ...)
  bool waits_for_approval = false;  // a request an administrator must decide (HTTP 202)
};

// Fills the pseudonyms `command` names (RequestLink::person, ...) from `subjects`, making a
// subject for an identifier seen for the first time where the command would write about it
// (a refused command may leave a subject with no events: a key and nothing else). Input that is
// not a valid identifier is left for Decide to refuse. Errors: the key store's.
Status ResolveSubjects(Subjects& subjects, Command& command);

Result<Decision> Decide(const RegistryState& state, const Caller& caller, const Command& command);

// Person and patient ids (made on first use, see ResolveSubjects).
Result<std::string> PersonId(Subjects& subjects, const std::string& insz_digits);
// The caller for the person with `insz_digits`, acting for `entity` (and, for staff, on behalf
// of the physician `on_behalf_of`), at `now_us` (0: the registry fills in its clock).
Result<Caller> CallerFor(Subjects& subjects, const std::string& insz_digits,
                         std::string entity = {}, std::string on_behalf_of = {},
                         int64_t now_us = 0);
Result<std::string> PatientId(Subjects& subjects, const PatientRef& patient);
// The patient's id when the key store has one, else nullopt (reads never make a subject).
Result<std::optional<std::string>> FindPatientId(const Subjects& subjects,
                                                 const PatientRef& patient);

// The event that makes the person with `insz_digits` the registry's first administrator, as
// `vaxledger init --admin` appends it (there is no administrator yet to decide it).
Result<DomainEvent> FirstAdministratorGrant(Subjects& subjects, const std::string& insz_digits);

// The role `caller` acts in, and for which physician, in their session's entity.
struct Acting {
  std::string role;       // physician, haio, staff
  std::string physician;  // the physician acted for (themselves, the trainer, or on_behalf_of)
  const Entity* entity = nullptr;
};
Result<Acting> ActingIn(const MembershipView& membership, const Caller& caller);

// Strict YYYY-MM-DD (a real calendar date). InvalidArgument naming `field`.
Status CheckDate(const std::string& date, const std::string& field);
// The UTC date of `now_us` as YYYY-MM-DD.
std::string DateOf(int64_t now_us);

}  // namespace vaxledger
