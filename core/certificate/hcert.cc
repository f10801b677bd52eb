#include "core/certificate/hcert.h"

#include <zlib.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "core/certificate/base45.h"
#include "core/certificate/cbor_value.h"

namespace vaxledger::certificate {

namespace {

constexpr std::string_view kPrefix = "HC1:";
constexpr int64_t kHeaderAlg = 1;
constexpr int64_t kHeaderKid = 4;
constexpr int64_t kClaimIss = 1;
constexpr int64_t kClaimExp = 4;
constexpr int64_t kClaimIat = 6;
constexpr int64_t kClaimHcert = -260;

Result<Bytes> SigStructure(const Bytes& protected_bytes, const Bytes& payload) {
  return CborEncode(
      CborValue::Array({CborValue::Text("Signature1"), CborValue::ByteString(protected_bytes),
                        CborValue::ByteString({}), CborValue::ByteString(payload)}));
}

// A NumericDate claim (RFC 8392: int or float) as whole seconds.
std::optional<int64_t> NumericDate(const CborValue* v) {
  if (v == nullptr) return std::nullopt;
  if (v->IsInt()) return v->AsInt();
  if (v->kind == CborValue::Kind::kFloat && std::isfinite(v->real) && std::fabs(v->real) < 1e15) {
    return static_cast<int64_t>(std::floor(v->real));
  }
  return std::nullopt;
}

}  // namespace

std::string_view HcertStepName(HcertStep step) {
  switch (step) {
    case HcertStep::kPrefix:
      return "prefix";
    case HcertStep::kBase45:
      return "base45";
    case HcertStep::kZlib:
      return "zlib";
    case HcertStep::kCose:
      return "COSE";
    case HcertStep::kKid:
      return "kid";
    case HcertStep::kSignature:
      return "signature";
    case HcertStep::kExpired:
      return "expired";
    case HcertStep::kSchema:
      return "schema";
  }
  return "?";
}

Result<int64_t> ParseRfc3339(std::string_view t, const std::string& field) {
  auto bad = [&] {
    return InvalidArgument(field + " must be an RFC 3339 time (2021-08-18T16:36:53Z) or a date",
                           field);
  };
  auto digits = [&](size_t at, size_t n, int* out) {
    if (at + n > t.size()) return false;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (!digits(0, 4, &y) || t.size() < 10 || t[4] != '-' || !digits(5, 2, &mo) || t[7] != '-' ||
      !digits(8, 2, &d)) {
    return bad();
  }
  int64_t offset = 0;
  if (t.size() > 10) {
    if ((t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, &h) || t.size() < 19 ||
        t[13] != ':' || !digits(14, 2, &mi) || t[16] != ':' || !digits(17, 2, &s)) {
      return bad();
    }
    size_t i = 19;
    if (i < t.size() && t[i] == '.') {
      ++i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    }
    if (i == t.size()) return bad();
    if (t[i] == 'Z' || t[i] == 'z') {
      if (i + 1 != t.size()) return bad();
    } else if (t[i] == '+' || t[i] == '-') {
      int oh, om;
      if (i + 6 != t.size() || !digits(i + 1, 2, &oh) || t[i + 3] != ':' ||
          !digits(i + 4, 2, &om)) {
        return bad();
      }
      offset = (t[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
      return bad();
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return bad();
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + s - offset;
}

Result<Bytes> ZlibDeflate(ByteView data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  Bytes out(size, 0);
  if (compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()),
                Z_BEST_COMPRESSION) != Z_OK) {
    return Internal("zlib: cannot compress");
  }
  out.resize(size);
  return out;
}

Result<Bytes> ZlibInflate(ByteView data, size_t max_out) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return Internal("zlib: cannot start inflating");
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  Bytes out;
  uint8_t chunk[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > max_out) {
      inflateEnd(&z);
      return InvalidArgument("zlib: inflates to more than " + std::to_string(max_out) + " bytes");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      rc = Z_BUF_ERROR;  // the stream ended early
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return InvalidArgument(std::string("zlib: not a complete zlib stream (") +
                           (z.msg ? z.msg : "truncated") + ")");
  }
  if (z.avail_in != 0) return InvalidArgument("zlib: bytes after the end of the zlib stream");
  return out;
}

Result<EncodedHcert> EncodeHcert(const HcertClaims& claims, const DocumentSigner& signer) {
  if (claims.expires_at_s <= claims.issued_at_s) {
    return InvalidArgument("the certificate must expire after it is issued", "expires_at");
  }
  if (claims.expires_at_s > signer.certificate().not_after_s) {
    return InvalidArgument("the certificate would expire after its signer certificate (" +
                               Utc(signer.certificate().not_after_s) + ")",
                           "expires_at");
  }
  const Kid& kid = signer.certificate().kid;
  VX_ASSIGN_OR_RETURN(
      Bytes protected_bytes,
      CborEncode(CborValue::Map(
          {{CborValue::Int(kHeaderAlg), CborValue::Int(kCoseEs256)},
           {CborValue::Int(kHeaderKid), CborValue::ByteString(Bytes(kid.begin(), kid.end()))}})));
  VX_ASSIGN_OR_RETURN(Bytes payload,
                      CborEncode(CborValue::Map(
                          {{CborValue::Int(kClaimIss), CborValue::Text(claims.issuer)},
                           {CborValue::Int(kClaimExp), CborValue::Int(claims.expires_at_s)},
                           {CborValue::Int(kClaimIat), CborValue::Int(claims.issued_at_s)},
                           {CborValue::Int(kClaimHcert),
                            CborValue::Map({{CborValue::Int(1), JsonToCbor(claims.dcc)}})}})));
  VX_ASSIGN_OR_RETURN(Bytes tbs, SigStructure(protected_bytes, payload));
  EncodedHcert out;
  VX_ASSIGN_OR_RETURN(out.signature, signer.SignEs256(tbs));
  VX_ASSIGN_OR_RETURN(out.cose,
                      CborEncode(CborValue::Tag(
                          18, CborValue::Array({CborValue::ByteString(protected_bytes),
                                                CborValue::Map({}), CborValue::ByteString(payload),
                                                CborValue::ByteString(out.signature)}))));
  VX_ASSIGN_OR_RETURN(Bytes compressed, ZlibDeflate(out.cose));
  out.hc1 = std::string(kPrefix) + Base45Encode(compressed);
  out.signature_hash = Sha256(out.signature);
  return out;
}

HcertVerdict VerifyHcert(std::string_view text, std::span<const SignerCertificate> signers,
                         const HcertVerifyOptions& options) {
  HcertVerdict v;
  auto fail = [&](HcertStep step, std::string detail) {
    v.valid = false;
    v.failed = step;
    v.detail = std::move(detail);
    return v;
  };
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (text.size() > options.max_text) {
    return fail(HcertStep::kPrefix,
                "longer than " + std::to_string(options.max_text) + " characters");
  }
  if (!text.starts_with(kPrefix)) return fail(HcertStep::kPrefix, "does not start with HC1:");
  auto compressed = Base45Decode(text.substr(kPrefix.size()));
  if (!compressed.ok()) return fail(HcertStep::kBase45, compressed.status().message());
  auto cose_bytes = ZlibInflate(*compressed, options.max_inflated);
  if (!cose_bytes.ok()) return fail(HcertStep::kZlib, cose_bytes.status().message());
  v.cose = *cose_bytes;

  // COSE_Sign1.
  auto cose = CborDecode(*cose_bytes, "COSE");
  if (!cose.ok()) return fail(HcertStep::kCose, cose.status().message());
  const CborValue* sign1 = &*cose;
  if (sign1->kind == CborValue::Kind::kTag && sign1->number == 61) sign1 = &sign1->items[0];
  if (sign1->kind == CborValue::Kind::kTag) {
    if (sign1->number != 18) {
      return fail(HcertStep::kCose,
                  "tag " + std::to_string(sign1->number) + " is not COSE_Sign1 (18)");
    }
    sign1 = &sign1->items[0];
  }
  if (sign1->kind != CborValue::Kind::kArray || sign1->items.size() != 4) {
    return fail(HcertStep::kCose, "COSE_Sign1 must be an array of 4 items");
  }
  const CborValue& protected_bstr = sign1->items[0];
  const CborValue& unprotected = sign1->items[1];
  const CborValue& payload_bstr = sign1->items[2];
  const CborValue& signature = sign1->items[3];
  if (protected_bstr.kind != CborValue::Kind::kBytes) {
    return fail(HcertStep::kCose, "the protected header is not a byte string");
  }
  if (unprotected.kind != CborValue::Kind::kMap) {
    return fail(HcertStep::kCose, "the unprotected header is not a map");
  }
  if (payload_bstr.kind != CborValue::Kind::kBytes) {
    return fail(HcertStep::kCose,
                "the payload is not a byte string (detached payloads are not used)");
  }
  if (signature.kind != CborValue::Kind::kBytes) {
    return fail(HcertStep::kCose, "the signature is not a byte string");
  }
  CborValue protected_header = CborValue::Map({});
  if (!protected_bstr.bytes.empty()) {
    auto h = CborDecode(protected_bstr.bytes, "COSE protected header");
    if (!h.ok()) return fail(HcertStep::kCose, h.status().message());
    if (h->kind != CborValue::Kind::kMap) {
      return fail(HcertStep::kCose, "the protected header is not a map");
    }
    protected_header = std::move(h).value();
  }
  const CborValue* alg = protected_header.Find(kHeaderAlg);
  if (alg == nullptr) alg = unprotected.Find(kHeaderAlg);
  if (alg == nullptr || !alg->IsInt() || !alg->AsInt()) {
    return fail(HcertStep::kCose, "no alg (an integer) in the header");
  }
  v.alg = *alg->AsInt();
  // The CWT claims.
  auto cwt = CborDecode(payload_bstr.bytes, "CWT");
  if (!cwt.ok()) return fail(HcertStep::kCose, cwt.status().message());
  if (cwt->kind != CborValue::Kind::kMap) return fail(HcertStep::kCose, "the CWT is not a map");
  const CborValue* hcert = cwt->Find(kClaimHcert);
  const CborValue* dcc = hcert ? hcert->Find(1) : nullptr;
  if (dcc == nullptr || dcc->kind != CborValue::Kind::kMap) {
    return fail(HcertStep::kCose, "the CWT has no claim -260 {1: DCC map}");
  }
  if (const CborValue* iss = cwt->Find(kClaimIss); iss && iss->kind == CborValue::Kind::kText) {
    v.issuer = iss->text;
  }

  // kid: the protected header's wins; the unprotected one counts only without it.
  const CborValue* kid = protected_header.Find(kHeaderKid);
  if (kid == nullptr) kid = unprotected.Find(kHeaderKid);
  if (kid == nullptr) return fail(HcertStep::kKid, "no kid in the protected or unprotected header");
  if (kid->kind != CborValue::Kind::kBytes)
    return fail(HcertStep::kKid, "the kid is not a byte string");
  v.kid = kid->bytes;
  std::vector<const SignerCertificate*> candidates;
  for (const SignerCertificate& s : signers) {
    if (Bytes(s.kid.begin(), s.kid.end()) == kid->bytes) candidates.push_back(&s);
  }
  if (candidates.empty()) {
    return fail(HcertStep::kKid, "no signer certificate has the kid " + Base64Encode(kid->bytes));
  }

  auto tbs = SigStructure(protected_bstr.bytes, payload_bstr.bytes);
  if (!tbs.ok()) return fail(HcertStep::kSignature, tbs.status().message());
  Status last;
  bool verified = false;
  for (const SignerCertificate* s : candidates) {
    last = VerifyCoseSignature(*s, v.alg, *tbs, signature.bytes);
    if (last.ok()) {
      verified = true;
      v.signer_subject = s->subject;
      break;
    }
  }
  if (!verified) return fail(HcertStep::kSignature, last.message());

  auto iat = NumericDate(cwt->Find(kClaimIat));
  auto exp = NumericDate(cwt->Find(kClaimExp));
  if (!exp) return fail(HcertStep::kExpired, "the CWT has no exp (expiry) claim");
  v.expires_at_s = *exp;
  if (iat) v.issued_at_s = *iat;
  if (options.at_s > *exp) {
    return fail(HcertStep::kExpired,
                "expired at " + Utc(*exp) + " (checked at " + Utc(options.at_s) + ")");
  }
  if (iat && options.at_s < *iat) {
    return fail(HcertStep::kExpired, "issued at " + Utc(*iat) + ", after the moment checked (" +
                                         Utc(options.at_s) + ")");
  }

  auto json = CborToJson(*dcc);
  if (!json.ok()) return fail(HcertStep::kSchema, json.status().message());
  v.dcc = *json;
  const DccSchema& schema = options.schema ? *options.schema : DccSchema::Builtin();
  if (Status s = schema.Validate(v.dcc); !s.ok()) return fail(HcertStep::kSchema, s.message());
  v.valid = true;
  std::string kind = v.dcc.contains("v")   ? "vaccination"
                     : v.dcc.contains("t") ? "test"
                                           : "recovery";
  v.detail = "valid " + kind + " certificate, " + CoseAlgorithmName(v.alg) + " kid " +
             Base64Encode(v.kid) + ", issuer " + (v.issuer.empty() ? "?" : v.issuer) +
             ", expires " + Utc(*exp);
  return v;
}

std::string Utc(int64_t s) {
  const time_t t = static_cast<time_t>(s);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace vaxledger::certificate
