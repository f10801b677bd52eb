#include "core/vaccines.h"

#include <array>

namespace vaxledger {

namespace {

constexpr std::array kProducts = {
    // COVID-19: EU DCC value sets vaccine-medicinal-product and vaccine-mah-manf (SPEC §2).
    VaccineProduct{"EU/1/20/1528", "Comirnaty", "BioNTech Manufacturing GmbH", "ORG-100030215",
                   kCovid19Disease, "COVID-19", true},
    VaccineProduct{"EU/1/20/1507", "Spikevax", "Moderna Biotech Spain S.L.", "ORG-100031184",
                   kCovid19Disease, "COVID-19", true},
    VaccineProduct{"EU/1/21/1529", "Vaxzevria", "AstraZeneca AB", "ORG-100001699", kCovid19Disease,
                   "COVID-19", true},
    VaccineProduct{"EU/1/20/1525", "Jcovden", "Janssen-Cilag International", "ORG-100001417",
                   kCovid19Disease, "COVID-19", true},
    // Influenza.
    VaccineProduct{"EU/1/18/1326", "Flucelvax Tetra", "Seqirus Netherlands B.V.", "", "6142004",
                   "influenza", false},
    VaccineProduct{"EU/1/13/887", "Fluenz Tetra", "AstraZeneca AB", "", "6142004", "influenza",
                   false},
    // Childhood schedule.
    VaccineProduct{"EU/1/00/152", "Infanrix hexa", "GlaxoSmithKline Biologicals", "", "397430003",
                   "diphtheria, tetanus, pertussis, polio, Hib, hepatitis B", false},
    VaccineProduct{"EU/1/13/828", "Hexyon", "Sanofi Pasteur", "", "397430003",
                   "diphtheria, tetanus, pertussis, polio, Hib, hepatitis B", false},
    VaccineProduct{"EU/1/06/337", "M-M-RvaxPro", "Merck Sharp & Dohme B.V.", "", "14189004",
                   "measles, mumps, rubella", false},
    VaccineProduct{"EU/1/09/590", "Prevenar 13", "Pfizer Europe MA EEIG", "", "16814004",
                   "pneumococcal disease", false},
    VaccineProduct{"EU/1/05/330", "Rotarix", "GlaxoSmithKline Biologicals", "", "18624000",
                   "rotavirus", false},
    VaccineProduct{"EU/1/15/1007", "Gardasil 9", "Merck Sharp & Dohme B.V.", "", "240532009",
                   "human papillomavirus", false},
    VaccineProduct{"EU/1/12/812", "Bexsero", "GSK Vaccines S.r.l.", "", "23511006",
                   "meningococcal B", false},
};

}  // namespace

std::span<const VaccineProduct> VaccineProducts() { return kProducts; }

const VaccineProduct* FindVaccineProduct(std::string_view code) {
  for (const VaccineProduct& p : kProducts) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

}  // namespace vaxledger
