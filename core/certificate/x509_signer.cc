#include "core/certificate/x509_signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "core/crypto.h"

namespace vaxledger::certificate {

namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX, EVP_MD_CTX_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG, ECDSA_SIG_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME, X509_NAME_free>>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// The last OpenSSL error as text (and the error queue cleared).
std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

int64_t ToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string KeyType(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
    std::string g = group;
    if (g == "prime256v1") g = "P-256";
    if (g == "secp384r1") g = "P-384";
    if (g == "secp521r1") g = "P-521";
    return "EC " + g;
  }
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
    return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
  }
  return EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown";
}

Result<SignerCertificate> FromX509(X509* x) {
  SignerCertificate c;
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  if (n <= 0) return InvalidArgument("certificate: cannot encode as DER: " + OpenSslError());
  c.der.assign(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  const Hash h = Sha256(c.der);
  std::copy(h.begin(), h.begin() + 8, c.kid.begin());
  BioPtr pem(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(pem.get(), x);
  char* data = nullptr;
  const long len = BIO_get_mem_data(pem.get(), &data);
  c.pem.assign(data, static_cast<size_t>(len));
  BioPtr name(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(name.get(), X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
  const long nlen = BIO_get_mem_data(name.get(), &data);
  c.subject.assign(data, static_cast<size_t>(nlen));
  c.not_before_s = ToUnix(X509_get0_notBefore(x));
  c.not_after_s = ToUnix(X509_get0_notAfter(x));
  EVP_PKEY* key = X509_get_pubkey(x);
  if (key == nullptr)
    return InvalidArgument("certificate: no usable public key: " + OpenSslError());
  c.public_key = Share(key);
  c.key_type = KeyType(key);
  return c;
}

Result<Bytes> DigestSign(EVP_PKEY* key, ByteView message) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return Internal("ES256: cannot sign: " + OpenSslError());
  }
  Bytes der(len, 0);
  if (EVP_DigestSign(ctx.get(), der.data(), &len, message.data(), message.size()) != 1) {
    return Internal("ES256: cannot sign: " + OpenSslError());
  }
  der.resize(len);
  return der;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Internal("X.509: cannot make an extension: " + OpenSslError());
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::Ok() : Internal("X.509: cannot add an extension: " + OpenSslError());
}

// A certificate for `key` named `cn`, issued by `issuer` (nullptr: self-signed) with
// `issuer_key`.
Result<X509Ptr> MakeCertificate(EVP_PKEY* key, const std::string& cn, const SigningKeyOptions& o,
                                X509* issuer, EVP_PKEY* issuer_key, int64_t days, bool ca) {
  X509Ptr x(X509_new());
  if (!x) return Internal("X.509: out of memory");
  X509_set_version(x.get(), 2);
  uint8_t serial[16];
  RandomBytes(serial, sizeof serial);
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), static_cast<long>(days * 86400));
  X509_NAME* name = X509_get_subject_name(x.get());
  auto add = [&](const char* field, const std::string& value) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  };
  add("C", o.country);
  add("O", o.organisation);
  add("CN", cn);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(x.get(), key);
  X509* as_issuer = issuer ? issuer : x.get();
  VX_RETURN_IF_ERROR(AddExtension(x.get(), as_issuer, NID_subject_key_identifier, "hash"));
  VX_RETURN_IF_ERROR(
      AddExtension(x.get(), as_issuer, NID_authority_key_identifier, "keyid:always"));
  if (ca) {
    VX_RETURN_IF_ERROR(
        AddExtension(x.get(), as_issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    VX_RETURN_IF_ERROR(
        AddExtension(x.get(), as_issuer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    VX_RETURN_IF_ERROR(
        AddExtension(x.get(), as_issuer, NID_basic_constraints, "critical,CA:FALSE"));
    VX_RETURN_IF_ERROR(
        AddExtension(x.get(), as_issuer, NID_key_usage, "critical,digitalSignature"));
    VX_RETURN_IF_ERROR(
        AddExtension(x.get(), as_issuer, NID_ext_key_usage, "1.3.6.1.4.1.1847.2021.1.2"));
  }
  if (X509_sign(x.get(), issuer_key, EVP_sha256()) == 0) {
    return Internal("X.509: cannot sign the certificate: " + OpenSslError());
  }
  return x;
}

std::string PemOf(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> KeyPemOf(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Internal("cannot encode a private key: " + OpenSslError());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

std::string CoseAlgorithmName(int64_t alg) {
  switch (alg) {
    case kCoseEs256:
      return "ES256";
    case kCoseEs384:
      return "ES384";
    case kCoseEs512:
      return "ES512";
    case kCosePs256:
      return "PS256";
  }
  return "alg " + std::to_string(alg);
}

Result<std::vector<SignerCertificate>> ParseCertificates(std::string_view text) {
  std::vector<SignerCertificate> out;
  if (text.find("-----BEGIN") != std::string_view::npos) {
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    while (true) {
      X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!x) break;
      VX_ASSIGN_OR_RETURN(auto c, FromX509(x.get()));
      out.push_back(std::move(c));
    }
    ERR_clear_error();  // the end of the PEM blocks
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(text.size())));
    if (!x) return InvalidArgument("certificate: not PEM and not DER: " + OpenSslError());
    VX_ASSIGN_OR_RETURN(auto c, FromX509(x.get()));
    out.push_back(std::move(c));
  }
  if (out.empty()) return InvalidArgument("certificate: no certificate found in the PEM text");
  return out;
}

Status VerifyCoseSignature(const SignerCertificate& signer, int64_t alg, ByteView tbs,
                           ByteView signature) {
  EVP_PKEY* key = signer.public_key.get();
  const EVP_MD* md = nullptr;
  size_t half = 0;
  std::string curve;
  switch (alg) {
    case kCoseEs256:
      md = EVP_sha256();
      half = 32;
      curve = "EC P-256";
      break;
    case kCoseEs384:
      md = EVP_sha384();
      half = 48;
      curve = "EC P-384";
      break;
    case kCoseEs512:
      md = EVP_sha512();
      half = 66;
      curve = "EC P-521";
      break;
    case kCosePs256:
      md = EVP_sha256();
      break;
    default:
      return InvalidArgument("the algorithm " + CoseAlgorithmName(alg) + " is not supported");
  }
  Bytes der_signature;
  if (half != 0) {
    if (signer.key_type != curve) {
      return InvalidArgument(CoseAlgorithmName(alg) + " needs an " + curve +
                             " key; the signer has " + signer.key_type);
    }
    if (signature.size() != 2 * half) {
      return InvalidArgument(CoseAlgorithmName(alg) + " signature must be " +
                             std::to_string(2 * half) + " bytes (r || s), not " +
                             std::to_string(signature.size()));
    }
    SigPtr sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(signature.data(), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(signature.data() + half, static_cast<int>(half), nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return Internal("ECDSA: out of memory");
    }
    unsigned char* der = nullptr;
    const int n = i2d_ECDSA_SIG(sig.get(), &der);
    if (n <= 0) return Internal("ECDSA: cannot encode the signature");
    der_signature.assign(der, static_cast<size_t>(n));
    OPENSSL_free(der);
    signature = der_signature;
  } else if (!signer.key_type.starts_with("RSA")) {
    return InvalidArgument("PS256 needs an RSA key; the signer has " + signer.key_type);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return Internal("cannot start verifying: " + OpenSslError());
  }
  if (alg == kCosePs256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
                            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)) {
    return Internal("cannot set RSA-PSS parameters: " + OpenSslError());
  }
  const int ok =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), tbs.data(), tbs.size());
  ERR_clear_error();
  if (ok != 1) return DataLoss(CoseAlgorithmName(alg) + " signature does not verify");
  return Status::Ok();
}

Result<DocumentSigner> DocumentSigner::Load(std::string_view certificate_pem,
                                            std::string_view key_pem) {
  VX_ASSIGN_OR_RETURN(auto certs, ParseCertificates(certificate_pem));
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return InvalidArgument("document signer key: not a PEM private key: " + OpenSslError());
  }
  DocumentSigner s;
  s.key_ = Share(raw);
  s.certificate_ = std::move(certs.front());
  if (KeyType(raw) != "EC P-256") {
    return InvalidArgument("document signer key: must be EC P-256, not " + KeyType(raw));
  }
  if (EVP_PKEY_eq(raw, s.certificate_.public_key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("document signer key does not belong to its certificate");
  }
  return s;
}

Result<Bytes> DocumentSigner::SignEs256(ByteView message) const {
  VX_ASSIGN_OR_RETURN(Bytes der, DigestSign(key_.get(), message));
  const unsigned char* p = der.data();
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return Internal("ES256: cannot decode OpenSSL's signature");
  Bytes raw(64, 0);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + 32, 32) != 32) {
    return Internal("ES256: r or s does not fit 32 bytes");
  }
  return raw;
}

Result<SigningKeys> CreateSigningKeys(const SigningKeyOptions& options) {
  auto csca_key = Share(EVP_EC_gen("P-256"));
  auto dsc_key = Share(EVP_EC_gen("P-256"));
  if (!csca_key || !dsc_key) return Internal("cannot generate a P-256 key: " + OpenSslError());
  VX_ASSIGN_OR_RETURN(
      auto csca, MakeCertificate(csca_key.get(), options.organisation + " CSCA", options, nullptr,
                                 csca_key.get(), options.csca_days, true));
  VX_ASSIGN_OR_RETURN(
      auto dsc, MakeCertificate(dsc_key.get(), options.organisation + " DSC", options, csca.get(),
                                csca_key.get(), options.dsc_days, false));
  SigningKeys keys;
  keys.csca_certificate_pem = PemOf(csca.get());
  keys.dsc_certificate_pem = PemOf(dsc.get());
  VX_ASSIGN_OR_RETURN(keys.csca_key_pem, KeyPemOf(csca_key.get()));
  VX_ASSIGN_OR_RETURN(keys.dsc_key_pem, KeyPemOf(dsc_key.get()));
  return keys;
}

}  // namespace vaxledger::certificate
