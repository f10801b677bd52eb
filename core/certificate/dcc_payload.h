// The DCC payload (schema 1.3) of a vaccination certificate, built from what the registry knows.
//
//   {"ver": "1.3.0",
//    "nam": {"fn": family name, "fnt": ICAO 9303 of it, "gn": given name, "gnt": ICAO of it},
//    "dob": YYYY-MM-DD (or YYYY, YYYY-MM, "" when unknown),
//    "v": [{"tg": "840539006", "vp": ..., "mp": product, "ma": holder, "dn": n, "sd": n,
//           "dt": YYYY-MM-DD, "co": "BE", "is": issuer, "ci": UVCI}]}
//
// The encoding table (DccCodings): Comirnaty and Spikevax vp 1119349007 (mRNA vaccine),
// Vaxzevria and Jcovden vp 29061000087103 (non-replicating viral vector vaccine); mp is the EU
// product number and ma the holder's ORG code, both from core/vaccines.h.
//
// Dose number and series total (DoseInSeries), as the registry knows them: dn is the dose
// number registered; the primary course is 1 dose when the patient's first COVID-19 dose (dose
// 1) is Jcovden, else 2. Then sd = 1 after a 1-dose course (Jcovden 1/1, a booster after it
// 2/1), and sd = max(2, dn) after a 2-dose course (1/2, 2/2, boosters 3/3, 4/4).
//
// Thread-safety: pure functions over immutable data.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/registry_state.h"
#include "core/status.h"

namespace vaxledger::certificate {

struct DccCoding {
  std::string_view product;  // mp, e.g. "EU/1/20/1528"
  std::string_view vp;       // vaccine or prophylaxis, SNOMED CT
  int primary_doses = 2;
};

// The coding of `product`, or nullptr when it is not a COVID-19 vaccine of the DCC value sets.
const DccCoding* FindDccCoding(std::string_view product);

struct DoseInSeries {
  int dn = 0;
  int sd = 0;
};

// The active COVID-19 vaccination of `patient` a certificate is for: `vaccination_id`, or with
// an empty id the latest one (by date, then registration). FailedPrecondition naming
// "vaccination" when it is entered in error, not a COVID-19 vaccine of the value sets, or there
// is none; NotFound when the id is not the patient's.
Result<const Vaccination*> ChooseVaccination(const Patient& patient,
                                             const std::string& vaccination_id);
DoseInSeries DoseNumbers(const Patient& patient, const Vaccination& chosen);

struct VaccinationDccInput {
  std::string family_name;    // required
  std::string given_name;     // optional
  std::string date_of_birth;  // YYYY-MM-DD, YYYY-MM, YYYY or empty
  const Vaccination* vaccination = nullptr;
  DoseInSeries dose;
  std::string country = "BE";
  std::string issuer;  // "is", at most 80 characters
  std::string uvci;
};

// InvalidArgument naming family_name / given_name when a name is empty, longer than 80
// characters or cannot be transliterated; FailedPrecondition naming vaccination for a product
// outside the value sets.
Result<nlohmann::json> BuildVaccinationDcc(const VaccinationDccInput& input);

}  // namespace vaxledger::certificate
