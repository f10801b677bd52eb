#include "core/registry_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "core/encoding.h"
#include "core/identifiers.h"
#include "core/vaccines.h"

namespace vaxledger {

namespace {

using nlohmann::json;

constexpr size_t kMaxText = 200;

Status Refuse(Code code, std::string message, std::string field = {}) {
  return Status(code, std::move(message), std::move(field));
}

Status CheckText(const std::string& value, const std::string& field, bool required = true) {
  if (value.empty()) {
    return required ? InvalidArgument(field + " is required", field).WithRule("text.required")
                    : Status::Ok();
  }
  if (value.size() > kMaxText) {
    return InvalidArgument(field + " is longer than " + std::to_string(kMaxText) + " characters",
                           field)
        .WithRule("text.too_long", {{"max", std::to_string(kMaxText)}});
  }
  if (!IsValidUtf8(value)) {
    return InvalidArgument(field + " is not valid UTF-8", field).WithRule("text.not_utf8");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(field + " contains a control character", field)
          .WithRule("text.control_character");
    }
  }
  return Status::Ok();
}

Status CheckEmail(const std::string& email, const std::string& field) {
  VX_RETURN_IF_ERROR(CheckText(email, field));
  const size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string::npos || email.find('.', at) == std::string::npos ||
      email.find(' ') != std::string::npos) {
    return InvalidArgument(field + " is not an e-mail address (name@domain)", field)
        .WithRule("email.format");
  }
  return Status::Ok();
}

Status CheckNotFuture(const std::string& date, const std::string& field, const Caller& caller) {
  VX_RETURN_IF_ERROR(CheckDate(date, field));
  if (date > DateOf(caller.now_us)) {
    return InvalidArgument(field + " " + date + " is in the future", field)
        .WithRule("date.future", {{"date", date}});
  }
  return Status::Ok();
}

DomainEvent Event(const Caller& caller, const std::string& role, std::string stream,
                  const char* type, json payload) {
  DomainEvent e;
  e.stream = std::move(stream);
  e.type = type;
  e.actor = caller.person;
  e.actor_role = role;
  e.entity = caller.entity;
  e.payload = std::move(payload);
  return e;
}

StreamExpectation Expect(const std::string& stream, bool exists, uint64_t version) {
  return {stream, exists ? std::optional<uint64_t>(version) : std::nullopt};
}

// A decision of one request event, which waits for an administrator.
Decision PendingDecision(DomainEvent e, StreamExpectation expectation, const std::string& id) {
  Decision d;
  d.events.push_back(std::move(e));
  d.expectations.push_back(std::move(expectation));
  d.id = id;
  d.waits_for_approval = true;
  return d;
}

Result<std::string> AdministratorRole(const RegistryState& state, const Caller& caller) {
  const Person* p = state.membership.FindPerson(caller.person);
  if (p == nullptr || !p->roles.contains("administrator")) {
    return Refuse(Code::kPermissionDenied, "only an administrator may do this")
        .WithRule("role.administrator_only");
  }
  return std::string("administrator");
}

// ---- Flow 1: access ------------------------------------------------------------------------

Status CheckNewEntity(const NewEntity& n) {
  static const std::set<std::string> kKinds = {"practice", "group_practice", "organisation"};
  static const std::set<std::string> kRegions = {"flanders", "brussels", "wallonia",
                                                 "german_speaking"};
  if (!kKinds.contains(n.kind)) {
    return InvalidArgument("new_entity.kind must be one of practice, group_practice, organisation",
                           "new_entity.kind")
        .WithRule("entity.kind");
  }
  VX_RETURN_IF_ERROR(CheckText(n.name, "new_entity.name"));
  if (!kRegions.contains(n.region)) {
    return InvalidArgument(
               "new_entity.region must be one of flanders, brussels, wallonia, german_speaking",
               "new_entity.region")
        .WithRule("entity.region");
  }
  if (!n.kbo.empty()) {
    auto kbo = ParseKbo(n.kbo);
    if (!kbo.ok()) {
      return kbo.status().Rewritten("new_entity." + kbo.status().message(), "new_entity.kbo");
    }
  }
  return Status::Ok();
}

// Whether `person` may join `entity` as a physician: a practice has exactly one physician.
Status CheckJoin(const Entity& entity, const std::string& person, const std::string& field) {
  if (entity.members.contains(person)) {
    return Refuse(Code::kAlreadyExists, "you are already linked to entity " + entity.id, field)
        .WithRule("entity.already_member", {{"entity", entity.name}});
  }
  if (entity.kind == "practice" && entity.Physicians() > 0) {
    return Refuse(Code::kFailedPrecondition,
                  "entity " + entity.id +
                      " is a practice (artsenpraktijk) and already has its physician; ask for a "
                      "group practice or a new entity",
                  field)
        .WithRule("entity.practice_has_physician", {{"entity", entity.name}});
  }
  return Status::Ok();
}

Result<Decision> DecideRequestAccess(const RegistryState& state, const Caller& caller,
                                     const RequestAccess& c) {
  if (caller.person.empty())
    return Refuse(Code::kUnauthenticated, "log in first").WithRule("session.login");
  VX_RETURN_IF_ERROR(CheckText(c.terms_version, "terms_version"));
  VX_ASSIGN_OR_RETURN(Riziv riziv, ParseRiziv(c.riziv));
  if (riziv.role == Riziv::Role::kPhysicianInTraining) {
    return InvalidArgument("riziv: qualification " + riziv.qualification +
                               " is a physician in training (HAIO); a HAIO is linked by their "
                               "trainer under Mijn medewerkers",
                           "riziv")
        .WithRule("riziv.haio_requests_access", {{"qualification", riziv.qualification}});
  }
  VX_RETURN_IF_ERROR(CheckText(c.name, "name"));
  VX_RETURN_IF_ERROR(CheckEmail(c.email, "email"));
  if (c.join_entity.empty() == !c.new_entity.has_value()) {
    return InvalidArgument("give either entity (to join) or new_entity (to create)", "entity")
        .WithRule("access.entity_or_new");
  }
  if (c.new_entity) VX_RETURN_IF_ERROR(CheckNewEntity(*c.new_entity));
  if (!c.join_entity.empty()) {
    const Entity* entity = state.membership.FindEntity(c.join_entity);
    if (entity == nullptr) {
      return Refuse(Code::kNotFound, "entity " + c.join_entity + " does not exist", "entity")
          .WithRule("entity.not_found", {{"entity", c.join_entity}});
    }
    VX_RETURN_IF_ERROR(CheckJoin(*entity, caller.person, "entity"));
  }
  const Person* person = state.membership.FindPerson(caller.person);
  if (person != nullptr && !person->riziv.empty() &&
      person->riziv.substr(0, 8) != riziv.person_key) {
    return InvalidArgument("riziv: the first 8 digits name the physician for life; yours are " +
                               person->riziv.substr(0, 8),
                           "riziv")
        .WithRule("riziv.person_changed", {{"digits", person->riziv.substr(0, 8)}});
  }
  if (person != nullptr && !person->pending_access.empty()) {
    return Refuse(Code::kAlreadyExists,
                  "you already have a pending access request (" + person->pending_access +
                      "); wait for an administrator to decide it",
                  "request")
        .WithRule("access.already_pending", {{"request", person->pending_access}});
  }
  json payload = {{"request_id", c.request_id},
                  {"terms_version", c.terms_version},
                  {"riziv", riziv.digits},
                  {"role", "physician"},
                  {"entity", c.join_entity}};
  if (c.new_entity) {
    payload["new_entity"] = {{"kind", c.new_entity->kind},
                             {"name", c.new_entity->name},
                             {"kbo", c.new_entity->kbo.empty() ? "" : *ParseKbo(c.new_entity->kbo)},
                             {"region", c.new_entity->region}};
  }
  const std::string stream = PersonStream(caller.person);
  DomainEvent e = Event(caller, "physician", stream, event_type::kAccessRequested, payload);
  e.entity = c.join_entity;
  e.personal = {{"insz", caller.insz}, {"name", c.name}, {"email", c.email}};
  e.data_subject = caller.person;
  return PendingDecision(std::move(e),
                         Expect(stream, person && person->has_stream, person ? person->version : 0),
                         c.request_id);
}

// The entity stream's expectation in a decision about `entity`.
StreamExpectation ExpectEntity(const Entity& entity) {
  return Expect(EntityStream(entity.id), true, entity.version);
}

Result<Decision> DecideAccess(const RegistryState& state, const Caller& caller, const Request& r,
                              const DecideRequest& c, const std::string& role) {
  const Person* person = state.membership.FindPerson(r.person);
  const std::string person_stream = PersonStream(r.person);
  Decision d;
  d.id = r.id;
  d.expectations.push_back(Expect(person_stream, true, person ? person->version : 0));
  if (!c.approve) {
    DomainEvent e = Event(caller, role, person_stream, event_type::kAccessRejected,
                          {{"request_id", r.id}, {"reason", c.reason}});
    e.entity = r.entity;
    d.events.push_back(std::move(e));
    return d;
  }
  std::string entity_id = r.entity;
  DomainEvent created;
  if (entity_id.empty()) {
    if (c.new_entity_id.empty()) return Internal("an approved new entity needs an id");
    entity_id = c.new_entity_id;
    created = Event(caller, role, EntityStream(entity_id), event_type::kEntityCreated,
                    {{"entity", entity_id},
                     {"kind", r.new_entity.value("kind", "")},
                     {"name", r.new_entity.value("name", "")},
                     {"kbo", r.new_entity.value("kbo", "")},
                     {"region", r.new_entity.value("region", "")},
                     {"request_id", r.id}});
    created.entity = entity_id;
    d.expectations.push_back(Expect(EntityStream(entity_id), false, 0));
    d.events.push_back(std::move(created));
  } else {
    // Checked again: the entity may have changed since the request was made.
    const Entity* entity = state.membership.FindEntity(entity_id);
    if (entity == nullptr) return Internal("the requested entity vanished");
    VX_RETURN_IF_ERROR(CheckJoin(*entity, r.person, "request_id"));
    d.expectations.push_back(ExpectEntity(*entity));
  }
  DomainEvent approved = Event(caller, role, person_stream, event_type::kAccessApproved,
                               {{"request_id", r.id}, {"entity", entity_id}, {"reason", c.reason}});
  approved.entity = entity_id;
  DomainEvent linked = Event(caller, role, EntityStream(entity_id), event_type::kMemberLinked,
                             {{"person", r.person},
                              {"role", "physician"},
                              {"riziv", r.riziv},
                              {"trainer", ""},
                              {"linked_to", json::array()},
                              {"request_id", r.id}});
  linked.entity = entity_id;
  linked.personal = {{"name", r.name}};
  linked.data_subject = r.person;
  d.events.push_back(std::move(approved));
  d.events.push_back(std::move(linked));
  return d;
}

// ---- Flows 3 and 4: link and unlink -------------------------------------------------------

// The physicians a new staff member is linked to: all of a group practice's or organisation's,
// the one of a practice.
std::vector<std::string> StaffLinks(const Entity& entity) {
  std::vector<std::string> out;
  for (const auto& [id, m] : entity.members) {
    if (m.role == "physician") out.push_back(id);
  }
  return out;
}

// The at-least-one-person rule (SPEC §2 flow 4) for removing `leaving` from `entity`.
Status CheckKeepsSomeone(const Entity& entity, const std::vector<std::string>& leaving,
                         const std::string& field) {
  size_t people = 0, physicians = 0;
  for (const auto& [id, m] : entity.members) {
    if (std::find(leaving.begin(), leaving.end(), id) != leaving.end()) continue;
    ++people;
    if (m.role == "physician") ++physicians;
  }
  if (people == 0) {
    return Refuse(Code::kFailedPrecondition,
                  "entity " + entity.id +
                      " must keep at least one linked person; link someone new first, then "
                      "unlink",
                  field)
        .WithRule("entity.keep_someone", {{"entity", entity.name}});
  }
  if (entity.kind == "organisation" && physicians == 0) {
    return Refuse(Code::kFailedPrecondition,
                  "organisation " + entity.id +
                      " must keep at least one responsible physician; link a new physician "
                      "first, then unlink",
                  field)
        .WithRule("entity.keep_physician", {{"entity", entity.name}});
  }
  return Status::Ok();
}

// A trainer leaves only with their HAIOs: a HAIO acts under their trainer (SPEC §2 flow 3).
Status CheckTrainersLeaveWithHaios(const Entity& entity, const std::vector<std::string>& leaving,
                                   const std::string& field) {
  for (const auto& [id, m] : entity.members) {
    if (m.role != "haio") continue;
    const bool trainer_leaves =
        std::find(leaving.begin(), leaving.end(), m.trainer) != leaving.end();
    const bool haio_leaves = std::find(leaving.begin(), leaving.end(), id) != leaving.end();
    if (trainer_leaves && !haio_leaves) {
      return Refuse(Code::kFailedPrecondition,
                    "the physician trains " + (m.name.empty() ? id : m.name) +
                        " (HAIO), who acts under them: unlink the HAIO too, or first",
                    field)
          .WithRule("unlink.trains_haio", {{"name", m.name.empty() ? id : m.name}});
    }
  }
  return Status::Ok();
}

// The rules for unlinking `leaving`, checked when the request is made and again at approval.
Status CheckUnlink(const Entity& entity, const std::vector<std::string>& leaving,
                   const std::string& field) {
  VX_RETURN_IF_ERROR(CheckKeepsSomeone(entity, leaving, field));
  return CheckTrainersLeaveWithHaios(entity, leaving, field);
}

Result<Acting> PhysicianOfEntity(const RegistryState& state, const Caller& caller) {
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  if (acting.role != "physician") {
    return Refuse(Code::kPermissionDenied,
                  "only a physician of the entity may ask to link or unlink collaborators")
        .WithRule("link.physician_only");
  }
  return acting;
}

Result<Decision> DecideRequestLink(const RegistryState& state, const Caller& caller,
                                   const RequestLink& c) {
  VX_ASSIGN_OR_RETURN(Acting acting, PhysicianOfEntity(state, caller));
  const Entity& entity = *acting.entity;
  VX_ASSIGN_OR_RETURN(Insz insz, ParseInsz(c.insz));
  VX_RETURN_IF_ERROR(CheckText(c.name, "name"));
  VX_RETURN_IF_ERROR(CheckEmail(c.email, "email"));
  json payload = {{"request_id", c.request_id}};
  const std::string& person = c.person;
  if (person.empty()) return Internal("the person's subject was not resolved");
  if (person == caller.person) {
    return InvalidArgument("insz is your own; you cannot link yourself", "insz")
        .WithRule("link.self");
  }
  if (entity.members.contains(person)) {
    return Refuse(Code::kAlreadyExists, "this person is already linked to entity " + entity.id,
                  "insz")
        .WithRule("link.already_member");
  }
  for (const std::string& id : entity.pending) {
    const Request* r = state.requests.Find(id);
    if (r != nullptr && r->kind == "link" && r->person == person) {
      return Refuse(Code::kAlreadyExists,
                    "a link request for this person is already pending (" + id + ")", "insz")
          .WithRule("link.already_pending", {{"request", id}});
    }
  }
  payload["person"] = person;
  if (c.is_physician) {
    if (c.riziv.empty()) {
      return InvalidArgument("riziv is required for a physician in training (HAIO)", "riziv")
          .WithRule("riziv.haio_required");
    }
    VX_ASSIGN_OR_RETURN(Riziv riziv, ParseRiziv(c.riziv));
    if (riziv.role != Riziv::Role::kPhysicianInTraining) {
      return InvalidArgument("riziv: qualification " + riziv.qualification +
                                 " is not a physician in training (HAIO needs 005 or 006)",
                             "riziv")
          .WithRule("riziv.not_haio", {{"qualification", riziv.qualification}});
    }
    payload["role"] = "haio";
    payload["riziv"] = riziv.digits;
    payload["trainer"] = caller.person;
  } else {
    if (!c.riziv.empty()) {
      return InvalidArgument("riziv must be empty for a staff member (Is het een arts? no)",
                             "riziv")
          .WithRule("riziv.staff_has_none");
    }
    payload["role"] = "staff";
    payload["riziv"] = "";
    payload["trainer"] = "";
  }
  DomainEvent e =
      Event(caller, "physician", EntityStream(entity.id), event_type::kLinkRequested, payload);
  e.personal = {{"insz", insz.digits}, {"name", c.name}, {"email", c.email}};
  e.data_subject = person;
  return PendingDecision(std::move(e), ExpectEntity(entity), c.request_id);
}

Result<Decision> DecideRequestUnlink(const RegistryState& state, const Caller& caller,
                                     const RequestUnlink& c) {
  VX_ASSIGN_OR_RETURN(Acting acting, PhysicianOfEntity(state, caller));
  const Entity& entity = *acting.entity;
  if (c.members.empty())
    return InvalidArgument("members: select at least one member", "members")
        .WithRule("unlink.none_selected");
  std::set<std::string> seen;
  for (const std::string& m : c.members) {
    if (!seen.insert(m).second) {
      return InvalidArgument("members: " + m + " is listed twice", "members")
          .WithRule("unlink.twice");
    }
    if (!entity.members.contains(m)) {
      return Refuse(Code::kNotFound, "members: " + m + " is not linked to entity " + entity.id,
                    "members")
          .WithRule("unlink.not_member");
    }
  }
  VX_RETURN_IF_ERROR(CheckUnlink(entity, c.members, "members"));
  DomainEvent e = Event(caller, "physician", EntityStream(entity.id), event_type::kUnlinkRequested,
                        {{"request_id", c.request_id}, {"members", c.members}});
  return PendingDecision(std::move(e), ExpectEntity(entity), c.request_id);
}

Result<Decision> DecideLinkOrUnlink(const RegistryState& state, const Caller& caller,
                                    const Request& r, const DecideRequest& c,
                                    const std::string& role) {
  const Entity* entity = state.membership.FindEntity(r.entity);
  if (entity == nullptr) return Internal("the request's entity vanished");
  const std::string stream = EntityStream(entity->id);
  Decision d;
  d.id = r.id;
  d.expectations.push_back(ExpectEntity(*entity));
  const bool link = r.kind == "link";
  auto decided = [&](const char* type) {
    DomainEvent e = Event(caller, role, stream, type, {{"request_id", r.id}, {"reason", c.reason}});
    e.entity = entity->id;
    return e;
  };
  if (!c.approve) {
    d.events.push_back(decided(link ? event_type::kLinkRejected : event_type::kUnlinkRejected));
    return d;
  }
  if (link) {
    if (entity->members.contains(r.person)) {
      return Refuse(Code::kFailedPrecondition,
                    "the person is already linked to entity " + entity->id, "request_id")
          .WithRule("link.already_member");
    }
    std::vector<std::string> linked_to;
    if (r.role == "haio") {
      if (!entity->members.contains(r.trainer)) {
        return Refuse(Code::kFailedPrecondition,
                      "the trainer who asked for this HAIO is no longer linked to entity " +
                          entity->id + "; reject the request",
                      "request_id")
            .WithRule("link.trainer_gone");
      }
    } else {
      linked_to = StaffLinks(*entity);
    }
    d.events.push_back(decided(event_type::kLinkApproved));
    DomainEvent e = Event(caller, role, stream, event_type::kMemberLinked,
                          {{"person", r.person},
                           {"role", r.role},
                           {"riziv", r.riziv},
                           {"trainer", r.trainer},
                           {"linked_to", linked_to},
                           {"request_id", r.id}});
    e.entity = entity->id;
    e.personal = {{"name", r.name}};
    e.data_subject = r.person;
    d.events.push_back(std::move(e));
    return d;
  }
  // Unlink: checked again against today's membership (SPEC §2 flow 4).
  std::vector<std::string> leaving;
  for (const std::string& m : r.members) {
    if (entity->members.contains(m)) leaving.push_back(m);
  }
  VX_RETURN_IF_ERROR(CheckUnlink(*entity, leaving, "request_id"));
  d.events.push_back(decided(event_type::kUnlinkApproved));
  for (const std::string& m : leaving) {
    DomainEvent e = Event(caller, role, stream, event_type::kMemberUnlinked,
                          {{"person", m}, {"request_id", r.id}});
    e.entity = entity->id;
    d.events.push_back(std::move(e));
  }
  return d;
}

// ---- Issue 16: erasure --------------------------------------------------------------------

// The subject an erasure is about, in the state: its stream and what the log must hold of it.
struct ErasureTarget {
  std::string stream;
  StreamExpectation expectation;
};

Result<ErasureTarget> ErasureTargetOf(const RegistryState& state, const std::string& kind,
                                      const std::string& subject, const std::string& field) {
  if (kind == "patient") {
    const Patient* p = subject.empty() ? nullptr : state.vaccinations.FindPatient(subject);
    if (p == nullptr) {
      return Refuse(Code::kNotFound, "the registry holds no patient with this identifier", field)
          .WithRule("erasure.no_subject");
    }
    if (p->erased) {
      return Refuse(Code::kFailedPrecondition, "the patient's personal data is already erased",
                    field)
          .WithRule("erasure.already_erased");
    }
    return ErasureTarget{PatientStream(subject), Expect(PatientStream(subject), true, p->version)};
  }
  const Person* p = subject.empty() ? nullptr : state.membership.FindPerson(subject);
  if (p == nullptr) {
    return Refuse(Code::kNotFound, "the registry holds no person with this INSZ", field)
        .WithRule("erasure.no_subject");
  }
  if (p->erased) {
    return Refuse(Code::kFailedPrecondition, "the person's personal data is already erased", field)
        .WithRule("erasure.already_erased");
  }
  if (p->roles.contains("administrator")) {
    return Refuse(Code::kFailedPrecondition,
                  "the person is an administrator: revoke the role before erasing them", field)
        .WithRule("erasure.administrator");
  }
  // A person linked by others (staff, HAIOs) may have no stream of their own yet.
  return ErasureTarget{PersonStream(subject),
                       Expect(PersonStream(subject), p->has_stream, p->version)};
}

// The identifier an erasure names: the field to blame when it is wrong.
Result<std::string> CheckErasureSubject(const std::string& kind, const PatientRef& patient,
                                        const std::string& insz) {
  if (kind == "patient") {
    if (!patient.insz.empty()) {
      auto parsed = ParseInsz(patient.insz);
      if (!parsed.ok()) {
        return parsed.status().Rewritten("patient." + parsed.status().message(), "patient.insz");
      }
      return std::string("patient.insz");
    }
    if (patient.name.empty() || patient.birth_date.empty()) {
      return InvalidArgument("give patient.insz, or patient.name and patient.birth_date",
                             "patient.insz");
    }
    VX_RETURN_IF_ERROR(CheckDate(patient.birth_date, "patient.birth_date"));
    return std::string("patient.name");
  }
  if (kind == "person") {
    VX_RETURN_IF_ERROR(ParseInsz(insz).status());
    return std::string("insz");
  }
  return InvalidArgument("kind must be patient or person", "kind").WithRule("erasure.kind");
}

DomainEvent ErasedEvent(const Caller& caller, const std::string& role, const std::string& stream,
                        const std::string& subject, const std::string& kind,
                        const std::string& reason, const std::string& request_id) {
  DomainEvent e =
      Event(caller, role, stream, event_type::kSubjectErased,
            {{"subject", subject}, {"kind", kind}, {"reason", reason}, {"request_id", request_id}});
  e.entity.clear();
  return e;
}

Result<Decision> DecideRequestErasure(const RegistryState& state, const Caller& caller,
                                      const RequestErasure& c) {
  VX_ASSIGN_OR_RETURN(std::string role, AdministratorRole(state, caller));
  VX_ASSIGN_OR_RETURN(std::string field, CheckErasureSubject(c.kind, c.patient, c.insz));
  VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  VX_ASSIGN_OR_RETURN(ErasureTarget target, ErasureTargetOf(state, c.kind, c.subject, field));
  DomainEvent e = Event(caller, role, target.stream, event_type::kErasureRequested,
                        {{"request_id", c.request_id},
                         {"subject", c.subject},
                         {"kind", c.kind},
                         {"reason", c.reason}});
  e.entity.clear();
  Decision d;
  d.events.push_back(std::move(e));
  d.expectations.push_back(target.expectation);
  d.id = c.request_id;
  d.waits_for_approval = true;
  return d;
}

Result<Decision> DecideErasure(const RegistryState& state, const Caller& caller, const Request& r,
                               const DecideRequest& c, const std::string& role) {
  const std::string field = "request_id";
  if (c.approve && r.requested_by == caller.person) {
    return Refuse(Code::kPermissionDenied,
                  "another administrator must approve the erasure you asked for", field)
        .WithRule("erasure.second_administrator");
  }
  VX_ASSIGN_OR_RETURN(ErasureTarget target, ErasureTargetOf(state, r.role, r.person, field));
  Decision d;
  d.id = r.id;
  if (!c.approve) {
    d.events.push_back(Event(caller, role, target.stream, event_type::kErasureRejected,
                             {{"request_id", r.id}, {"reason", c.reason}}));
  } else {
    d.events.push_back(Event(caller, role, target.stream, event_type::kErasureApproved,
                             {{"request_id", r.id}, {"reason", c.reason}}));
    d.events.push_back(ErasedEvent(caller, role, target.stream, r.person, r.role, r.reason, r.id));
  }
  for (DomainEvent& e : d.events) e.entity.clear();
  d.expectations.push_back(target.expectation);
  return d;
}

Result<Decision> DecideEraseSubject(const RegistryState& state, const Caller& caller,
                                    const EraseSubject& c) {
  if (caller.person != "system") {
    return Refuse(Code::kPermissionDenied,
                  "only the operator erases directly (vaxledger erase); administrators ask for an "
                  "erasure that another administrator approves")
        .WithRule("erasure.operator_only");
  }
  VX_ASSIGN_OR_RETURN(std::string field, CheckErasureSubject(c.kind, c.patient, c.insz));
  VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  VX_ASSIGN_OR_RETURN(ErasureTarget target, ErasureTargetOf(state, c.kind, c.subject, field));
  Decision d;
  d.id = c.subject;
  d.events.push_back(
      ErasedEvent(caller, "system", target.stream, c.subject, c.kind, c.reason, c.request_id));
  d.expectations.push_back(target.expectation);
  return d;
}

Result<Decision> DecideDecideRequest(const RegistryState& state, const Caller& caller,
                                     const DecideRequest& c) {
  VX_ASSIGN_OR_RETURN(std::string role, AdministratorRole(state, caller));
  const Request* r = state.requests.Find(c.request_id);
  if (r == nullptr) {
    return Refuse(Code::kNotFound, "request " + c.request_id + " does not exist", "request_id")
        .WithRule("request.not_found");
  }
  if (r->status != "pending") {
    return Refuse(Code::kFailedPrecondition,
                  "request " + c.request_id + " was already " + r->status, "request_id")
        .WithRule("request.already_decided", {{"status", r->status}});
  }
  if (!c.approve) VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  if (c.approve) VX_RETURN_IF_ERROR(CheckText(c.reason, "reason", /*required=*/false));
  if (r->kind == "access") return DecideAccess(state, caller, *r, c, role);
  if (r->kind == "erasure") return DecideErasure(state, caller, *r, c, role);
  return DecideLinkOrUnlink(state, caller, *r, c, role);
}

Result<Decision> DecideChangeQualification(const RegistryState& state, const Caller& caller,
                                           const ChangeQualification& c) {
  VX_ASSIGN_OR_RETURN(std::string role, AdministratorRole(state, caller));
  const Person* p = state.membership.FindPerson(c.person);
  if (p == nullptr) return Refuse(Code::kNotFound, "person " + c.person + " is unknown", "person");
  VX_ASSIGN_OR_RETURN(Riziv riziv, ParseRiziv(c.riziv));
  if (!p->riziv.empty() && p->riziv.substr(0, 8) != riziv.person_key) {
    return InvalidArgument(
        "riziv: the first 8 digits name the person for life and must stay " + p->riziv.substr(0, 8),
        "riziv");
  }
  const std::string new_role =
      riziv.role == Riziv::Role::kPhysicianInTraining ? "haio" : "physician";
  json payload = {{"person", c.person}, {"riziv", riziv.digits}, {"role", new_role}};
  Decision d;
  d.id = c.person;
  const std::string stream = PersonStream(c.person);
  d.events.push_back(Event(caller, role, stream, event_type::kQualificationChanged, payload));
  d.expectations.push_back(Expect(stream, p->has_stream, p->version));
  for (const std::string& id : p->entities) {
    const Entity* entity = state.membership.FindEntity(id);
    if (entity == nullptr) continue;
    auto it = entity->members.find(c.person);
    if (it == entity->members.end() || it->second.role == "staff") continue;
    DomainEvent e =
        Event(caller, role, EntityStream(id), event_type::kQualificationChanged, payload);
    e.entity = id;
    d.events.push_back(std::move(e));
    d.expectations.push_back(ExpectEntity(*entity));
  }
  return d;
}

Result<Decision> DecideChangeRole(const RegistryState& state, const Caller& caller,
                                  const ChangeRole& c) {
  VX_ASSIGN_OR_RETURN(std::string role, AdministratorRole(state, caller));
  if (c.role != "administrator" && c.role != "auditor") {
    return InvalidArgument("role must be administrator or auditor", "role");
  }
  VX_ASSIGN_OR_RETURN(Insz insz, ParseInsz(c.insz));
  const std::string& person = c.person;
  const Person* p = person.empty() ? nullptr : state.membership.FindPerson(person);
  const bool has = p != nullptr && p->roles.contains(c.role);
  if (c.grant && has) {
    return Refuse(Code::kAlreadyExists, "the person already has the role " + c.role, "role");
  }
  if (!c.grant && !has) {
    return Refuse(Code::kNotFound, "the person does not have the role " + c.role, "role");
  }
  if (c.grant && person.empty()) return Internal("the person's subject was not resolved");
  if (!c.grant && c.role == "administrator" && state.membership.administrators() <= 1) {
    return Refuse(Code::kFailedPrecondition,
                  "the registry must keep at least one administrator; grant the role to someone "
                  "else first",
                  "role");
  }
  const std::string stream = PersonStream(person);
  Decision d;
  d.id = person;
  d.events.push_back(Event(caller, role, stream,
                           c.grant ? event_type::kRoleGranted : event_type::kRoleRevoked,
                           {{"person", person}, {"role", c.role}}));
  d.expectations.push_back(Expect(stream, p && p->has_stream, p ? p->version : 0));
  return d;
}

// ---- Flow 8: the population of the impact figures ------------------------------------------

Result<Decision> DecideLoadPopulation(const RegistryState& state, const Caller& caller,
                                      const LoadPopulation& c) {
  VX_ASSIGN_OR_RETURN(std::string role, AdministratorRole(state, caller));
  json payload = impact::PopulationPayload(c.population);
  VX_RETURN_IF_ERROR(impact::PopulationFromPayload(payload).status());  // its rules, again
  Decision d;
  d.id = std::string(impact::kPopulationStream);
  d.events.push_back(Event(caller, role, std::string(impact::kPopulationStream),
                           impact::kPopulationLoaded.data(), std::move(payload)));
  d.events.back().entity.clear();
  return d;
}

// ---- Flow 5: vaccinations -----------------------------------------------------------------

Status CheckConsent(const Consent& c, const Caller& caller) {
  if (c.decision != "given" && c.decision != "refused") {
    return InvalidArgument("consent.decision must be given or refused", "consent.decision")
        .WithRule("consent.decision");
  }
  return CheckNotFuture(c.date, "consent.date", caller);
}

// The product of the reference list with `code`.
Result<const VaccineProduct*> CheckProduct(const std::string& code) {
  const VaccineProduct* p = FindVaccineProduct(code);
  if (p == nullptr) {
    return InvalidArgument("product " + code + " is not in the vaccine reference list", "product")
        .WithRule("product.unknown", {{"product", code}});
  }
  return p;
}

Status CheckProductAndLot(const std::string& product, const std::string& lot) {
  VX_ASSIGN_OR_RETURN(const VaccineProduct* p, CheckProduct(product));
  if (p->covid19 && lot.empty()) {
    return InvalidArgument("lot is required for a COVID-19 vaccine", "lot")
        .WithRule("lot.required");
  }
  return CheckText(lot, "lot", /*required=*/false);
}

Status CheckDose(int dose) {
  if (dose < 1 || dose > 10)
    return InvalidArgument("dose must be between 1 and 10", "dose").WithRule("dose.range");
  return Status::Ok();
}

bool IsDuplicate(const Patient* patient, const std::string& product, const std::string& date,
                 const std::string& except_id) {
  if (patient == nullptr) return false;
  return std::any_of(
      patient->vaccinations.begin(), patient->vaccinations.end(), [&](const Vaccination& v) {
        return v.status == "active" && v.product == product && v.date == date && v.id != except_id;
      });
}

Result<Decision> DecideRegister(const RegistryState& state, const Caller& caller,
                                const RegisterVaccination& c) {
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  json personal;
  if (!c.patient.insz.empty()) {
    auto insz = ParseInsz(c.patient.insz);
    if (!insz.ok()) {
      return insz.status().Rewritten("patient." + insz.status().message(), "patient.insz");
    }
    personal = {{"insz", insz->digits}};
    if (!c.patient.name.empty()) {
      VX_RETURN_IF_ERROR(CheckText(c.patient.name, "patient.name"));
      personal["name"] = c.patient.name;
    }
    if (!c.patient.birth_date.empty()) {
      VX_RETURN_IF_ERROR(CheckNotFuture(c.patient.birth_date, "patient.birth_date", caller));
      personal["birth_date"] = c.patient.birth_date;
    }
  } else {
    VX_RETURN_IF_ERROR(CheckText(c.patient.name, "patient.name"));
    if (c.patient.birth_date.empty()) {
      return InvalidArgument("patient.birth_date is required for a patient without INSZ",
                             "patient.birth_date")
          .WithRule("patient.birth_date_required");
    }
    VX_RETURN_IF_ERROR(CheckNotFuture(c.patient.birth_date, "patient.birth_date", caller));
    personal = {{"name", c.patient.name}, {"birth_date", c.patient.birth_date}};
  }
  VX_RETURN_IF_ERROR(CheckProductAndLot(c.product, c.lot));
  VX_RETURN_IF_ERROR(CheckDose(c.dose));
  VX_RETURN_IF_ERROR(CheckNotFuture(c.date, "date", caller));
  if (!c.patient.birth_date.empty() && c.date < c.patient.birth_date) {
    return InvalidArgument("date is before the patient's birth date", "date")
        .WithRule("date.before_birth");
  }
  VX_RETURN_IF_ERROR(CheckConsent(c.consent, caller));
  std::string performer = c.performer.empty() ? acting.physician : c.performer;
  if (performer != caller.person && !acting.entity->members.contains(performer)) {
    return InvalidArgument("performer is not linked to entity " + acting.entity->id, "performer")
        .WithRule("performer.not_member");
  }
  const std::string& patient = c.patient_id;
  if (patient.empty()) return Internal("the patient's subject was not resolved");
  const Patient* record = state.vaccinations.FindPatient(patient);
  if (IsDuplicate(record, c.product, c.date, "")) {
    // Only an entity that may read the patient is told more than the refusal itself: the
    // registration it duplicates may be another entity's (SPEC §2 flow 9).
    if (record->CaredForBy(acting.entity->id, caller.now_us)) {
      return Refuse(Code::kAlreadyExists,
                    "this patient already has a registration of " + c.product + " on " + c.date +
                        " (duplicate)",
                    "product")
          .WithRule("vaccination.duplicate", {{"product", c.product}, {"date", c.date}});
    }
    return Refuse(Code::kAlreadyExists,
                  "the registry already holds this registration (same patient, product and "
                  "day): it is not registered twice",
                  "product")
        .WithRule("vaccination.duplicate_elsewhere");
  }
  const std::string stream = PatientStream(patient);
  DomainEvent e = Event(
      caller, acting.role, stream, event_type::kVaccinationRegistered,
      {{"vaccination_id", c.vaccination_id},
       {"patient", patient},
       {"product", c.product},
       {"lot", c.lot},
       {"dose", c.dose},
       {"date", c.date},
       {"performer", performer},
       {"consent",
        {{"decision", c.consent.decision}, {"date", c.consent.date}, {"by", caller.person}}}});
  if (acting.physician != caller.person) e.on_behalf_of = acting.physician;
  e.personal = std::move(personal);
  e.data_subject = patient;
  Decision d;
  d.events.push_back(std::move(e));
  d.expectations.push_back(Expect(stream, record != nullptr, record ? record->version : 0));
  d.id = c.vaccination_id;
  return d;
}

// The registration `vaccination_id` of `patient`, which the caller's entity made.
Result<std::pair<Acting, const Patient*>> OwnRegistration(const RegistryState& state,
                                                          const Caller& caller,
                                                          const std::string& patient,
                                                          const std::string& vaccination_id,
                                                          const Vaccination** out) {
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  const Patient* p = state.vaccinations.FindPatient(patient);
  const Vaccination* v = p ? p->Find(vaccination_id) : nullptr;
  // Another entity's registration is reported as missing: its existence is not theirs to know.
  if (v == nullptr || v->entity != acting.entity->id) {
    return Refuse(Code::kNotFound, "vaccination " + vaccination_id + " does not exist",
                  "vaccination_id")
        .WithRule("vaccination.not_found");
  }
  if (v->status == "entered_in_error") {
    return Refuse(Code::kFailedPrecondition,
                  "vaccination " + vaccination_id + " was entered in error and cannot change",
                  "vaccination_id")
        .WithRule("vaccination.entered_in_error");
  }
  *out = v;
  return std::make_pair(acting, p);
}

// A decision of one event about vaccination `id` in patient `p`'s stream, expecting the stream
// at the version the decision read.
Decision PatientDecision(const Caller& caller, const Acting& acting, const Patient& p,
                         const char* type, json payload, const std::string& id) {
  DomainEvent e = Event(caller, acting.role, PatientStream(p.id), type, std::move(payload));
  if (acting.physician != caller.person) e.on_behalf_of = acting.physician;
  Decision d;
  d.events.push_back(std::move(e));
  d.expectations.push_back(Expect(PatientStream(p.id), true, p.version));
  d.id = id;
  return d;
}

Result<Decision> DecideCorrect(const RegistryState& state, const Caller& caller,
                               const CorrectVaccination& c) {
  const Vaccination* v = nullptr;
  VX_ASSIGN_OR_RETURN(auto found, OwnRegistration(state, caller, c.patient, c.vaccination_id, &v));
  auto [acting, patient] = found;
  VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  const std::string product = c.product.value_or(v->product);
  const std::string lot = c.lot.value_or(v->lot);
  const int dose = c.dose.value_or(v->dose);
  const std::string date = c.date.value_or(v->date);
  VX_RETURN_IF_ERROR(CheckProductAndLot(product, lot));
  VX_RETURN_IF_ERROR(CheckDose(dose));
  VX_RETURN_IF_ERROR(CheckNotFuture(date, "date", caller));
  if (product == v->product && lot == v->lot && dose == v->dose && date == v->date) {
    return InvalidArgument("the correction changes nothing", "product")
        .WithRule("correction.no_change");
  }
  if (IsDuplicate(patient, product, date, v->id)) {
    return Refuse(Code::kAlreadyExists,
                  "this patient already has a registration of " + product + " on " + date +
                      " (duplicate)",
                  "product")
        .WithRule("vaccination.duplicate", {{"product", product}, {"date", date}});
  }
  json was = {{"product", v->product}, {"lot", v->lot}, {"dose", v->dose}, {"date", v->date}};
  json now = {{"product", product}, {"lot", lot}, {"dose", dose}, {"date", date}};
  return PatientDecision(
      caller, acting, *patient, event_type::kVaccinationCorrected,
      {{"vaccination_id", v->id}, {"reason", c.reason}, {"was", was}, {"now", now}}, v->id);
}

Result<Decision> DecideRetract(const RegistryState& state, const Caller& caller,
                               const RetractVaccination& c) {
  const Vaccination* v = nullptr;
  VX_ASSIGN_OR_RETURN(auto found, OwnRegistration(state, caller, c.patient, c.vaccination_id, &v));
  auto [acting, patient] = found;
  VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  return PatientDecision(
      caller, acting, *patient, event_type::kVaccinationEnteredInError,
      {{"vaccination_id", v->id}, {"reason", c.reason}, {"product", v->product}, {"lot", v->lot}},
      v->id);
}

Result<Decision> DecideDeclareCare(const RegistryState& state, const Caller& caller,
                                   const DeclareCare& c) {
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  if (!c.patient.insz.empty()) {
    auto insz = ParseInsz(c.patient.insz);
    if (!insz.ok()) return InvalidArgument("patient." + insz.status().message(), "patient.insz");
  } else if (c.patient.name.empty() || c.patient.birth_date.empty()) {
    return InvalidArgument("give patient.insz, or patient.name and patient.birth_date",
                           "patient.insz");
  }
  VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  if (c.hours < 1 || c.hours > 720) {
    return InvalidArgument("hours must be between 1 and 720 (30 days)", "hours");
  }
  const std::string& patient = c.patient_id;
  if (patient.empty()) return Internal("the patient's subject was not resolved");
  const Patient* record = state.vaccinations.FindPatient(patient);
  const std::string stream = PatientStream(patient);
  // The declaration does not say whether the registry knows the patient: it is accepted alike.
  DomainEvent e = Event(caller, acting.role, stream, event_type::kCareDeclared,
                        {{"patient", patient},
                         {"reason", c.reason},
                         {"until_us", caller.now_us + int64_t{c.hours} * 3600 * 1000000}});
  if (acting.physician != caller.person) e.on_behalf_of = acting.physician;
  Decision d;
  d.events.push_back(std::move(e));
  d.expectations.push_back(Expect(stream, record != nullptr, record ? record->version : 0));
  d.id = patient;
  return d;
}

Result<Decision> DecideConsent(const RegistryState& state, const Caller& caller,
                               const RecordConsent& c) {
  const Vaccination* v = nullptr;
  VX_ASSIGN_OR_RETURN(auto found, OwnRegistration(state, caller, c.patient, c.vaccination_id, &v));
  auto [acting, patient] = found;
  VX_RETURN_IF_ERROR(CheckConsent(c.consent, caller));
  return PatientDecision(caller, acting, *patient, event_type::kConsentRecorded,
                         {{"vaccination_id", v->id},
                          {"decision", c.consent.decision},
                          {"date", c.consent.date},
                          {"by", caller.person}},
                         v->id);
}

// ---- Flow 6: stock ------------------------------------------------------------------------

Result<Decision> StockDecision(const RegistryState& state, const Caller& caller, const char* type,
                               json payload) {
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  const std::string stream = StockStream(acting.entity->id);
  const EntityStock* stock = state.stock.Find(acting.entity->id);
  Decision d;
  DomainEvent e = Event(caller, acting.role, stream, type, std::move(payload));
  if (acting.physician != caller.person) e.on_behalf_of = acting.physician;
  d.events.push_back(std::move(e));
  d.expectations.push_back(Expect(stream, stock && stock->has_stream, stock ? stock->version : 0));
  d.id = acting.entity->id;
  return d;
}

Result<Decision> DecideReceive(const RegistryState& state, const Caller& caller,
                               const ReceiveStock& c) {
  VX_RETURN_IF_ERROR(CheckProduct(c.product).status());
  VX_RETURN_IF_ERROR(CheckText(c.lot, "lot"));
  VX_RETURN_IF_ERROR(CheckDate(c.expiry, "expiry"));
  // An expired lot is not usable stock: it is not received (issue 14).
  if (c.expiry < DateOf(caller.now_us)) {
    return FailedPrecondition("expiry " + c.expiry + " has passed: an expired lot is not received",
                              "expiry")
        .WithRule("stock.expired", {{"expiry", c.expiry}});
  }
  if (c.quantity < 1 || c.quantity > 1000000) {
    return InvalidArgument("quantity must be between 1 and 1000000", "quantity")
        .WithRule("stock.quantity_range");
  }
  return StockDecision(
      state, caller, event_type::kStockReceived,
      {{"product", c.product}, {"lot", c.lot}, {"expiry", c.expiry}, {"quantity", c.quantity}});
}

Result<Decision> DecideAdjust(const RegistryState& state, const Caller& caller,
                              const AdjustStock& c) {
  VX_RETURN_IF_ERROR(CheckProduct(c.product).status());
  VX_RETURN_IF_ERROR(CheckText(c.lot, "lot"));
  if (c.delta == 0 || c.delta < -1000000 || c.delta > 1000000) {
    return InvalidArgument("delta must be a non-zero number of doses within ±1000000", "delta")
        .WithRule("stock.delta_range");
  }
  VX_RETURN_IF_ERROR(CheckText(c.reason, "reason"));
  return StockDecision(
      state, caller, event_type::kStockAdjusted,
      {{"product", c.product}, {"lot", c.lot}, {"delta", c.delta}, {"reason", c.reason}});
}

}  // namespace

Result<std::string> PersonId(Subjects& subjects, const std::string& insz_digits) {
  return subjects.Pseudonym("person", insz_digits);
}

Result<Caller> CallerFor(Subjects& subjects, const std::string& insz_digits, std::string entity,
                         std::string on_behalf_of, int64_t now_us) {
  Caller c;
  VX_ASSIGN_OR_RETURN(c.person, PersonId(subjects, insz_digits));
  c.insz = insz_digits;
  c.entity = std::move(entity);
  c.on_behalf_of = std::move(on_behalf_of);
  c.now_us = now_us;
  return c;
}

Result<DomainEvent> FirstAdministratorGrant(Subjects& subjects, const std::string& insz_digits) {
  VX_ASSIGN_OR_RETURN(const std::string person, PersonId(subjects, insz_digits));
  DomainEvent e;
  e.stream = PersonStream(person);
  e.type = event_type::kRoleGranted;
  e.actor = "system";
  e.actor_role = "system";
  e.payload = {{"person", person}, {"role", "administrator"}};
  e.personal = {{"insz", insz_digits}};
  e.data_subject = person;
  return e;
}

namespace {

// The key store's kind and identifier of a patient reference.
std::pair<std::string, std::string> PatientIdentifier(const PatientRef& patient) {
  if (!patient.insz.empty()) {
    auto insz = ParseInsz(patient.insz);
    return {"patient", insz.ok() ? insz->digits : patient.insz};
  }
  return {"patient-without-insz", patient.name + "\n" + patient.birth_date};
}

bool ValidPatientRef(const PatientRef& patient) {
  if (!patient.insz.empty()) return ParseInsz(patient.insz).ok();
  return !patient.name.empty() && !patient.birth_date.empty();
}

}  // namespace

Result<std::string> PatientId(Subjects& subjects, const PatientRef& patient) {
  auto [kind, identifier] = PatientIdentifier(patient);
  return subjects.Pseudonym(kind, identifier);
}

Result<std::optional<std::string>> FindPatientId(const Subjects& subjects,
                                                 const PatientRef& patient) {
  auto [kind, identifier] = PatientIdentifier(patient);
  return subjects.Find(kind, identifier);
}

Status ResolveSubjects(Subjects& subjects, Command& command) {
  auto person = [&](const std::string& insz, std::string& out, bool make) -> Status {
    auto parsed = ParseInsz(insz);
    if (!parsed.ok()) return Status::Ok();  // Decide refuses it
    if (make) {
      VX_ASSIGN_OR_RETURN(out, subjects.Pseudonym("person", parsed->digits));
    } else {
      VX_ASSIGN_OR_RETURN(auto found, subjects.Find("person", parsed->digits));
      out = found.value_or("");
    }
    return Status::Ok();
  };
  auto patient = [&](const PatientRef& ref, std::string& out, bool make) -> Status {
    if (!ValidPatientRef(ref)) return Status::Ok();
    if (make) {
      VX_ASSIGN_OR_RETURN(out, PatientId(subjects, ref));
    } else {
      VX_ASSIGN_OR_RETURN(auto found, FindPatientId(subjects, ref));
      out = found.value_or("");
    }
    return Status::Ok();
  };
  if (auto* c = std::get_if<RequestLink>(&command)) return person(c->insz, c->person, true);
  if (auto* c = std::get_if<ChangeRole>(&command)) return person(c->insz, c->person, c->grant);
  if (auto* c = std::get_if<RegisterVaccination>(&command)) {
    return patient(c->patient, c->patient_id, true);
  }
  if (auto* c = std::get_if<DeclareCare>(&command)) return patient(c->patient, c->patient_id, true);
  auto erasure = [&](auto& c) -> Status {
    if (c.kind == "patient") return patient(c.patient, c.subject, false);
    if (c.kind == "person") return person(c.insz, c.subject, false);
    return Status::Ok();
  };
  if (auto* c = std::get_if<RequestErasure>(&command)) return erasure(*c);
  if (auto* c = std::get_if<EraseSubject>(&command)) return erasure(*c);
  return Status::Ok();
}

Result<Acting> ActingIn(const MembershipView& membership, const Caller& caller) {
  if (caller.person.empty())
    return Refuse(Code::kUnauthenticated, "log in first").WithRule("session.login");
  if (caller.entity.empty()) {
    return Refuse(Code::kPermissionDenied, "choose the entity you act for", "entity")
        .WithRule("session.choose_entity");
  }
  const Entity* entity = membership.FindEntity(caller.entity);
  auto member = entity ? entity->members.find(caller.person) : decltype(entity->members.end()){};
  if (entity == nullptr || member == entity->members.end()) {
    return Refuse(Code::kPermissionDenied, "you are not linked to entity " + caller.entity,
                  "entity")
        .WithRule("entity.not_linked", {{"entity", caller.entity}});
  }
  Acting acting;
  acting.entity = entity;
  acting.role = member->second.role;
  if (acting.role == "physician") {
    if (!caller.on_behalf_of.empty() && caller.on_behalf_of != caller.person) {
      return Refuse(Code::kPermissionDenied, "a physician acts for themselves", "on_behalf_of")
          .WithRule("acting.physician_self");
    }
    acting.physician = caller.person;
  } else if (acting.role == "haio") {
    const std::string& trainer = member->second.trainer;
    if (!entity->members.contains(trainer)) {
      return Refuse(Code::kPermissionDenied,
                    "your trainer is no longer linked to entity " + entity->id)
          .WithRule("acting.trainer_gone");
    }
    if (!caller.on_behalf_of.empty() && caller.on_behalf_of != trainer) {
      return Refuse(Code::kPermissionDenied, "a HAIO acts under their trainer only", "on_behalf_of")
          .WithRule("acting.haio_trainer_only");
    }
    acting.physician = trainer;
  } else {
    const auto& links = member->second.linked_to;
    if (caller.on_behalf_of.empty()) {
      return Refuse(Code::kPermissionDenied,
                    "staff act on behalf of a physician: choose one you are linked to",
                    "on_behalf_of")
          .WithRule("acting.choose_physician");
    }
    if (std::find(links.begin(), links.end(), caller.on_behalf_of) == links.end()) {
      return Refuse(Code::kPermissionDenied,
                    "you are not linked to physician " + caller.on_behalf_of, "on_behalf_of")
          .WithRule("acting.not_linked_to_physician");
    }
    acting.physician = caller.on_behalf_of;
  }
  return acting;
}

Status CheckDate(const std::string& date, const std::string& field) {
  auto bad = [&] {
    return InvalidArgument(field + " must be a date YYYY-MM-DD", field).WithRule("date.format");
  };
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return bad();
  }
  const int y = std::stoi(date.substr(0, 4));
  const unsigned m = std::stoul(date.substr(5, 2));
  const unsigned d = std::stoul(date.substr(8, 2));
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m),
                                        std::chrono::day(d)};
  if (!ymd.ok())
    return InvalidArgument(field + " " + date + " is not a calendar date", field)
        .WithRule("date.calendar", {{"date", date}});
  if (y < 1900)
    return InvalidArgument(field + " is before 1900", field).WithRule("date.before_1900");
  return Status::Ok();
}

std::string DateOf(int64_t now_us) {
  const auto days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(now_us)));
  const std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

Result<Decision> Decide(const RegistryState& state, const Caller& caller, const Command& command) {
  struct Visitor {
    const RegistryState& s;
    const Caller& c;
    Result<Decision> operator()(const RequestAccess& x) { return DecideRequestAccess(s, c, x); }
    Result<Decision> operator()(const DecideRequest& x) { return DecideDecideRequest(s, c, x); }
    Result<Decision> operator()(const RequestLink& x) { return DecideRequestLink(s, c, x); }
    Result<Decision> operator()(const RequestUnlink& x) { return DecideRequestUnlink(s, c, x); }
    Result<Decision> operator()(const ChangeQualification& x) {
      return DecideChangeQualification(s, c, x);
    }
    Result<Decision> operator()(const ChangeRole& x) { return DecideChangeRole(s, c, x); }
    Result<Decision> operator()(const RegisterVaccination& x) { return DecideRegister(s, c, x); }
    Result<Decision> operator()(const CorrectVaccination& x) { return DecideCorrect(s, c, x); }
    Result<Decision> operator()(const RetractVaccination& x) { return DecideRetract(s, c, x); }
    Result<Decision> operator()(const RecordConsent& x) { return DecideConsent(s, c, x); }
    Result<Decision> operator()(const ReceiveStock& x) { return DecideReceive(s, c, x); }
    Result<Decision> operator()(const AdjustStock& x) { return DecideAdjust(s, c, x); }
    Result<Decision> operator()(const DeclareCare& x) { return DecideDeclareCare(s, c, x); }
    Result<Decision> operator()(const IssueCertificate& x) {
      return DecideIssueCertificate(s, c, x);
    }
    Result<Decision> operator()(const RevokeCertificate& x) {
      return DecideRevokeCertificate(s, c, x);
    }
    Result<Decision> operator()(const LoadPopulation& x) { return DecideLoadPopulation(s, c, x); }
    Result<Decision> operator()(const RequestErasure& x) { return DecideRequestErasure(s, c, x); }
    Result<Decision> operator()(const EraseSubject& x) { return DecideEraseSubject(s, c, x); }
  };
  return std::visit(Visitor{state, caller}, command);
}

}  // namespace vaxledger
