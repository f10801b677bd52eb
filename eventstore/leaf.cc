#include "eventstore/leaf.h"

#include <cctype>
#include <cstring>

#include "eventstore/event_generated.h"

namespace vaxledger::eventstore {
namespace {

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> IdVector(flatbuffers::FlatBufferBuilder& b,
                                                           const EventId& id) {
  if (id.IsNil()) return 0;
  return b.CreateVector(id.bytes.data(), id.bytes.size());
}

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> ByteVector(flatbuffers::FlatBufferBuilder& b,
                                                             const std::string& s) {
  if (s.empty()) return 0;
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Status ValidateType(const std::string& type) {
  if (type.empty() || type.size() > 100)
    return InvalidArgument("type: must be 1..100 characters", "type");
  for (char c : type) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.')) {
      return InvalidArgument("type: only a-z, 0-9, _ and . are allowed", "type");
    }
  }
  return Status::Ok();
}

Status ValidateNewEvent(const NewEvent& e) {
  if (e.event_id.IsNil()) return InvalidArgument("event_id: must not be the nil id", "event_id");
  VX_RETURN_IF_ERROR(ValidateStreamName(e.stream));
  VX_RETURN_IF_ERROR(ValidateType(e.type));
  if (e.actor.person.empty()) return InvalidArgument("actor.person: is required", "actor.person");
  if (e.actor.role.empty()) return InvalidArgument("actor.role: is required", "actor.role");
  if (!e.personal_data.empty() && e.data_subject.empty()) {
    return InvalidArgument("data_subject: is required when personal_data is set", "data_subject");
  }
  return Status::Ok();
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::string BytesToString(const flatbuffers::Vector<uint8_t>* v) {
  return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
}

Status ReadId(const flatbuffers::Vector<uint8_t>* v, const char* field, EventId* out) {
  if (v == nullptr) return Status::Ok();  // nil
  if (v->size() != out->bytes.size()) {
    return DataLoss(std::string("leaf: ") + field + " is not 16 bytes");
  }
  std::memcpy(out->bytes.data(), v->data(), out->bytes.size());
  return Status::Ok();
}

Actor ReadActor(const fb::Actor* a) {
  if (a == nullptr) return {};
  return Actor{Str(a->person()), Str(a->role())};
}

Result<const fb::Event*> VerifiedEvent(ByteView leaf) {
  flatbuffers::Verifier verifier(leaf.data(), leaf.size());
  if (!fb::VerifyEventBuffer(verifier)) {
    return DataLoss("leaf: not a well-formed VXE1 event");
  }
  const fb::Event* e = fb::GetEvent(leaf.data());
  if (e->prev_leaf_hash() == nullptr || e->prev_leaf_hash()->size() != 32) {
    return DataLoss("leaf: prev_leaf_hash is not 32 bytes");
  }
  return e;
}

// Requires `e` to have passed VerifiedEvent.
LeafHeader HeaderOf(const fb::Event* e) {
  LeafHeader h;
  h.position = e->position();
  h.stream_version = e->stream_version();
  h.recorded_at_us = e->recorded_at_us();
  std::memcpy(h.prev_leaf_hash.data(), e->prev_leaf_hash()->data(), 32);
  return h;
}

}  // namespace

Result<Bytes> BuildLeaf(const NewEvent& e, size_t max_leaf_bytes) {
  VX_RETURN_IF_ERROR(ValidateNewEvent(e));
  // Size the builder so that one allocation usually suffices.
  flatbuffers::FlatBufferBuilder b(256 + e.payload.size() + e.personal_data.size());
  b.ForceDefaults(true);  // StampLeaf needs every scalar present to write it in place
  const Hash zero{};
  auto prev = b.CreateVector(zero.data(), zero.size());
  auto stream = b.CreateString(e.stream);
  auto event_id = IdVector(b, e.event_id);
  auto type = b.CreateString(e.type);
  auto actor = fb::CreateActor(b, b.CreateString(e.actor.person), b.CreateString(e.actor.role));
  flatbuffers::Offset<fb::Actor> behalf = 0;
  if (!e.on_behalf_of.empty()) {
    behalf = fb::CreateActor(b, b.CreateString(e.on_behalf_of.person),
                             b.CreateString(e.on_behalf_of.role));
  }
  auto entity = e.entity.empty() ? 0 : b.CreateString(e.entity);
  auto correlation = IdVector(b, e.correlation_id);
  auto causation = IdVector(b, e.causation_id);
  auto payload = ByteVector(b, e.payload);
  auto personal = ByteVector(b, e.personal_data);
  auto subject = e.data_subject.empty() ? 0 : b.CreateString(e.data_subject);
  auto root = fb::CreateEvent(b, /*position=*/0, prev, stream, /*stream_version=*/0, event_id, type,
                              /*recorded_at_us=*/0, actor, behalf, entity, correlation, causation,
                              payload, personal, subject);
  fb::FinishEventBuffer(b, root);
  if (b.GetSize() > max_leaf_bytes) {
    return InvalidArgument("event: encodes to " + std::to_string(b.GetSize()) +
                               " bytes, over the limit of " + std::to_string(max_leaf_bytes),
                           "payload");
  }
  return Bytes(b.GetBufferPointer(), b.GetSize());
}

void StampLeaf(Bytes& leaf, Position position, uint64_t stream_version, int64_t recorded_at_us,
               const Hash& prev_leaf_hash) {
  fb::Event* e = fb::GetMutableEvent(leaf.data());
  bool ok = e->mutate_position(position) && e->mutate_stream_version(stream_version) &&
            e->mutate_recorded_at_us(recorded_at_us);
  assert(ok && "StampLeaf requires a leaf built by BuildLeaf");
  (void)ok;
  std::memcpy(e->mutable_prev_leaf_hash()->data(), prev_leaf_hash.data(), prev_leaf_hash.size());
}

Result<LeafHeader> ReadLeafHeader(ByteView leaf) {
  VX_ASSIGN_OR_RETURN(const fb::Event* e, VerifiedEvent(leaf));
  return HeaderOf(e);
}

Result<std::optional<std::string>> ReadKeyRotation(ByteView leaf) {
  VX_ASSIGN_OR_RETURN(const fb::Event* e, VerifiedEvent(leaf));
  if (e->type() == nullptr || e->type()->string_view() != kKeyRotatedType) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(BytesToString(e->payload()));
}

Result<RecordedEvent> DecodeLeaf(Bytes leaf) {
  VX_ASSIGN_OR_RETURN(const fb::Event* e, VerifiedEvent(leaf));
  RecordedEvent r;
  const LeafHeader h = HeaderOf(e);
  r.position = h.position;
  r.stream_version = h.stream_version;
  r.recorded_at_us = h.recorded_at_us;
  r.prev_leaf_hash = h.prev_leaf_hash;
  NewEvent& n = r.event;
  VX_RETURN_IF_ERROR(ReadId(e->event_id(), "event_id", &n.event_id));
  VX_RETURN_IF_ERROR(ReadId(e->correlation_id(), "correlation_id", &n.correlation_id));
  VX_RETURN_IF_ERROR(ReadId(e->causation_id(), "causation_id", &n.causation_id));
  n.stream = Str(e->stream());
  n.type = Str(e->type());
  n.actor = ReadActor(e->actor());
  n.on_behalf_of = ReadActor(e->on_behalf_of());
  n.entity = Str(e->entity());
  n.payload = BytesToString(e->payload());
  n.personal_data = BytesToString(e->personal_data());
  n.data_subject = Str(e->data_subject());
  r.leaf_hash = LeafHash(leaf);
  r.leaf = std::move(leaf);
  return r;
}

}  // namespace vaxledger::eventstore
