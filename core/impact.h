// The pure parts of the impact figures (SPEC §2 flow 8, docs/impact.md): calendar days, the
// classification of a patient's doses (first, completed, booster, other), the coverage milestones,
// the population file with its age bands, and the Fenwick-tree arithmetic the coverage counters
// use. The projection that keeps the counters on disk is projections/impact.h.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vaxledger::impact {

// The event an administrator appends to load the population (docs/domain.md).
inline constexpr std::string_view kPopulationLoaded = "population.loaded";
inline constexpr std::string_view kPopulationStream = "population";

// ---- Calendar days --------------------------------------------------------------------------

// Days since 1970-01-01 of a strict YYYY-MM-DD date (a real calendar date), or nullopt.
std::optional<int32_t> DayOf(std::string_view date);
// YYYY-MM-DD of a day number.
std::string DateOfDay(int32_t day);
// The same calendar day `years` later; 29 February becomes 1 March in a year without it.
int32_t AddYears(int32_t day, int years);
// The Monday of the ISO 8601 week holding `day`, and the week's name "YYYY-Www".
int32_t WeekStart(int32_t day);
std::string IsoWeekName(int32_t day);
// The UTC day of `us` (microseconds since the epoch).
int32_t DayOfUs(int64_t us);

// ---- Doses ----------------------------------------------------------------------------------

enum class DoseKind : uint8_t { kFirst = 0, kCompleted = 1, kBooster = 2, kOther = 3 };
inline constexpr int kDoseKinds = 4;
std::string_view DoseKindName(DoseKind kind);  // first, completed, booster, other
std::optional<DoseKind> ParseDoseKind(std::string_view name);

// Doses of `product` that make a COVID-19 primary series on their own: 2 for Comirnaty, Spikevax
// and Vaxzevria, 1 for Jcovden, 0 for a product that is not a COVID-19 vaccine.
int PrimarySeriesDoses(std::string_view product);

// One registration as the impact figures see it.
struct ImpactDose {
  std::string id;         // vaccination id
  std::string product;    // product code (core/vaccines.h)
  std::string entity;     // the entity that registered (gave) it
  std::string region;     // that entity's region when it was registered; "unknown" when none
  int32_t day = 0;        // the vaccination date
  uint64_t position = 0;  // of its registration: orders doses given on the same day
  bool active = true;     // false once entered in error
  bool operator==(const ImpactDose&) const = default;
};

// What the figures need of one patient.
struct PatientFacts {
  std::optional<int32_t> birth_day;  // from the INSZ/BIS, or the birth date given; nullopt unknown
  std::vector<ImpactDose> doses;     // in registration order
  bool operator==(const PatientFacts&) const = default;
};

// The binary record of PatientFacts (grammar in docs/impact.md). Decode: DataLoss when malformed.
std::string EncodePatientFacts(const PatientFacts& facts);
Result<PatientFacts> DecodePatientFacts(std::string_view bytes);

enum Milestone : uint8_t { kAtLeastOneDose = 0, kCompletedSeries = 1, kBoosted = 2 };
inline constexpr int kMilestones = 3;

struct Classification {
  // Parallel to PatientFacts::doses; meaningful for active doses only.
  std::vector<DoseKind> kinds;
  // The day each COVID-19 milestone was reached, or nullopt.
  std::optional<int32_t> milestone[kMilestones];
  // The region coverage counts the patient in: that of the first active COVID-19 dose, with
  // german_speaking counted in wallonia (as Statbel's population does); "unknown" when none.
  std::string region;
};

// Active COVID-19 doses in (day, position) order: the first is "first" (or "completed" when it is
// Jcovden); the dose that completes the primary series is "completed" (the first Jcovden dose, or
// the second COVID-19 dose of any product); every later one is "booster". Doses of other vaccines
// are "other". The dose number the user typed is not used (docs/impact.md).
Classification Classify(const PatientFacts& facts);

// ---- Population -----------------------------------------------------------------------------

struct AgeBand {
  int from = 0;
  std::optional<int> to;  // inclusive; nullopt: no upper bound
  bool operator==(const AgeBand&) const = default;
};

struct PopulationRow {
  std::string region;
  int band = 0;  // index into Population::bands
  int64_t population = 0;
};

struct Population {
  std::string source;  // the file's name
  std::vector<AgeBand> bands;
  std::vector<PopulationRow> rows;
};

// The regions of the registry (core/registry_commands.h NewEntity).
bool IsRegion(std::string_view region);
// The region coverage counts an entity's region in (german_speaking -> wallonia; "" -> unknown).
std::string CoverageRegion(std::string_view entity_region);

struct PopulationLimits {
  size_t max_bands = 32;       // age bands in one file
  size_t max_rows = 1024;      // data rows in one file
  size_t max_bytes = 1 << 20;  // the file's size
};

// The population CSV (docs/impact.md): "#" comment lines, a header
// "region,age_from,age_to,population", rows with a region of the registry, whole ages, an empty
// age_to for the last band. The bands (the distinct (age_from, age_to) pairs) must start at 0,
// follow each other without gap or overlap and end unbounded; each (region, band) at most once.
// InvalidArgument naming the line and the column otherwise.
Result<Population> ParsePopulationCsv(std::string_view text, std::string source,
                                      const PopulationLimits& limits = {});
// The event payload {source, bands: [{age_from, age_to (absent: unbounded)}], rows: [{region,
// age_from, age_to, population}]} and back. FromPayload checks what ParsePopulationCsv checks
// (InvalidArgument).
nlohmann::json PopulationPayload(const Population& population);
Result<Population> PopulationFromPayload(const nlohmann::json& payload,
                                         const PopulationLimits& limits = {});
// The band a person born on `birth_day` is in on `day`, or -1 (not born yet, or no band).
int BandOn(const std::vector<AgeBand>& bands, int32_t birth_day, int32_t day);

// ---- Coverage counters ----------------------------------------------------------------------

// A change of a coverage counter: from `day` on, `delta` more people of (region, band) reached
// `milestone`. band -1: age unknown.
struct CoverageStep {
  std::string region;
  int band = 0;
  int milestone = 0;
  int32_t day = 0;
  int delta = 0;
};

// The steps of one patient: for each milestone reached and each band the patient is ever in,
// +1 from max(milestone day, day they enter the band) and -1 from the day they leave it (their
// birthday), when that comes first. A patient without a birth date is in band -1 from the
// milestone on. So coverage(D) = the sum of steps with day <= D.
std::vector<CoverageStep> CoverageSteps(const PatientFacts& facts, const Classification& c,
                                        const std::vector<AgeBand>& bands);

// Fenwick (binary indexed) trees over days: index 1 is 1900-01-01, kFenwickSize the last one
// (in 2258). Index of a day: days before 1900 count as 1900-01-01; 0 for a day after the last
// one (an update there is dropped: no query reaches it).
inline constexpr uint32_t kFenwickSize = 1u << 17;
uint32_t FenwickIndex(int32_t day);
// The nodes a point update at `index` adds to, and the nodes a prefix sum up to `index` reads
// (at most 18 each).
void ForEachFenwickUpdate(uint32_t index, const std::function<void(uint32_t)>& node);
void ForEachFenwickPrefix(uint32_t index, const std::function<void(uint32_t)>& node);

}  // namespace vaxledger::impact
