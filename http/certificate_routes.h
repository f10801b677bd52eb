// The proof-of-vaccination routes (SPEC §2 flow 7, issue 10; docs/api.md, docs/certificates.md):
//
//   POST /v1/patients/{patient}/certificates                  issue (201, Location)
//   GET  /v1/patients/{patient}/certificates                  the patient's certificates
//   GET  /v1/patients/{patient}/certificates/{uvci}           one certificate (with its HC1)
//   GET  /v1/patients/{patient}/certificates/{uvci}/qr.png    its QR code (PNG)
//   GET  /v1/patients/{patient}/certificates/{uvci}/qr.svg    its QR code (SVG)
//   GET  /v1/patients/{patient}/certificates/{uvci}/print     a printable page (?lang=nl|fr|en)
//   POST /v1/patients/{patient}/certificates/{uvci}/revocation  revoke, with a reason
//   GET  /v1/certificates/signers                             public: the signer certificates
//   GET  /v1/certificates/revocations                         public: the revocation list
//
// ({uvci} percent-encoded: "#" is %23.) Access: core/registry_certificates.h — issuing and
// reading need a session acting in an entity that registered an active vaccination of the
// patient (others 404, a role that cannot act 403); revoking needs the issuing entity or an
// administrator. Reads of a patient's certificates are recorded like reads of their record.
//
// Thread-safety: handlers run on any thread; everything they use is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/certificate/x509_signer.h"
#include "http/router.h"
#include "http/sessions.h"
#include "projections/read_recorder.h"
#include "projections/registry.h"

namespace vaxledger::http {

struct CertificateRoutesOptions {
  // The document signer. Default none: issuing answers 503 (the other routes still work).
  std::shared_ptr<const certificate::DocumentSigner> signer;
  // What GET /v1/certificates/signers publishes. Default: the signer's certificate.
  std::vector<certificate::SignerCertificate> published;
  // The DCC "is" field (at most 80 characters). Default "vaxledger".
  std::string issuer = "vaxledger";
  // The DCC "co" field and the CWT "iss" claim. Default "BE".
  std::string country = "BE";
  // How long a certificate is valid, in seconds; it never outlives its signer certificate.
  // Default one year (365 days).
  int64_t validity_s = 365 * 86400;
  // UTC microseconds; default the system clock.
  std::function<int64_t()> clock_us;
};

// Everything must outlive the router.
void AddCertificateRoutes(Router& router, projections::Registry& registry, SessionStore& sessions,
                          projections::ReadRecorder& reads, CertificateRoutesOptions options);

}  // namespace vaxledger::http
