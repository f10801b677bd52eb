#include "core/impact.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "core/vaccines.h"

namespace vaxledger::impact {

namespace {

using std::chrono::day;
using std::chrono::days;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

constexpr int32_t kUnknownBirth = std::numeric_limits<int32_t>::min();

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

year_month_day Ymd(int32_t d) { return year_month_day{sys_days{days{d}}}; }

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutStr(std::string& out, const std::string& s) {
  PutU16(out, static_cast<uint16_t>(std::min<size_t>(s.size(), 0xffff)));
  out.append(s, 0, std::min<size_t>(s.size(), 0xffff));
}

struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t Uint(int bytes) {
    if (in.size() < static_cast<size_t>(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<uint8_t>(in[i])) << (8 * i);
    in.remove_prefix(bytes);
    return v;
  }
  std::string Str() {
    const size_t n = Uint(2);
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

// ---- Calendar days --------------------------------------------------------------------------

std::optional<int32_t> DayOf(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  if (!AllDigits(date.substr(0, 4)) || !AllDigits(date.substr(5, 2)) ||
      !AllDigits(date.substr(8, 2))) {
    return std::nullopt;
  }
  const year_month_day ymd{year{ToInt(date.substr(0, 4))},
                           month{static_cast<unsigned>(ToInt(date.substr(5, 2)))},
                           day{static_cast<unsigned>(ToInt(date.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int32_t>(sys_days{ymd}.time_since_epoch().count());
}

std::string DateOfDay(int32_t d) {
  const year_month_day ymd = Ymd(d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

int32_t AddYears(int32_t d, int years) {
  const year_month_day ymd = Ymd(d);
  year_month_day later{ymd.year() + std::chrono::years{years}, ymd.month(), ymd.day()};
  if (!later.ok()) {  // 29 February in a year without it
    later = year_month_day{later.year(), month{3}, day{1}};
  }
  return static_cast<int32_t>(sys_days{later}.time_since_epoch().count());
}

int32_t WeekStart(int32_t d) {
  // 1970-01-01 was a Thursday: Monday = day - ((day + 3) mod 7).
  const int32_t weekday = ((d + 3) % 7 + 7) % 7;  // 0 = Monday
  return d - weekday;
}

std::string IsoWeekName(int32_t d) {
  const int32_t thursday = WeekStart(d) + 3;  // the ISO year is the Thursday's year
  const year_month_day ymd = Ymd(thursday);
  const int32_t jan1 = static_cast<int32_t>(
      sys_days{year_month_day{ymd.year(), month{1}, day{1}}}.time_since_epoch().count());
  const int week = (thursday - jan1) / 7 + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(ymd.year()), week);
  return buf;
}

int32_t DayOfUs(int64_t us) {
  return static_cast<int32_t>(
      std::chrono::floor<days>(
          std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(us)))
          .time_since_epoch()
          .count());
}

// ---- Doses ----------------------------------------------------------------------------------

std::string_view DoseKindName(DoseKind kind) {
  switch (kind) {
    case DoseKind::kFirst:
      return "first";
    case DoseKind::kCompleted:
      return "completed";
    case DoseKind::kBooster:
      return "booster";
    case DoseKind::kOther:
      break;
  }
  return "other";
}

std::optional<DoseKind> ParseDoseKind(std::string_view name) {
  for (int k = 0; k < kDoseKinds; ++k) {
    if (DoseKindName(static_cast<DoseKind>(k)) == name) return static_cast<DoseKind>(k);
  }
  return std::nullopt;
}

int PrimarySeriesDoses(std::string_view product) {
  const VaccineProduct* p = FindVaccineProduct(product);
  if (p == nullptr || !p->covid19) return 0;
  return p->name == "Jcovden" ? 1 : 2;
}

std::string EncodePatientFacts(const PatientFacts& facts) {
  std::string out;
  out.push_back('\x01');
  PutU32(out, static_cast<uint32_t>(facts.birth_day.value_or(kUnknownBirth)));
  PutU32(out, static_cast<uint32_t>(facts.doses.size()));
  for (const ImpactDose& d : facts.doses) {
    PutStr(out, d.id);
    PutStr(out, d.product);
    PutStr(out, d.entity);
    PutStr(out, d.region);
    PutU32(out, static_cast<uint32_t>(d.day));
    PutU64(out, d.position);
    out.push_back(d.active ? '\x01' : '\x00');
  }
  return out;
}

Result<PatientFacts> DecodePatientFacts(std::string_view bytes) {
  if (bytes.empty() || bytes[0] != '\x01') {
    return DataLoss("an impact patient record has an unknown version");
  }
  Reader r{bytes.substr(1)};
  PatientFacts f;
  const auto birth = static_cast<int32_t>(static_cast<uint32_t>(r.Uint(4)));
  if (birth != kUnknownBirth) f.birth_day = birth;
  const uint64_t n = r.Uint(4);
  if (!r.ok || n > bytes.size()) return DataLoss("an impact patient record is truncated");
  f.doses.reserve(n);
  for (uint64_t i = 0; i < n && r.ok; ++i) {
    ImpactDose d;
    d.id = r.Str();
    d.product = r.Str();
    d.entity = r.Str();
    d.region = r.Str();
    d.day = static_cast<int32_t>(static_cast<uint32_t>(r.Uint(4)));
    d.position = r.Uint(8);
    d.active = r.Uint(1) != 0;
    f.doses.push_back(std::move(d));
  }
  if (!r.ok || !r.in.empty()) return DataLoss("an impact patient record is malformed");
  return f;
}

Classification Classify(const PatientFacts& facts) {
  Classification c;
  c.kinds.assign(facts.doses.size(), DoseKind::kOther);
  c.region = "unknown";
  std::vector<size_t> covid;
  for (size_t i = 0; i < facts.doses.size(); ++i) {
    const ImpactDose& d = facts.doses[i];
    if (d.active && PrimarySeriesDoses(d.product) > 0) covid.push_back(i);
  }
  std::sort(covid.begin(), covid.end(), [&](size_t a, size_t b) {
    const ImpactDose &x = facts.doses[a], &y = facts.doses[b];
    return std::tie(x.day, x.position) < std::tie(y.day, y.position);
  });
  bool completed = false;
  for (size_t n = 0; n < covid.size(); ++n) {
    const ImpactDose& d = facts.doses[covid[n]];
    DoseKind kind;
    if (completed) {
      kind = DoseKind::kBooster;
    } else if (PrimarySeriesDoses(d.product) == 1 || n >= 1) {
      kind = DoseKind::kCompleted;
      completed = true;
    } else {
      kind = DoseKind::kFirst;
    }
    c.kinds[covid[n]] = kind;
    if (n == 0) {
      c.milestone[kAtLeastOneDose] = d.day;
      c.region = CoverageRegion(d.region);
    }
    if (kind == DoseKind::kCompleted) c.milestone[kCompletedSeries] = d.day;
    if (kind == DoseKind::kBooster && !c.milestone[kBoosted]) c.milestone[kBoosted] = d.day;
  }
  return c;
}

// ---- Population -----------------------------------------------------------------------------

bool IsRegion(std::string_view region) {
  return region == "flanders" || region == "brussels" || region == "wallonia" ||
         region == "german_speaking";
}

std::string CoverageRegion(std::string_view entity_region) {
  if (entity_region == "german_speaking") return "wallonia";
  if (!IsRegion(entity_region)) return "unknown";
  return std::string(entity_region);
}

namespace {

// Checks the bands (sorted, from 0, contiguous, unbounded last) and the rows.
Status CheckPopulation(const Population& p, const PopulationLimits& limits) {
  if (p.bands.empty()) return InvalidArgument("the population has no rows", "rows");
  if (p.bands.size() > limits.max_bands) {
    return InvalidArgument("at most " + std::to_string(limits.max_bands) + " age bands", "bands");
  }
  int next = 0;
  for (size_t i = 0; i < p.bands.size(); ++i) {
    const AgeBand& b = p.bands[i];
    if (b.from != next) {
      return InvalidArgument(
          "the age bands must start at 0 and follow each other without gap or "
          "overlap: a band starts at " +
              std::to_string(b.from) + " where " + std::to_string(next) + " was expected",
          "age_from");
    }
    if (!b.to) {
      if (i + 1 != p.bands.size()) {
        return InvalidArgument("only the last age band may have no upper bound", "age_to");
      }
      break;
    }
    if (*b.to < b.from || *b.to > 150) {
      return InvalidArgument("age_to must be at least age_from and at most 150", "age_to");
    }
    next = *b.to + 1;
  }
  if (p.bands.back().to) {
    return InvalidArgument("the last age band must have no upper bound (an empty age_to)",
                           "age_to");
  }
  std::set<std::pair<std::string, int>> seen;
  for (const PopulationRow& r : p.rows) {
    if (!IsRegion(r.region)) {
      return InvalidArgument(
          "region " + r.region + " is not flanders, brussels, wallonia or german_speaking",
          "region");
    }
    if (r.band < 0 || r.band >= static_cast<int>(p.bands.size())) {
      return InvalidArgument("a row names no age band", "age_from");
    }
    if (r.population < 0 || r.population > 100'000'000) {
      return InvalidArgument("population must be 0..100000000", "population");
    }
    if (!seen.insert({r.region, r.band}).second) {
      return InvalidArgument("region " + r.region + " has the age band starting at " +
                                 std::to_string(p.bands[r.band].from) + " twice",
                             "region");
    }
  }
  if (p.source.size() > 200) return InvalidArgument("source: at most 200 characters", "source");
  return Status::Ok();
}

std::vector<std::string_view> SplitCsv(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Builds bands (sorted by from) and rows from (region, from, to, population) tuples.
struct RawRow {
  std::string region;
  int from;
  std::optional<int> to;
  int64_t population;
};

Result<Population> Assemble(std::vector<RawRow> raw, std::string source,
                            const PopulationLimits& limits) {
  Population p;
  p.source = std::move(source);
  std::map<int, std::optional<int>> bands;
  for (const RawRow& r : raw) {
    auto [it, inserted] = bands.emplace(r.from, r.to);
    if (!inserted && it->second != r.to) {
      return InvalidArgument(
          "the age band starting at " + std::to_string(r.from) + " has two different ends",
          "age_to");
    }
  }
  for (const auto& [from, to] : bands) p.bands.push_back({from, to});
  for (RawRow& r : raw) {
    int band = 0;
    while (p.bands[band].from != r.from) ++band;
    p.rows.push_back({std::move(r.region), band, r.population});
  }
  VX_RETURN_IF_ERROR(CheckPopulation(p, limits));
  return p;
}

}  // namespace

Result<Population> ParsePopulationCsv(std::string_view text, std::string source,
                                      const PopulationLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return InvalidArgument(
        "the population file is larger than " + std::to_string(limits.max_bytes) + " bytes",
        "file");
  }
  std::vector<RawRow> raw;
  bool header = false;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    auto cells = SplitCsv(line);
    for (auto& c : cells) c = Trim(c);
    if (!header) {
      if (cells.size() != 4 || cells[0] != "region" || cells[1] != "age_from" ||
          cells[2] != "age_to" || cells[3] != "population") {
        return InvalidArgument(where + "the header must be region,age_from,age_to,population",
                               "header");
      }
      header = true;
      continue;
    }
    if (cells.size() != 4) {
      return InvalidArgument(where + "a row has 4 columns", "row");
    }
    if (raw.size() >= limits.max_rows) {
      return InvalidArgument("at most " + std::to_string(limits.max_rows) + " rows", "rows");
    }
    RawRow r;
    r.region = std::string(cells[0]);
    if (!IsRegion(r.region)) {
      return InvalidArgument(
          where + "region " + r.region + " is not flanders, brussels, wallonia or german_speaking",
          "region");
    }
    if (!AllDigits(cells[1]) || cells[1].size() > 3) {
      return InvalidArgument(where + "age_from must be a whole number of years", "age_from");
    }
    r.from = ToInt(cells[1]);
    if (!cells[2].empty()) {
      if (!AllDigits(cells[2]) || cells[2].size() > 3) {
        return InvalidArgument(where + "age_to must be a whole number of years or empty", "age_to");
      }
      r.to = ToInt(cells[2]);
    }
    if (!AllDigits(cells[3]) || cells[3].size() > 9) {
      return InvalidArgument(where + "population must be a whole number 0..100000000",
                             "population");
    }
    int64_t n = 0;
    std::from_chars(cells[3].data(), cells[3].data() + cells[3].size(), n);
    r.population = n;
    raw.push_back(std::move(r));
  }
  if (!header) return InvalidArgument("the population file has no header line", "header");
  return Assemble(std::move(raw), std::move(source), limits);
}

nlohmann::json PopulationPayload(const Population& p) {
  nlohmann::json bands = nlohmann::json::array(), rows = nlohmann::json::array();
  // An open band has no "age_to" (the log's payload tables have no JSON null).
  for (const AgeBand& b : p.bands) {
    nlohmann::json band = {{"age_from", b.from}};
    if (b.to) band["age_to"] = *b.to;
    bands.push_back(std::move(band));
  }
  for (const PopulationRow& r : p.rows) {
    nlohmann::json row = {
        {"region", r.region}, {"age_from", p.bands[r.band].from}, {"population", r.population}};
    if (p.bands[r.band].to) row["age_to"] = *p.bands[r.band].to;
    rows.push_back(std::move(row));
  }
  return {{"source", p.source}, {"bands", bands}, {"rows", rows}};
}

Result<Population> PopulationFromPayload(const nlohmann::json& payload,
                                         const PopulationLimits& limits) {
  if (!payload.is_object() || !payload.contains("rows") || !payload["rows"].is_array()) {
    return InvalidArgument("a population payload has rows", "rows");
  }
  if (payload["rows"].size() > limits.max_rows) {
    return InvalidArgument("at most " + std::to_string(limits.max_rows) + " rows", "rows");
  }
  std::vector<RawRow> raw;
  for (const auto& r : payload["rows"]) {
    if (!r.is_object() || !r.contains("region") || !r["region"].is_string() ||
        !r.contains("age_from") || !r["age_from"].is_number_integer() ||
        !r.contains("population") || !r["population"].is_number_integer()) {
      return InvalidArgument("a population row has region, age_from, age_to and population",
                             "rows");
    }
    RawRow row{r["region"].get<std::string>(), r["age_from"].get<int>(), std::nullopt,
               r["population"].get<int64_t>()};
    if (r.contains("age_to") && r["age_to"].is_number_integer()) row.to = r["age_to"].get<int>();
    if (row.from < 0) return InvalidArgument("age_from must be 0 or more", "age_from");
    raw.push_back(std::move(row));
  }
  std::string source =
      payload.contains("source") && payload["source"].is_string() ? payload["source"] : "";
  return Assemble(std::move(raw), std::move(source), limits);
}

int BandOn(const std::vector<AgeBand>& bands, int32_t birth_day, int32_t d) {
  for (size_t i = 0; i < bands.size(); ++i) {
    const int32_t enter = AddYears(birth_day, bands[i].from);
    if (d < enter) return -1;
    if (!bands[i].to || d < AddYears(birth_day, *bands[i].to + 1)) return static_cast<int>(i);
  }
  return -1;
}

// ---- Coverage counters ----------------------------------------------------------------------

std::vector<CoverageStep> CoverageSteps(const PatientFacts& facts, const Classification& c,
                                        const std::vector<AgeBand>& bands) {
  std::vector<CoverageStep> steps;
  for (int m = 0; m < kMilestones; ++m) {
    if (!c.milestone[m]) continue;
    const int32_t reached = *c.milestone[m];
    if (!facts.birth_day) {
      steps.push_back({c.region, -1, m, reached, +1});
      continue;
    }
    for (size_t b = 0; b < bands.size(); ++b) {
      const int32_t enter = AddYears(*facts.birth_day, bands[b].from);
      const int32_t from = std::max(reached, enter);
      if (bands[b].to) {
        const int32_t leave = AddYears(*facts.birth_day, *bands[b].to + 1);
        if (from >= leave) continue;
        steps.push_back({c.region, static_cast<int>(b), m, from, +1});
        steps.push_back({c.region, static_cast<int>(b), m, leave, -1});
      } else {
        steps.push_back({c.region, static_cast<int>(b), m, from, +1});
      }
    }
  }
  return steps;
}

uint32_t FenwickIndex(int32_t d) {
  static const int32_t base = *DayOf("1900-01-01");
  const int64_t i = int64_t(d) - base + 1;
  if (i > int64_t{kFenwickSize}) return 0;  // beyond every day a query may ask for
  return static_cast<uint32_t>(std::max<int64_t>(i, 1));
}

void ForEachFenwickUpdate(uint32_t index, const std::function<void(uint32_t)>& node) {
  for (uint32_t i = index; i >= 1 && i <= kFenwickSize; i += i & (~i + 1)) node(i);
}

void ForEachFenwickPrefix(uint32_t index, const std::function<void(uint32_t)>& node) {
  for (uint32_t i = std::min(index, kFenwickSize); i > 0; i -= i & (~i + 1)) node(i);
}

}  // namespace vaxledger::impact
