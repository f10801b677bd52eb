#include "core/certificate/dcc_payload.h"

#include <catch2/catch.hpp>

#include "core/certificate/dcc_schema.h"

namespace vaxledger::certificate {
namespace {

Vaccination Dose(std::string id, std::string product, int dose, std::string date) {
  Vaccination v;
  v.id = std::move(id);
  v.product = std::move(product);
  v.dose = dose;
  v.date = std::move(date);
  return v;
}

TEST_CASE("the latest active COVID-19 dose is chosen; retracted and other vaccines are not") {
  Patient p;
  p.vaccinations = {
      Dose("a", "EU/1/20/1528", 1, "2021-05-01"), Dose("b", "EU/1/20/1528", 2, "2021-06-01"),
      Dose("flu", "EU/1/18/1326", 1, "2021-10-01"), Dose("c", "EU/1/20/1528", 3, "2021-12-01")};
  p.vaccinations[3].status = "entered_in_error";
  CHECK((*ChooseVaccination(p, ""))->id == "b");
  CHECK((*ChooseVaccination(p, "a"))->id == "a");
  CHECK(ChooseVaccination(p, "c").status().field() == "vaccination");
  CHECK(ChooseVaccination(p, "c").status().message().find("entered in error") != std::string::npos);
  CHECK(ChooseVaccination(p, "flu").status().code() == Code::kFailedPrecondition);
  CHECK(ChooseVaccination(p, "zzz").status().code() == Code::kNotFound);
  Patient none;
  none.vaccinations = {Dose("flu", "EU/1/18/1326", 1, "2021-10-01")};
  CHECK(ChooseVaccination(none, "").status().code() == Code::kFailedPrecondition);
}

TEST_CASE("dose number and series total: 1/1 Jcovden, 2/1 after it, 1/2, 2/2, 3/3") {
  Patient j;
  j.vaccinations = {Dose("a", "EU/1/20/1525", 1, "2021-05-01"),
                    Dose("b", "EU/1/20/1507", 2, "2021-12-01")};
  CHECK(DoseNumbers(j, j.vaccinations[0]).dn == 1);
  CHECK(DoseNumbers(j, j.vaccinations[0]).sd == 1);
  CHECK(DoseNumbers(j, j.vaccinations[1]).dn == 2);
  CHECK(DoseNumbers(j, j.vaccinations[1]).sd == 1);
  Patient m;
  m.vaccinations = {Dose("a", "EU/1/20/1528", 1, "2021-05-01"),
                    Dose("b", "EU/1/20/1528", 2, "2021-06-01"),
                    Dose("c", "EU/1/20/1525", 3, "2021-12-01")};
  CHECK(DoseNumbers(m, m.vaccinations[0]).sd == 2);
  CHECK(DoseNumbers(m, m.vaccinations[1]).sd == 2);
  CHECK(DoseNumbers(m, m.vaccinations[2]).dn == 3);
  CHECK(DoseNumbers(m, m.vaccinations[2]).sd == 3);
}

TEST_CASE("the payload follows schema 1.3 and the encoding table") {
  Vaccination v = Dose("a", "EU/1/21/1529", 2, "2021-07-01");
  VaccinationDccInput in;
  in.family_name = "Dupont";
  in.given_name = "Élodie";
  in.date_of_birth = "1975-12-31";
  in.vaccination = &v;
  in.dose = {2, 2};
  in.issuer = "Vaccinnet test";
  in.uvci = "URN:UVCI:01:BE:ABC#X";
  auto dcc = BuildVaccinationDcc(in);
  REQUIRE(dcc.ok());
  CHECK(DccSchema::Builtin().Validate(*dcc).ok());
  CHECK((*dcc)["nam"]["gnt"] == "ELODIE");
  CHECK((*dcc)["v"][0]["vp"] == "29061000087103");
  CHECK((*dcc)["v"][0]["ma"] == "ORG-100001699");
  CHECK((*dcc)["v"][0]["tg"] == "840539006");
  CHECK((*dcc)["v"][0]["co"] == "BE");
  in.family_name = "";
  CHECK(BuildVaccinationDcc(in).status().field() == "family_name");
  in.family_name = "Ивано́в";
  CHECK(BuildVaccinationDcc(in).status().field() == "family_name");
  in.family_name = "Dupont";
  in.given_name = "";
  auto no_given = BuildVaccinationDcc(in);
  REQUIRE(no_given.ok());
  CHECK(!(*no_given)["nam"].contains("gnt"));
  Vaccination flu = Dose("f", "EU/1/18/1326", 1, "2021-10-01");
  in.vaccination = &flu;
  CHECK(BuildVaccinationDcc(in).status().code() == Code::kFailedPrecondition);
}

}  // namespace
}  // namespace vaxledger::certificate
