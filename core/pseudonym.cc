#include "core/pseudonym.h"

#include <sodium.h>

namespace vaxledger {

Hash HmacSha256(ByteView key, ByteView message) {
  EnsureCryptoInitialised();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, message.data(), message.size());
  Hash out;
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

PseudonymKey Pseudonymizer::GenerateKey() {
  PseudonymKey key;
  RandomBytes(key.data(), key.size());
  return key;
}

std::string Pseudonymizer::Pseudonym(std::string_view kind, std::string_view identifier) const {
  Bytes message(AsBytes(kind));
  message.push_back(0x00);
  message.append(AsBytes(identifier));
  Hash mac = HmacSha256(ByteView(key_.data(), key_.size()), message);
  return HexEncode(ByteView(mac.data(), 16));
}

}  // namespace vaxledger
