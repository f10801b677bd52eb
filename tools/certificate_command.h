// `vaxledger certificate ...` and the certificate keys of a data directory (issue 10):
//
//   DIR/certificates/csca.crt   the country signing CA certificate (PEM), public
//   DIR/certificates/csca.key   its P-256 private key (PKCS#8 PEM), mode 0600
//   DIR/certificates/dsc.crt    the document signer certificate (PEM) the CSCA issued, public
//   DIR/certificates/dsc.key    its P-256 private key (PKCS#8 PEM), mode 0600
//
// Keys are refused when readable by group or others, as the registry key is.
//
//   vaxledger certificate keys --data DIR [--create]
//       shows both certificates (kid, subject, validity); --create makes them when missing
//   vaxledger certificate verify --dsc CERT_FILE [--dsc ...] [--at TIME] [--schema FILE] FILE|-
//       verifies an HC1 text offline (core/certificate/hcert.h). Exit 0 and one summary line
//       when valid; 1 naming the failed step (prefix, base45, zlib, COSE, kid, signature,
//       expired, schema); 2 when it cannot run (unreadable file, no certificate, bad --at).
//
// Thread-safety: functions for the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "http/certificate_routes.h"

namespace vaxledger::tools {

std::string CertificateKeysDir(const std::string& dir);

// Creates the CSCA and the DSC in DIR/certificates/. AlreadyExists when a key is there.
Status CreateCertificateKeys(const std::string& dir);

// The routes' options for DIR: its document signer, or none (with a warning printed) when the
// directory has no certificate keys. An error when a key is there but unusable (too open,
// malformed, not matching its certificate).
Result<http::CertificateRoutesOptions> CertificateRoutesFor(const std::string& dir,
                                                            const std::string& issuer);

// Adds `certificate keys` and `certificate verify` to `app`; Run() runs the one parsed.
class CertificateCommands {
 public:
  explicit CertificateCommands(CLI::App& app);
  // The exit code, or nullopt when no certificate command was given.
  std::optional<int> Run() const;

 private:
  CLI::App* keys_ = nullptr;
  CLI::App* verify_ = nullptr;
  std::string dir_;
  bool create_ = false;
  std::vector<std::string> dsc_files_;
  std::string at_;
  std::string schema_;
  std::string file_;
};

}  // namespace vaxledger::tools
