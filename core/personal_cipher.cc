#include "core/personal_cipher.h"

#include <sodium.h>

#include "core/crypto.h"

namespace vaxledger {
namespace {

constexpr uint8_t kVersion = 1;
constexpr std::string_view kContext = "vaxledger/personal/v1";

Bytes AdditionalData(ByteView event_id, std::string_view subject) {
  Bytes ad(AsBytes(kContext));
  ad.push_back(0x00);
  ad.append(event_id);
  ad.append(AsBytes(subject));
  return ad;
}

}  // namespace

Result<std::string> SealPersonal(const DataKey& key, ByteView event_id, std::string_view subject,
                                 ByteView message) {
  static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
  static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == 16);
  if (event_id.size() != 16) return InvalidArgument("event_id: must be 16 bytes", "event_id");
  EnsureCryptoInitialised();
  const Bytes ad = AdditionalData(event_id, subject);
  std::string out(kSealedOverhead + message.size(), '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kVersion;
  RandomBytes(p + 1, 24);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + 25, &written, message.data(), message.size(),
                                             ad.data(), ad.size(), nullptr, p + 1, key.data());
  out.resize(25 + written);
  return out;
}

Result<std::string> OpenPersonal(const DataKey& key, ByteView event_id, std::string_view subject,
                                 ByteView sealed) {
  if (sealed.size() < kSealedOverhead || sealed[0] != kVersion) {
    return DataLoss("personal data is not sealed (version 1, " + std::to_string(kSealedOverhead) +
                    " bytes at least)");
  }
  if (event_id.size() != 16) return InvalidArgument("event_id: must be 16 bytes", "event_id");
  EnsureCryptoInitialised();
  const Bytes ad = AdditionalData(event_id, subject);
  std::string out(sealed.size() - kSealedOverhead, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(out.data()), &written, nullptr, sealed.data() + 25,
          sealed.size() - 25, ad.data(), ad.size(), sealed.data() + 1, key.data()) != 0) {
    return DataLoss(
        "personal data does not open with the subject's key (tampered, or another "
        "key, event or subject)");
  }
  out.resize(written);
  return out;
}

}  // namespace vaxledger
