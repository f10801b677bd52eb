#include "core/certificate/dcc_payload.h"

#include <array>

#include "core/certificate/transliteration.h"
#include "core/vaccines.h"

namespace vaxledger::certificate {

namespace {

constexpr std::array kCodings = {
    DccCoding{"EU/1/20/1528", "1119349007", 2},      // Comirnaty
    DccCoding{"EU/1/20/1507", "1119349007", 2},      // Spikevax
    DccCoding{"EU/1/21/1529", "29061000087103", 2},  // Vaxzevria
    DccCoding{"EU/1/20/1525", "29061000087103", 1},  // Jcovden
};

bool Earlier(const Vaccination& a, const Vaccination& b) {
  return a.date != b.date ? a.date < b.date : a.position < b.position;
}

Result<std::string> Name(const std::string& name, const std::string& field, bool required) {
  if (name.empty()) {
    if (required) return InvalidArgument(field + " is required", field);
    return std::string();
  }
  auto n = Utf8Length(name);
  if (!n) return InvalidArgument(field + " is not valid UTF-8", field);
  if (*n > 80) return InvalidArgument(field + " must be at most 80 characters", field);
  return TransliterateIcao(name, field);
}

}  // namespace

const DccCoding* FindDccCoding(std::string_view product) {
  for (const DccCoding& c : kCodings) {
    if (c.product == product) return &c;
  }
  return nullptr;
}

Result<const Vaccination*> ChooseVaccination(const Patient& patient,
                                             const std::string& vaccination_id) {
  if (!vaccination_id.empty()) {
    const Vaccination* v = patient.Find(vaccination_id);
    if (v == nullptr) return NotFound("vaccination " + vaccination_id + " is not found");
    if (v->status != "active") {
      return FailedPrecondition("vaccination " + vaccination_id +
                                    " is entered in error: no certificate can be issued for it",
                                "vaccination");
    }
    if (FindDccCoding(v->product) == nullptr) {
      return FailedPrecondition("vaccination " + vaccination_id + " is of product " + v->product +
                                    ", not a COVID-19 vaccine of the EU DCC value sets",
                                "vaccination");
    }
    return v;
  }
  const Vaccination* latest = nullptr;
  for (const Vaccination& v : patient.vaccinations) {
    if (v.status != "active" || FindDccCoding(v.product) == nullptr) continue;
    if (latest == nullptr || Earlier(*latest, v)) latest = &v;
  }
  if (latest == nullptr) {
    return FailedPrecondition(
        "the patient has no active COVID-19 vaccination of the EU DCC value sets", "vaccination");
  }
  return latest;
}

DoseInSeries DoseNumbers(const Patient& patient, const Vaccination& chosen) {
  int primary = 2;
  const Vaccination* first = nullptr;
  for (const Vaccination& v : patient.vaccinations) {
    if (v.status != "active" || FindDccCoding(v.product) == nullptr || v.dose != 1) continue;
    if (first == nullptr || Earlier(v, *first)) first = &v;
  }
  if (first != nullptr) primary = FindDccCoding(first->product)->primary_doses;
  const int dn = std::max(1, chosen.dose);
  return {dn, primary == 1 ? 1 : std::max(2, dn)};
}

Result<nlohmann::json> BuildVaccinationDcc(const VaccinationDccInput& in) {
  VX_ASSIGN_OR_RETURN(std::string fnt, Name(in.family_name, "family_name", true));
  VX_ASSIGN_OR_RETURN(std::string gnt, Name(in.given_name, "given_name", false));
  if (in.vaccination == nullptr) return InvalidArgument("no vaccination", "vaccination");
  const DccCoding* coding = FindDccCoding(in.vaccination->product);
  const VaccineProduct* product = FindVaccineProduct(in.vaccination->product);
  if (coding == nullptr || product == nullptr) {
    return FailedPrecondition("product " + in.vaccination->product +
                                  " is not a COVID-19 vaccine of the EU DCC value sets",
                              "vaccination");
  }
  if (Utf8Length(in.issuer).value_or(81) > 80) {
    return InvalidArgument("the issuer must be at most 80 characters", "issuer");
  }
  nlohmann::json nam = {{"fn", in.family_name}, {"fnt", fnt}};
  if (!in.given_name.empty()) {
    nam["gn"] = in.given_name;
    nam["gnt"] = gnt;
  }
  return nlohmann::json{{"ver", "1.3.0"},
                        {"nam", nam},
                        {"dob", in.date_of_birth},
                        {"v", nlohmann::json::array({{{"tg", std::string(kCovid19Disease)},
                                                      {"vp", std::string(coding->vp)},
                                                      {"mp", std::string(coding->product)},
                                                      {"ma", std::string(product->holder_code)},
                                                      {"dn", in.dose.dn},
                                                      {"sd", in.dose.sd},
                                                      {"dt", in.vaccination->date},
                                                      {"co", in.country},
                                                      {"is", in.issuer},
                                                      {"ci", in.uvci}}})}};
}

}  // namespace vaxledger::certificate
