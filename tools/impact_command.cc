#include "tools/impact_command.h"

#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/identifiers.h"
#include "core/impact.h"
#include "core/registry_commands.h"
#include "core/vaccines.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/impact.h"
#include "projections/registry.h"
#include "tools/data_dir.h"

namespace vaxledger::tools {

namespace {

using projections::ImpactProjection;

int Fail(const Status& s) {
  fmt::print(stderr, "vaxledger: {}\n", s.ToString());
  return 2;
}

int32_t Today() {
  return impact::DayOfUs(std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
}

Result<int32_t> DateArg(const std::string& text, const char* name, int32_t fallback) {
  if (text.empty()) return fallback;
  auto day = impact::DayOf(text);
  if (!day) return InvalidArgument(std::string(name) + " must be a date YYYY-MM-DD", name);
  return *day;
}

// The projection to read: DIR/impact as it is on disk, or the log replayed up to --as-of.
Result<std::unique_ptr<ImpactProjection>> Source(const std::string& dir, const std::string& as_of) {
  VX_RETURN_IF_ERROR(CheckPrivateDataDir(dir));
  eventstore::RocksDbStorageOptions options;
  options.read_only = true;
  VX_ASSIGN_OR_RETURN(auto log, eventstore::OpenRocksDbStorage(LogPath(dir), options));
  VX_ASSIGN_OR_RETURN(eventstore::Position size, log->RecordCount());
  if (!as_of.empty()) {
    VX_ASSIGN_OR_RETURN(auto bound, projections::ParseLogBound(as_of, "as-of"));
    projections::ImpactOptions replay_options;
    VX_ASSIGN_OR_RETURN(replay_options.subjects, OpenSubjects(dir, /*read_only=*/true));
    auto replayed = ImpactProjection::InMemory(replay_options);
    VX_RETURN_IF_ERROR(replayed->CatchUp(*log, bound).status());
    return replayed;
  }
  VX_ASSIGN_OR_RETURN(auto stored, ImpactProjection::Open(ImpactPath(dir), {}, /*read_only=*/true));
  if (stored->position() < size) {
    fmt::print(stderr,
               "vaxledger: the impact projection is at position {} and the log holds {} events "
               "(`vaxledger serve` brings it up to date; --as-of {} replays the log)\n",
               stored->position(), size, size - 1);
  }
  return stored;
}

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int RunDoses(const std::string& dir, const std::string& from, const std::string& to,
             const std::string& by, const std::string& product, const std::string& region,
             const std::string& as_of, bool csv) {
  projections::DosesQuery q;
  auto t = DateArg(to, "to", Today());
  if (!t.ok()) return Fail(t.status());
  q.to = *t;
  auto f = DateArg(from, "from", q.to - 29);
  if (!f.ok()) return Fail(f.status());
  q.from = *f;
  if (!by.empty() && by != "day" && by != "week") {
    return Fail(InvalidArgument("by must be day or week", "by"));
  }
  q.by_week = by == "week";
  if (!product.empty() && FindVaccineProduct(product) == nullptr) {
    return Fail(InvalidArgument("product " + product + " is not in the reference list", "product"));
  }
  q.product = product;
  q.region = region;
  auto source = Source(dir, as_of);
  if (!source.ok()) return Fail(source.status());
  auto rows = (*source)->Doses(q);
  if (!rows.ok()) return Fail(rows.status());
  if (csv) {
    fmt::print("date,week,product,product_name,region,kind,doses\n");
  } else {
    fmt::print("{:<10}  {:<8}  {:<14} {:<16} {:<15} {:<9} {:>9}\n", "date", "week", "product",
               "name", "region", "kind", "doses");
  }
  int64_t total = 0;
  for (const auto& r : *rows) {
    const VaccineProduct* p = FindVaccineProduct(r.product);
    const std::string name = p ? std::string(p->name) : r.product;
    total += r.doses;
    if (csv) {
      fmt::print("{},{},{},{},{},{},{}\n", impact::DateOfDay(r.day), impact::IsoWeekName(r.day),
                 Csv(r.product), Csv(name), Csv(r.region), impact::DoseKindName(r.kind), r.doses);
    } else {
      fmt::print("{:<10}  {:<8}  {:<14} {:<16} {:<15} {:<9} {:>9}\n", impact::DateOfDay(r.day),
                 impact::IsoWeekName(r.day), r.product, name, r.region,
                 impact::DoseKindName(r.kind), r.doses);
    }
  }
  if (!csv) fmt::print("{} doses, position {}\n", total, (*source)->position());
  return 0;
}

int RunCoverage(const std::string& dir, const std::string& date, std::string by,
                const std::string& as_of, bool csv) {
  projections::CoverageQuery q;
  int32_t fallback = Today();
  if (!as_of.empty()) {
    auto bound = projections::ParseLogBound(as_of, "as-of");
    if (bound.ok() && bound->time_us) fallback = impact::DayOfUs(*bound->time_us);
  }
  auto d = DateArg(date, "date", fallback);
  if (!d.ok()) return Fail(d.status());
  q.date = *d;
  if (by.empty()) by = "age,region";
  if (by != "age" && by != "region" && by != "age,region" && by != "total") {
    return Fail(InvalidArgument("by must be age, region, age,region or total", "by"));
  }
  q.by_age = by == "age" || by == "age,region";
  q.by_region = by == "region" || by == "age,region";
  auto source = Source(dir, as_of);
  if (!source.ok()) return Fail(source.status());
  auto answer = (*source)->Coverage(q);
  if (!answer.ok()) return Fail(answer.status());
  if (csv) {
    fmt::print("date,region,age_from,age_to,population,at_least_one_dose,completed,booster\n");
  } else {
    fmt::print(
        "coverage on {} ({}), position {}\n", impact::DateOfDay(q.date),
        answer->population ? "population " + answer->population->source : "no population loaded",
        (*source)->position());
    fmt::print("{:<10} {:<9} {:>11} {:>12} {:>7} {:>12} {:>7} {:>12} {:>7}\n", "region", "age",
               "population", "≥1 dose", "%", "completed", "%", "booster", "%");
  }
  for (const auto& r : answer->rows) {
    std::string from, to, age = "all";
    if (r.band) {
      from = std::to_string(r.band->from);
      to = r.band->to ? std::to_string(*r.band->to) : "";
      age = r.band->to ? from + "-" + to : from + "+";
    } else if (r.age_unknown) {
      from = age = "unknown";
    }
    if (csv) {
      fmt::print("{},{},{},{},{},{},{},{}\n", impact::DateOfDay(q.date), r.region.value_or(""),
                 from, to, r.population, r.people[0], r.people[1], r.people[2]);
      continue;
    }
    auto pct = [&](int64_t n) {
      return r.population > 0 ? fmt::format("{:.1f}", 100.0 * n / r.population) : std::string("-");
    };
    fmt::print("{:<10} {:<9} {:>11} {:>12} {:>7} {:>12} {:>7} {:>12} {:>7}\n",
               r.region.value_or("all"), age, r.population, r.people[0], pct(r.people[0]),
               r.people[1], pct(r.people[1]), r.people[2], pct(r.people[2]));
  }
  return 0;
}

int RunPopulation(const std::string& dir, const std::string& as, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(FailedPrecondition("cannot read " + file));
  std::ostringstream text;
  text << in.rdbuf();
  const std::string source = std::filesystem::path(file).filename().string();
  auto population = impact::ParsePopulationCsv(text.str(), source);
  if (!population.ok()) return Fail(population.status());
  auto insz = ParseInsz(as);
  if (!insz.ok()) return Fail(insz.status());
  auto log = OpenDataDir(dir);
  if (!log.ok()) {
    if (log.status().code() == Code::kUnavailable) {
      fmt::print(stderr,
                 "vaxledger: the log is in use (a server is running?): POST the file to "
                 "/v1/impact/population as an administrator instead\n");
    }
    return Fail(log.status());
  }
  auto subjects = OpenSubjects(dir);
  if (!subjects.ok()) return Fail(subjects.status());
  projections::RegistryOptions options;
  options.views_dir = ViewsPath(dir);
  options.subjects = *subjects;
  auto registry = projections::Registry::Open(**log, options);
  if (!registry.ok()) return Fail(registry.status());
  auto caller = CallerFor(**subjects, insz->digits);
  if (!caller.ok()) return Fail(caller.status());
  auto out = (*registry)->Execute(*caller, LoadPopulation{*population});
  if (!out.ok()) return Fail(out.status());
  fmt::print("loaded {} ({} age bands, {} rows) at position {}\n", source, population->bands.size(),
             population->rows.size(), out->positions.empty() ? 0 : out->positions.front());
  return 0;
}

}  // namespace

ImpactCommands::ImpactCommands(CLI::App& app) {
  auto* impact = app.add_subcommand("impact", "doses per day and coverage (docs/impact.md)");
  impact->require_subcommand(1);
  doses_ = impact->add_subcommand("doses", "doses per day or ISO week");
  doses_->add_option("--data", dir_, "data directory")->required();
  doses_->add_option("--from", from_, "first day YYYY-MM-DD (default: 29 days before --to)");
  doses_->add_option("--to", to_, "last day YYYY-MM-DD (default: today, UTC)");
  doses_->add_option("--by", by_, "day (default) or week");
  doses_->add_option("--product", product_, "only this product (EU code)");
  doses_->add_option("--region", region_, "only doses given by entities of this region");
  coverage_ = impact->add_subcommand("coverage", "COVID-19 coverage by age band and region");
  coverage_->add_option("--data", dir_, "data directory")->required();
  coverage_->add_option("--date", date_, "the date YYYY-MM-DD (default: today, UTC)");
  coverage_->add_option("--by", by_, "age, region, age,region (default) or total");
  for (CLI::App* c : {doses_, coverage_}) {
    c->add_option("--as-of", as_of_, "a log position (included) or UTC time YYYY-MM-DDTHH:MM:SSZ");
    c->add_flag("--csv", csv_, "CSV instead of a table");
  }
  population_ = impact->add_subcommand(
      "population", "load a population file (region,age_from,age_to,population) into the log");
  population_->add_option("--data", dir_, "data directory")->required();
  population_->add_option("--as", as_, "the INSZ of the administrator who loads it")->required();
  population_->add_option("file", file_, "the CSV file")->required();
}

std::optional<int> ImpactCommands::Run() const {
  if (doses_->parsed()) {
    return RunDoses(dir_, from_, to_, by_, product_, region_, as_of_, csv_);
  }
  if (coverage_->parsed()) return RunCoverage(dir_, date_, by_, as_of_, csv_);
  if (population_->parsed()) return RunPopulation(dir_, as_, file_);
  return std::nullopt;
}

}  // namespace vaxledger::tools
