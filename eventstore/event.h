// The event types of the log: what a caller appends (NewEvent) and what is read back
// (RecordedEvent), with the expected-version rules of an append.
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger::eventstore {

// A global position in the log: 0, 1, 2, ... without gaps, in commit order.
using Position = uint64_t;

// A 128-bit id (event id, correlation id, causation id). All-zero means "none".
struct EventId {
  std::array<uint8_t, 16> bytes{};

  static EventId Random();
  // Accepts the canonical UUID form (8-4-4-4-12 hex digits) or 32 hex digits.
  static Result<EventId> Parse(std::string_view text);
  std::string ToString() const;  // canonical UUID form
  bool IsNil() const;
  auto operator<=>(const EventId&) const = default;
};

struct Actor {
  std::string person;
  std::string role;
  bool empty() const { return person.empty() && role.empty(); }
  bool operator==(const Actor&) const = default;
};

// What a caller appends. The log assigns position, stream version, time and chain hash.
struct NewEvent {
  EventId event_id;           // required, not nil; appending a stored id is a no-op (idempotency)
  std::string stream;         // [A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}; never a personal identifier
  std::string type;           // [a-z0-9_.]{1,100}
  Actor actor;                // required: person and role
  Actor on_behalf_of;         // optional
  std::string entity;         // optional
  EventId correlation_id;     // optional (nil)
  EventId causation_id;       // optional (nil)
  std::string payload;        // optional
  std::string personal_data;  // optional; personal data only, see SPEC §3
  std::string data_subject;   // required when personal_data is set
};

// An event as stored, with its leaf and signature.
struct RecordedEvent {
  Position position = 0;
  uint64_t stream_version = 0;
  int64_t recorded_at_us = 0;  // UTC microseconds since the epoch
  Hash prev_leaf_hash{};
  NewEvent event;
  Bytes leaf;  // the stored bytes that are hashed and signed
  Hash leaf_hash{};
  KeyId key_id{};
  Signature signature{};
};

// What the stream must look like for an append to go ahead.
class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };

  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  static ExpectedVersion NoStream() { return ExpectedVersion(Kind::kNoStream, 0); }
  static ExpectedVersion StreamExists() { return ExpectedVersion(Kind::kStreamExists, 0); }
  // The stream's last event has version `version`.
  static ExpectedVersion Exactly(uint64_t version) {
    return ExpectedVersion(Kind::kExact, version);
  }

  Kind kind() const { return kind_; }
  uint64_t version() const { return version_; }
  // Whether a stream whose last version is `current` (nullopt: no stream) satisfies this.
  bool Matches(std::optional<uint64_t> current) const;
  std::string ToString() const;

 private:
  ExpectedVersion(Kind kind, uint64_t version) : kind_(kind), version_(version) {}
  Kind kind_;
  uint64_t version_;
};

struct StreamExpectation {
  std::string stream;
  ExpectedVersion expected = ExpectedVersion::Any();
};

// A batch is appended atomically: all of its events or none.
struct AppendBatch {
  std::vector<NewEvent> events;
  // At most one per stream; a stream without an entry accepts any version.
  std::vector<StreamExpectation> expectations;
};

struct AppendedEvent {
  Position position = 0;
  uint64_t stream_version = 0;
};

struct AppendResult {
  std::vector<AppendedEvent> events;  // in the order of AppendBatch::events
  bool already_stored = false;        // true when every event id was already in the log
};

// Key rotation is itself an event of the log: type kKeyRotatedType in stream kKeysStream, whose
// payload is the new key's verifier-key text. It is signed by the old key; the checkpoint of its
// commit and every later event are signed by the new one. Verifiers follow this chain from the
// first key (log_verifier.h). Only EventLog::RotateKey appends to this stream.
inline constexpr std::string_view kKeyRotatedType = "ledger.key_rotated";
inline constexpr std::string_view kKeysStream = "ledger.keys";

// InvalidArgument naming the field when `stream` is not a valid stream name.
Status ValidateStreamName(std::string_view stream, std::string_view field = "stream");

// The message an event signature covers: "vaxledger/event/v1\n" || leaf_hash.
Bytes EventSignedMessage(const Hash& leaf_hash);

// SHA-256(0x00 || leaf), RFC 6962 leaf hash.
Hash LeafHash(ByteView leaf);

}  // namespace vaxledger::eventstore
