#include "projections/views.h"

#include "core/personal_cipher.h"
#include "projections/payload_codec.h"

namespace vaxledger::projections {

namespace {

// The event types that views read; other events are passed on with a null payload.
bool IsRegistryEvent(std::string_view type) {
  for (std::string_view prefix : {"access.", "entity.", "link.", "unlink.", "member.",
                                  "qualification.", "vaccination.", "consent.", "care.", "stock.",
                                  "role.", "certificate.", "population.", "erasure.", "subject."}) {
    if (type.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace

int SchemaVersion(size_t view) {
  // One entry per view, in kViewNames order.
  // 3 (stock 4): records as FlatBuffers tables and index records beside them
  // (docs/storage.md, "Views").
  // 4 (stock 5): erased subjects (issue 16): `erased` fields, requests' index "s/".
  constexpr std::array<int, kViewCount> kVersions = {4, 4, 4, 5};
  return kVersions[view];
}

std::optional<size_t> ViewIndex(std::string_view name) {
  for (size_t i = 0; i < kViewCount; ++i) {
    if (kViewNames[i] == name) return i;
  }
  return std::nullopt;
}

void ApplyTo(RegistryState& state, size_t view, const DomainEvent& event) {
  switch (view) {
    case 0:
      state.membership.Apply(event);
      break;
    case 1:
      state.requests.Apply(event);
      break;
    case 2:
      state.vaccinations.Apply(event);
      break;
    default:
      state.stock.Apply(event);
      break;
  }
}

std::set<std::string> TakeDirty(RegistryState& state, size_t view) {
  switch (view) {
    case 0:
      return state.membership.TakeDirty();
    case 1:
      return state.requests.TakeDirty();
    case 2:
      return state.vaccinations.TakeDirty();
    default:
      return state.stock.TakeDirty();
  }
}

std::optional<std::string> EncodeRecord(const RegistryState& state, size_t view,
                                        const std::string& key) {
  switch (view) {
    case 0:
      return state.membership.EncodeRecord(key);
    case 1:
      return state.requests.EncodeRecord(key);
    case 2:
      return state.vaccinations.EncodeRecord(key);
    default:
      return state.stock.EncodeRecord(key);
  }
}

Result<DomainEvent> ToDomainEvent(const eventstore::RecordedEvent& r, const Subjects& subjects) {
  DomainEvent e;
  e.stream = r.event.stream;
  e.type = r.event.type;
  e.actor = r.event.actor.person;
  e.actor_role = r.event.actor.role;
  e.on_behalf_of = r.event.on_behalf_of.person;
  e.entity = r.event.entity;
  e.data_subject = r.event.data_subject;
  e.position = r.position;
  e.stream_version = r.stream_version;
  e.recorded_at_us = r.recorded_at_us;
  if (!IsRegistryEvent(e.type)) {
    e.payload = nullptr;
    return e;
  }
  auto payload = DecodePayload(e.type, AsBytes(r.event.payload));
  if (!payload.ok()) {
    return DataLoss("event at position " + std::to_string(r.position) + ": " +
                    payload.status().message());
  }
  e.payload = std::move(*payload);
  if (!r.event.personal_data.empty()) {
    auto key = subjects.Key(r.event.data_subject);
    if (!key.ok()) return key.status();
    if (!*key) {
      e.personal = {{"erased", true}};
      return e;
    }
    const ByteView event_id(r.event.event_id.bytes.data(), r.event.event_id.bytes.size());
    auto opened =
        OpenPersonal(**key, event_id, r.event.data_subject, AsBytes(r.event.personal_data));
    if (!opened.ok()) {
      return DataLoss("event at position " + std::to_string(r.position) + " (" + e.type +
                      "): " + opened.status().message());
    }
    auto personal = DecodePersonalData(AsBytes(*opened));
    if (!personal.ok()) {
      return DataLoss("event at position " + std::to_string(r.position) + " (" + e.type +
                      "): " + personal.status().message());
    }
    e.personal = std::move(*personal);
  }
  return e;
}

Result<eventstore::NewEvent> ToNewEvent(const DomainEvent& e, const eventstore::EventId& id,
                                        const eventstore::EventId& correlation,
                                        const Subjects& subjects) {
  eventstore::NewEvent n;
  n.event_id = id;
  n.stream = e.stream;
  n.type = e.type;
  n.actor = {e.actor, e.actor_role};
  if (!e.on_behalf_of.empty()) n.on_behalf_of = {e.on_behalf_of, "physician"};
  n.entity = e.entity;
  n.correlation_id = correlation;
  VX_ASSIGN_OR_RETURN(n.payload, EncodePayload(e.type, e.payload));
  if (e.personal.is_object()) {
    if (e.data_subject.empty()) {
      return InvalidArgument("data_subject: is required with personal data", "data_subject");
    }
    VX_ASSIGN_OR_RETURN(const std::string plain, EncodePersonalData(e.personal));
    VX_ASSIGN_OR_RETURN(auto key, subjects.Key(e.data_subject));
    if (!key) {
      return FailedPrecondition("the personal data of " + e.data_subject +
                                    " is erased: nothing new is written about them",
                                "data_subject");
    }
    VX_ASSIGN_OR_RETURN(n.personal_data,
                        SealPersonal(*key, ByteView(id.bytes.data(), id.bytes.size()),
                                     e.data_subject, AsBytes(plain)));
    n.data_subject = e.data_subject;
  }
  return n;
}

}  // namespace vaxledger::projections
