// SHA-256 and Ed25519 (RFC 8032) over libsodium.
//
// Every function here calls sodium_init() once, on first use, from any thread.
// Thread-safe: pure functions; Ed25519Key is immutable after construction.
#pragma once

#include <array>
#include <cstdint>

#include "core/encoding.h"
#include "core/status.h"

namespace vaxledger {

using Hash = std::array<uint8_t, 32>;
using PublicKey = std::array<uint8_t, 32>;
using Seed = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

inline ByteView AsBytes(const Hash& h) { return ByteView(h.data(), h.size()); }

// Aborts the process if libsodium cannot initialise (it then has no safe random source).
void EnsureCryptoInitialised();

Hash Sha256(ByteView data);
// SHA-256 of the concatenation a || b.
Hash Sha256(ByteView a, ByteView b);

// Fills `out` with random bytes from the OS.
void RandomBytes(uint8_t* out, size_t size);

// An Ed25519 signing key (the 32-byte RFC 8032 secret "seed" and its public key).
class Ed25519Key {
 public:
  static Ed25519Key FromSeed(const Seed& seed);
  static Ed25519Key Generate();

  const Seed& seed() const { return seed_; }
  const PublicKey& public_key() const { return public_key_; }

  Signature Sign(ByteView message) const;

 private:
  Seed seed_{};
  PublicKey public_key_{};
  std::array<uint8_t, 64> secret_{};  // libsodium's expanded form: seed || public key
};

// True if `signature` is a valid Ed25519 signature of `message` by `key`.
bool Ed25519Verify(const PublicKey& key, ByteView message, const Signature& signature);

}  // namespace vaxledger
