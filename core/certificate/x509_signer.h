// The HCERT keys over OpenSSL (Debian's libssl-dev): document signer certificates (DSC) and
// their country signing CA (CSCA), ES256 signing, and ES256 / PS256 verification of COSE
// signatures with a signer certificate's public key.
//
//   kid = the first 8 bytes of SHA-256 over the signer certificate's DER (HCERT §3.3.1)
//   ES256 signature = r || s, 32 bytes each, big-endian (RFC 8152 §8.1), not DER
//   PS256 = RSASSA-PSS with SHA-256, MGF1 with SHA-256 (RFC 8230); the salt length is read from
//           the signature (OpenSSL's RSA_PSS_SALTLEN_AUTO); COSE signers use 32
//   ES384 / ES512 (P-384 / P-521) are verified too; nothing else is.
//
// Every OpenSSL failure becomes a Status here; no OpenSSL type leaves this file but as the
// opaque key handle.
//
// Thread-safety: SignerCertificate and DocumentSigner are immutable once made; OpenSSL 3's
// EVP calls on a shared key are thread-safe, so Sign and Verify may run on any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace vaxledger::certificate {

using Kid = std::array<uint8_t, 8>;

// COSE algorithm identifiers (RFC 8152, RFC 8230).
inline constexpr int64_t kCoseEs256 = -7;
inline constexpr int64_t kCoseEs384 = -35;
inline constexpr int64_t kCoseEs512 = -36;
inline constexpr int64_t kCosePs256 = -37;

// The COSE name of `alg` ("ES256"), or "alg N".
std::string CoseAlgorithmName(int64_t alg);

struct SignerCertificate {
  Bytes der;
  Kid kid{};
  std::string pem;
  std::string subject;       // one line, RFC 2253
  std::string key_type;      // "EC P-256", "RSA 3072", ...
  int64_t not_before_s = 0;  // Unix seconds
  int64_t not_after_s = 0;
  std::shared_ptr<evp_pkey_st> public_key;
};

// Every certificate in `text`: one or more PEM blocks, or one DER certificate.
// InvalidArgument when there is none or one does not parse.
Result<std::vector<SignerCertificate>> ParseCertificates(std::string_view text);

// Checks `signature` of `to_be_signed` under `alg` with the certificate's key. OK when valid;
// DataLoss "signature does not verify"; InvalidArgument for an unsupported algorithm, a key of
// the wrong type for it, or a signature of the wrong length.
Status VerifyCoseSignature(const SignerCertificate& signer, int64_t alg, ByteView to_be_signed,
                           ByteView signature);

// A document signer: a P-256 private key and its certificate.
class DocumentSigner {
 public:
  // InvalidArgument when the key is not a P-256 key or does not belong to the certificate.
  static Result<DocumentSigner> Load(std::string_view certificate_pem, std::string_view key_pem);

  const SignerCertificate& certificate() const { return certificate_; }
  // ES256 over `message`: r || s (64 bytes).
  Result<Bytes> SignEs256(ByteView message) const;

 private:
  SignerCertificate certificate_;
  std::shared_ptr<evp_pkey_st> key_;
};

struct SigningKeyOptions {
  std::string country = "BE";  // C of both names
  std::string organisation = "vaxledger";
  // The CSCA's and the DSC's validity, from now. Defaults: 10 years and 2 years (a DSC must
  // outlive the certificates it signs: one year by default, never past the DSC's end).
  int64_t csca_days = 3650;
  int64_t dsc_days = 730;
};

struct SigningKeys {
  std::string csca_certificate_pem;
  std::string csca_key_pem;  // PKCS#8
  std::string dsc_certificate_pem;
  std::string dsc_key_pem;  // PKCS#8
};

// A new P-256 CSCA (self-signed, CA) and a P-256 DSC it issued (key usage digitalSignature,
// extended key usage 1.3.6.1.4.1.1847.2021.1.2: vaccination certificates).
Result<SigningKeys> CreateSigningKeys(const SigningKeyOptions& options = {});

}  // namespace vaxledger::certificate
