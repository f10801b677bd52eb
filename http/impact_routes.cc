#include "http/impact_routes.h"

#include <chrono>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/registry_commands.h"
#include "core/vaccines.h"
#include "http/registry_routes.h"

namespace vaxledger::http {

namespace {

using nlohmann::json;
using projections::ImpactProjection;

// Below this, a count is published as "<5" (to everyone but administrators).
constexpr int64_t kDisclosureThreshold = 5;
constexpr std::string_view kMasked = "<5";

int64_t SystemClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Who asks, and what they may see.
struct Viewer {
  bool administrator = false;
  bool auditor = false;
  std::string entity;  // a member: only this entity's doses
  bool everything() const { return administrator || auditor; }
};

// ---- Documentation (OpenAPI) ----------------------------------------------------------------

json Str() { return {{"type", "string"}}; }
json Int() { return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}; }
json Date() { return {{"type", "string"}, {"format", "date"}}; }
json Enum(std::initializer_list<const char*> values) {
  json e = json::array();
  for (const char* v : values) e.push_back(v);
  return {{"type", "string"}, {"enum", e}};
}
// A published count: the number, or "<5" for counts below 5 (everyone but administrators).
json Published() {
  return {{"oneOf", json::array({Int(), {{"type", "string"}, {"enum", {"<5"}}}})},
          {"description", "the count, or \"<5\" when it is below 5 (not for administrators)"}};
}
json Share() {
  return {{"type", "number"},
          {"nullable", true},
          {"minimum", 0},
          {"description", "count / population; null when the count is masked or no population"}};
}
json Object(json properties, std::initializer_list<const char*> required) {
  json r = json::array();
  for (const char* name : required) r.push_back(name);
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", r},
          {"additionalProperties", false}};
}
ParamDoc Query(std::string name, std::string description, json schema = Str()) {
  return {std::move(name), "query", std::move(description), std::move(schema), false};
}
ParamDoc AsOf() {
  return Query("as_of",
               "The figures as they were: a log position (that event included) or a UTC time "
               "YYYY-MM-DDTHH:MM:SSZ (replayed from the log: cost grows with the position)",
               {{"type", "string"},
                {"pattern", "^([0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$"}});
}

json DosesSchema() {
  json row = Object({{"date", Date()},
                     {"week", {{"type", "string"}, {"pattern", "^[0-9]{4}-W[0-9]{2}$"}}},
                     {"product", Str()},
                     {"product_name", Str()},
                     {"disease", Str()},
                     {"region", Str()},
                     {"kind", Enum({"first", "completed", "booster", "other"})},
                     {"doses", Published()}},
                    {"date", "product", "product_name", "region", "kind", "doses"});
  return Object({{"from", Date()},
                 {"to", Date()},
                 {"by", Enum({"day", "week"})},
                 {"entity", {{"type", "string"}, {"nullable", true}}},
                 {"position", Int()},
                 {"as_of", {{"type", "string"}, {"nullable", true}}},
                 {"masked", {{"type", "boolean"}}},
                 {"series", {{"type", "array"}, {"items", row}}}},
                {"from", "to", "by", "entity", "position", "as_of", "masked", "series"});
}

json CoverageSchema() {
  json row = Object({{"region", Str()},
                     {"age_from", Int()},
                     {"age_to", {{"type", "integer"}, {"nullable", true}, {"minimum", 0}}},
                     {"age_unknown", {{"type", "boolean"}}},
                     {"population", Int()},
                     {"at_least_one_dose", Published()},
                     {"completed", Published()},
                     {"booster", Published()},
                     {"share_at_least_one_dose", Share()},
                     {"share_completed", Share()},
                     {"share_booster", Share()}},
                    {"population", "at_least_one_dose", "completed", "booster",
                     "share_at_least_one_dose", "share_completed", "share_booster"});
  json population = Object(
      {{"source", Str()},
       {"bands",
        {{"type", "array"},
         {"items",
          Object({{"age_from", Int()}, {"age_to", {{"type", "integer"}, {"nullable", true}}}},
                 {"age_from", "age_to"})}}}},
      {"source", "bands"});
  population["nullable"] = true;
  return Object({{"date", Date()},
                 {"by", Enum({"age", "region", "age,region", "total"})},
                 {"position", Int()},
                 {"as_of", {{"type", "string"}, {"nullable", true}}},
                 {"masked", {{"type", "boolean"}}},
                 {"population", population},
                 {"rows", {{"type", "array"}, {"items", row}}}},
                {"date", "by", "position", "as_of", "masked", "population", "rows"});
}

RouteDoc Doc(std::string summary, std::vector<ParamDoc> params, json schema,
             std::vector<int> problems) {
  RouteDoc d;
  d.summary = std::move(summary);
  d.tag = "impact";
  d.params = std::move(params);
  d.params.push_back(
      {"Accept", "header", "text/csv for CSV (the same rows, a header line first)", Str(), false});
  d.responses = {{200,
                  "The figures (JSON, or CSV with Accept: text/csv)",
                  {{"application/json", std::move(schema)}, {"text/csv", Str()}},
                  {}}};
  d.problems = std::move(problems);
  return d;
}

// ---- Rendering ------------------------------------------------------------------------------

json Count(int64_t n, bool mask) {
  if (mask && n < kDisclosureThreshold) return std::string(kMasked);
  return n;
}

std::string CountText(int64_t n, bool mask) {
  return mask && n < kDisclosureThreshold ? std::string(kMasked) : std::to_string(n);
}

json ShareOf(int64_t n, int64_t population, bool mask) {
  if ((mask && n < kDisclosureThreshold) || population <= 0) return nullptr;
  return static_cast<double>(n) / static_cast<double>(population);
}

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool WantsCsv(const Request& request) {
  auto it = request.headers.find("accept");
  return it != request.headers.end() && it->second.find("text/csv") != std::string::npos;
}

Response Answer(std::string body, bool csv, const std::string& filename) {
  Response r;
  r.body = std::move(body);
  if (csv) {
    r.content_type = "text/csv; charset=utf-8";
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  }
  return r;
}

Status CheckParams(const Request& request, std::initializer_list<const char*> known) {
  for (const auto& [name, value] : request.query) {
    bool ok = false;
    for (const char* k : known) ok = ok || name == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument("unknown query parameter " + name + " (this route takes " + list + ")",
                             name);
    }
  }
  return Status::Ok();
}

Result<int32_t> DateParam(const Request& request, const char* name, int32_t fallback) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  auto day = impact::DayOf(it->second);
  const int32_t first = *impact::DayOf("1900-01-01"), last = *impact::DayOf("2258-12-31");
  if (!day || *day < first || *day > last) {
    return InvalidArgument(std::string(name) + " must be a date YYYY-MM-DD from 1900 to 2258",
                           name);
  }
  return *day;
}

class Routes : public std::enable_shared_from_this<Routes> {
 public:
  Routes(projections::Registry& registry, SessionStore& sessions, ImpactProjection* impact,
         projections::ImpactFollower* follower, ImpactRoutesOptions options)
      : registry_(registry),
        sessions_(sessions),
        impact_(impact),
        follower_(follower),
        options_(std::move(options)) {
    if (!options_.clock_us) options_.clock_us = SystemClockUs;
  }

  void Add(Router& router) {
    auto bind = [self = shared_from_this()](Result<Response> (Routes::*f)(const Request&)) {
      return [self, f](const Request& r) {
        Result<Response> out = ((*self).*f)(r);
        return out.ok() ? std::move(out).value() : ProblemResponse(out.status());
      };
    };
    router.Add("GET", "/v1/impact/doses",
               Doc("Doses per day or ISO week by product, region and dose kind (administrators "
                   "and auditors: all; members of an entity: their entity's)",
                   {Query("from", "First day, YYYY-MM-DD (default: 29 days before to)", Date()),
                    Query("to", "Last day, YYYY-MM-DD (default: today, UTC)", Date()),
                    Query("by", "day (default) or week (ISO weeks, Monday to Sunday)",
                          Enum({"day", "week"})),
                    Query("product", "Only this product (EU code, e.g. EU/1/20/1528)"),
                    Query("region", "Only doses given by entities of this region",
                          Enum({"flanders", "brussels", "wallonia", "german_speaking", "unknown"})),
                    AsOf()},
                   DosesSchema(), {400, 401, 403, 503}),
               bind(&Routes::Doses));
    router.Add(
        "GET", "/v1/impact/coverage",
        Doc("COVID-19 coverage on a date by age band and region: at least one dose, "
            "completed primary series, at least one booster (administrators and "
            "auditors)",
            {Query("date", "The date, YYYY-MM-DD (default: today, UTC, or the as_of time)", Date()),
             Query("by", "Grouping (default age,region)",
                   Enum({"age", "region", "age,region", "total"})),
             AsOf()},
            CoverageSchema(), {400, 401, 403, 503}),
        bind(&Routes::Coverage));
    RouteDoc load;
    load.summary =
        "Load the population the coverage shares divide by (administrators; CSV "
        "region,age_from,age_to,population; recorded in the log)";
    load.tag = "impact";
    load.params = {Query("source", "The file's name, recorded with it (default upload.csv)")};
    load.body = {{"text/csv", Str()}};
    load.responses = {
        {201,
         "Loaded: the event's position",
         {{"application/json", Object({{"id", Str()},
                                       {"positions", {{"type", "array"}, {"items", Int()}}},
                                       {"already_stored", {{"type", "boolean"}}}},
                                      {"id", "positions", "already_stored"})}},
         {}}};
    load.problems = {400, 401, 403, 415};
    router.Add("POST", "/v1/impact/population", bind(&Routes::Population), std::move(load));
  }

 private:
  Result<Caller> Authenticate(const Request& request) const {
    const std::string token = SessionToken(request);
    if (token.empty()) {
      return Status(Code::kUnauthenticated,
                    "log in first: POST /v1/sessions with the identity provider's assertion")
          .WithRule("session.login");
    }
    VX_ASSIGN_OR_RETURN(Session s, sessions_.Find(token, options_.clock_us()));
    Caller c;
    c.person = s.person;
    c.insz = s.insz;
    c.entity = s.entity;
    c.on_behalf_of = s.on_behalf_of;
    c.now_us = options_.clock_us();
    return c;
  }

  Result<Viewer> Who(const Caller& caller) {
    VX_ASSIGN_OR_RETURN(Viewer v, registry_.Read([&](const RegistryState& s) {
      Viewer v;
      if (const Person* p = s.membership.FindPerson(caller.person)) {
        v.administrator = p->roles.contains("administrator");
        v.auditor = p->roles.contains("auditor");
      }
      // Staff who have not chosen a physician yet are still members of their entity.
      auto acting = ActingIn(s.membership, caller);
      if (acting.ok() || acting.status().field() == "on_behalf_of") v.entity = caller.entity;
      return v;
    }));
    if (!v.everything() && v.entity.empty()) {
      return Status(Code::kPermissionDenied,
                    "the impact figures are for administrators, auditors and members of an "
                    "entity (their entity's doses)")
          .WithRule("impact.role");
    }
    return v;
  }

  // The projection to answer from: the live one (caught up with the log as it was when the
  // request came), or one replayed up to `as_of`.
  Result<std::shared_ptr<const ImpactProjection>> Source(const Request& request,
                                                         std::string* as_of_text) {
    if (impact_ == nullptr) return Unavailable("the impact projection is not running");
    auto it = request.query.find("as_of");
    if (it == request.query.end()) {
      if (follower_ != nullptr) {
        VX_RETURN_IF_ERROR(follower_->WaitFor(registry_.log().Size(), options_.wait_for));
      }
      return std::shared_ptr<const ImpactProjection>(std::shared_ptr<void>(), impact_);
    }
    VX_ASSIGN_OR_RETURN(auto bound, projections::ParseLogBound(it->second, "as_of"));
    *as_of_text = it->second;
    // A bound in the future (a position the log has not reached, a time not yet past) would
    // change with new events: such an answer is not kept.
    const bool final_bound = bound.before ? *bound.before <= registry_.log().Size()
                                          : *bound.time_us < options_.clock_us() - 1000000;
    std::lock_guard lock(as_of_mutex_);  // one replay at a time: bounded memory and CPU
    for (auto c = as_of_.begin(); c != as_of_.end(); ++c) {
      if (c->first == it->second) {
        as_of_.splice(as_of_.begin(), as_of_, c);
        return std::shared_ptr<const ImpactProjection>(as_of_.front().second);
      }
    }
    projections::ImpactOptions replay_options;
    replay_options.subjects = registry_.shared_subjects();
    std::shared_ptr<ImpactProjection> replayed = ImpactProjection::InMemory(replay_options);
    VX_RETURN_IF_ERROR(replayed->CatchUp(registry_.log().storage(), bound).status());
    if (final_bound && options_.as_of_cache > 0) {
      as_of_.emplace_front(it->second, replayed);
      while (as_of_.size() > options_.as_of_cache) as_of_.pop_back();
    }
    return std::shared_ptr<const ImpactProjection>(std::move(replayed));
  }

  int32_t Today() const { return impact::DayOfUs(options_.clock_us()); }

  // GET /v1/impact/doses
  Result<Response> Doses(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(Viewer viewer, Who(caller));
    VX_RETURN_IF_ERROR(CheckParams(request, {"from", "to", "by", "product", "region", "as_of"}));
    projections::DosesQuery q;
    VX_ASSIGN_OR_RETURN(q.to, DateParam(request, "to", Today()));
    VX_ASSIGN_OR_RETURN(q.from, DateParam(request, "from", q.to - 29));
    if (q.from > q.to) return InvalidArgument("from must not be after to", "from");
    if (auto it = request.query.find("by"); it != request.query.end()) {
      if (it->second != "day" && it->second != "week") {
        return InvalidArgument("by must be day or week", "by");
      }
      q.by_week = it->second == "week";
    }
    if (auto it = request.query.find("product"); it != request.query.end()) {
      if (FindVaccineProduct(it->second) == nullptr) {
        return InvalidArgument("product " + it->second + " is not in the vaccine reference list",
                               "product");
      }
      q.product = it->second;
    }
    if (auto it = request.query.find("region"); it != request.query.end()) {
      if (!impact::IsRegion(it->second) && it->second != "unknown") {
        return InvalidArgument(
            "region must be flanders, brussels, wallonia, german_speaking or unknown", "region");
      }
      q.region = it->second;
    }
    if (!viewer.everything()) q.entity = viewer.entity;
    std::string as_of;
    VX_ASSIGN_OR_RETURN(auto source, Source(request, &as_of));
    VX_ASSIGN_OR_RETURN(auto rows, source->Doses(q));
    const bool mask = !viewer.administrator;
    const bool csv = WantsCsv(request);
    if (csv) {
      std::string out = "date,week,product,product_name,region,kind,doses\n";
      for (const auto& r : rows) {
        const VaccineProduct* p = FindVaccineProduct(r.product);
        out += impact::DateOfDay(r.day) + "," + impact::IsoWeekName(r.day) + "," + Csv(r.product) +
               "," + Csv(p ? std::string(p->name) : r.product) + "," + Csv(r.region) + "," +
               std::string(impact::DoseKindName(r.kind)) + "," + CountText(r.doses, mask) + "\n";
      }
      return Answer(std::move(out), true, "doses.csv");
    }
    json series = json::array();
    for (const auto& r : rows) {
      const VaccineProduct* p = FindVaccineProduct(r.product);
      json row = {{"date", impact::DateOfDay(r.day)},
                  {"product", r.product},
                  {"product_name", p ? std::string(p->name) : r.product},
                  {"disease", p ? std::string(p->disease_name) : ""},
                  {"region", r.region},
                  {"kind", impact::DoseKindName(r.kind)},
                  {"doses", Count(r.doses, mask)}};
      if (q.by_week) row["week"] = impact::IsoWeekName(r.day);
      series.push_back(std::move(row));
    }
    const int32_t from = q.by_week ? impact::WeekStart(q.from) : q.from;
    const int32_t to = q.by_week ? impact::WeekStart(q.to) + 6 : q.to;
    json body = {{"from", impact::DateOfDay(from)},
                 {"to", impact::DateOfDay(to)},
                 {"by", q.by_week ? "week" : "day"},
                 {"entity", q.entity.empty() ? json(nullptr) : json(q.entity)},
                 {"position", source->position()},
                 {"as_of", as_of.empty() ? json(nullptr) : json(as_of)},
                 {"masked", mask},
                 {"series", std::move(series)}};
    return Answer(JsonText(body), false, "");
  }

  // GET /v1/impact/coverage
  Result<Response> Coverage(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(Viewer viewer, Who(caller));
    if (!viewer.everything()) {
      return Status(Code::kPermissionDenied,
                    "coverage is for administrators and auditors; members of an entity see their "
                    "entity's doses (GET /v1/impact/doses)")
          .WithRule("impact.coverage_role");
    }
    VX_RETURN_IF_ERROR(CheckParams(request, {"date", "by", "as_of"}));
    std::string by = "age,region";
    if (auto it = request.query.find("by"); it != request.query.end()) by = it->second;
    if (by == "region,age") by = "age,region";
    if (by != "age" && by != "region" && by != "age,region" && by != "total") {
      return InvalidArgument("by must be age, region, age,region or total", "by");
    }
    std::string as_of;
    // The default date: today, or the day of an as_of time.
    int32_t fallback = Today();
    if (auto it = request.query.find("as_of"); it != request.query.end()) {
      auto bound = projections::ParseLogBound(it->second, "as_of");
      if (bound.ok() && bound->time_us) fallback = impact::DayOfUs(*bound->time_us);
    }
    projections::CoverageQuery q;
    VX_ASSIGN_OR_RETURN(q.date, DateParam(request, "date", fallback));
    q.by_age = by == "age" || by == "age,region";
    q.by_region = by == "region" || by == "age,region";
    VX_ASSIGN_OR_RETURN(auto source, Source(request, &as_of));
    VX_ASSIGN_OR_RETURN(auto answer, source->Coverage(q));
    const bool mask = !viewer.administrator;
    if (WantsCsv(request)) {
      std::string out =
          "date,region,age_from,age_to,population,at_least_one_dose,completed,booster\n";
      for (const auto& r : answer.rows) {
        std::string from, to;
        if (r.band) {
          from = std::to_string(r.band->from);
          if (r.band->to) to = std::to_string(*r.band->to);
        } else if (r.age_unknown) {
          from = "unknown";
        }
        out += impact::DateOfDay(q.date) + "," + Csv(r.region.value_or("")) + "," + from + "," +
               to + "," + std::to_string(r.population) + "," + CountText(r.people[0], mask) + "," +
               CountText(r.people[1], mask) + "," + CountText(r.people[2], mask) + "\n";
      }
      return Answer(std::move(out), true, "coverage.csv");
    }
    json rows = json::array();
    for (const auto& r : answer.rows) {
      json row;
      if (r.region) row["region"] = *r.region;
      if (r.band) {
        row["age_from"] = r.band->from;
        row["age_to"] = r.band->to ? json(*r.band->to) : json(nullptr);
      }
      if (r.age_unknown) row["age_unknown"] = true;
      row["population"] = r.population;
      static const char* names[] = {"at_least_one_dose", "completed", "booster"};
      for (int m = 0; m < impact::kMilestones; ++m) {
        row[names[m]] = Count(r.people[m], mask);
        row[std::string("share_") + names[m]] = ShareOf(r.people[m], r.population, mask);
      }
      rows.push_back(std::move(row));
    }
    json population = nullptr;
    if (answer.population) {
      json bands = json::array();
      for (const auto& b : answer.population->bands) {
        bands.push_back({{"age_from", b.from}, {"age_to", b.to ? json(*b.to) : json(nullptr)}});
      }
      population = {{"source", answer.population->source}, {"bands", bands}};
    }
    json body = {{"date", impact::DateOfDay(q.date)},
                 {"by", by},
                 {"position", source->position()},
                 {"as_of", as_of.empty() ? json(nullptr) : json(as_of)},
                 {"masked", mask},
                 {"population", population},
                 {"rows", std::move(rows)}};
    return Answer(JsonText(body), false, "");
  }

  // POST /v1/impact/population (text/csv)
  Result<Response> Population(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_RETURN_IF_ERROR(CheckParams(request, {"source"}));
    std::string source = "upload.csv";
    if (auto it = request.query.find("source"); it != request.query.end()) source = it->second;
    VX_ASSIGN_OR_RETURN(impact::Population population,
                        impact::ParsePopulationCsv(request.body, source));
    VX_ASSIGN_OR_RETURN(auto out, registry_.Execute(caller, LoadPopulation{std::move(population)}));
    Response r;
    r.status = 201;
    r.body = JsonText(
        {{"id", out.id}, {"positions", out.positions}, {"already_stored", out.already_stored}});
    return r;
  }

  projections::Registry& registry_;
  SessionStore& sessions_;
  ImpactProjection* impact_;
  projections::ImpactFollower* follower_;
  ImpactRoutesOptions options_;
  std::mutex as_of_mutex_;
  // Most recently used first: (as_of text, replayed projection).
  std::list<std::pair<std::string, std::shared_ptr<ImpactProjection>>> as_of_;
};

}  // namespace

void AddImpactRoutes(Router& router, projections::Registry& registry, SessionStore& sessions,
                     projections::ImpactProjection* impact, projections::ImpactFollower* follower,
                     ImpactRoutesOptions options) {
  std::make_shared<Routes>(registry, sessions, impact, follower, std::move(options))->Add(router);
}

}  // namespace vaxledger::http
