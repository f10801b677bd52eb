// Writes the seeds of the payload_codec harness: one encoded payload of every event type with
// every field its commands write, and one personal part, each prefixed by the harness's table
// byte (payload_codec_fuzz.cc). Deterministic; run once by hand, the output is committed:
//
//   build-fuzz/tests/fuzz/fuzz_make_payload_seeds tests/fuzz/corpus/payload_codec
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "projections/payload_codec.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;
using nlohmann::json;

namespace {

// An example of each type's payload (the fields of docs/domain.md); types not listed get
// {"request_id", "reason"} or {"person", "role"}.
const std::map<std::string, json>& Examples() {
  static const std::map<std::string, json> examples = {
      {"access.requested",
       {{"request_id", "r1"},
        {"terms_version", "terms-2026-01"},
        {"riziv", "10001234004"},
        {"role", "physician"},
        {"entity", ""},
        {"new_entity",
         {{"kind", "practice"},
          {"name", "Praktijk"},
          {"kbo", "0403019261"},
          {"region", "flanders"}}}}},
      {"access.approved", {{"request_id", "r1"}, {"entity", "e1"}, {"reason", ""}}},
      {"entity.created",
       {{"entity", "e1"},
        {"kind", "practice"},
        {"name", "Praktijk"},
        {"kbo", ""},
        {"region", "brussels"},
        {"request_id", "r1"}}},
      {"member.linked",
       {{"person", "p1"},
        {"role", "staff"},
        {"riziv", ""},
        {"trainer", ""},
        {"linked_to", {"p2", "p3"}},
        {"request_id", "r2"}}},
      {"member.unlinked", {{"person", "p1"}, {"request_id", "r3"}}},
      {"link.requested",
       {{"request_id", "r2"},
        {"person", "p1"},
        {"role", "haio"},
        {"riziv", "10005234005"},
        {"trainer", "p2"}}},
      {"unlink.requested", {{"request_id", "r3"}, {"members", {"p1"}}}},
      {"qualification.changed",
       {{"person", "p1"}, {"riziv", "10005234004"}, {"role", "physician"}}},
      {"vaccination.registered",
       {{"vaccination_id", "v1"},
        {"patient", "0123456789abcdef0123456789abcdef"},
        {"product", "EU/1/20/1528"},
        {"lot", "FK1234"},
        {"dose", 1},
        {"date", "2026-11-20"},
        {"performer", "p1"},
        {"consent", {{"decision", "given"}, {"date", "2026-11-20"}, {"by", "p1"}}}}},
      {"vaccination.corrected",
       {{"vaccination_id", "v1"},
        {"reason", "typo"},
        {"was",
         {{"product", "EU/1/20/1528"}, {"lot", "FK1234"}, {"dose", 1}, {"date", "2026-11-20"}}},
        {"now",
         {{"product", "EU/1/20/1528"}, {"lot", "FK9999"}, {"dose", 2}, {"date", "2026-11-20"}}}}},
      {"vaccination.entered_in_error",
       {{"vaccination_id", "v1"},
        {"reason", "wrong patient"},
        {"product", "EU/1/20/1528"},
        {"lot", "FK1234"}}},
      {"consent.recorded",
       {{"vaccination_id", "v1"}, {"decision", "refused"}, {"date", "2026-11-21"}, {"by", "p1"}}},
      {"care.declared", {{"patient", "pt1"}, {"reason", "urgent"}, {"until_us", 1795608000000000}}},
      {"certificate.issued",
       {{"uvci", "URN:UVCI:01:BE:ABC#X"},
        {"vaccination_id", "v1"},
        {"kid", "AQEBAQEBAQE="},
        {"signature_sha256", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="},
        {"dn", 2},
        {"sd", 2},
        {"issued_at_us", 1795521600000000},
        {"expires_at_us", 1827057600000000}}},
      {"certificate.revoked", {{"uvci", "URN:UVCI:01:BE:ABC#X"}, {"reason", "mistake"}}},
      {"stock.received",
       {{"product", "EU/1/20/1528"},
        {"lot", "FK1234"},
        {"expiry", "2027-06-30"},
        {"quantity", 100}}},
      {"stock.adjusted",
       {{"product", "EU/1/20/1528"}, {"lot", "FK1234"}, {"delta", -3}, {"reason", "broken"}}},
      {"patient.read", {{"patient", "pt1"}}},
      {"patients.read",
       {{"reads", json::array({{{"patient", "pt1"}, {"at_us", 1795521600000000}},
                               {{"patient", "pt2"}, {"at_us", 1795521600000001}}})}}},
  };
  return examples;
}

void Write(const std::string& path, uint8_t table, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(table));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fuzz::Violated("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_payload_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const auto& types = projections::PayloadTypes();
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string type(types[i]);
    json example = {{"request_id", "r1"}, {"reason", "a reason"}};
    if (type.starts_with("role.")) example = {{"person", "p1"}, {"role", "auditor"}};
    if (auto it = Examples().find(type); it != Examples().end()) example = it->second;
    auto bytes = projections::EncodePayload(type, example);
    if (!bytes.ok()) fuzz::Violated(type + ": " + bytes.status().ToString());
    Write(dir + "/" + type, static_cast<uint8_t>(i), *bytes);
  }
  auto personal = projections::EncodePersonalData({{"insz", "85073000123"},
                                                   {"name", "Pat Ient"},
                                                   {"email", "pat@example.be"},
                                                   {"birth_date", "1985-07-30"},
                                                   {"family_name", "Ient"},
                                                   {"given_name", "Pat"},
                                                   {"hc1", "HC1:6BFOXN"}});
  if (!personal.ok()) fuzz::Violated(personal.status().ToString());
  Write(dir + "/personal", static_cast<uint8_t>(types.size()), *personal);
  std::printf("%zu seeds written under %s\n", types.size() + 1, dir.c_str());
  return 0;
}
