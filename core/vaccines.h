// The reference list of vaccine products a registration may name (SPEC §2): the EU COVID-19
// products of the EU Digital COVID Certificate value sets, influenza vaccines and a few vaccines
// of the Belgian childhood schedule.
//
// Thread-safety: immutable data.
#pragma once

#include <span>
#include <string_view>

namespace vaxledger {

struct VaccineProduct {
  std::string_view code;          // EU marketing authorisation number, e.g. "EU/1/20/1528"
  std::string_view name;          // e.g. "Comirnaty"
  std::string_view holder;        // marketing authorisation holder
  std::string_view holder_code;   // EU value set "ma" (ORG-...), empty when not in the set
  std::string_view disease;       // target disease, SNOMED CT code
  std::string_view disease_name;  // e.g. "COVID-19"
  bool covid19 = false;           // COVID-19 vaccines need a lot number
};

// SNOMED CT code of COVID-19 (the "tg" value of the EU certificate).
inline constexpr std::string_view kCovid19Disease = "840539006";

std::span<const VaccineProduct> VaccineProducts();

// The product with `code`, or nullptr.
const VaccineProduct* FindVaccineProduct(std::string_view code);

}  // namespace vaxledger
