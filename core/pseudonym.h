// Pseudonyms for personal identifiers (SPEC §3): fields that everyone entitled to an event can
// read — stream names above all — carry a keyed hash of an INSZ, never the INSZ.
//
//   pseudonym = hex( HMAC-SHA-256(pseudonym key, kind || 0x00 || identifier)[0..16] )
//
// `kind` separates uses ("patient", "person") so that one identifier gets unrelated pseudonyms
// in each. Without the 32-byte pseudonym key nobody can test a guessed INSZ against a stream
// name (INSZ numbers are few enough to enumerate, so a plain hash would not do).
// Thread-safety: immutable after construction.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger {

using PseudonymKey = std::array<uint8_t, 32>;

// HMAC-SHA-256 (RFC 2104, RFC 4231).
Hash HmacSha256(ByteView key, ByteView message);

class Pseudonymizer {
 public:
  explicit Pseudonymizer(const PseudonymKey& key) : key_(key) {}
  static PseudonymKey GenerateKey();

  // 32 lower-case hex digits.
  std::string Pseudonym(std::string_view kind, std::string_view identifier) const;

  // A stream name: kind ":" pseudonym, e.g. "patient:3f2a…".
  std::string StreamFor(std::string_view kind, std::string_view identifier) const {
    return std::string(kind) + ":" + Pseudonym(kind, identifier);
  }

 private:
  PseudonymKey key_;
};

}  // namespace vaxledger
