#include "core/certificate/hcert.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/certificate/base45.h"
#include "core/certificate/cbor_value.h"
#include "core/certificate/dcc_payload.h"
#include "core/certificate/uvci.h"

namespace vaxledger::certificate {
namespace {

using nlohmann::json;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::filesystem::path> VectorFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(VX_VECTORS_DIR "/dcc")) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json") && name != "DCC.combined-schema.json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("the verifier agrees with every EU test certificate's expected verdict") {
  const auto files = VectorFiles();
  REQUIRE(files.size() == 10);
  for (const auto& path : files) {
    const json v = json::parse(Read(path));
    INFO(path.filename().string() << ": " << v["TESTCTX"]["DESCRIPTION"]);
    auto der = Base64Decode(v["TESTCTX"]["CERTIFICATE"].get<std::string>());
    REQUIRE(der.ok());
    auto signers = ParseCertificates(AsChars(*der));
    REQUIRE(signers.ok());
    HcertVerifyOptions options;
    options.at_s = *ParseRfc3339(v["TESTCTX"]["VALIDATIONCLOCK"].get<std::string>(), "clock");
    const HcertVerdict verdict = VerifyHcert(v["PREFIX"].get<std::string>(), *signers, options);
    INFO(HcertStepName(verdict.failed) << ": " << verdict.detail);
    const json& expected = v["EXPECTEDRESULTS"];
    if (expected.value("EXPECTEDVERIFY", true)) {
      CHECK(verdict.valid);
      if (v.contains("JSON")) CHECK(verdict.dcc == v["JSON"]);
    } else {
      CHECK_FALSE(verdict.valid);
      CHECK((verdict.failed == HcertStep::kKid || verdict.failed == HcertStep::kSignature));
    }
  }
}

TEST_CASE("each step of the vectors' chains is what the verifier decodes") {
  for (const auto& path : VectorFiles()) {
    const json v = json::parse(Read(path));
    if (!v.contains("BASE45")) continue;
    INFO(path.filename().string());
    CHECK(v["PREFIX"].get<std::string>() == "HC1:" + v["BASE45"].get<std::string>());
    auto compressed = Base45Decode(v["BASE45"].get<std::string>());
    REQUIRE(compressed.ok());
    CHECK(HexEncode(*compressed) == v["COMPRESSED"].get<std::string>());
    auto cose = ZlibInflate(*compressed, 65536);
    REQUIRE(cose.ok());
    CHECK(HexEncode(*cose) == v["COSE"].get<std::string>());
    auto dcc = CborDecode(*HexDecode(v["CBOR"].get<std::string>()), "CBOR");
    REQUIRE(dcc.ok());
  }
}

TEST_CASE("the vectors' signer certificates give their kid; PS256 and ES256 keys are read") {
  const json ch = json::parse(Read(VX_VECTORS_DIR "/dcc/CH-1.json"));
  auto signers =
      ParseCertificates(AsChars(*Base64Decode(ch["TESTCTX"]["CERTIFICATE"].get<std::string>())));
  REQUIRE(signers.ok());
  CHECK(signers->front().key_type.starts_with("RSA"));
  CHECK(HexEncode(ByteView(signers->front().kid.data(), 8)) == "24bc6b7b7bd2c328");
  const json de = json::parse(Read(VX_VECTORS_DIR "/dcc/DE-1.json"));
  auto de_signers =
      ParseCertificates(AsChars(*Base64Decode(de["TESTCTX"]["CERTIFICATE"].get<std::string>())));
  REQUIRE(de_signers.ok());
  CHECK(de_signers->front().key_type == "EC P-256");
  CHECK(HexEncode(ByteView(de_signers->front().kid.data(), 8)) == "0c4b15512be91401");
}

// A fresh CSCA and DSC, as `vaxledger init` makes them.
const DocumentSigner& TestSigner() {
  static const DocumentSigner* signer = [] {
    auto keys = CreateSigningKeys();
    REQUIRE(keys.ok());
    auto s = DocumentSigner::Load(keys->dsc_certificate_pem, keys->dsc_key_pem);
    REQUIRE(s.ok());
    return new DocumentSigner(std::move(s).value());
  }();
  return *signer;
}

HcertClaims Claims(json dcc) {
  HcertClaims c;
  c.issued_at_s = TestSigner().certificate().not_before_s + 60;
  c.expires_at_s = c.issued_at_s + 365 * 86400;
  c.dcc = std::move(dcc);
  return c;
}

HcertVerifyOptions At(int64_t s) {
  HcertVerifyOptions o;
  o.at_s = s;
  return o;
}

Patient PatientWith(std::vector<std::pair<std::string, std::string>> doses) {
  Patient p;
  p.id = "p1";
  int n = 0;
  for (const auto& [product, date] : doses) {
    Vaccination v;
    v.id = "vac-" + std::to_string(++n);
    v.product = product;
    v.dose = n;
    v.date = date;
    v.position = n;
    p.vaccinations.push_back(v);
  }
  return p;
}

TEST_CASE("round trip: every COVID-19 product and dose pattern is issued and verifies") {
  struct Case {
    std::vector<std::pair<std::string, std::string>> doses;
    std::string vp;
    int dn, sd;
  };
  const std::vector<Case> cases = {
      {{{"EU/1/20/1525", "2021-05-01"}}, "29061000087103", 1, 1},  // Jcovden 1/1
      {{{"EU/1/20/1525", "2021-05-01"}, {"EU/1/20/1528", "2021-11-01"}}, "1119349007", 2, 1},
      {{{"EU/1/20/1528", "2021-05-01"}}, "1119349007", 1, 2},
      {{{"EU/1/20/1528", "2021-05-01"}, {"EU/1/20/1528", "2021-06-01"}}, "1119349007", 2, 2},
      {{{"EU/1/20/1507", "2021-05-01"}, {"EU/1/20/1507", "2021-06-01"}}, "1119349007", 2, 2},
      {{{"EU/1/21/1529", "2021-05-01"}, {"EU/1/21/1529", "2021-07-01"}}, "29061000087103", 2, 2},
      {{{"EU/1/21/1529", "2021-05-01"},
        {"EU/1/21/1529", "2021-07-01"},
        {"EU/1/20/1507", "2021-12-01"}},
       "1119349007",
       3,
       3},
      {{{"EU/1/20/1528", "2021-05-01"},
        {"EU/1/20/1528", "2021-06-01"},
        {"EU/1/20/1528", "2021-12-01"},
        {"EU/1/20/1528", "2022-09-01"}},
       "1119349007",
       4,
       4},
  };
  for (const Case& c : cases) {
    const Patient p = PatientWith(c.doses);
    auto chosen = ChooseVaccination(p, "");
    REQUIRE(chosen.ok());
    VaccinationDccInput in;
    in.family_name = "Peeters-Van Damme";
    in.given_name = "Marie Louise";
    in.date_of_birth = "1980-02-29";
    in.vaccination = *chosen;
    in.dose = DoseNumbers(p, **chosen);
    in.issuer = "vaxledger test registry";
    in.uvci = NewUvci();
    auto dcc = BuildVaccinationDcc(in);
    REQUIRE(dcc.ok());
    auto issued = EncodeHcert(Claims(*dcc), TestSigner());
    REQUIRE(issued.ok());
    const auto signer = std::vector{TestSigner().certificate()};
    const HcertVerdict v = VerifyHcert(issued->hc1, signer, At(Claims(*dcc).issued_at_s + 10));
    INFO(c.doses.back().first << " " << HcertStepName(v.failed) << ": " << v.detail);
    REQUIRE(v.valid);
    CHECK(v.alg == kCoseEs256);
    CHECK(v.issuer == "BE");
    CHECK(v.dcc["v"][0]["vp"] == c.vp);
    CHECK(v.dcc["v"][0]["mp"] == c.doses.back().first);
    CHECK(v.dcc["v"][0]["dn"] == c.dn);
    CHECK(v.dcc["v"][0]["sd"] == c.sd);
    CHECK(v.dcc["v"][0]["ci"] == in.uvci);
    CHECK(v.dcc["nam"]["fnt"] == "PEETERS<VAN<DAMME");
    CHECK(v.dcc["nam"]["gnt"] == "MARIE<LOUISE");
    CHECK(issued->signature_hash == Sha256(issued->signature));
  }
}

json SampleDcc() {
  const Patient p = PatientWith({{"EU/1/20/1528", "2021-05-01"}, {"EU/1/20/1528", "2021-06-01"}});
  VaccinationDccInput in;
  in.family_name = "Peeters";
  in.given_name = "An";
  in.date_of_birth = "1980-02-29";
  in.vaccination = &p.vaccinations[1];
  in.dose = DoseNumbers(p, p.vaccinations[1]);
  in.issuer = "vaxledger";
  in.uvci = NewUvci();
  return *BuildVaccinationDcc(in);
}

// The HC1 text of `cose` (zlib, base45, prefix), for tampering below the signature.
std::string Wrap(const Bytes& cose) { return "HC1:" + Base45Encode(*ZlibDeflate(cose)); }

TEST_CASE("every step of the chain tampered is refused with that step named") {
  const HcertClaims claims = Claims(SampleDcc());
  auto issued = EncodeHcert(claims, TestSigner());
  REQUIRE(issued.ok());
  const auto signers = std::vector{TestSigner().certificate()};
  const HcertVerifyOptions at = At(claims.issued_at_s + 10);
  auto step = [&](const std::string& text, const HcertVerifyOptions& o) {
    const HcertVerdict v = VerifyHcert(text, signers, o);
    INFO(v.detail);
    CHECK_FALSE(v.valid);
    return v.failed;
  };
  REQUIRE(VerifyHcert(issued->hc1 + "\n", signers, at).valid);

  CHECK(step("HC2:" + issued->hc1.substr(4), at) == HcertStep::kPrefix);
  CHECK(step(issued->hc1.substr(4), at) == HcertStep::kPrefix);

  std::string bad45 = issued->hc1;
  bad45[10] = 'a';
  CHECK(step(bad45, at) == HcertStep::kBase45);

  Bytes compressed = *Base45Decode(issued->hc1.substr(4));
  compressed[0] ^= 0x01;  // the zlib header check fails
  CHECK(step("HC1:" + Base45Encode(compressed), at) == HcertStep::kZlib);
  compressed = *Base45Decode(issued->hc1.substr(4));
  compressed.resize(compressed.size() - 6);  // truncated stream
  CHECK(step("HC1:" + Base45Encode(compressed), at) == HcertStep::kZlib);

  CHECK(step(Wrap(*CborEncode(CborValue::Array({CborValue::Int(1)}))), at) == HcertStep::kCose);
  CHECK(step(Wrap(*CborEncode(CborValue::Tag(98, CborValue::Array({})))), at) == HcertStep::kCose);
  CHECK(step(Wrap(Bytes{0xD2, 0x84}), at) == HcertStep::kCose);

  // Another registry's DSC: no certificate with this kid.
  auto other = CreateSigningKeys();
  REQUIRE(other.ok());
  auto other_signers = ParseCertificates(other->dsc_certificate_pem);
  REQUIRE(other_signers.ok());
  const HcertVerdict wrong_kid = VerifyHcert(issued->hc1, *other_signers, at);
  CHECK(wrong_kid.failed == HcertStep::kKid);

  // The payload changed after signing (another name), the signature kept.
  CborValue cose = *CborDecode(issued->cose, "cose");
  CborValue cwt = *CborDecode(cose.items[0].items[2].bytes, "cwt");
  for (auto& [k, v] : cwt.entries) {
    if (k.AsInt() == -260)
      v.entries[0].second = JsonToCbor([&] {
        json d = claims.dcc;
        d["nam"]["fn"] = "Janssens";
        return d;
      }());
  }
  cose.items[0].items[2].bytes = *CborEncode(cwt);
  CHECK(step(Wrap(*CborEncode(cose)), at) == HcertStep::kSignature);
  // The signature itself changed.
  cose = *CborDecode(issued->cose, "cose");
  cose.items[0].items[3].bytes[5] ^= 0x40;
  CHECK(step(Wrap(*CborEncode(cose)), at) == HcertStep::kSignature);
  // A certificate with this kid but another key (a kid collision) does not verify either.
  auto impostor = *other_signers;
  impostor[0].kid = TestSigner().certificate().kid;
  CHECK(VerifyHcert(issued->hc1, impostor, at).failed == HcertStep::kSignature);

  CHECK(step(issued->hc1, At(claims.expires_at_s + 1)) == HcertStep::kExpired);
  CHECK(step(issued->hc1, At(claims.issued_at_s - 1)) == HcertStep::kExpired);
  CHECK(VerifyHcert(issued->hc1, signers, At(claims.expires_at_s)).valid);

  json bad = claims.dcc;
  bad["v"][0]["dn"] = 0;
  HcertClaims bad_claims = claims;
  bad_claims.dcc = bad;
  CHECK(step(EncodeHcert(bad_claims, TestSigner())->hc1, at) == HcertStep::kSchema);
}

TEST_CASE("a certificate may not outlive its signer, nor expire before it is issued") {
  HcertClaims c = Claims(SampleDcc());
  c.expires_at_s = TestSigner().certificate().not_after_s + 1;
  CHECK(EncodeHcert(c, TestSigner()).status().field() == "expires_at");
  c.expires_at_s = c.issued_at_s;
  CHECK(!EncodeHcert(c, TestSigner()).ok());
}

TEST_CASE("RFC 3339 times") {
  CHECK(*ParseRfc3339("2021-08-18T16:36:53+02:00", "t") == 1629297413);
  CHECK(*ParseRfc3339("2021-05-03T18:00:00Z", "t") == 1620064800);
  CHECK(*ParseRfc3339("2021-05-03T18:00:00.123Z", "t") == 1620064800);
  CHECK(*ParseRfc3339("1970-01-02", "t") == 86400);
  CHECK(!ParseRfc3339("2021-02-30T00:00:00Z", "t").ok());
  CHECK(!ParseRfc3339("2021-05-03 18:00", "t").ok());
  CHECK(ParseRfc3339("x", "at").status().field() == "at");
}

}  // namespace
}  // namespace vaxledger::certificate
