#include "tools/certificate_command.h"

#include <sys/stat.h>

#include <fmt/core.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/certificate/hcert.h"
#include "core/certificate/x509_signer.h"
#include "eventstore/registry_key.h"

namespace vaxledger::tools {

namespace {

using certificate::Utc;

std::string Path(const std::string& dir, const char* name) {
  return CertificateKeysDir(dir) + "/" + name;
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FailedPrecondition("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status WritePublic(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return FailedPrecondition("cannot write " + path);
  return Status::Ok();
}

Result<std::shared_ptr<const certificate::DocumentSigner>> LoadSigner(const std::string& dir) {
  VX_ASSIGN_OR_RETURN(std::string key,
                      eventstore::ReadSecretFile(Path(dir, "dsc.key"), "document signer key"));
  VX_ASSIGN_OR_RETURN(std::string cert, ReadAll(Path(dir, "dsc.crt")));
  VX_ASSIGN_OR_RETURN(auto signer, certificate::DocumentSigner::Load(cert, key + "\n"));
  return std::make_shared<const certificate::DocumentSigner>(std::move(signer));
}

int RunKeys(const std::string& dir, bool create) {
  if (create && !std::filesystem::exists(Path(dir, "dsc.key"))) {
    Status s = CreateCertificateKeys(dir);
    if (!s.ok()) {
      fmt::print(stderr, "vaxledger: {}\n", s.ToString());
      return 2;
    }
  }
  auto signer = LoadSigner(dir);
  if (!signer.ok()) {
    fmt::print(stderr, "vaxledger: {}\n", signer.status().ToString());
    return 2;
  }
  // The CSCA key is only checked, not loaded: it signs nothing while the registry runs.
  auto csca_key = eventstore::ReadSecretFile(Path(dir, "csca.key"), "CSCA key");
  auto csca_text = ReadAll(Path(dir, "csca.crt"));
  auto csca = csca_text.ok()
                  ? certificate::ParseCertificates(*csca_text)
                  : Result<std::vector<certificate::SignerCertificate>>(csca_text.status());
  auto show = [](const char* what, const certificate::SignerCertificate& c) {
    fmt::print("{}\n  subject     {}\n  key         {}\n  kid         {}\n  valid       {} .. {}\n",
               what, c.subject, c.key_type, Base64Encode(ByteView(c.kid.data(), c.kid.size())),
               Utc(c.not_before_s), Utc(c.not_after_s));
  };
  show("document signer (DSC)", (*signer)->certificate());
  fmt::print("  certificate {}\n  key         {} (0600)\n", Path(dir, "dsc.crt"),
             Path(dir, "dsc.key"));
  if (!csca.ok()) {
    fmt::print(stderr, "vaxledger: {}\n", csca.status().ToString());
    return 2;
  }
  show("country signing CA (CSCA)", csca->front());
  fmt::print("  certificate {}\n  key         {}\n", Path(dir, "csca.crt"),
             csca_key.ok() ? Path(dir, "csca.key") + " (0600)" : csca_key.status().message());
  return csca_key.ok() ? 0 : 2;
}

int RunVerify(const std::vector<std::string>& dsc_files, const std::string& at,
              const std::string& schema_file, const std::string& file) {
  auto cannot = [](const Status& s) {
    fmt::print(stderr, "vaxledger: {}\n", s.ToString());
    return 2;
  };
  std::vector<certificate::SignerCertificate> signers;
  for (const std::string& path : dsc_files) {
    auto text = ReadAll(path);
    if (!text.ok()) return cannot(text.status());
    auto certs = certificate::ParseCertificates(*text);
    if (!certs.ok())
      return cannot(Status(certs.status().code(), path + ": " + certs.status().message()));
    signers.insert(signers.end(), certs->begin(), certs->end());
  }
  certificate::HcertVerifyOptions options;
  options.at_s = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  if (!at.empty()) {
    auto t = certificate::ParseRfc3339(at, "--at");
    if (!t.ok()) return cannot(t.status());
    options.at_s = *t;
  }
  std::optional<certificate::DccSchema> schema;
  if (!schema_file.empty()) {
    auto loaded = certificate::DccSchema::LoadFile(schema_file);
    if (!loaded.ok()) return cannot(loaded.status());
    schema = std::move(loaded).value();
    options.schema = &*schema;
  }
  std::string text;
  if (file == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else {
    auto read = ReadAll(file);
    if (!read.ok()) return cannot(read.status());
    text = *read;
  }
  const auto verdict = certificate::VerifyHcert(text, signers, options);
  if (!verdict.valid) {
    fmt::print("invalid: {}: {}\n", certificate::HcertStepName(verdict.failed), verdict.detail);
    return 1;
  }
  fmt::print("{}\n", verdict.detail);
  return 0;
}

}  // namespace

std::string CertificateKeysDir(const std::string& dir) { return dir + "/certificates"; }

Status CreateCertificateKeys(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(CertificateKeysDir(dir), ec);
  if (ec)
    return FailedPrecondition("cannot create " + CertificateKeysDir(dir) + ": " + ec.message());
  for (const char* key : {"csca.key", "dsc.key"}) {
    if (std::filesystem::exists(Path(dir, key))) {
      return Status(Code::kAlreadyExists, Path(dir, key) + " already exists");
    }
  }
  VX_ASSIGN_OR_RETURN(auto keys, certificate::CreateSigningKeys());
  // Keys first (0600, never overwritten), then the public certificates.
  VX_RETURN_IF_ERROR(
      eventstore::CreateSecretFile(Path(dir, "csca.key"), "CSCA key", keys.csca_key_pem));
  VX_RETURN_IF_ERROR(
      eventstore::CreateSecretFile(Path(dir, "dsc.key"), "document signer key", keys.dsc_key_pem));
  VX_RETURN_IF_ERROR(WritePublic(Path(dir, "csca.crt"), keys.csca_certificate_pem));
  VX_RETURN_IF_ERROR(WritePublic(Path(dir, "dsc.crt"), keys.dsc_certificate_pem));
  return Status::Ok();
}

Result<http::CertificateRoutesOptions> CertificateRoutesFor(const std::string& dir,
                                                            const std::string& issuer) {
  http::CertificateRoutesOptions options;
  if (!issuer.empty()) options.issuer = issuer;
  if (!std::filesystem::exists(Path(dir, "dsc.key"))) {
    fmt::print(stderr,
               "vaxledger: {} has no document signer key: no certificates can be issued (run "
               "`vaxledger certificate keys --create --data {}`)\n",
               CertificateKeysDir(dir), dir);
    return options;
  }
  VX_ASSIGN_OR_RETURN(options.signer, LoadSigner(dir));
  return options;
}

CertificateCommands::CertificateCommands(CLI::App& app) {
  auto* cert = app.add_subcommand("certificate", "proofs of vaccination (EU DCC): keys, verify");
  cert->require_subcommand(1);
  keys_ = cert->add_subcommand("keys", "show the CSCA and document signer certificates");
  keys_->add_option("--data", dir_, "data directory")->required();
  keys_->add_flag("--create", create_, "create them when the directory has none");
  verify_ = cert->add_subcommand("verify", "verify an HC1 certificate offline");
  verify_->add_option("--dsc", dsc_files_, "document signer certificate(s), PEM or DER")
      ->required();
  verify_->add_option("--at", at_, "the moment to check (RFC 3339; default now)");
  verify_->add_option("--schema", schema_, "a DCC JSON schema (default: the built-in 1.3.3)");
  verify_->add_option("file", file_, "a file holding the HC1 text, or - for standard input")
      ->required();
}

std::optional<int> CertificateCommands::Run() const {
  if (keys_->parsed()) return RunKeys(dir_, create_);
  if (verify_->parsed()) return RunVerify(dsc_files_, at_, schema_, file_);
  return std::nullopt;
}

}  // namespace vaxledger::tools
