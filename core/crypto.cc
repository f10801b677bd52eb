#include "core/crypto.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace vaxledger {

void EnsureCryptoInitialised() {
  // sodium_init is thread-safe and idempotent; the static makes it cost one load afterwards.
  static const bool initialised = [] {
    if (sodium_init() < 0) {
      std::fputs("vaxledger: libsodium failed to initialise\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialised;
}

Hash Sha256(ByteView data) {
  EnsureCryptoInitialised();
  Hash out;
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

Hash Sha256(ByteView a, ByteView b) {
  EnsureCryptoInitialised();
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, a.data(), a.size());
  crypto_hash_sha256_update(&state, b.data(), b.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

void RandomBytes(uint8_t* out, size_t size) {
  EnsureCryptoInitialised();
  randombytes_buf(out, size);
}

Ed25519Key Ed25519Key::FromSeed(const Seed& seed) {
  EnsureCryptoInitialised();
  Ed25519Key key;
  key.seed_ = seed;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_.data(), seed.data());
  return key;
}

Ed25519Key Ed25519Key::Generate() {
  Seed seed;
  RandomBytes(seed.data(), seed.size());
  return FromSeed(seed);
}

Signature Ed25519Key::Sign(ByteView message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool Ed25519Verify(const PublicKey& key, ByteView message, const Signature& signature) {
  EnsureCryptoInitialised();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

}  // namespace vaxledger
