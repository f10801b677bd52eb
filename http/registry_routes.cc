#include "http/registry_routes.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/identifiers.h"
#include "core/registry_commands.h"
#include "core/vaccines.h"
#include "eventstore/event.h"
#include "http/json_body.h"
#include "http/registry_api.h"
#include "projections/rebuild.h"

namespace vaxledger::http {

namespace {

using nlohmann::json;
using projections::Registry;
using DomainRequest = ::vaxledger::Request;  // an access, link or unlink request

constexpr std::string_view kCookie = "vx_session";

int64_t SystemClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Response Json(int status, const json& body) {
  Response r;
  r.status = status;
  r.body = JsonText(body);
  return r;
}

Response WithLocation(Response r, const std::string& location) {
  r.headers.emplace_back("Location", location);
  return r;
}

Response WithETag(Response r, uint64_t version) {
  r.headers.emplace_back("ETag", "\"" + std::to_string(version) + "\"");
  return r;
}

// The bearer token or the session cookie, or empty.
std::string TokenOf(const Request& request) {
  if (auto it = request.headers.find("authorization"); it != request.headers.end()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (it->second.starts_with(kBearer)) return it->second.substr(kBearer.size());
  }
  if (auto it = request.headers.find("cookie"); it != request.headers.end()) {
    std::string_view cookies = it->second;
    while (!cookies.empty()) {
      size_t end = cookies.find(';');
      std::string_view c = cookies.substr(0, end);
      while (c.starts_with(' ')) c.remove_prefix(1);
      if (c.starts_with(kCookie) && c.size() > kCookie.size() && c[kCookie.size()] == '=') {
        return std::string(c.substr(kCookie.size() + 1));
      }
      if (end == std::string_view::npos) break;
      cookies.remove_prefix(end + 1);
    }
  }
  return {};
}

// A random id for a resource, or one derived from the person and the idempotency key, so that a
// retry names the same resource (as the command's event ids are, projections/registry.h), also
// from another session of the same person.
std::string NewId(const Request& request, std::string_view kind, const std::string& person) {
  auto it = request.headers.find("idempotency-key");
  std::string id(kind);
  id += "-";
  if (it != request.headers.end() && !it->second.empty()) {
    const std::string material = "vaxledger/id\n" + person + "\n" + it->second;
    Hash h = Sha256(AsBytes(material));
    return id + HexEncode(ByteView(h.data(), 12));
  }
  return id + eventstore::EventId::Random().ToString().substr(0, 23);
}

std::string IdempotencyKey(const Request& request) {
  auto it = request.headers.find("idempotency-key");
  return it == request.headers.end() ? std::string() : it->second;
}

// What makes two requests the same request for Idempotency-Key: method, path, query and body.
std::string Fingerprint(const Request& request) {
  // Each part with its length first, so that no two different requests read the same.
  std::string material;
  auto part = [&](std::string_view p) {
    material += std::to_string(p.size()) + ":";
    material += p;
  };
  part(request.method);
  part(request.path);
  for (const auto& [name, value] : request.query) {
    part(name);
    part(value);
  }
  part(request.body);
  const Hash h = Sha256(AsBytes(material));
  return HexEncode(ByteView(h.data(), h.size()));
}

// An Idempotency-Key, when sent, is 1 to 255 visible ASCII characters.
Status CheckIdempotencyKey(const Request& request) {
  auto it = request.headers.find("idempotency-key");
  if (it == request.headers.end()) return Status::Ok();
  const std::string& key = it->second;
  if (key.empty() || key.size() > 255 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7F; })) {
    return InvalidArgument("Idempotency-Key must be 1 to 255 visible ASCII characters",
                           "Idempotency-Key");
  }
  return Status::Ok();
}

// "If-Match: \"N\"" against the stream version `current`. FailedPrecondition-like 412 is
// answered by the caller; here: nullopt when absent or matching, else the problem.
std::optional<Response> CheckIfMatch(const Request& request, uint64_t current) {
  auto it = request.headers.find("if-match");
  if (it == request.headers.end() || it->second == "*") return std::nullopt;
  if (it->second == "\"" + std::to_string(current) + "\"") return std::nullopt;
  Response r = ProblemResponse(412, "If-Match " + it->second +
                                        " does not match the current "
                                        "version \"" +
                                        std::to_string(current) + "\": read it again, then retry");
  r.headers.emplace_back("ETag", "\"" + std::to_string(current) + "\"");
  return r;
}

json EntityJson(const Entity& e) {
  json members = json::array();
  for (const auto& [id, m] : e.members) {
    members.push_back({{"person", m.person},
                       {"name", m.name},
                       {"role", m.role},
                       {"riziv", m.riziv},
                       {"trainer", m.trainer},
                       {"linked_to", m.linked_to},
                       {"since_position", m.since_position},
                       {"erased", m.erased}});
  }
  return {{"id", e.id},         {"kind", e.kind},
          {"name", e.name},     {"kbo", e.kbo},
          {"region", e.region}, {"version", e.version},
          {"members", members}, {"pending_requests", e.pending}};
}

json RequestJson(const DomainRequest& r) {
  json j = {{"id", r.id},
            {"kind", r.kind},
            {"status", r.status},
            {"entity", r.entity},
            {"person", r.person},
            {"requested_by", r.requested_by},
            {"role", r.role},
            {"name", r.name},
            {"email", r.email},
            {"riziv", r.riziv},
            {"members", r.members},
            {"trainer", r.trainer},
            {"reason", r.reason},
            {"decided_by", r.decided_by},
            {"requested_at_us", r.requested_at_us},
            {"position", r.position}};
  if (!r.terms_version.empty()) j["terms_version"] = r.terms_version;
  if (r.new_entity.is_object()) j["new_entity"] = r.new_entity;
  return j;
}

json VaccinationJson(const Vaccination& v) {
  const VaccineProduct* p = FindVaccineProduct(v.product);
  json history = json::array();
  for (const VaccinationChange& h : v.history) {
    history.push_back({{"kind", h.kind},
                       {"product", h.product},
                       {"lot", h.lot},
                       {"dose", h.dose},
                       {"date", h.date},
                       {"consent", h.consent},
                       {"reason", h.reason},
                       {"by", h.by},
                       {"at_us", h.at_us},
                       {"position", h.position}});
  }
  return {{"id", v.id},
          {"product", v.product},
          {"product_name", p ? std::string(p->name) : std::string()},
          {"disease", p ? std::string(p->disease) : std::string()},
          {"lot", v.lot},
          {"dose", v.dose},
          {"date", v.date},
          {"entity", v.entity},
          {"performer", v.performer},
          {"recorder", v.recorder},
          {"consent", {{"decision", v.consent}, {"date", v.consent_date}, {"by", v.consent_by}}},
          {"status", v.status},
          {"reason", v.reason},
          {"corrections", v.corrections},
          {"history", history},
          {"recorded_at_us", v.recorded_at_us},
          {"position", v.position}};
}

json PatientJson(const Patient& p) {
  json list = json::array();
  for (const Vaccination& v : p.vaccinations) list.push_back(VaccinationJson(v));
  return {{"id", p.id},           {"insz", p.insz},
          {"name", p.name},       {"birth_date", p.birth_date},
          {"version", p.version}, {"vaccinations", list},
          {"erased", p.erased}};
}

// The name of person `id` as the registry knows it (linked members and requesters), or "".
std::string PersonName(const RegistryState& s, const std::string& id) {
  const Person* p = s.membership.FindPerson(id);
  return p ? p->name : std::string();
}

std::string EntityName(const RegistryState& s, const std::string& id) {
  const Entity* e = s.membership.FindEntity(id);
  return e ? e->name : std::string();
}

// A request with the names an administrator needs to decide it: of the entity, of who asked,
// of the people to unlink, of the trainer and of who decided.
json RequestWithNames(const RegistryState& s, const DomainRequest& r) {
  json j = RequestJson(r);
  j["entity_name"] =
      r.new_entity.is_object() ? r.new_entity.value("name", "") : EntityName(s, r.entity);
  j["requested_by_name"] = PersonName(s, r.requested_by);
  if (j["requested_by_name"] == "" && r.kind == "access") j["requested_by_name"] = r.name;
  json members = json::array();
  const Entity* e = s.membership.FindEntity(r.entity);
  for (const std::string& m : r.members) {
    std::string name = PersonName(s, m);
    if (e != nullptr) {
      if (auto it = e->members.find(m); it != e->members.end() && !it->second.name.empty()) {
        name = it->second.name;
      }
    }
    members.push_back({{"person", m}, {"name", name}});
  }
  j["member_names"] = members;
  j["trainer_name"] = PersonName(s, r.trainer);
  j["decided_by_name"] = PersonName(s, r.decided_by);
  return j;
}

// A patient's record with the names of the entities and people in it, and each registration's
// history of changes.
json PatientWithNames(const RegistryState& s, const Patient& p) {
  json j = PatientJson(p);
  // The INSZ says the date of birth (unless it is a BIS number without one).
  if (p.birth_date.empty() && !p.insz.empty()) {
    if (auto insz = ParseInsz(p.insz); insz.ok() && insz->birth_date)
      j["birth_date"] = *insz->birth_date;
  }
  for (json& v : j["vaccinations"]) {
    v["entity_name"] = EntityName(s, v.value("entity", ""));
    v["performer_name"] = PersonName(s, v.value("performer", ""));
    v["recorder_name"] = PersonName(s, v.value("recorder", ""));
    for (json& h : v["history"]) h["by_name"] = PersonName(s, h.value("by", ""));
  }
  return j;
}

// GET /v1/events: the log as server-sent events, filtered for the caller. Each event is
//   id: POSITION \n event: TYPE \n data: {"position", "type", "stream", "entity", "actor_role",
//   "recorded_at_us"} \n\n
// and a comment line every 15 s without events. No payload and no personal data are sent.
class EventFeed : public StreamBody {
 public:
  // `visible` says whether the caller may see an event.
  EventFeed(std::unique_ptr<eventstore::Subscription> subscription,
            std::function<bool(const eventstore::RecordedEvent&)> visible)
      : subscription_(std::move(subscription)), visible_(std::move(visible)) {}

  bool Next(std::string* chunk) override {
    while (!cancelled_.load()) {
      auto events = subscription_->Next(256, std::chrono::seconds(15));
      if (!events.ok()) return false;
      if (cancelled_.load()) return false;
      if (events->empty()) {
        *chunk = ": keep-alive\n\n";
        return true;
      }
      for (const auto& e : *events) {
        if (!visible_(e)) continue;
        const json data = {
            {"position", e.position},           {"type", e.event.type},
            {"stream", e.event.stream},         {"entity", e.event.entity},
            {"actor_role", e.event.actor.role}, {"recorded_at_us", e.recorded_at_us}};
        *chunk += "id: " + std::to_string(e.position) + "\nevent: " + e.event.type +
                  "\ndata: " + JsonText(data) + "\n\n";
      }
      if (!chunk->empty()) return true;
    }
    return false;
  }

  void Cancel() override {
    cancelled_ = true;
    subscription_->Cancel();
  }

 private:
  std::unique_ptr<eventstore::Subscription> subscription_;
  std::function<bool(const eventstore::RecordedEvent&)> visible_;
  std::atomic<bool> cancelled_{false};
};

class Routes : public std::enable_shared_from_this<Routes> {
 public:
  Routes(Registry& registry, SessionStore& sessions, projections::ReadRecorder& reads,
         RegistryRoutesOptions options)
      : registry_(registry), sessions_(sessions), reads_(reads), options_(std::move(options)) {
    if (!options_.clock_us) options_.clock_us = SystemClockUs;
  }

  void Add(Router& router) {
    // Each handler holds the Routes object alive: the router owns the handlers.
    // Handlers return a Result: an error becomes its problem response here, in one place.
    auto bind = [self = shared_from_this()](Result<Response> (Routes::*f)(const Request&)) {
      return [self, f](const Request& r) {
        if (Status key = CheckIdempotencyKey(r); !key.ok()) return ProblemResponse(key);
        Result<Response> out = ((*self).*f)(r);
        return out.ok() ? std::move(out).value() : ProblemResponse(out.status());
      };
    };
    router.Add("POST", "/v1/sessions", bind(&Routes::Login), registry_api::Login());
    router.Add("GET", "/v1/session", bind(&Routes::WhoAmI), registry_api::WhoAmI());
    router.Add("DELETE", "/v1/session", bind(&Routes::Logout), registry_api::Logout());
    router.Add("PUT", "/v1/session/entity", bind(&Routes::ChooseEntity),
               registry_api::ChooseEntity());
    router.Add("GET", "/v1/vaccines", bind(&Routes::Vaccines), registry_api::Vaccines());
    router.Add("POST", "/v1/access-requests", bind(&Routes::RequestAccessRoute),
               registry_api::RequestAccess());
    router.Add("POST", "/v1/checks/riziv", bind(&Routes::CheckRiziv), registry_api::CheckRiziv());
    router.Add("GET", "/v1/entities", bind(&Routes::FindEntities), registry_api::FindEntities());
    router.Add("GET", "/v1/requests", bind(&Routes::ListRequests), registry_api::ListRequests());
    router.Add("GET", "/v1/requests/{request}", bind(&Routes::GetRequest),
               registry_api::GetRequest());
    router.Add("POST", "/v1/requests/{request}/approve", bind(&Routes::Approve),
               registry_api::Approve());
    router.Add("POST", "/v1/requests/{request}/reject", bind(&Routes::Reject),
               registry_api::Reject());
    router.Add("GET", "/v1/entities/{entity}", bind(&Routes::GetEntity), registry_api::GetEntity());
    router.Add("POST", "/v1/entities/{entity}/link-requests", bind(&Routes::LinkRequest),
               registry_api::LinkRequest());
    router.Add("POST", "/v1/entities/{entity}/unlink-requests", bind(&Routes::UnlinkRequest),
               registry_api::UnlinkRequest());
    router.Add("GET", "/v1/entities/{entity}/vaccinations", bind(&Routes::EntityVaccinations),
               registry_api::EntityVaccinations());
    router.Add("GET", "/v1/entities/{entity}/stock", bind(&Routes::GetStock),
               registry_api::GetStock());
    router.Add("POST", "/v1/entities/{entity}/stock/deliveries", bind(&Routes::Deliver),
               registry_api::Deliver());
    router.Add("POST", "/v1/entities/{entity}/stock/adjustments", bind(&Routes::Adjust),
               registry_api::Adjust());
    router.Add("POST", "/v1/vaccinations", bind(&Routes::Register), registry_api::Register());
    router.Add("POST", "/v1/vaccinations/batch", bind(&Routes::RegisterBatch),
               registry_api::RegisterBatch());
    router.Add("POST", "/v1/patients/search", bind(&Routes::SearchPatient),
               registry_api::SearchPatient());
    router.Add("POST", "/v1/patients/care-declarations", bind(&Routes::DeclareCareRoute),
               registry_api::DeclareCare());
    router.Add("GET", "/v1/care-declarations", bind(&Routes::ListCareDeclarations),
               registry_api::ListCareDeclarations());
    router.Add("GET", "/v1/patients/{patient}", bind(&Routes::GetPatient),
               registry_api::GetPatient());
    router.Add("POST", "/v1/patients/{patient}/vaccinations/{vaccination}/corrections",
               bind(&Routes::Correct), registry_api::Correct());
    router.Add("POST", "/v1/patients/{patient}/vaccinations/{vaccination}/retraction",
               bind(&Routes::Retract), registry_api::Retract());
    router.Add("POST", "/v1/patients/{patient}/vaccinations/{vaccination}/consent",
               bind(&Routes::ConsentRoute), registry_api::Consent());
    router.Add("POST", "/v1/roles", bind(&Routes::Roles), registry_api::Roles());
    router.Add("POST", "/v1/subjects/erasures", bind(&Routes::RequestErasureRoute),
               registry_api::Erasures());
    router.Add("GET", "/v1/ledger/entries", bind(&Routes::Entries), registry_api::Entries());
    router.Add("GET", "/v1/events", bind(&Routes::Events), registry_api::Events());
  }

 private:
  struct Authed {
    std::string token;
    Session session;
    Caller caller;
  };

  Result<Authed> Authenticate(const Request& request) const {
    const std::string token = TokenOf(request);
    if (token.empty()) {
      return Status(Code::kUnauthenticated,
                    "log in first: POST /v1/sessions with the identity provider's assertion")
          .WithRule("session.login");
    }
    VX_ASSIGN_OR_RETURN(Session s, sessions_.Find(token, options_.clock_us()));
    Authed a{token, s, {}};
    a.caller.person = s.person;
    a.caller.insz = s.insz;
    a.caller.entity = s.entity;
    a.caller.on_behalf_of = s.on_behalf_of;
    return a;
  }

  // The session's entity must be the one in the path; another entity is not found.
  static Status SameEntity(const Authed& a, const Request& request) {
    if (a.session.entity != request.params.at("entity")) {
      return NotFound("entity " + request.params.at("entity") + " is not found");
    }
    return Status::Ok();
  }

  bool HasRole(const std::string& person, const char* role) const {
    auto r = registry_.Read([&](const RegistryState& s) {
      const Person* p = s.membership.FindPerson(person);
      return p != nullptr && p->roles.contains(role);
    });
    return r.ok() && *r;
  }

  Response Outcome(const Result<projections::Outcome>& out, const std::string& location) {
    if (!out.ok()) return ProblemResponse(out.status());
    json body = {
        {"id", out->id}, {"positions", out->positions}, {"already_stored", out->already_stored}};
    // Where the command was written: every read after this response includes it.
    auto positioned = [&](Response r) {
      if (!out->positions.empty()) {
        r.headers.emplace_back("Log-Position", std::to_string(out->positions.back()));
      }
      return r;
    };
    if (out->waits_for_approval) {
      body["status"] = "pending";
      return positioned(WithLocation(Json(202, body), location));
    }
    return positioned(WithLocation(Json(location.empty() ? 200 : 201, body), location));
  }

  Result<json> SessionJson(const Session& s) {
    return registry_.Read([&](const RegistryState& state) {
      json entities = json::array();
      json roles = json::array();
      if (const Person* p = state.membership.FindPerson(s.person)) {
        for (const std::string& r : p->roles) roles.push_back(r);
        for (const std::string& id : p->entities) {
          const Entity* e = state.membership.FindEntity(id);
          if (e == nullptr) continue;
          auto m = e->members.find(s.person);
          json item = {{"id", e->id},
                       {"name", e->name},
                       {"kind", e->kind},
                       {"role", m == e->members.end() ? "" : m->second.role}};
          if (m != e->members.end() && m->second.role == "staff") {
            item["physicians"] = m->second.linked_to;
          }
          entities.push_back(item);
        }
      }
      const Person* p = state.membership.FindPerson(s.person);
      // The person's latest access request, so that a requester sees it waiting or, when it
      // was rejected, the reason (SPEC §2 flow 1).
      json last = nullptr;
      const DomainRequest* latest = state.requests.LatestAccessRequest(s.person);
      if (latest != nullptr) {
        last = {
            {"id", latest->id},
            {"status", latest->status},
            {"reason", latest->reason},
            {"entity_name", latest->new_entity.is_object() ? latest->new_entity.value("name", "")
                                                           : EntityName(state, latest->entity)}};
      }
      return json{{"last_access_request", last},
                  {"person", s.person},
                  {"name", s.name},
                  {"roles", roles},
                  {"entities", entities},
                  {"entity", s.entity},
                  {"on_behalf_of", s.on_behalf_of},
                  {"pending_access_request", p ? p->pending_access : ""},
                  {"expires_at_us", s.expires_us}};
    });
  }

  // POST /v1/sessions {"assertion": JWS, "entity": optional}
  Result<Response> Login(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"assertion", "entity"}));
    VX_ASSIGN_OR_RETURN(auto assertion, body.String("assertion"));
    VX_ASSIGN_OR_RETURN(auto entity, body.OptionalString("entity"));
    const int64_t now = options_.clock_us();
    VX_ASSIGN_OR_RETURN(auto checked, VerifyAssertion(assertion, options_.providers,
                                                      options_.assertions, now / 1000000));
    const json& claims = checked.claims;
    auto insz = ParseInsz(checked.subject);
    if (!insz.ok()) {
      return Status(Code::kUnauthenticated,
                    "assertion: sub: must be an INSZ: " + insz.status().message(), "assertion.sub");
    }
    Session s;
    s.insz = insz->digits;
    VX_ASSIGN_OR_RETURN(s.person, PersonId(registry_.subjects(), insz->digits));
    // Optional; a claim that is not a string is ignored (value() would throw).
    auto text = [&](const char* claim) {
      return claims.contains(claim) && claims[claim].is_string() ? claims[claim].get<std::string>()
                                                                 : std::string();
    };
    s.name = text("name");
    s.email = text("email");
    VX_ASSIGN_OR_RETURN(auto linked, registry_.Read([&](const RegistryState& state) {
      const Person* p = state.membership.FindPerson(s.person);
      return p ? p->entities : std::set<std::string>();
    }));
    if (!entity.empty()) {
      if (!linked.contains(entity)) {
        return Status(Code::kPermissionDenied, "you are not linked to entity " + entity, "entity")
            .WithRule("entity.not_linked", {{"entity", entity}});
      }
      s.entity = entity;
    } else if (linked.size() == 1) {
      s.entity = *linked.begin();  // one entity: no choice to make
    }
    const AssertionUse use{checked.id, checked.accepted_until_s};
    VX_ASSIGN_OR_RETURN(auto token, sessions_.Create(s, now, &use));
    VX_ASSIGN_OR_RETURN(Session created, sessions_.Find(token, now));
    VX_ASSIGN_OR_RETURN(auto who, SessionJson(created));
    who["token"] = token;
    if (linked.empty() && !HasRole(s.person, "administrator") && !HasRole(s.person, "auditor")) {
      who["notice"] =
          "you have no approved access yet: request access (POST /v1/access-requests) or wait "
          "for an administrator to approve your request";
    }
    Response r = WithLocation(Json(201, who), "/v1/session");
    r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + token +
                                             "; Path=/; HttpOnly; SameSite=Strict" +
                                             (options_.secure_cookie ? "; Secure" : ""));
    return r;
  }

  Result<Response> WhoAmI(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto who, SessionJson(a.session));
    return Json(200, who);
  }

  Result<Response> Logout(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(sessions_.Revoke(a.token));
    Response r;
    r.status = 204;
    r.content_type.clear();
    r.headers.emplace_back(
        "Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return r;
  }

  // PUT /v1/session/entity {"entity": id, "on_behalf_of": physician (staff)}
  Result<Response> ChooseEntity(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"entity", "on_behalf_of"}));
    VX_ASSIGN_OR_RETURN(auto entity, body.String("entity"));
    VX_ASSIGN_OR_RETURN(auto behalf, body.OptionalString("on_behalf_of"));
    Caller probe = a.caller;
    probe.entity = entity;
    probe.on_behalf_of = behalf;
    // Staff may choose the entity first and the physician later; anything else must act.
    VX_ASSIGN_OR_RETURN(auto refusal,
                        registry_.Read([&](const RegistryState& s) -> std::optional<Status> {
                          auto r = ActingIn(s.membership, probe);
                          if (r.ok() || (r.status().field() == "on_behalf_of" && behalf.empty())) {
                            return std::nullopt;
                          }
                          return r.status();
                        }));
    if (refusal) return *refusal;
    VX_RETURN_IF_ERROR(sessions_.Update(a.token, options_.clock_us(), [&](Session& session) {
      session.entity = entity;
      session.on_behalf_of = behalf;
    }));
    return WhoAmI(request);
  }

  Result<Response> Vaccines(const Request&) {
    json list = json::array();
    for (const VaccineProduct& p : VaccineProducts()) {
      list.push_back({{"code", p.code},
                      {"name", p.name},
                      {"holder", p.holder},
                      {"holder_code", p.holder_code},
                      {"disease", p.disease},
                      {"disease_name", p.disease_name},
                      {"lot_required", p.covid19}});
    }
    return Json(200, {{"vaccines", list}});
  }

  // Flow 1.
  Result<Response> RequestAccessRoute(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body,
                        JsonObject::Parse(request.body, {"name", "email", "riziv", "terms_version",
                                                         "entity", "new_entity"}));
    RequestAccess c;
    c.request_id = NewId(request, "acc", a.session.person);
    VX_RETURN_IF_ERROR(body.ReadStrings({{"name", &c.name},
                                         {"email", &c.email},
                                         {"riziv", &c.riziv},
                                         {"terms_version", &c.terms_version}}));
    VX_ASSIGN_OR_RETURN(c.join_entity, body.OptionalString("entity"));
    if (body.Has("new_entity")) {
      VX_ASSIGN_OR_RETURN(auto n, body.Object("new_entity", {"kind", "name", "kbo", "region"}));
      NewEntity e;
      VX_RETURN_IF_ERROR(
          n.ReadStrings({{"kind", &e.kind}, {"name", &e.name}, {"region", &e.region}}));
      VX_ASSIGN_OR_RETURN(e.kbo, n.OptionalString("kbo"));
      c.new_entity = e;
    }
    Caller caller = a.caller;
    caller.entity.clear();
    return Outcome(registry_.Execute(caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "/v1/requests/" + c.request_id);
  }

  // POST /v1/checks/riziv {"riziv"}: the number's rules, checked at the step of the access
  // request that asks for it; 200 {"riziv", "role"} or the problem an access request would get.
  Result<Response> CheckRiziv(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"riziv"}));
    VX_ASSIGN_OR_RETURN(auto text, body.String("riziv"));
    VX_ASSIGN_OR_RETURN(Riziv riziv, ParseRiziv(text));
    if (riziv.role == Riziv::Role::kPhysicianInTraining) {
      return InvalidArgument("riziv: qualification " + riziv.qualification +
                                 " is a physician in training (HAIO); a HAIO is linked by their "
                                 "trainer under Mijn medewerkers",
                             "riziv")
          .WithRule("riziv.haio_requests_access", {{"qualification", riziv.qualification}});
    }
    return Json(200, {{"riziv", riziv.digits}, {"role", "physician"}});
  }

  // GET /v1/entities?name=TEXT: entities to join, found by name (case-insensitive substring).
  // Entity names, kinds and regions are not personal data; members are not shown.
  Result<Response> FindEntities(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    auto it = request.query.find("name");
    std::string needle = it == request.query.end() ? "" : it->second;
    if (needle.size() < 2 || needle.size() > 200) {
      return InvalidArgument("name must have 2 to 200 characters", "name")
          .WithRule("entity.search_length");
    }
    auto lower = [](std::string s) {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    needle = lower(needle);
    VX_ASSIGN_OR_RETURN(auto found, registry_.Read([&](const RegistryState& s) {
      json list = json::array();
      s.membership.ForEachEntity([&](const Entity& e) {
        if (lower(e.name).find(needle) == std::string::npos) return true;
        list.push_back({{"id", e.id}, {"name", e.name}, {"kind", e.kind}, {"region", e.region}});
        return list.size() < 20;
      });
      return list;
    }));
    return Json(200, {{"entities", found}});
  }

  Result<Response> ListRequests(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    if (!HasRole(a.session.person, "administrator")) {
      return Status(Code::kPermissionDenied, "only administrators see the request queue")
          .WithRule("role.administrator_only");
    }
    const std::string status =
        request.query.contains("status") ? request.query.at("status") : "pending";
    if (std::find(std::begin(kRequestStatusFilters), std::end(kRequestStatusFilters), status) ==
        std::end(kRequestStatusFilters)) {
      return InvalidArgument("status must be pending, approved, rejected or all", "status");
    }
    uint64_t cursor = 0, limit = 50;
    if (auto it = request.query.find("cursor"); it != request.query.end()) {
      VX_ASSIGN_OR_RETURN(cursor, ParseDecimal(it->second, "cursor"));
    }
    if (auto it = request.query.find("limit"); it != request.query.end()) {
      auto l = ParseDecimal(it->second, "limit");
      if (!l.ok() || *l == 0 || *l > 500) {
        return InvalidArgument("limit must be 1..500", "limit");
      }
      limit = *l;
    }
    VX_ASSIGN_OR_RETURN(auto page, registry_.Read([&](const RegistryState& s) {
      // In the order they were made, one more than a page (to know where the next starts).
      std::vector<const DomainRequest*> all;
      if (status == "pending") {
        for (const DomainRequest* r : s.requests.Pending()) {
          if (r->position >= cursor && all.size() <= limit) all.push_back(r);
        }
      } else {
        s.requests.ForEach(cursor, [&](const DomainRequest& r) {
          if (status == "all" || r.status == status) all.push_back(&r);
          return all.size() <= limit;
        });
      }
      json list = json::array();
      json next = nullptr;
      for (const DomainRequest* r : all) {
        if (list.size() == limit) {
          next = r->position;
          break;
        }
        json j = RequestWithNames(s, *r);
        // Administrators are known by name only from their sessions: this one's own.
        if (j["decided_by_name"] == "" && r->decided_by == a.session.person) {
          j["decided_by_name"] = a.session.name;
        }
        list.push_back(std::move(j));
      }
      return json{{"requests", list}, {"next", next}};
    }));
    return Json(200, page);
  }

  Result<Response> GetRequest(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    const bool admin = HasRole(a.session.person, "administrator");
    VX_ASSIGN_OR_RETURN(auto found, registry_.Read([&](const RegistryState& s) -> Result<json> {
      const DomainRequest* r = s.requests.Find(request.params.at("request"));
      // The requester, the person concerned and administrators see a request; others do not
      // learn that it exists.
      if (r == nullptr ||
          (!admin && r->requested_by != a.session.person && r->person != a.session.person)) {
        return NotFound("request " + request.params.at("request") + " is not found");
      }
      return RequestJson(*r);
    }));
    VX_ASSIGN_OR_RETURN(json request_json, std::move(found));
    return Json(200, request_json);
  }

  Result<Response> Decide(const Request& request, bool approve) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body,
                        JsonObject::Parse(request.body.empty() ? "{}" : request.body, {"reason"}));
    VX_ASSIGN_OR_RETURN(auto reason, body.OptionalString("reason"));
    DecideRequest c{request.params.at("request"), approve, reason,
                    "ent-" + eventstore::EventId::Random().ToString().substr(0, 8)};
    auto outcome = registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request));
    if (outcome.ok() && approve) {
      // An erased person's sessions end: they hold the person's INSZ, name and e-mail.
      VX_ASSIGN_OR_RETURN(auto erased_person,
                          registry_.Read([&](const RegistryState& s) -> std::string {
                            const DomainRequest* r = s.requests.Find(c.request_id);
                            return r != nullptr && r->kind == "erasure" && r->role == "person" &&
                                           r->status == "approved"
                                       ? r->person
                                       : std::string();
                          }));
      if (!erased_person.empty()) VX_RETURN_IF_ERROR(sessions_.EndPerson(erased_person).status());
      // The entities' rendered bodies name members and requesters: an erasure changes them
      // without changing the entities' versions.
      if (!erased_person.empty()) {
        std::lock_guard lock(entity_cache_mutex_);
        entity_cache_.clear();
      }
    }
    return Outcome(std::move(outcome), "");
  }
  Result<Response> Approve(const Request& request) { return Decide(request, true); }
  Result<Response> Reject(const Request& request) { return Decide(request, false); }

  Result<Response> GetEntity(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    if (auto it = request.query.find("as_of"); it != request.query.end()) {
      const bool admin = HasRole(a.session.person, "administrator");
      // The membership as it was, computed from the entity's stream in the log.
      VX_ASSIGN_OR_RETURN(auto bound, projections::ParseLogBound(it->second, "as_of"));
      VX_ASSIGN_OR_RETURN(auto member, registry_.Read([&](const RegistryState& s) {
        const Entity* e = s.membership.FindEntity(request.params.at("entity"));
        return e != nullptr && (admin || e->members.contains(a.session.person));
      }));
      if (!member) {
        return NotFound("entity " + request.params.at("entity") + " is not found");
      }
      VX_ASSIGN_OR_RETURN(Entity then,
                          projections::EntityAsOf(registry_.log().storage(), registry_.subjects(),
                                                  request.params.at("entity"), bound));
      return Json(200, EntityJson(then));
    }
    auto found =
        registry_.Read([&](const RegistryState& s) -> Result<std::pair<std::string, uint64_t>> {
          const Entity* e = s.membership.FindEntity(request.params.at("entity"));
          const Person* p = s.membership.FindPerson(a.session.person);
          const bool admin = p != nullptr && p->roles.contains("administrator");
          if (e == nullptr || (!admin && !e->members.contains(a.session.person))) {
            return NotFound("entity " + request.params.at("entity") + " is not found");
          }
          // Everything in the answer changes only with the entity's stream (its version): the
          // rendered body is kept per entity and version.
          {
            std::lock_guard lock(entity_cache_mutex_);
            auto hit = entity_cache_.find(e->id);
            if (hit != entity_cache_.end() && hit->second.first == e->version) {
              return std::make_pair(hit->second.second, e->version);
            }
          }
          json j = EntityJson(*e);
          json pending = json::array();
          for (const std::string& id : e->pending) {
            if (const DomainRequest* r = s.requests.Find(id))
              pending.push_back(RequestWithNames(s, *r));
          }
          j["pending"] = pending;
          std::string body = JsonText(j);
          std::lock_guard lock(entity_cache_mutex_);
          entity_cache_[e->id] = {e->version, body};
          return std::make_pair(std::move(body), e->version);
        });
    VX_ASSIGN_OR_RETURN(auto rendered, std::move(found));
    VX_ASSIGN_OR_RETURN(auto body_and_version, std::move(rendered));
    Response r;
    r.body = std::move(body_and_version.first);
    return WithETag(std::move(r), body_and_version.second);
  }

  // The entity's current version for If-Match, or a problem.
  std::optional<Response> EntityPrecondition(const Request& request) {
    auto version = registry_.Read([&](const RegistryState& s) -> uint64_t {
      const Entity* e = s.membership.FindEntity(request.params.at("entity"));
      return e ? e->version : 0;
    });
    if (!version.ok()) return ProblemResponse(version.status());
    return CheckIfMatch(request, *version);
  }

  Result<Response> LinkRequest(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(SameEntity(a, request));
    if (auto problem = EntityPrecondition(request)) return *problem;
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"insz", "name", "email",
                                                                    "is_physician", "riziv"}));
    RequestLink c;
    c.request_id = NewId(request, "lnk", a.session.person);
    VX_RETURN_IF_ERROR(
        body.ReadStrings({{"insz", &c.insz}, {"name", &c.name}, {"email", &c.email}}));
    VX_ASSIGN_OR_RETURN(c.is_physician, body.Boolean("is_physician"));
    VX_ASSIGN_OR_RETURN(c.riziv, body.OptionalString("riziv"));
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "/v1/requests/" + c.request_id);
  }

  Result<Response> UnlinkRequest(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(SameEntity(a, request));
    if (auto problem = EntityPrecondition(request)) return *problem;
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"members"}));
    VX_ASSIGN_OR_RETURN(auto members, body.Strings("members"));
    RequestUnlink c{NewId(request, "unl", a.session.person), members};
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "/v1/requests/" + c.request_id);
  }

  Result<Response> EntityVaccinations(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(SameEntity(a, request));
    uint64_t cursor = 0, limit = 100;
    if (auto it = request.query.find("cursor"); it != request.query.end()) {
      VX_ASSIGN_OR_RETURN(cursor, ParseDecimal(it->second, "cursor"));
    }
    if (auto it = request.query.find("limit"); it != request.query.end()) {
      auto l = ParseDecimal(it->second, "limit");
      if (!l.ok() || *l == 0 || *l > 1000) {
        return InvalidArgument("limit must be 1..1000", "limit");
      }
      limit = *l;
    }
    VX_ASSIGN_OR_RETURN(auto page, registry_.Read([&](const RegistryState& s) {
      std::vector<std::pair<uint64_t, json>> rows;
      for (const auto& r : s.vaccinations.ByEntity(a.session.entity, cursor, limit + 1)) {
        const Patient* p = s.vaccinations.FindPatient(r.patient);
        const Vaccination* v = p ? p->Find(r.vaccination) : nullptr;
        if (v == nullptr) continue;
        json j = VaccinationJson(*v);
        j["patient"] = r.patient;
        rows.emplace_back(v->position, std::move(j));
      }
      std::sort(rows.begin(), rows.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      json list = json::array();
      json next = nullptr;
      for (auto& [position, row] : rows) {
        if (list.size() == limit) {
          next = position;
          break;
        }
        list.push_back(std::move(row));
      }
      return json{{"vaccinations", list}, {"next", next}};
    }));
    return Json(200, page);
  }

  Result<Response> GetStock(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(SameEntity(a, request));
    VX_ASSIGN_OR_RETURN(auto stock, registry_.Read([&](const RegistryState& s) {
      json lots = json::array();
      int64_t shortfall = 0;
      const std::string today = DateOf(options_.clock_us());
      if (const EntityStock* st = s.stock.Find(a.session.entity)) {
        for (const auto& [key, l] : st->lots) {
          // An expired lot's doses are not usable, whatever is on hand.
          const bool expired = !l.expiry.empty() && l.expiry < today;
          lots.push_back({{"expired", expired},
                          {"usable", expired ? 0 : std::max<int64_t>(0, l.OnHand())},
                          {"product", l.product},
                          {"lot", l.lot},
                          {"expiry", l.expiry},
                          {"received", l.received},
                          {"adjusted", l.adjusted},
                          {"used", l.used},
                          {"on_hand", l.OnHand()},
                          {"shortfall", l.Shortfall()}});
          shortfall += l.Shortfall();
        }
      }
      return json{{"entity", a.session.entity}, {"lots", lots}, {"shortfall", shortfall}};
    }));
    return Json(200, stock);
  }

  Result<Response> Deliver(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(SameEntity(a, request));
    VX_ASSIGN_OR_RETURN(auto body,
                        JsonObject::Parse(request.body, {"product", "lot", "expiry", "quantity"}));
    ReceiveStock c;
    VX_RETURN_IF_ERROR(
        body.ReadStrings({{"product", &c.product}, {"lot", &c.lot}, {"expiry", &c.expiry}}));
    VX_ASSIGN_OR_RETURN(c.quantity, body.Integer("quantity"));
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "/v1/entities/" + a.session.entity + "/stock");
  }

  Result<Response> Adjust(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_RETURN_IF_ERROR(SameEntity(a, request));
    VX_ASSIGN_OR_RETURN(auto body,
                        JsonObject::Parse(request.body, {"product", "lot", "delta", "reason"}));
    AdjustStock c;
    VX_RETURN_IF_ERROR(
        body.ReadStrings({{"product", &c.product}, {"lot", &c.lot}, {"reason", &c.reason}}));
    VX_ASSIGN_OR_RETURN(c.delta, body.Integer("delta"));
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "/v1/entities/" + a.session.entity + "/stock");
  }

  static Result<PatientRef> ParsePatient(const JsonObject& body, const std::string& name) {
    VX_ASSIGN_OR_RETURN(JsonObject p, body.Object(name, {"insz", "name", "birth_date"}));
    PatientRef ref;
    VX_ASSIGN_OR_RETURN(ref.insz, p.OptionalString("insz"));
    VX_ASSIGN_OR_RETURN(ref.name, p.OptionalString("name"));
    VX_ASSIGN_OR_RETURN(ref.birth_date, p.OptionalString("birth_date"));
    return ref;
  }

  static Result<RegisterVaccination> ParseRegistration(const JsonObject& body) {
    RegisterVaccination c;
    VX_ASSIGN_OR_RETURN(c.patient, ParsePatient(body, "patient"));
    VX_ASSIGN_OR_RETURN(c.product, body.String("product"));
    VX_ASSIGN_OR_RETURN(c.lot, body.OptionalString("lot"));
    VX_ASSIGN_OR_RETURN(int64_t dose, body.Integer("dose"));
    if (dose < 0 || dose > 1000) return InvalidArgument("dose must be between 1 and 10", "dose");
    c.dose = static_cast<int>(dose);
    VX_ASSIGN_OR_RETURN(c.date, body.String("date"));
    VX_ASSIGN_OR_RETURN(c.performer, body.OptionalString("performer"));
    VX_ASSIGN_OR_RETURN(JsonObject consent, body.Object("consent", {"decision", "date"}));
    VX_ASSIGN_OR_RETURN(c.consent.decision, consent.String("decision"));
    VX_ASSIGN_OR_RETURN(c.consent.date, consent.String("date"));
    return c;
  }

  Result<Response> Register(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(
        auto body, JsonObject::Parse(request.body, {"patient", "product", "lot", "dose", "date",
                                                    "performer", "consent"}));
    VX_ASSIGN_OR_RETURN(auto c, ParseRegistration(body));
    c.vaccination_id = NewId(request, "vac", a.session.person);
    auto outcome = registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request));
    std::string patient;  // known once the registration is in: Execute made the subject
    if (outcome.ok()) {
      VX_ASSIGN_OR_RETURN(auto found, FindPatientId(registry_.subjects(), c.patient));
      patient = found.value_or("");
    }
    return Outcome(std::move(outcome),
                   "/v1/patients/" + patient + "/vaccinations/" + c.vaccination_id);
  }

  // One CSV line split into fields; double quotes may enclose a field ("" is a quote).
  static std::vector<std::string> SplitCsvLine(std::string_view line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          fields.back() += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          fields.back() += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.emplace_back();
      } else {
        fields.back() += c;
      }
    }
    return fields;
  }

  // CSV of people vaccinated on the same day with the same product and lot (SPEC §2 flow 5):
  // ?product=P&lot=L&date=D[&dose=N]; a header line naming some of the columns insz, name,
  // birth_date, dose, consent (given or refused; default given); one person per line.
  Result<std::vector<Result<RegisterVaccination>>> ParseCsvBatch(const Request& request) {
    RegisterVaccination common;
    for (auto [name, out] : {std::pair{"product", &common.product}, std::pair{"lot", &common.lot},
                             std::pair{"date", &common.date}}) {
      auto it = request.query.find(name);
      if (it == request.query.end() || it->second.empty()) {
        return InvalidArgument(std::string(name) + " is required (query) for a CSV batch", name);
      }
      *out = it->second;
    }
    common.dose = 1;
    if (auto it = request.query.find("dose"); it != request.query.end()) {
      VX_ASSIGN_OR_RETURN(uint64_t dose, ParseDecimal(it->second, "dose"));
      common.dose = static_cast<int>(std::min<uint64_t>(dose, 1000));
    }
    common.consent = {"given", common.date};
    std::vector<std::string> lines;
    std::string_view body = request.body;
    while (!body.empty()) {
      size_t end = body.find('\n');
      std::string_view line = body.substr(0, end);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) lines.emplace_back(line);
      if (end == std::string_view::npos) break;
      body.remove_prefix(end + 1);
    }
    if (lines.empty()) return InvalidArgument("the CSV has no header line", "body");
    if (!IsValidUtf8(lines[0])) return InvalidArgument("the CSV header is not UTF-8", "body");
    const std::vector<std::string> header = SplitCsvLine(lines[0]);
    for (const std::string& column : header) {
      if (column != "insz" && column != "name" && column != "birth_date" && column != "dose" &&
          column != "consent") {
        return InvalidArgument(
            "CSV column " + column + " is unknown (insz, name, birth_date, dose, consent)", "body");
      }
    }
    std::vector<Result<RegisterVaccination>> rows;
    for (size_t i = 1; i < lines.size(); ++i) {
      if (!IsValidUtf8(lines[i])) {  // names go into events as JSON text
        rows.push_back(InvalidArgument("line " + std::to_string(i + 1) + " is not UTF-8", "body"));
        continue;
      }
      const std::vector<std::string> fields = SplitCsvLine(lines[i]);
      if (fields.size() != header.size()) {
        rows.push_back(InvalidArgument("line " + std::to_string(i + 1) + " has " +
                                           std::to_string(fields.size()) + " fields, the header " +
                                           std::to_string(header.size()),
                                       "body"));
        continue;
      }
      RegisterVaccination c = common;
      Status bad;
      for (size_t f = 0; f < header.size(); ++f) {
        const std::string& v = fields[f];
        if (header[f] == "insz") c.patient.insz = v;
        if (header[f] == "name") c.patient.name = v;
        if (header[f] == "birth_date") c.patient.birth_date = v;
        if (header[f] == "consent" && !v.empty()) c.consent.decision = v;
        if (header[f] == "dose" && !v.empty()) {
          auto dose = ParseDecimal(v, "dose");
          if (!dose.ok()) bad = dose.status();
          if (dose.ok()) c.dose = static_cast<int>(std::min<uint64_t>(*dose, 1000));
        }
      }
      rows.push_back(bad.ok() ? Result<RegisterVaccination>(c) : Result<RegisterVaccination>(bad));
    }
    return rows;
  }

  Result<std::vector<Result<RegisterVaccination>>> ParseJsonBatch(const Request& request) {
    if (JsonNestingDepth(request.body) > kMaxJsonDepth) {
      return InvalidArgument(
          "the body nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth), "body");
    }
    auto rows = json::parse(request.body, nullptr, false);
    if (rows.is_discarded() || !rows.is_array()) {
      return InvalidArgument("the body must be a JSON array of registrations", "body");
    }
    std::vector<Result<RegisterVaccination>> out;
    for (const json& r : rows) {
      auto row = JsonObject::From(
          r, "", {"patient", "product", "lot", "dose", "date", "performer", "consent"});
      out.push_back(row.ok() ? ParseRegistration(*row) : Result<RegisterVaccination>(row.status()));
    }
    return out;
  }

  // Many registrations: a JSON array, or CSV (Content-Type text/csv); each row is accepted or
  // refused on its own.
  Result<Response> RegisterBatch(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    auto type = request.headers.find("content-type");
    std::string media = type == request.headers.end() ? std::string() : type->second;
    for (char& ch : media) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const bool csv = media.starts_with("text/csv");
    VX_ASSIGN_OR_RETURN(auto rows, csv ? ParseCsvBatch(request) : ParseJsonBatch(request));
    if (rows.size() > options_.max_batch_rows) {
      return InvalidArgument(
          "at most " + std::to_string(options_.max_batch_rows) + " rows per batch", "body");
    }
    json results = json::array();
    size_t accepted = 0;
    const std::string key = IdempotencyKey(request);
    // The key of another batch: refused whole, before any row runs.
    VX_RETURN_IF_ERROR(registry_.CheckIdempotencyKey(a.session.person, key, Fingerprint(request),
                                                     options_.max_batch_rows));
    for (size_t i = 0; i < rows.size(); ++i) {
      Result<RegisterVaccination>& c = (rows)[i];
      if (c.ok()) {
        c->vaccination_id = NewId(request, "vac", a.session.person) + "-" + std::to_string(i);
      }
      // (A Result is never made from an OK Status: that asserts.)
      Result<projections::Outcome> out =
          c.ok() ? registry_.Execute(a.caller, *c, key.empty() ? "" : key + "#" + std::to_string(i),
                                     Fingerprint(request))
                 : Result<projections::Outcome>(c.status());
      if (out.ok()) {
        ++accepted;
        results.push_back({{"row", i}, {"status", 201}, {"id", out->id}});
      } else {
        const Status& s = out.status();
        json row = {{"row", i},
                    {"status", HttpStatusFor(s.code())},
                    {"field", s.field()},
                    {"detail", s.message()}};
        if (!s.rule().empty()) {
          row["code"] = s.rule();
          row["params"] = json::object();
          for (const auto& [name, value] : s.params()) row["params"][name] = value;
        }
        results.push_back(std::move(row));
      }
    }
    return Json(
        200, {{"accepted", accepted}, {"refused", rows.size() - accepted}, {"results", results}});
  }

  // A patient's record, if the session's entity may see it: it registered a vaccination for
  // them. Anyone else gets 404, whether or not the patient exists. The read is recorded.
  // With `as_of`, the record as it was then, computed from the patient's stream in the log (who
  // may see it is decided on today's record).
  // The record as `entity` may see it (SPEC §2 flow 9): whole with a current care relationship;
  // else only the entity's own registrations (those it entered in error, since it has no active
  // one), without the patient's personal data and marked "restricted"; nullopt when it has none.
  // With `state`, the names of the entities and people in it too (PatientWithNames).
  static std::optional<json> VisibleRecord(const Patient& p, const std::string& entity,
                                           bool cared_for, const RegistryState* state = nullptr) {
    if (cared_for) {
      json j = state != nullptr ? PatientWithNames(*state, p) : PatientJson(p);
      j["restricted"] = false;
      return j;
    }
    json own = json::array();
    for (const Vaccination& v : p.vaccinations) {
      if (v.entity == entity) own.push_back(VaccinationJson(v));
    }
    if (own.empty()) return std::nullopt;
    // No version either: it would show when other entities change the record.
    return json{{"id", p.id},   {"insz", ""},          {"name", ""},        {"birth_date", ""},
                {"version", 0}, {"vaccinations", own}, {"restricted", true}};
  }

  // A patient's record, as far as the session's entity may see it (VisibleRecord). Anyone with
  // nothing to see gets 404, whether or not the patient exists. The read is recorded.
  // With `as_of`, the record as it was then, computed from the patient's stream in the log (what
  // may be seen is decided on today's record).
  Result<Response> PatientRecord(const Authed& a, const std::string& patient,
                                 std::optional<projections::LogBound> as_of = std::nullopt) {
    struct Seen {
      json body;
      uint64_t version = 0;
      bool cared_for = false;
    };
    VX_ASSIGN_OR_RETURN(auto found, registry_.Read([&](const RegistryState& s) -> Result<Seen> {
      auto acting = ActingIn(s.membership, a.caller);
      if (!acting.ok()) return acting.status();
      const Patient* p = s.vaccinations.FindPatient(patient);
      const bool cared_for = p != nullptr && p->CaredForBy(a.caller.entity, options_.clock_us());
      std::optional<json> visible =
          p == nullptr ? std::nullopt : VisibleRecord(*p, a.caller.entity, cared_for, &s);
      if (!visible) {
        return NotFound(
            "no patient record is found that your entity may read: it needs a registration "
            "of its own that is not entered in error, or a care declaration "
            "(POST /v1/patients/care-declarations)");
      }
      Status recorded = reads_.Record(a.caller, acting->role, acting->physician, patient);
      if (!recorded.ok()) return recorded;
      return Seen{std::move(*visible), p->version, cared_for};
    }));
    VX_ASSIGN_OR_RETURN(Seen record, std::move(found));
    if (as_of) {
      auto then = projections::PatientAsOf(registry_.log().storage(), registry_.subjects(), patient,
                                           *as_of);
      json empty = {{"id", patient},     {"insz", ""},   {"name", ""},
                    {"birth_date", ""},  {"version", 0}, {"vaccinations", json::array()},
                    {"restricted", true}};
      if (!then.ok()) {
        // Whether the patient had a record then is not told to an entity without access.
        if (then.status().code() == Code::kNotFound && !record.cared_for) return Json(200, empty);
        return then.status();
      }
      std::optional<json> visible = VisibleRecord(*then, a.caller.entity, record.cared_for);
      return Json(200, visible ? *visible : empty);
    }
    // The version lets a caller with a care relationship send If-Match; a restricted view has
    // nothing left to change.
    if (!record.cared_for) return Json(200, record.body);
    return WithETag(Json(200, record.body), record.version);
  }

  // POST /v1/patients/search {"insz"} or {"name", "birth_date"}: the INSZ stays out of URLs
  // (and so out of access logs).
  Result<Response> SearchPatient(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"insz", "name", "birth_date"}));
    PatientRef ref;
    for (auto [field, out] : {std::pair{"insz", &ref.insz}, std::pair{"name", &ref.name},
                              std::pair{"birth_date", &ref.birth_date}}) {
      VX_ASSIGN_OR_RETURN(auto v, body.OptionalString(field));
      *out = v;
    }
    if (!ref.insz.empty()) {
      VX_ASSIGN_OR_RETURN(auto insz, ParseInsz(ref.insz));
    } else if (ref.name.empty() || ref.birth_date.empty()) {
      return InvalidArgument("give insz, or name and birth_date", "insz");
    }
    // A patient the key store does not know is not found, exactly as one nobody may read.
    VX_ASSIGN_OR_RETURN(auto patient, FindPatientId(registry_.subjects(), ref));
    return PatientRecord(a, patient.value_or(""));
  }

  Result<Response> GetPatient(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    std::optional<projections::LogBound> as_of;
    if (auto it = request.query.find("as_of"); it != request.query.end()) {
      VX_ASSIGN_OR_RETURN(as_of, projections::ParseLogBound(it->second, "as_of"));
    }
    return PatientRecord(a, request.params.at("patient"), as_of);
  }

  // If-Match on a patient's stream, checked only for a caller whose entity may read the patient:
  // anyone else learns nothing of it (not even its version), and is answered as the command
  // would answer them.
  std::optional<Response> PatientPrecondition(const Request& request, const Authed& a) {
    if (!request.headers.contains("if-match")) return std::nullopt;
    auto version = registry_.Read([&](const RegistryState& s) -> std::optional<uint64_t> {
      const Patient* p = s.vaccinations.FindPatient(request.params.at("patient"));
      if (p == nullptr || !p->CaredForBy(a.caller.entity, options_.clock_us())) {
        return std::nullopt;
      }
      return p->version;
    });
    if (!version.ok()) return ProblemResponse(version.status());
    if (!*version) {
      return ProblemResponse(
          NotFound("vaccination " + request.params.at("vaccination") + " does not exist"));
    }
    return CheckIfMatch(request, **version);
  }

  // POST /v1/patients/care-declarations {"patient": {"insz"} | {"name", "birth_date"},
  // "reason", "hours"}: the session's entity may read the patient's record for `hours`.
  Result<Response> DeclareCareRoute(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"patient", "reason", "hours"}));
    DeclareCare c;
    VX_ASSIGN_OR_RETURN(c.patient, ParsePatient(body, "patient"));
    VX_ASSIGN_OR_RETURN(c.reason, body.String("reason"));
    VX_ASSIGN_OR_RETURN(auto hours, body.OptionalInteger("hours"));
    if (hours) {
      if (*hours < 1 || *hours > 720) {
        return InvalidArgument("hours must be between 1 and 720 (30 days)", "hours");
      }
      c.hours = static_cast<int>(*hours);
    }
    auto outcome = registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request));
    std::string patient;
    if (outcome.ok()) {
      VX_ASSIGN_OR_RETURN(auto found, FindPatientId(registry_.subjects(), c.patient));
      patient = found.value_or("");
    }
    return Outcome(std::move(outcome), "/v1/patients/" + patient);
  }

  // GET /v1/care-declarations?from=POSITION&limit=N — auditors (and administrators): every care
  // declaration with who made it, for which entity and why, found by reading the log from
  // `from`; at most `limit` (default 100, at most 1000) declarations and 10,000 events a page.
  Result<Response> ListCareDeclarations(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    if (!HasRole(a.session.person, "auditor") && !HasRole(a.session.person, "administrator")) {
      return Status(Code::kPermissionDenied,
                    "only auditors and administrators list care declarations");
    }
    uint64_t from = 0, limit = 100;
    if (auto it = request.query.find("from"); it != request.query.end()) {
      VX_ASSIGN_OR_RETURN(from, ParseDecimal(it->second, "from"));
    }
    if (auto it = request.query.find("limit"); it != request.query.end()) {
      auto v = ParseDecimal(it->second, "limit");
      if (!v.ok() || *v == 0 || *v > 1000) return InvalidArgument("limit must be 1..1000", "limit");
      limit = *v;
    }
    constexpr uint64_t kScan = 10000, kBatch = 1000;
    eventstore::EventLog& log = registry_.log();
    const uint64_t end = std::min<uint64_t>(log.Size(), from + kScan);
    json list = json::array();
    uint64_t position = from;
    while (position < end && list.size() < limit) {
      VX_ASSIGN_OR_RETURN(auto events, log.Read(position, std::min(kBatch, end - position)));
      if (events.empty()) break;
      for (const auto& e : events) {
        position = e.position + 1;
        if (e.event.type != event_type::kCareDeclared) continue;
        VX_ASSIGN_OR_RETURN(DomainEvent d, projections::ToDomainEvent(e, registry_.subjects()));
        list.push_back({{"position", e.position},
                        {"patient", d.payload.value("patient", "")},
                        {"entity", d.entity},
                        {"person", d.actor},
                        {"role", d.actor_role},
                        {"on_behalf_of", d.on_behalf_of},
                        {"reason", d.payload.value("reason", "")},
                        {"until_us", d.payload.value("until_us", int64_t{0})},
                        {"recorded_at_us", e.recorded_at_us}});
        if (list.size() == limit) break;
      }
    }
    json next = nullptr;
    if (position < log.Size()) next = position;
    return Json(200, {{"declarations", list}, {"next", next}});
  }

  Result<Response> Correct(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    if (auto problem = PatientPrecondition(request, a)) return *problem;
    VX_ASSIGN_OR_RETURN(
        auto body, JsonObject::Parse(request.body, {"product", "lot", "dose", "date", "reason"}));
    CorrectVaccination c;
    c.patient = request.params.at("patient");
    c.vaccination_id = request.params.at("vaccination");
    for (auto [field, out] :
         {std::pair{"product", &c.product}, std::pair{"lot", &c.lot}, std::pair{"date", &c.date}}) {
      if (!body.Has(field)) continue;
      VX_ASSIGN_OR_RETURN(auto v, body.String(field));
      *out = v;
    }
    VX_ASSIGN_OR_RETURN(auto dose, body.OptionalInteger("dose"));
    if (dose) c.dose = static_cast<int>(std::clamp<int64_t>(*dose, -1, 1000));
    VX_ASSIGN_OR_RETURN(c.reason, body.String("reason"));
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "");
  }

  Result<Response> Retract(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    if (auto problem = PatientPrecondition(request, a)) return *problem;
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"reason"}));
    VX_ASSIGN_OR_RETURN(auto reason, body.String("reason"));
    RetractVaccination c{request.params.at("patient"), request.params.at("vaccination"), reason};
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "");
  }

  Result<Response> ConsentRoute(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"decision", "date"}));
    RecordConsent c;
    c.patient = request.params.at("patient");
    c.vaccination_id = request.params.at("vaccination");
    VX_ASSIGN_OR_RETURN(auto decision, body.String("decision"));
    VX_ASSIGN_OR_RETURN(auto date, body.String("date"));
    c.consent = {decision, date};
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "");
  }

  Result<Response> Roles(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"insz", "role", "grant"}));
    VX_ASSIGN_OR_RETURN(auto insz, body.String("insz"));
    VX_ASSIGN_OR_RETURN(auto role, body.String("role"));
    VX_ASSIGN_OR_RETURN(auto grant, body.Boolean("grant"));
    return Outcome(registry_.Execute(a.caller, ChangeRole{insz, role, grant},
                                     IdempotencyKey(request), Fingerprint(request)),
                   "");
  }

  // POST /v1/subjects/erasures {"kind": "patient", "patient": {"insz"} | {"name", "birth_date"},
  // "reason"} or {"kind": "person", "insz", "reason"} — administrators (issue 16): a request
  // that another administrator approves with POST /v1/requests/{id}/approve.
  Result<Response> RequestErasureRoute(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body,
                        JsonObject::Parse(request.body, {"kind", "patient", "insz", "reason"}));
    RequestErasure c;
    VX_ASSIGN_OR_RETURN(c.kind, body.String("kind"));
    VX_ASSIGN_OR_RETURN(c.reason, body.String("reason"));
    if (c.kind != "patient" && c.kind != "person") {
      return InvalidArgument("kind must be patient or person", "kind").WithRule("erasure.kind");
    }
    if (c.kind == "patient") {
      if (body.Has("insz")) {
        return InvalidArgument("a patient is named by patient: {insz} or {name, birth_date}",
                               "insz");
      }
      VX_ASSIGN_OR_RETURN(c.patient, ParsePatient(body, "patient"));
    } else {
      if (body.Has("patient")) {
        return InvalidArgument("a person is named by insz", "patient");
      }
      VX_ASSIGN_OR_RETURN(c.insz, body.String("insz"));
    }
    c.request_id = NewId(request, "era", a.session.person);
    return Outcome(registry_.Execute(a.caller, c, IdempotencyKey(request), Fingerprint(request)),
                   "/v1/requests/" + c.request_id);
  }

  // GET /v1/ledger/entries?start=I&limit=K — auditors only: leaves hold personal data.
  Result<Response> Entries(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    if (!HasRole(a.session.person, "auditor")) {
      return Status(Code::kPermissionDenied, "only auditors read ledger entries")
          .WithRule("role.auditor_only");
    }
    uint64_t start = 0, limit = 100;
    if (auto it = request.query.find("start"); it != request.query.end()) {
      VX_ASSIGN_OR_RETURN(start, ParseDecimal(it->second, "start"));
    }
    if (auto it = request.query.find("limit"); it != request.query.end()) {
      auto v = ParseDecimal(it->second, "limit");
      if (!v.ok() || *v == 0 || *v > 1000) {
        return InvalidArgument("limit must be 1..1000", "limit");
      }
      limit = *v;
    }
    eventstore::EventLog& log = registry_.log();
    VX_ASSIGN_OR_RETURN(auto records, log.Read(start, limit));
    json entries = json::array();
    for (const auto& r : records) {
      entries.push_back(
          {{"index", r.position},
           {"leaf", Base64Encode(ByteView(r.leaf.data(), r.leaf.size()))},
           {"signature", Base64Encode(ByteView(r.signature.data(), r.signature.size()))},
           {"key_id", HexEncode(ByteView(r.key_id.data(), r.key_id.size()))}});
    }
    json next = nullptr;
    if (!records.empty()) next = start + records.size();
    return Json(200, {{"entries", entries}, {"next", next}});
  }

  // Auditors see every event; administrators the access, link, unlink, membership and role
  // events; a member the events of the session's entity. Resumes after Last-Event-ID (or from
  // ?from=POSITION; default: new events only).
  Result<Response> Events(const Request& request) {
    VX_ASSIGN_OR_RETURN(auto a, Authenticate(request));
    eventstore::EventLog& log = registry_.log();
    uint64_t from = log.Size();
    if (auto it = request.headers.find("last-event-id"); it != request.headers.end()) {
      VX_ASSIGN_OR_RETURN(auto last, ParseDecimal(it->second, "Last-Event-ID"));
      if (last == std::numeric_limits<uint64_t>::max()) {
        return InvalidArgument("Last-Event-ID is past any position", "Last-Event-ID");
      }
      from = last + 1;
    } else if (auto q = request.query.find("from"); q != request.query.end()) {
      VX_ASSIGN_OR_RETURN(from, ParseDecimal(q->second, "from"));
    }
    const bool auditor = HasRole(a.session.person, "auditor");
    const bool admin = HasRole(a.session.person, "administrator");
    std::string entity;
    if (!auditor && !admin) {
      // Staff who have not chosen a physician yet still see their entity's events.
      auto member = registry_.Read([&](const RegistryState& s) {
        auto acting = ActingIn(s.membership, a.caller);
        return acting.ok() || acting.status().field() == "on_behalf_of";
      });
      if (member.ok() && *member) entity = a.session.entity;
      if (entity.empty()) {
        return Status(Code::kPermissionDenied,
                      "the event feed is for auditors, administrators and "
                      "members of an entity");
      }
    }
    auto visible = [auditor, admin, entity](const eventstore::RecordedEvent& e) {
      if (auditor) return true;
      const std::string& t = e.event.type;
      if (admin &&
          (t.starts_with("access.") || t.starts_with("link.") || t.starts_with("unlink.") ||
           t.starts_with("member.") || t.starts_with("entity.") || t.starts_with("role."))) {
        return true;
      }
      return !entity.empty() && e.event.entity == entity;
    };
    Response r;
    r.content_type = "text/event-stream";
    r.stream = std::make_shared<EventFeed>(log.Subscribe(from), visible);
    return r;
  }

  Registry& registry_;
  SessionStore& sessions_;
  std::mutex entity_cache_mutex_;
  // GET /v1/entities/{entity}: entity id -> (entity version, rendered body).
  std::map<std::string, std::pair<uint64_t, std::string>> entity_cache_;
  projections::ReadRecorder& reads_;
  RegistryRoutesOptions options_;
};

}  // namespace

std::string SessionToken(const Request& request) { return TokenOf(request); }

void AddRegistryRoutes(Router& router, Registry& registry, SessionStore& sessions,
                       projections::ReadRecorder& reads, RegistryRoutesOptions options) {
  std::make_shared<Routes>(registry, sessions, reads, std::move(options))->Add(router);
}

}  // namespace vaxledger::http
