// A random log for the impact projection's tests and benchmark: entities in every region (and one
// vaccinating without an entity.created event), patients with INSZ, BIS numbers (some with an
// unknown birth date) or a name and birth date, COVID-19 series with boosters and Jcovden, other
// vaccines, corrections, entered-in-error registrations, population files with different bands
// and events the figures ignore. Plain C++ (no Catch), so that bench/ can use it.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/identifiers.h"
#include "core/impact.h"
#include "core/personal_cipher.h"
#include "core/subjects.h"
#include "core/vaccines.h"
#include "eventstore/event.h"
#include "projections/payload_codec.h"

namespace vaxledger::testing {

// The key store of the patients of these logs (one per process, as a data directory has one).
inline MemorySubjects& ImpactKeys() {
  static MemorySubjects keys(PseudonymKey{9});
  return keys;
}

// `personal` sealed for `e` as the registry writes it (core/personal_cipher.h), about the
// subject of `identifier`.
inline void SealPersonalFor(eventstore::NewEvent& e, const std::string& identifier,
                            const nlohmann::json& personal) {
  MemorySubjects& keys = ImpactKeys();
  e.data_subject = keys.Pseudonym("patient", identifier).value();
  const std::string plain = projections::EncodePersonalData(personal).value();
  e.personal_data = SealPersonal(*keys.Key(e.data_subject).value(),
                                 ByteView(e.event_id.bytes.data(), e.event_id.bytes.size()),
                                 e.data_subject, AsBytes(plain))
                        .value();
}

// The personal data `e` holds, opened with ImpactKeys(); null when its subject has no key.
inline nlohmann::json OpenPersonalOf(const eventstore::NewEvent& e) {
  auto key = ImpactKeys().Key(e.data_subject).value();
  if (!key) return nullptr;
  const std::string plain =
      OpenPersonal(*key, ByteView(e.event_id.bytes.data(), e.event_id.bytes.size()), e.data_subject,
                   AsBytes(e.personal_data))
          .value();
  return projections::DecodePersonalData(AsBytes(plain)).value();
}

struct ImpactLogOptions {
  int entities = 8;
  int patients = 300;
  double corrections = 0.12;   // share of events that correct a dose
  double retractions = 0.08;   // share that enter a dose in error
  double populations = 0.004;  // share that load a population
  double noise = 0.05;         // share the figures ignore
};

class ImpactLogGenerator {
 public:
  explicit ImpactLogGenerator(uint32_t seed, ImpactLogOptions options = {})
      : rng_(seed), options_(options) {}

  // The next event. The first ones create the entities.
  eventstore::NewEvent Next() {
    if (created_ < options_.entities) return CreateEntity();
    std::uniform_real_distribution<double> u(0, 1);
    const double r = u(rng_);
    double edge = options_.corrections;
    if (r < edge && !doses_.empty()) return Correct();
    edge += options_.retractions;
    if (r < edge && !doses_.empty()) return Retract();
    edge += options_.populations;
    if (r < edge) return LoadPopulation();
    edge += options_.noise;
    if (r < edge) return Noise();
    return Register();
  }

  // A population with random bands (contiguous from 0, the last unbounded).
  impact::Population RandomPopulation() {
    impact::Population p;
    p.source = "random-" + std::to_string(rng_() % 1000) + ".csv";
    int from = 0;
    const int bands = 1 + static_cast<int>(rng_() % 5);
    for (int b = 0; b < bands; ++b) {
      if (b + 1 == bands) {
        p.bands.push_back({from, std::nullopt});
      } else {
        const int to = from + static_cast<int>(rng_() % 30);
        p.bands.push_back({from, to});
        from = to + 1;
      }
    }
    for (const char* region : {"flanders", "brussels", "wallonia", "german_speaking"}) {
      if (rng_() % 4 == 0) continue;
      for (size_t b = 0; b < p.bands.size(); ++b) {
        p.rows.push_back({region, static_cast<int>(b), static_cast<int64_t>(rng_() % 100000)});
      }
    }
    return p;
  }

 private:
  struct Dose {
    std::string patient;
    std::string id;
    std::string entity;
  };

  eventstore::NewEvent Base(std::string stream, std::string type, std::string entity = {}) {
    eventstore::NewEvent e;
    e.event_id = eventstore::EventId::Random();
    e.stream = std::move(stream);
    e.type = std::move(type);
    e.actor = {"person-1", "physician"};
    e.entity = std::move(entity);
    return e;
  }

  eventstore::NewEvent CreateEntity() {
    static const char* regions[] = {"flanders", "brussels", "wallonia", "german_speaking"};
    const std::string id = "entity-" + std::to_string(created_);
    // The last entity never gets an entity.created event (its region is unknown).
    const bool last = created_ + 1 == options_.entities;
    ++created_;
    if (last) return Noise();
    return WithPayload(Base("entity:" + id, "entity.created", id), {{"entity", id},
                                                                    {"kind", "practice"},
                                                                    {"name", id},
                                                                    {"kbo", ""},
                                                                    {"region", regions[rng_() % 4]},
                                                                    {"request_id", "r"}});
  }

  // The payload as the log holds it (its type's table, projections/payload_codec.h).
  static eventstore::NewEvent WithPayload(eventstore::NewEvent e, const nlohmann::json& payload) {
    e.payload = projections::EncodePayload(e.type, payload).value();
    return e;
  }

  std::string RandomDate(int from_year, int to_year) {
    const int32_t a = *impact::DayOf(std::to_string(from_year) + "-01-01");
    const int32_t b = *impact::DayOf(std::to_string(to_year) + "-12-31");
    return impact::DateOfDay(a + static_cast<int32_t>(rng_() % (b - a + 1)));
  }

  // Personal data of patient `n`: an INSZ, a BIS number, or a name and birth date.
  nlohmann::json Personal(int n) {
    std::mt19937 r(static_cast<uint32_t>(n) * 7919u + 17u);  // the same every time for n
    const int kind = static_cast<int>(r() % 10);
    const int year = 1925 + static_cast<int>(r() % 95);
    const int month = 1 + static_cast<int>(r() % 12);
    const int day = 1 + static_cast<int>(r() % 28);
    char first9[16];
    const int serial = 1 + static_cast<int>(r() % 997);
    if (kind < 6) {  // a national register number; some born on 29 February
      const bool leap = kind == 5 && year % 4 == 0;
      std::snprintf(first9, sizeof first9, "%02d%02d%02d%03d", year % 100, leap ? 2 : month,
                    leap ? 29 : day, serial);
      return {{"insz", InszWithCheckDigits(first9, year >= 2000)}};
    }
    if (kind < 8) {  // a BIS number: month + 20 or + 40; some with an unknown birth date
      const bool unknown = kind == 7;
      std::snprintf(first9, sizeof first9, "%02d%02d%02d%03d", year % 100,
                    (unknown ? 0 : month) + (r() % 2 ? 20 : 40), unknown ? 0 : day, serial);
      return {{"insz", InszWithCheckDigits(first9, year >= 2000)}};
    }
    char birth[16];
    std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", year, month, day);
    return {{"name", "Patient " + std::to_string(n)}, {"birth_date", birth}};
  }

  eventstore::NewEvent Register() {
    const int n = static_cast<int>(rng_() % options_.patients);
    const std::string patient = "pat" + std::to_string(n);
    const auto products = VaccineProducts();
    // Mostly COVID-19 vaccines (the first four), some others.
    const size_t pick = rng_() % 10 < 8 ? rng_() % 4 : rng_() % products.size();
    const std::string id = "vac-" + std::to_string(++vaccinations_);
    const std::string entity = "entity-" + std::to_string(rng_() % options_.entities);
    doses_.push_back({patient, id, entity});
    auto e =
        WithPayload(Base("patient:" + patient, "vaccination.registered", entity),
                    {{"vaccination_id", id},
                     {"patient", patient},
                     {"product", std::string(products[pick].code)},
                     {"lot", "L1"},
                     {"dose", 1 + static_cast<int>(rng_() % 3)},  // not to be trusted
                     {"date", RandomDate(2021, 2024)},
                     {"performer", "person-1"},
                     {"consent", {{"decision", "given"}, {"date", "2021-01-01"}, {"by", "x"}}}});
    SealPersonalFor(e, patient, Personal(n));
    return e;
  }

  eventstore::NewEvent Correct() {
    const Dose& d = doses_[rng_() % doses_.size()];
    const auto products = VaccineProducts();
    nlohmann::json now = {{"product", std::string(products[rng_() % 5].code)},
                          {"lot", "L2"},
                          {"dose", 2},
                          {"date", RandomDate(2021, 2024)}};
    return WithPayload(Base("patient:" + d.patient, "vaccination.corrected", d.entity),
                       {{"vaccination_id", d.id}, {"reason", "typo"}, {"was", now}, {"now", now}});
  }

  eventstore::NewEvent Retract() {
    const size_t i = rng_() % doses_.size();
    const Dose d = doses_[i];
    doses_.erase(doses_.begin() + static_cast<long>(i));
    return WithPayload(
        Base("patient:" + d.patient, "vaccination.entered_in_error", d.entity),
        {{"vaccination_id", d.id}, {"reason", "wrong patient"}, {"product", "x"}, {"lot", "L1"}});
  }

  eventstore::NewEvent LoadPopulation() {
    return WithPayload(
        Base(std::string(impact::kPopulationStream), std::string(impact::kPopulationLoaded)),
        impact::PopulationPayload(RandomPopulation()));
  }

  eventstore::NewEvent Noise() {
    return WithPayload(
        Base("stock:entity-0", "stock.received", "entity-0"),
        {{"product", "EU/1/20/1528"}, {"lot", "L1"}, {"expiry", "2030-01-01"}, {"quantity", 10}});
  }

  std::mt19937 rng_;
  ImpactLogOptions options_;
  int created_ = 0;
  uint64_t vaccinations_ = 0;
  std::vector<Dose> doses_;  // active ones (as far as this generator knows)
};

}  // namespace vaxledger::testing
