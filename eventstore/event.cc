#include "eventstore/event.h"

#include <cctype>

#include "core/merkle.h"

namespace vaxledger::eventstore {

EventId EventId::Random() {
  EventId id;
  RandomBytes(id.bytes.data(), id.bytes.size());
  id.bytes[6] = (id.bytes[6] & 0x0f) | 0x40;  // RFC 4122 version 4
  id.bytes[8] = (id.bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return id;
}

Result<EventId> EventId::Parse(std::string_view text) {
  std::string digits;
  if (text.size() == 36) {
    for (size_t i = 0; i < text.size(); ++i) {
      bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_place != (text[i] == '-')) {
        return InvalidArgument("id: expected a UUID (8-4-4-4-12 hex digits)");
      }
      if (!dash_place) digits.push_back(text[i]);
    }
  } else if (text.size() == 32) {
    digits = std::string(text);
  } else {
    return InvalidArgument("id: expected a UUID (8-4-4-4-12 hex digits)");
  }
  for (char& c : digits) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  VX_ASSIGN_OR_RETURN(Bytes raw, HexDecode(digits, "id"));
  EventId id;
  std::copy(raw.begin(), raw.end(), id.bytes.begin());
  return id;
}

std::string EventId::ToString() const {
  std::string hex = HexEncode(ByteView(bytes.data(), bytes.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

bool EventId::IsNil() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

bool ExpectedVersion::Matches(std::optional<uint64_t> current) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kNoStream:
      return !current.has_value();
    case Kind::kStreamExists:
      return current.has_value();
    case Kind::kExact:
      return current.has_value() && *current == version_;
  }
  return false;
}

std::string ExpectedVersion::ToString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "stream exists";
    case Kind::kExact:
      return "version " + std::to_string(version_);
  }
  return "?";
}

Status ValidateStreamName(std::string_view stream, std::string_view field) {
  const std::string f(field);
  if (stream.empty() || stream.size() > 200) {
    return InvalidArgument(f + ": must be 1..200 characters", f);
  }
  if (!std::isalnum(static_cast<unsigned char>(stream[0]))) {
    return InvalidArgument(f + ": must start with a letter or digit", f);
  }
  for (char c : stream) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 ||
        !(std::isalnum(u) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-')) {
      return InvalidArgument(f + ": only letters, digits and _ . : / - are allowed", f);
    }
  }
  return Status::Ok();
}

Bytes EventSignedMessage(const Hash& leaf_hash) {
  static constexpr std::string_view kContext = "vaxledger/event/v1\n";
  Bytes msg(AsBytes(kContext));
  msg.append(leaf_hash.data(), leaf_hash.size());
  return msg;
}

Hash LeafHash(ByteView leaf) { return merkle::HashLeaf(leaf); }

}  // namespace vaxledger::eventstore
