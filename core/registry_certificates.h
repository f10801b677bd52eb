// Flow 7 (SPEC §2, issue 10): the commands that record proofs of vaccination on the patient's
// stream, and the pure functions that decide them (as core/registry_commands.h's Decide does).
//
// The certificate itself (payload, signature, HC1) is made outside the decision, by the HTTP
// route (http/certificate_routes.cc) with core/certificate/: signing is randomised (ECDSA) and
// a decision takes no randomness. The route reads the state, builds and signs the certificate,
// then executes IssueCertificate, which checks the same rules again on the state the append is
// decided on: a certificate whose event is refused is never handed out.
//
//   certificate.issued   stream patient:<id>; payload {uvci, vaccination_id, kid,
//                        signature_sha256, dn, sd, issued_at_us, expires_at_us}; personal
//                        {family_name, given_name, hc1} about the patient
//   certificate.revoked  stream patient:<id>; payload {uvci, reason}
//
// Who may issue: a physician, a HAIO or a staff member acting for a physician (ActingIn) of an
// entity that registered a vaccination of the patient that is not entered in error; anyone else
// is told the patient is not found. Who may revoke: a member of the issuing entity (acting as
// for issuing) or an administrator.
//
// Refusals (Status::field names the field):
//   NotFound            no such patient for the caller, no such vaccination or certificate
//   FailedPrecondition  the vaccination is entered in error or not a COVID-19 vaccine of the DCC
//                       value sets (vaccination); the certificate is already revoked (uvci)
//   AlreadyExists       the UVCI was issued before (uvci)
//   InvalidArgument     a malformed UVCI, kid, hash, time or reason
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/registry_state.h"
#include "core/status.h"

namespace vaxledger {

struct Caller;
struct Decision;

struct IssueCertificate {
  std::string patient;  // patient id
  std::string vaccination_id;
  std::string uvci;
  std::string kid;               // base64 of the 8-byte kid
  std::string signature_sha256;  // base64 of SHA-256 over the COSE signature
  int dn = 0;
  int sd = 0;
  int64_t expires_at_us = 0;
  std::string family_name;  // personal data
  std::string given_name;
  std::string hc1;
};

struct RevokeCertificate {
  std::string patient;
  std::string uvci;
  std::string reason;
};

// Whether `caller` may issue certificates for `patient` (and read its certificates): NotFound
// unless the caller acts in an entity with an active registration for the patient.
Status CheckCertificateAccess(const RegistryState& state, const Caller& caller,
                              const std::string& patient);

Result<Decision> DecideIssueCertificate(const RegistryState& state, const Caller& caller,
                                        const IssueCertificate& command);
Result<Decision> DecideRevokeCertificate(const RegistryState& state, const Caller& caller,
                                         const RevokeCertificate& command);

}  // namespace vaxledger
