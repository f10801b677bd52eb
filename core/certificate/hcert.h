// The HCERT chain (eHealth Network, "Electronic Health Certificate Specification" 1.0.5):
//
//   hc1        = "HC1:" base45( zlib( cose ) )
//   cose       = #6.18([ protected: bstr .cbor header, unprotected: header, payload: bstr .cbor
//                cwt, signature: bstr ])                                    ; COSE_Sign1
//   header     = { ? 1 => alg (int), ? 4 => kid (bstr) }  ; issued: alg ES256 and kid, protected
//   cwt        = { 1 => iss (tstr), 6 => iat (int), 4 => exp (int), -260 => { 1 => dcc } }
//   Sig_structure = [ "Signature1", protected (the bstr as received), h'' (external aad),
//                     payload (the bstr as received) ]            ; what the signature covers
//
// Issuing (EncodeHcert) writes the claims in the order 1, 4, 6, -260, the protected header as
// {1: -7, 4: kid}, an empty unprotected header, and zlib at the best compression.
//
// Verifying (VerifyHcert) walks the chain and stops at the first step that fails, naming it:
//   prefix     the text does not start with "HC1:" (trailing whitespace is ignored)
//   base45     not valid base45 (RFC 9285)
//   zlib       not a zlib stream, or it inflates past max_inflated
//   cose       not a COSE_Sign1 (tag 18, or untagged, or inside CWT tag 61), a malformed header,
//              or a payload that is not a CWT claims map with claim -260 {1: map}
//   kid        no kid (protected header first; the unprotected one only when the protected
//              header has none), or no signer certificate with that kid
//   signature  no signer with that kid verifies the signature (alg: protected header first)
//   expired    `at` is past exp, or before iat; or a claim is missing
//   schema     the DCC does not validate against the DCC JSON schema
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/certificate/dcc_schema.h"
#include "core/certificate/x509_signer.h"
#include "core/crypto.h"
#include "core/status.h"

namespace vaxledger::certificate {

struct HcertClaims {
  std::string issuer = "BE";  // CWT iss: the issuing country
  int64_t issued_at_s = 0;    // CWT iat, Unix seconds
  int64_t expires_at_s = 0;   // CWT exp, Unix seconds
  nlohmann::json dcc;         // the payload (schema 1.3)
};

struct EncodedHcert {
  std::string hc1;        // "HC1:..."
  Bytes cose;             // the COSE_Sign1 bytes (before zlib)
  Bytes signature;        // r || s
  Hash signature_hash{};  // SHA-256 of the signature (what the ledger records)
};

// Signs `claims` with `signer`. InvalidArgument when exp is not after iat or is past the signer
// certificate's end; Internal for library failures.
Result<EncodedHcert> EncodeHcert(const HcertClaims& claims, const DocumentSigner& signer);

enum class HcertStep { kPrefix, kBase45, kZlib, kCose, kKid, kSignature, kExpired, kSchema };
// "prefix", "base45", "zlib", "COSE", "kid", "signature", "expired", "schema".
std::string_view HcertStepName(HcertStep step);

struct HcertVerifyOptions {
  int64_t at_s = 0;                   // the moment exp and iat are checked against
  const DccSchema* schema = nullptr;  // nullptr: DccSchema::Builtin()
  size_t max_text = 16384;            // longest HC1 text accepted. Default 16 KiB
  size_t max_inflated = 65536;        // most bytes zlib may inflate to. Default 64 KiB
};

struct HcertVerdict {
  bool valid = false;
  HcertStep failed = HcertStep::kPrefix;  // when !valid
  std::string detail;                     // what was wrong, or the summary when valid
  // What was read (filled as far as the chain got):
  int64_t alg = 0;
  Bytes kid;
  std::string signer_subject;
  std::string issuer;
  int64_t issued_at_s = 0;
  int64_t expires_at_s = 0;
  nlohmann::json dcc;
  Bytes cose;
};

HcertVerdict VerifyHcert(std::string_view text, std::span<const SignerCertificate> signers,
                         const HcertVerifyOptions& options);

// An RFC 3339 time ("2021-08-18T16:36:53+02:00", "...Z", fractions ignored) or a date
// ("2021-08-18", midnight UTC) as Unix seconds. InvalidArgument naming `field`.
Result<int64_t> ParseRfc3339(std::string_view text, const std::string& field);

// zlib (RFC 1950) at the best compression, and inflation bounded by `max_out`.
Result<Bytes> ZlibDeflate(ByteView data);
Result<Bytes> ZlibInflate(ByteView data, size_t max_out);

// `s` seconds since 1970 as UTC text, YYYY-MM-DDTHH:MM:SSZ.
std::string Utc(int64_t s);

}  // namespace vaxledger::certificate
