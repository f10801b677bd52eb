#include "core/registry_state.h"

#include "core/registry_json.h"
#include "core/view_records.h"

#include <algorithm>
#include <cstdio>

namespace vaxledger {

namespace {

constexpr std::string_view kEntityPrefix = "entity:";
constexpr std::string_view kPersonPrefix = "person:";
constexpr std::string_view kPatientPrefix = "patient:";
constexpr std::string_view kStockPrefix = "stock:";

// The id after `prefix` in `stream`, or empty when the stream is of another kind.
std::string StreamId(const std::string& stream, std::string_view prefix) {
  if (stream.size() <= prefix.size() || stream.compare(0, prefix.size(), prefix) != 0) return {};
  return stream.substr(prefix.size());
}

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::vector<std::string> Strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) return out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool Is(const DomainEvent& e, const char* type) { return e.type == type; }

// Whether the event's personal data could not be read because its subject is erased (the
// projections' decoding gives {"erased": true} then: docs/storage.md "Key store").
bool PersonalErased(const DomainEvent& e) {
  return e.personal.is_object() && e.personal.contains("erased") &&
         e.personal["erased"].is_boolean() && e.personal["erased"].get<bool>();
}

// Records are FlatBuffers tables (core/view_records.h).
Status Decode(const std::string& value, Entity& out) { return DecodeEntity(value, out); }
Status Decode(const std::string& value, Person& out) { return DecodePerson(value, out); }
Status Decode(const std::string& value, Request& out) { return DecodeRequest(value, out); }
Status Decode(const std::string& value, Patient& out) { return DecodePatient(value, out); }
Status Decode(const std::string& value, StockLot& out) { return DecodeStockLot(value, out); }

// "<prefix><20 digits>/<id>" -> id, or empty.
std::string IdAfterPosition(const std::string& key, size_t prefix_size) {
  const size_t at = prefix_size + 21;
  return key.size() > at ? key.substr(at) : std::string();
}

}  // namespace

std::string PositionKey(uint64_t position) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(position));
  return buf;
}

std::string EntityStream(const std::string& id) { return std::string(kEntityPrefix) + id; }
std::string PersonStream(const std::string& id) { return std::string(kPersonPrefix) + id; }
std::string PatientStream(const std::string& id) { return std::string(kPatientPrefix) + id; }
std::string StockStream(const std::string& id) { return std::string(kStockPrefix) + id; }

size_t Entity::Physicians() const {
  return std::count_if(members.begin(), members.end(),
                       [](const auto& m) { return m.second.role == "physician"; });
}

// ---- Membership ----------------------------------------------------------------------------

void MembershipView::Load(const std::string& key) const {
  if (source_ == nullptr || !looked_up_.insert(key).second) return;
  auto value = source_->Get(key);
  if (!value.ok()) {
    if (load_status_.ok()) load_status_ = value.status();
    return;
  }
  if (!*value) return;
  Status decoded;
  if (key.starts_with("e/")) {
    Entity e;
    decoded = Decode(**value, e);
    if (decoded.ok()) entities_[key.substr(2)] = std::move(e);
  } else {
    Person p;
    decoded = Decode(**value, p);
    if (decoded.ok()) people_[key.substr(2)] = std::move(p);
  }
  if (!decoded.ok() && load_status_.ok()) {
    load_status_ = DataLoss("membership record " + key + ": " + decoded.message());
  }
}

Entity& MembershipView::EntityFor(const DomainEvent& e) {
  const std::string id = StreamId(e.stream, kEntityPrefix);
  Load("e/" + id);
  if (track_dirty_) dirty_.insert("e/" + id);
  Entity& entity = entities_[id];
  entity.id = id;
  entity.version = e.stream_version;
  return entity;
}

Person& MembershipView::PersonFor(const std::string& id) {
  Load("p/" + id);
  if (track_dirty_) dirty_.insert("p/" + id);
  Person& p = people_[id];
  p.id = id;
  return p;
}

void MembershipView::Apply(const DomainEvent& e) {
  const nlohmann::json& pl = e.payload;
  if (std::string person_id = StreamId(e.stream, kPersonPrefix); !person_id.empty()) {
    Person& p = PersonFor(person_id);
    p.version = e.stream_version;
    p.has_stream = true;
    if (PersonalErased(e)) p.erased = true;
    if (Is(e, event_type::kSubjectErased)) {
      // Issue 16: nothing of the person's personal data stays in a record.
      p.name.clear();
      p.email.clear();
      p.erased = true;
      for (const std::string& id : p.entities) {
        Load("e/" + id);
        auto entity = entities_.find(id);
        if (entity == entities_.end()) continue;
        auto m = entity->second.members.find(person_id);
        if (m == entity->second.members.end()) continue;
        m->second.name.clear();
        m->second.erased = true;
        if (track_dirty_) dirty_.insert("e/" + id);
      }
    } else if (Is(e, event_type::kAccessRequested)) {
      p.pending_access = Str(pl, "request_id");
      if (e.personal.is_object()) {
        p.name = Str(e.personal, "name");
        p.email = Str(e.personal, "email");
      }
    } else if (Is(e, event_type::kAccessApproved) || Is(e, event_type::kAccessRejected)) {
      p.pending_access.clear();
    } else if (Is(e, event_type::kQualificationChanged)) {
      p.riziv = Str(pl, "riziv");
    } else if (Is(e, event_type::kRoleGranted)) {
      if (p.roles.insert(Str(pl, "role")).second && Str(pl, "role") == "administrator") {
        ++administrators_;
        if (track_dirty_) dirty_.insert("a/" + person_id);
      }
    } else if (Is(e, event_type::kRoleRevoked)) {
      if (p.roles.erase(Str(pl, "role")) && Str(pl, "role") == "administrator") {
        --administrators_;
        if (track_dirty_) dirty_.insert("a/" + person_id);
      }
    }
    return;
  }
  if (StreamId(e.stream, kEntityPrefix).empty()) return;
  Entity& entity = EntityFor(e);
  if (Is(e, event_type::kEntityCreated)) {
    entity.kind = Str(pl, "kind");
    entity.name = Str(pl, "name");
    entity.kbo = Str(pl, "kbo");
    entity.region = Str(pl, "region");
  } else if (Is(e, event_type::kMemberLinked)) {
    Member m;
    m.person = Str(pl, "person");
    m.role = Str(pl, "role");
    m.riziv = Str(pl, "riziv");
    m.trainer = Str(pl, "trainer");
    m.linked_to = Strings(pl, "linked_to");
    m.name = Str(e.personal, "name");
    m.erased = PersonalErased(e);
    m.since_us = e.recorded_at_us;
    m.since_position = e.position;
    Person& p = PersonFor(m.person);
    p.entities.insert(entity.id);
    if (!m.riziv.empty()) p.riziv = m.riziv;
    if (p.name.empty()) p.name = m.name;
    // SPEC §2 flow 3: staff of a group practice act for all its physicians, also those who
    // join after them.
    if (entity.kind == "group_practice" && m.role == "physician") {
      for (auto& [id, other] : entity.members) {
        if (other.role == "staff" && std::find(other.linked_to.begin(), other.linked_to.end(),
                                               m.person) == other.linked_to.end()) {
          other.linked_to.push_back(m.person);
        }
      }
    }
    entity.members[m.person] = std::move(m);
  } else if (Is(e, event_type::kMemberUnlinked)) {
    const std::string person = Str(pl, "person");
    entity.members.erase(person);
    for (auto& [id, m] : entity.members) {
      std::erase(m.linked_to, person);
    }
    PersonFor(person).entities.erase(entity.id);
  } else if (Is(e, event_type::kLinkRequested) || Is(e, event_type::kUnlinkRequested)) {
    entity.pending.insert(Str(pl, "request_id"));
  } else if (Is(e, event_type::kLinkApproved) || Is(e, event_type::kLinkRejected) ||
             Is(e, event_type::kUnlinkApproved) || Is(e, event_type::kUnlinkRejected)) {
    entity.pending.erase(Str(pl, "request_id"));
  } else if (Is(e, event_type::kQualificationChanged)) {
    auto it = entity.members.find(Str(pl, "person"));
    if (it != entity.members.end()) {
      it->second.riziv = Str(pl, "riziv");
      it->second.role = Str(pl, "role");
      // A HAIO who qualifies becomes one of the group practice's physicians (flow 3).
      if (entity.kind == "group_practice" && it->second.role == "physician") {
        for (auto& [id, other] : entity.members) {
          if (other.role == "staff" && std::find(other.linked_to.begin(), other.linked_to.end(),
                                                 it->first) == other.linked_to.end()) {
            other.linked_to.push_back(it->first);
          }
        }
      }
    }
  }
}

const Entity* MembershipView::FindEntity(const std::string& id) const {
  auto it = entities_.find(id);
  if (it == entities_.end() && source_ != nullptr) {
    Load("e/" + id);
    it = entities_.find(id);
  }
  return it == entities_.end() ? nullptr : &it->second;
}

const Person* MembershipView::FindPerson(const std::string& id) const {
  auto it = people_.find(id);
  if (it == people_.end() && source_ != nullptr) {
    Load("p/" + id);
    it = people_.find(id);
  }
  return it == people_.end() ? nullptr : &it->second;
}

void MembershipView::ForEachEntity(const std::function<bool(const Entity&)>& f) const {
  if (source_ == nullptr) {
    for (const auto& [id, e] : entities_) {
      if (!f(e)) return;
    }
    return;
  }
  Status scanned = source_->Scan("e/", "e/", [&](const std::string& key, const std::string& v) {
    if (auto it = entities_.find(key.substr(2)); it != entities_.end()) return f(it->second);
    Entity e;
    if (Status s = Decode(v, e); !s.ok()) {
      if (load_status_.ok())
        load_status_ = DataLoss("membership record " + key + ": " + s.message());
      return false;
    }
    return f(e);
  });
  if (!scanned.ok() && load_status_.ok()) load_status_ = scanned;
}

size_t MembershipView::administrators() const {
  if (source_ == nullptr) return administrators_;
  size_t n = 0;
  for (const auto& [id, p] : people_) n += p.roles.contains("administrator");
  Status scanned = source_->Scan("a/", "a/", [&](const std::string& key, const std::string&) {
    n += !people_.contains(key.substr(2));
    return true;
  });
  if (!scanned.ok() && load_status_.ok()) load_status_ = scanned;
  return n;
}

void MembershipView::AppendStreamReads(std::vector<StreamRead>& out) const {
  for (const std::string& key : looked_up_) {
    const std::string id = key.substr(2);
    if (key.starts_with("e/")) {
      const auto it = entities_.find(id);
      out.push_back({EntityStream(id), it == entities_.end()
                                           ? std::nullopt
                                           : std::optional<uint64_t>(it->second.version)});
    } else {
      const auto it = people_.find(id);
      const bool has = it != people_.end() && it->second.has_stream;
      out.push_back(
          {PersonStream(id), has ? std::optional<uint64_t>(it->second.version) : std::nullopt});
    }
  }
}

std::optional<std::string> MembershipView::EncodeRecord(const std::string& key) const {
  if (key.starts_with("a/")) {
    const Person* p = FindPerson(key.substr(2));
    if (p != nullptr && p->roles.contains("administrator")) return std::string();
  } else if (key.starts_with("e/")) {
    if (const Entity* e = FindEntity(key.substr(2))) return EncodeEntity(*e);
  } else if (key.starts_with("p/")) {
    if (const Person* p = FindPerson(key.substr(2))) return EncodePerson(*p);
  }
  return std::nullopt;
}

bool MembershipView::operator==(const MembershipView& o) const {
  return entities_ == o.entities_ && people_ == o.people_ && administrators_ == o.administrators_;
}

// ---- Requests --------------------------------------------------------------------------------

void RequestsView::Load(const std::string& id) const {
  if (source_ == nullptr || requests_.contains(id) || !looked_up_.insert(id).second) return;
  auto value = source_->Get("r/" + id);
  if (!value.ok()) {
    if (load_status_.ok()) load_status_ = value.status();
    return;
  }
  if (!*value) return;
  Request r;
  if (Status s = Decode(**value, r); !s.ok()) {
    if (load_status_.ok()) load_status_ = DataLoss("requests record r/" + id + ": " + s.message());
    return;
  }
  requests_[id] = std::move(r);
}

void RequestsView::MarkDirty(const Request& r) {
  if (!track_dirty_) return;
  const std::string at = PositionKey(r.position) + "/" + r.id;
  dirty_.insert("r/" + r.id);
  dirty_.insert("o/" + at);
  dirty_.insert("q/" + at);
  dirty_.insert("b/" + r.requested_by + "/" + at);
  if (!r.person.empty()) dirty_.insert("s/" + r.person + "/" + at);
}

void RequestsView::Apply(const DomainEvent& e) {
  const nlohmann::json& pl = e.payload;
  if (Is(e, event_type::kSubjectErased)) {
    // Issue 16: the names and e-mail addresses requests hold of the person go.
    const std::string subject = Str(pl, "subject");
    std::vector<std::string> ids;
    ForEachOf(subject, [&](const Request& r) {
      if (r.person == subject) ids.push_back(r.id);
      return true;
    });
    for (const std::string& rid : ids) {
      auto it = requests_.find(rid);
      if (it == requests_.end()) continue;
      it->second.name.clear();
      it->second.email.clear();
      MarkDirty(it->second);
    }
    return;
  }
  const std::string id = Str(pl, "request_id");
  if (id.empty()) return;
  if (!e.type.ends_with(".requested") && !e.type.ends_with(".approved") &&
      !e.type.ends_with(".rejected")) {
    return;
  }
  Load(id);
  auto decide = [&](const char* status) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    it->second.status = status;
    it->second.decided_by = e.actor;
    it->second.reason = Str(pl, "reason");
    it->second.decided_at_us = e.recorded_at_us;
    if (Is(e, event_type::kAccessApproved)) it->second.entity = Str(pl, "entity");
    MarkDirty(it->second);
  };
  auto open = [&](const char* kind) -> Request& {
    if (auto it = requests_.find(id); it != requests_.end()) MarkDirty(it->second);  // replaced
    Request& r = requests_[id];
    r = Request{};
    r.id = id;
    r.kind = kind;
    r.status = "pending";
    r.requested_by = e.actor;
    r.requested_at_us = e.recorded_at_us;
    r.position = e.position;
    r.name = Str(e.personal, "name");
    r.email = Str(e.personal, "email");
    MarkDirty(r);
    return r;
  };
  if (Is(e, event_type::kAccessRequested)) {
    Request& r = open("access");
    r.person = e.actor;
    r.role = Str(pl, "role");
    r.riziv = Str(pl, "riziv");
    r.terms_version = Str(pl, "terms_version");
    r.entity = Str(pl, "entity");
    r.new_entity = pl.contains("new_entity") ? pl["new_entity"] : nlohmann::json();
  } else if (Is(e, event_type::kLinkRequested)) {
    Request& r = open("link");
    r.entity = StreamId(e.stream, kEntityPrefix);
    r.person = Str(pl, "person");
    r.role = Str(pl, "role");
    r.riziv = Str(pl, "riziv");
    r.trainer = Str(pl, "trainer");
  } else if (Is(e, event_type::kUnlinkRequested)) {
    Request& r = open("unlink");
    r.entity = StreamId(e.stream, kEntityPrefix);
    r.members = Strings(pl, "members");
  } else if (Is(e, event_type::kErasureRequested)) {
    Request& r = open("erasure");
    r.person = Str(pl, "subject");
    r.role = Str(pl, "kind");  // erasure: the subject's kind, patient or person
    r.terms_version.clear();
    r.reason = Str(pl, "reason");
  } else if (Is(e, event_type::kAccessApproved) || Is(e, event_type::kLinkApproved) ||
             Is(e, event_type::kUnlinkApproved) || Is(e, event_type::kErasureApproved)) {
    decide("approved");
  } else if (Is(e, event_type::kAccessRejected) || Is(e, event_type::kLinkRejected) ||
             Is(e, event_type::kUnlinkRejected) || Is(e, event_type::kErasureRejected)) {
    decide("rejected");
  }
  // Its index records, now that every field they name (the person) is set.
  if (auto it = requests_.find(id); it != requests_.end()) MarkDirty(it->second);
}

const Request* RequestsView::Find(const std::string& id) const {
  Load(id);
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : &it->second;
}

void RequestsView::ForEach(uint64_t from_position,
                           const std::function<bool(const Request&)>& f) const {
  if (source_ == nullptr) {
    std::vector<const Request*> all;
    for (const auto& [id, r] : requests_) {
      if (r.position >= from_position) all.push_back(&r);
    }
    std::sort(all.begin(), all.end(),
              [](const Request* a, const Request* b) { return a->position < b->position; });
    for (const Request* r : all) {
      if (!f(*r)) return;
    }
    return;
  }
  Status scanned = source_->Scan("o/", "o/" + PositionKey(from_position),
                                 [&](const std::string& key, const std::string&) {
                                   const Request* r = Find(IdAfterPosition(key, 2));
                                   return r == nullptr || f(*r);
                                 });
  if (!scanned.ok() && load_status_.ok()) load_status_ = scanned;
}

std::vector<const Request*> RequestsView::Pending() const {
  std::vector<const Request*> out;
  if (source_ == nullptr) {
    for (const auto& [id, r] : requests_) {
      if (r.status == "pending") out.push_back(&r);
    }
  } else {
    std::vector<std::string> ids;
    Status scanned = source_->Scan("q/", "q/", [&](const std::string& key, const std::string&) {
      ids.push_back(IdAfterPosition(key, 2));
      return true;
    });
    if (!scanned.ok() && load_status_.ok()) load_status_ = scanned;
    for (const std::string& id : ids) {
      if (const Request* r = Find(id); r != nullptr && r->status == "pending") out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Request* a, const Request* b) { return a->position < b->position; });
  return out;
}

const Request* RequestsView::LatestAccessRequest(const std::string& person) const {
  const Request* latest = nullptr;
  auto consider = [&](const Request* r) {
    if (r != nullptr && r->kind == "access" && r->requested_by == person &&
        (latest == nullptr || r->position > latest->position)) {
      latest = r;
    }
  };
  if (source_ == nullptr) {
    for (const auto& [id, r] : requests_) consider(&r);
    return latest;
  }
  const std::string prefix = "b/" + person + "/";
  std::vector<std::string> ids;
  Status scanned = source_->Scan(prefix, prefix, [&](const std::string& key, const std::string&) {
    ids.push_back(IdAfterPosition(key, prefix.size()));
    return true;
  });
  if (!scanned.ok() && load_status_.ok()) load_status_ = scanned;
  for (const std::string& id : ids) consider(Find(id));
  return latest;
}

void RequestsView::ForEachOf(const std::string& person,
                             const std::function<bool(const Request&)>& f) const {
  if (source_ == nullptr) {
    for (const auto& [id, r] : requests_) {
      if ((r.person == person || r.requested_by == person) && !f(r)) return;
    }
    return;
  }
  std::set<std::string> ids;
  for (const char* index : {"s/", "b/"}) {
    const std::string prefix = index + person + "/";
    Status scanned = source_->Scan(prefix, prefix, [&](const std::string& key, const std::string&) {
      ids.insert(IdAfterPosition(key, prefix.size()));
      return true;
    });
    if (!scanned.ok() && load_status_.ok()) load_status_ = scanned;
  }
  // Requests applied in this working set and not stored yet.
  for (const auto& [id, r] : requests_) {
    if (r.person == person || r.requested_by == person) ids.insert(id);
  }
  for (const std::string& id : ids) {
    if (const Request* r = Find(id); r != nullptr && !f(*r)) return;
  }
}

std::optional<std::string> RequestsView::EncodeRecord(const std::string& key) const {
  if (key.starts_with("r/")) {
    if (const Request* r = Find(key.substr(2))) return EncodeRequest(*r);
    return std::nullopt;
  }
  // An index record: "o/<position>/<id>", "q/..." or "b/<requester>/<position>/<id>". It exists
  // while the request it names is there at that position (and, for "q/", pending).
  size_t prefix = 2;
  if (key.starts_with("b/") || key.starts_with("s/")) {
    const size_t slash = key.find('/', 2);
    if (slash == std::string::npos) return std::nullopt;
    prefix = slash + 1;
  }
  const Request* r = Find(IdAfterPosition(key, prefix));
  if (r == nullptr || key.compare(prefix, 20, PositionKey(r->position)) != 0) return std::nullopt;
  if (key.starts_with("q/") && r->status != "pending") return std::nullopt;
  return std::string();
}

// ---- Vaccinations ----------------------------------------------------------------------------

const Vaccination* Patient::Find(const std::string& vaccination_id) const {
  for (const Vaccination& v : vaccinations) {
    if (v.id == vaccination_id) return &v;
  }
  return nullptr;
}

bool Patient::CaredForBy(const std::string& entity, int64_t now_us) const {
  if (entity.empty()) return false;
  if (auto it = declared_care.find(entity); it != declared_care.end() && it->second > now_us) {
    return true;
  }
  return std::any_of(vaccinations.begin(), vaccinations.end(), [&](const Vaccination& v) {
    return v.entity == entity && v.status != "entered_in_error";
  });
}

Vaccination* VaccinationsView::FindMutable(Patient& p, const std::string& vaccination_id) {
  for (Vaccination& v : p.vaccinations) {
    if (v.id == vaccination_id) return &v;
  }
  return nullptr;
}

void VaccinationsView::Fail(Status s) const {
  if (load_status_.ok()) load_status_ = std::move(s);
}

void VaccinationsView::Load(const std::string& id) const {
  if (source_ == nullptr || patients_.contains(id) || !looked_up_.insert(id).second) return;
  auto value = source_->Get("v/" + id);
  if (!value.ok()) return Fail(value.status());
  if (!*value) return;
  Patient p;
  if (Status s = Decode(**value, p); !s.ok()) {
    return Fail(DataLoss("vaccinations record v/" + id + ": " + s.message()));
  }
  for (const IssuedCertificate& c : p.certificates) certificate_patient_[c.uvci] = p.id;
  patients_[id] = std::move(p);
}

void VaccinationsView::Apply(const DomainEvent& e) {
  const std::string id = StreamId(e.stream, kPatientPrefix);
  if (id.empty()) return;
  const nlohmann::json& pl = e.payload;
  Load(id);
  if (track_dirty_) dirty_.insert("v/" + id);
  Patient& p = patients_[id];
  p.id = id;
  p.version = e.stream_version;
  if (PersonalErased(e)) p.erased = true;
  if (Is(e, event_type::kSubjectErased)) {
    // Issue 16: the dates, products, lots and entities stay; nothing that identifies the patient.
    p.insz.clear();
    p.name.clear();
    p.birth_date.clear();
    for (IssuedCertificate& c : p.certificates) {
      c.family_name.clear();
      c.given_name.clear();
      c.hc1.clear();
    }
    p.erased = true;
    return;
  }
  if (e.type.starts_with("certificate.")) return ApplyCertificate(p, e);
  if (Is(e, event_type::kVaccinationRegistered)) {
    if (e.personal.is_object()) {
      if (auto s = Str(e.personal, "insz"); !s.empty()) p.insz = s;
      if (auto s = Str(e.personal, "name"); !s.empty()) p.name = s;
      if (auto s = Str(e.personal, "birth_date"); !s.empty()) p.birth_date = s;
    }
    Vaccination v;
    v.id = Str(pl, "vaccination_id");
    v.product = Str(pl, "product");
    v.lot = Str(pl, "lot");
    v.dose = static_cast<int>(Int(pl, "dose"));
    v.date = Str(pl, "date");
    v.entity = e.entity;
    v.performer = Str(pl, "performer");
    v.recorder = e.actor;
    if (pl.contains("consent")) {
      v.consent = Str(pl["consent"], "decision");
      v.consent_date = Str(pl["consent"], "date");
      v.consent_by = Str(pl["consent"], "by");
    }
    v.recorded_at_us = e.recorded_at_us;
    v.position = e.position;
    if (source_ == nullptr) by_entity_[v.entity].emplace_back(id, v.id);
    if (track_dirty_) {
      const std::string key = "x/" + v.entity + "/" + PositionKey(v.position);
      new_by_entity_[key] = id + " " + v.id;
      dirty_.insert(key);
    }
    p.vaccinations.push_back(std::move(v));
    return;
  }
  if (Is(e, event_type::kCareDeclared)) {
    int64_t& until = p.declared_care[e.entity];
    until = std::max(until, Int(pl, "until_us"));
    return;
  }
  Vaccination* v = FindMutable(p, Str(pl, "vaccination_id"));
  if (v == nullptr) return;
  VaccinationChange change;
  change.by = e.actor;
  change.at_us = e.recorded_at_us;
  change.position = e.position;
  change.reason = Str(pl, "reason");
  if (Is(e, event_type::kVaccinationCorrected)) {
    change.kind = "corrected";
    change.product = v->product;
    change.lot = v->lot;
    change.dose = v->dose;
    change.date = v->date;
    v->history.push_back(change);
    const nlohmann::json& now = pl.contains("now") ? pl["now"] : pl;
    v->product = Str(now, "product");
    v->lot = Str(now, "lot");
    v->dose = static_cast<int>(Int(now, "dose"));
    v->date = Str(now, "date");
    v->reason = Str(pl, "reason");
    ++v->corrections;
  } else if (Is(e, event_type::kVaccinationEnteredInError)) {
    v->status = "entered_in_error";
    v->reason = Str(pl, "reason");
    change.kind = "entered_in_error";
    v->history.push_back(change);
  } else if (Is(e, event_type::kConsentRecorded)) {
    change.kind = "consent";
    change.consent = Str(pl, "decision");
    v->history.push_back(change);
    v->consent = Str(pl, "decision");
    v->consent_date = Str(pl, "date");
    v->consent_by = Str(pl, "by");
  }
}

const Patient* VaccinationsView::FindPatient(const std::string& id) const {
  Load(id);
  auto it = patients_.find(id);
  return it == patients_.end() ? nullptr : &it->second;
}

std::vector<VaccinationsView::EntityRegistration> VaccinationsView::ByEntity(
    const std::string& entity, uint64_t from_position, size_t max) const {
  std::vector<EntityRegistration> out;
  if (source_ == nullptr) {
    auto it = by_entity_.find(entity);
    if (it == by_entity_.end()) return out;
    for (const auto& [patient, vaccination] : it->second) {
      const Patient* p = FindPatient(patient);
      const Vaccination* v = p ? p->Find(vaccination) : nullptr;
      if (v == nullptr || v->position < from_position) continue;
      if (out.size() == max) break;
      out.push_back({v->position, patient, vaccination});
    }
    return out;
  }
  const std::string prefix = "x/" + entity + "/";
  Status scanned =
      source_->Scan(prefix, prefix + PositionKey(from_position),
                    [&](const std::string& key, const std::string& value) {
                      if (out.size() == max) return false;
                      const size_t space = value.find(' ');
                      uint64_t position = 0;
                      for (char c : key.substr(prefix.size())) position = position * 10 + (c - '0');
                      if (space == std::string::npos) {
                        Fail(DataLoss("vaccinations index record " + key + " is malformed"));
                        return false;
                      }
                      out.push_back({position, value.substr(0, space), value.substr(space + 1)});
                      return true;
                    });
  if (!scanned.ok()) Fail(scanned);
  return out;
}

std::map<uint64_t, std::string> VaccinationsView::RevokedCertificates() const {
  if (source_ == nullptr) return revoked_;
  std::map<uint64_t, std::string> out;
  Status scanned = source_->Scan("k/", "k/", [&](const std::string& key, const std::string& v) {
    uint64_t position = 0;
    for (char c : key.substr(2)) position = position * 10 + (c - '0');
    out[position] = v;
    return true;
  });
  if (!scanned.ok()) Fail(scanned);
  return out;
}

void VaccinationsView::AppendStreamReads(std::vector<StreamRead>& out) const {
  for (const std::string& id : looked_up_) {
    if (id.starts_with("c/")) continue;  // a certificate index lookup
    const auto it = patients_.find(id);
    out.push_back({PatientStream(id), it == patients_.end()
                                          ? std::nullopt
                                          : std::optional<uint64_t>(it->second.version)});
  }
}

std::optional<std::string> VaccinationsView::EncodeRecord(const std::string& key) const {
  if (key.starts_with("v/")) {
    if (const Patient* p = FindPatient(key.substr(2))) return EncodePatient(*p);
    return std::nullopt;
  }
  if (key.starts_with("c/")) {
    if (const std::string* patient = CertificatePatient(key.substr(2))) return *patient;
    return std::nullopt;
  }
  if (key.starts_with("k/")) {
    uint64_t position = 0;
    for (char c : key.substr(2)) position = position * 10 + (c - '0');
    if (auto it = revoked_.find(position); it != revoked_.end()) return it->second;
    return std::nullopt;
  }
  if (key.starts_with("x/")) {
    if (auto it = new_by_entity_.find(key); it != new_by_entity_.end()) return it->second;
  }
  return std::nullopt;
}

// ---- Stock -----------------------------------------------------------------------------------

void StockView::Load(const std::string& entity) const {
  if (source_ == nullptr || !looked_up_.insert(entity).second) return;
  auto fail = [&](Status s) {
    if (load_status_.ok()) load_status_ = std::move(s);
  };
  auto record = source_->Get("s/" + entity);
  if (!record.ok()) return fail(record.status());
  std::optional<EntityStock> loaded;
  if (*record) {
    EntityStock stored;
    if (Status s = DecodeEntityStock(**record, stored); !s.ok()) {
      return fail(DataLoss("stock record s/" + entity + ": " + s.message()));
    }
    loaded.emplace();
    loaded->entity = entity;
    loaded->version = stored.version;
    loaded->has_stream = stored.has_stream;
  }
  const std::string prefix = "l/" + entity + "/";
  Status scanned = source_->Scan(prefix, prefix, [&](const std::string& key, const std::string& v) {
    StockLot lot;
    if (Status s = Decode(v, lot); !s.ok()) {
      fail(DataLoss("stock record " + key + ": " + s.message()));
      return false;
    }
    if (!loaded) {
      loaded.emplace();
      loaded->entity = entity;
    }
    loaded->lots[key.substr(prefix.size())] = std::move(lot);
    return true;
  });
  if (!scanned.ok()) return fail(scanned);
  if (loaded) stock_[entity] = std::move(*loaded);
}

void StockView::AppendStreamReads(std::vector<StreamRead>& out) const {
  for (const std::string& entity : looked_up_) {
    const auto it = stock_.find(entity);
    const bool has = it != stock_.end() && it->second.has_stream;
    out.push_back(
        {StockStream(entity), has ? std::optional<uint64_t>(it->second.version) : std::nullopt});
  }
}

StockLot& StockView::LotFor(const std::string& entity, const std::string& product,
                            const std::string& lot) {
  Load(entity);
  const std::string lot_key = product + "|" + lot;
  if (track_dirty_) dirty_.insert("l/" + entity + "/" + lot_key);
  EntityStock& s = stock_[entity];
  s.entity = entity;
  StockLot& l = s.lots[lot_key];
  l.product = product;
  l.lot = lot;
  return l;
}

void StockView::Apply(const DomainEvent& e) {
  const nlohmann::json& pl = e.payload;
  if (std::string entity = StreamId(e.stream, kStockPrefix); !entity.empty()) {
    Load(entity);
    if (track_dirty_) dirty_.insert("s/" + entity);
    EntityStock& s = stock_[entity];
    s.entity = entity;
    s.version = e.stream_version;
    s.has_stream = true;
    if (Is(e, event_type::kStockReceived)) {
      StockLot& l = LotFor(entity, Str(pl, "product"), Str(pl, "lot"));
      l.received += Int(pl, "quantity");
      l.expiry = Str(pl, "expiry");
    } else if (Is(e, event_type::kStockAdjusted)) {
      LotFor(entity, Str(pl, "product"), Str(pl, "lot")).adjusted += Int(pl, "delta");
    }
    return;
  }
  if (StreamId(e.stream, kPatientPrefix).empty() || e.entity.empty()) return;
  if (Is(e, event_type::kVaccinationRegistered)) {
    ++LotFor(e.entity, Str(pl, "product"), Str(pl, "lot")).used;
  } else if (Is(e, event_type::kVaccinationEnteredInError)) {
    --LotFor(e.entity, Str(pl, "product"), Str(pl, "lot")).used;
  } else if (Is(e, event_type::kVaccinationCorrected) && pl.contains("was") && pl.contains("now")) {
    const nlohmann::json& was = pl["was"];
    const nlohmann::json& now = pl["now"];
    if (Str(was, "product") != Str(now, "product") || Str(was, "lot") != Str(now, "lot")) {
      --LotFor(e.entity, Str(was, "product"), Str(was, "lot")).used;
      ++LotFor(e.entity, Str(now, "product"), Str(now, "lot")).used;
    }
  }
}

const EntityStock* StockView::Find(const std::string& entity) const {
  Load(entity);
  auto it = stock_.find(entity);
  return it == stock_.end() ? nullptr : &it->second;
}

namespace {

// "l/<entity>/<product>|<lot>" -> (entity, "<product>|<lot>"). Entity ids hold no "/".
std::pair<std::string, std::string> SplitLotKey(const std::string& key) {
  const size_t slash = key.find('/', 2);
  if (slash == std::string::npos) return {};
  return {key.substr(2, slash - 2), key.substr(slash + 1)};
}

}  // namespace

std::optional<std::string> StockView::EncodeRecord(const std::string& key) const {
  if (key.starts_with("s/")) {
    const EntityStock* s = Find(key.substr(2));
    if (s == nullptr) return std::nullopt;
    EntityStock record;  // the stream's version only: each lot is its own record
    record.entity = s->entity;
    record.version = s->version;
    record.has_stream = s->has_stream;
    return EncodeEntityStock(record);
  }
  auto [entity, lot_key] = SplitLotKey(key);
  const EntityStock* s = Find(entity);
  if (s == nullptr) return std::nullopt;
  auto it = s->lots.find(lot_key);
  if (it == s->lots.end()) return std::nullopt;
  return EncodeStockLot(it->second);
}

nlohmann::json RecordAsJson(const std::string& key, const std::string& value) {
  auto render = [&](auto record) -> nlohmann::json {
    if (Status s = Decode(value, record); !s.ok()) return {{"error", s.message()}};
    return record;
  };
  if (key.starts_with("e/")) return render(Entity{});
  if (key.starts_with("p/")) return render(Person{});
  if (key.starts_with("r/")) return render(Request{});
  if (key.starts_with("v/")) return render(Patient{});
  if (key.starts_with("l/")) return render(StockLot{});
  if (key.starts_with("s/")) {
    EntityStock s;
    if (Status st = DecodeEntityStock(value, s); !st.ok()) return {{"error", st.message()}};
    return {{"entity", s.entity}, {"version", s.version}, {"has_stream", s.has_stream}};
  }
  return value;  // an index record: text
}

}  // namespace vaxledger
