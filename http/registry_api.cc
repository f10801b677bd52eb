#include "http/registry_api.h"

#include <initializer_list>
#include <string>

#include "http/registry_routes.h"

namespace vaxledger::http::registry_api {
namespace {

using nlohmann::json;

json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json Str() { return {{"type", "string"}}; }
json Int() { return {{"type", "integer"}, {"format", "int64"}}; }
json Count() { return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}; }
json Bool() { return {{"type", "boolean"}}; }
json Array(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
json Nullable(json schema) {
  schema["nullable"] = true;
  return schema;
}
json Enum(std::initializer_list<const char*> values) {
  json e = json::array();
  for (const char* v : values) e.push_back(v);
  return {{"type", "string"}, {"enum", e}};
}

// An object with exactly these properties; `required` are always present.
json Object(json properties, std::initializer_list<const char*> required) {
  json r = json::array();
  for (const char* name : required) r.push_back(name);
  json o = {
      {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!r.empty()) o["required"] = r;
  return o;
}

// Every property required.
json Record(json properties) {
  json o = {{"type", "object"}, {"additionalProperties", false}};
  json r = json::array();
  for (const auto& [name, schema] : properties.items()) r.push_back(name);
  o["properties"] = std::move(properties);
  o["required"] = r;
  return o;
}

ParamDoc Query(std::string name, std::string description, json schema = Count(),
               bool required = false) {
  return {std::move(name), "query", std::move(description), std::move(schema), required};
}

ParamDoc Limit(int max, int fallback) {
  return Query("limit", "Most items in the page (default " + std::to_string(fallback) + ")",
               {{"type", "integer"}, {"minimum", 1}, {"maximum", max}});
}

ParamDoc Cursor() {
  return Query("cursor", "Log position to start from: the `next` of the page before");
}

ParamDoc AsOf(const std::string& what) {
  return Query("as_of",
               what +
                   " as it was: a log position (that event included) or a UTC time "
                   "YYYY-MM-DDTHH:MM:SSZ",
               {{"type", "string"},
                {"pattern", "^([0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$"}});
}

ParamDoc IdempotencyKey() {
  return {"Idempotency-Key", "header",
          "A retry with the same key (by the same person) names the same resource and stores "
          "nothing again (already_stored: true)"};
}

ParamDoc IfMatch() {
  return {"If-Match", "header",
          "The ETag read before (\"N\", or *): a stale one is refused with 412 and the current "
          "ETag"};
}

ContentDoc JsonBody(const std::string& schema) { return {"application/json", Ref(schema)}; }

ResponseDoc Answer(int status, std::string description, const std::string& schema,
                   std::vector<std::string> headers = {}) {
  return {status, std::move(description), {JsonBody(schema)}, std::move(headers)};
}

// A command: Idempotency-Key, a JSON body, an Outcome.
RouteDoc Command(std::string summary, const std::string& body_schema, int status,
                 std::vector<int> problems, std::vector<std::string> headers = {}) {
  RouteDoc d;
  d.summary = std::move(summary);
  d.tag = "registry";
  d.params = {IdempotencyKey()};
  d.body = {JsonBody(body_schema)};
  d.responses = {Answer(status,
                        status == 202 ? "Stored; waits for an administrator's decision"
                                      : "Stored (or already stored by an earlier try)",
                        "Outcome", std::move(headers))};
  d.problems = std::move(problems);
  return d;
}

RouteDoc Read(std::string summary, ResponseDoc answer, std::vector<int> problems) {
  RouteDoc d;
  d.summary = std::move(summary);
  d.tag = "registry";
  d.responses = {std::move(answer)};
  d.problems = std::move(problems);
  return d;
}

}  // namespace

json Schemas() {
  json vaccination =
      Record({{"id", Str()},
              {"product", Str()},
              {"product_name", Str()},
              {"disease", Str()},
              {"lot", Str()},
              {"dose", Int()},
              {"date", Str()},
              {"entity", Str()},
              {"performer", Str()},
              {"recorder", Str()},
              {"consent", Record({{"decision", Str()}, {"date", Str()}, {"by", Str()}})},
              {"status", Enum({"active", "entered_in_error"})},
              {"reason", Str()},
              {"corrections", Count()},
              {"recorded_at_us", Int()},
              {"position", Count()}});
  // Only on a patient's page (PatientWithNames, the certificates): not required.
  vaccination["properties"]["entity_name"] = Str();
  vaccination["properties"]["performer_name"] = Str();
  vaccination["properties"]["recorder_name"] = Str();
  vaccination["properties"]["history"] =
      Array({{"type", "object"}, {"properties", {{"kind", Str()}}}});
  json entity_row = vaccination;
  entity_row["properties"]["patient"] = Str();
  entity_row["required"].push_back("patient");
  json request_props = {{"id", Str()},
                        {"kind", Enum({"access", "link", "unlink", "erasure"})},
                        {"status", Enum({"pending", "approved", "rejected"})},
                        {"entity", Str()},
                        {"person", Str()},
                        {"requested_by", Str()},
                        {"role", Str()},
                        {"name", Str()},
                        {"email", Str()},
                        {"riziv", Str()},
                        {"members", Array(Str())},
                        {"trainer", Str()},
                        {"reason", Str()},
                        {"decided_by", Str()},
                        {"requested_at_us", Int()},
                        {"position", Count()}};
  json request = Record(request_props);
  for (const char* name : {"entity_name", "requested_by_name", "trainer_name", "decided_by_name"}) {
    request["properties"][name] = Str();
  }
  request["properties"]["member_names"] =
      Array(Object({{"person", Str()}, {"name", Str()}}, {"person", "name"}));
  request["properties"]["terms_version"] = Str();
  request["properties"]["new_entity"] = Ref("NewEntity");
  json session = Record({{"person", Str()},
                         {"name", Str()},
                         {"roles", Array(Enum({"administrator", "auditor"}))},
                         {"entities", Array(Object({{"id", Str()},
                                                    {"name", Str()},
                                                    {"kind", Str()},
                                                    {"role", Str()},
                                                    {"physicians", Array(Str())}},
                                                   {"id", "name", "kind", "role"}))},
                         {"entity", Str()},
                         {"on_behalf_of", Str()},
                         {"pending_access_request", Str()},
                         {"expires_at_us", Int()}});
  session["properties"]["last_access_request"] =
      Nullable(Object({{"id", Str()}, {"status", Str()}, {"reason", Str()}, {"entity_name", Str()}},
                      {"id", "status"}));
  json login = session;
  login["properties"]["token"] = Str();
  login["properties"]["notice"] = Str();
  login["required"].push_back("token");
  json entity = Record({{"id", Str()},
                        {"kind", Str()},
                        {"name", Str()},
                        {"kbo", Str()},
                        {"region", Str()},
                        {"version", Count()},
                        {"members", Array(Record({{"person", Str()},
                                                  {"name", Str()},
                                                  {"role", Enum({"physician", "haio", "staff"})},
                                                  {"riziv", Str()},
                                                  {"trainer", Str()},
                                                  {"linked_to", Array(Str())},
                                                  {"since_position", Count()}}))},
                        {"pending_requests", Array(Str())}});
  entity["properties"]["pending"] = Array(Ref("Request"));  // today's only, not with as_of
  // Issue 16: a member whose personal data is erased (no name).
  entity["properties"]["members"]["items"]["properties"]["erased"] = Bool();
  json registration = Object(
      {{"patient", Object({{"insz", Str()}, {"name", Str()}, {"birth_date", Str()}}, {})},
       {"product", Str()},
       {"lot", Str()},
       {"dose", {{"type", "integer"}, {"minimum", 0}, {"maximum", 1000}}},
       {"date", Str()},
       {"performer", Str()},
       {"consent",
        Object({{"decision", Enum({"given", "refused"})}, {"date", Str()}}, {"decision", "date"})}},
      {"patient", "product", "dose", "date", "consent"});
  json schemas = {
      {"Session", session},
      {"LoginAnswer", login},
      {"Request", request},
      {"RequestPage", Record({{"requests", Array(Ref("Request"))}, {"next", Nullable(Count())}})},
      {"NewEntity", Object({{"kind", Enum({"practice", "group_practice", "organisation"})},
                            {"name", Str()},
                            {"kbo", Str()},
                            {"region", Str()}},
                           {"kind", "name", "region"})},
      {"Entity", entity},
      {"Vaccination", vaccination},
      {"EntityVaccination", entity_row},
      {"VaccinationPage",
       Record({{"vaccinations", Array(Ref("EntityVaccination"))}, {"next", Nullable(Count())}})},
      {"Patient", Record({{"id", Str()},
                          {"insz", Str()},
                          {"name", Str()},
                          {"birth_date", Str()},
                          {"version", Count()},
                          {"vaccinations", Array(Ref("Vaccination"))},
                          {"restricted", Bool()}})},
      // (certificates: added below, not required)
      {"PatientAsOfEmpty",
       Record(
           {{"id", Str()}, {"vaccinations", Array(Ref("Vaccination"))}, {"restricted", Bool()}})},
      {"RizivCheckBody", Object({{"riziv", Str()}}, {"riziv"})},
      {"RizivCheck", Record({{"riziv", Str()}, {"role", Enum({"physician"})}})},
      {"EntityMatches",
       Record({{"entities",
                Array(Record(
                    {{"id", Str()}, {"name", Str()}, {"kind", Str()}, {"region", Str()}}))}})},
      {"CareDeclarationBody",
       Object({{"patient", Ref("PatientSearchBody")},
               {"reason", Str()},
               {"hours", {{"type", "integer"}, {"minimum", 1}, {"maximum", 720}}}},
              {"patient", "reason"})},
      {"CareDeclarations", Record({{"declarations", Array(Record({{"position", Count()},
                                                                  {"patient", Str()},
                                                                  {"entity", Str()},
                                                                  {"person", Str()},
                                                                  {"role", Str()},
                                                                  {"on_behalf_of", Str()},
                                                                  {"reason", Str()},
                                                                  {"until_us", Int()},
                                                                  {"recorded_at_us", Int()}}))},
                                   {"next", Nullable(Count())}})},
      {"Stock", Record({{"entity", Str()},
                        {"lots", Array(Record({{"product", Str()},
                                               {"lot", Str()},
                                               {"expiry", Str()},
                                               {"received", Int()},
                                               {"adjusted", Int()},
                                               {"used", Int()},
                                               {"on_hand", Int()},
                                               {"shortfall", Int()},
                                               {"expired", Bool()},
                                               {"usable", Int()}}))},
                        {"shortfall", Int()}})},
      {"VaccineList", Record({{"vaccines", Array(Record({{"code", Str()},
                                                         {"name", Str()},
                                                         {"holder", Str()},
                                                         {"holder_code", Str()},
                                                         {"disease", Str()},
                                                         {"disease_name", Str()},
                                                         {"lot_required", Bool()}}))}})},
      {"Outcome", Object({{"id", Str()},
                          {"positions", Array(Count())},
                          {"already_stored", Bool()},
                          {"status", Enum({"pending"})}},
                         {"id", "positions", "already_stored"})},
      {"BatchAnswer",
       Record({{"accepted", Count()},
               {"refused", Count()},
               {"results",
                Array(Object({{"row", Count()},
                              {"status", {{"type", "integer"}, {"minimum", 200}, {"maximum", 599}}},
                              {"id", Str()},
                              {"field", Str()},
                              {"detail", Str()},
                              {"code", Str()},
                              {"params", {{"type", "object"}, {"additionalProperties", Str()}}}},
                             {"row", "status"}))}})},
      {"LedgerEntries",
       Record({{"entries",
                Array(Record({{"index", Count()},
                              {"leaf", {{"type", "string"}, {"format", "byte"}}},
                              {"signature", {{"type", "string"}, {"format", "byte"}}},
                              {"key_id", {{"type", "string"}, {"pattern", "^[0-9a-f]{8}$"}}}}))},
               {"next", Nullable(Count())}})},
      {"LoginBody", Object({{"assertion", Str()}, {"entity", Str()}}, {"assertion"})},
      {"ChooseEntityBody", Object({{"entity", Str()}, {"on_behalf_of", Str()}}, {"entity"})},
      {"AccessRequestBody", Object({{"name", Str()},
                                    {"email", Str()},
                                    {"riziv", Str()},
                                    {"terms_version", Str()},
                                    {"entity", Str()},
                                    {"new_entity", Ref("NewEntity")}},
                                   {"name", "email", "riziv", "terms_version"})},
      {"DecisionBody", Object({{"reason", Str()}}, {})},
      {"LinkBody", Object({{"insz", Str()},
                           {"name", Str()},
                           {"email", Str()},
                           {"is_physician", Bool()},
                           {"riziv", Str()}},
                          {"insz", "name", "email", "is_physician"})},
      {"UnlinkBody", Object({{"members", Array(Str())}}, {"members"})},
      {"DeliveryBody",
       Object({{"product", Str()}, {"lot", Str()}, {"expiry", Str()}, {"quantity", Int()}},
              {"product", "lot", "expiry", "quantity"})},
      {"AdjustmentBody",
       Object({{"product", Str()}, {"lot", Str()}, {"delta", Int()}, {"reason", Str()}},
              {"product", "lot", "delta", "reason"})},
      {"Registration", registration},
      {"PatientSearchBody", Object({{"insz", Str()}, {"name", Str()}, {"birth_date", Str()}}, {})},
      {"CorrectionBody", Object({{"product", Str()},
                                 {"lot", Str()},
                                 {"dose", Int()},
                                 {"date", Str()},
                                 {"reason", Str()}},
                                {"reason"})},
      {"RetractionBody", Object({{"reason", Str()}}, {"reason"})},
      {"ConsentBody",
       Object({{"decision", Enum({"given", "refused"})}, {"date", Str()}}, {"decision", "date"})},
      {"ErasureBody",
       Object({{"kind", Enum({"patient", "person"})},
               {"patient", Object({{"insz", Str()}, {"name", Str()}, {"birth_date", Str()}}, {})},
               {"insz", Str()},
               {"reason", Str()}},
              {"kind", "reason"})},
      {"RoleBody",
       Object({{"insz", Str()}, {"role", Enum({"administrator", "auditor"})}, {"grant", Bool()}},
              {"insz", "role", "grant"})},
  };
  // Certificates issued for the patient (http/certificate_routes.cc): not required.
  schemas["Patient"]["properties"]["certificates"] = Array({{"type", "object"}});
  // Issue 16: a patient whose personal data is erased (no INSZ, name, birth date).
  schemas["Patient"]["properties"]["erased"] = Bool();
  return schemas;
}

RouteDoc Login() {
  RouteDoc d;
  d.summary = "Log in: exchange the identity provider's assertion for a session";
  d.tag = "session";
  d.authenticated = false;
  d.body = {JsonBody("LoginBody")};
  d.responses = {Answer(201, "The session, with its token (also set as the vx_session cookie)",
                        "LoginAnswer", {"Location", "Set-Cookie"})};
  d.problems = {400, 401, 403};
  return d;
}

RouteDoc WhoAmI() {
  RouteDoc d = Read("The session: person, roles, entities, the entity acted for",
                    Answer(200, "The session", "Session"), {});
  d.tag = "session";
  return d;
}

RouteDoc Logout() {
  RouteDoc d;
  d.summary = "Log out: the session token stops working";
  d.tag = "session";
  d.responses = {{204, "Logged out; the cookie is cleared", {}, {"Set-Cookie"}}};
  return d;
}

RouteDoc ChooseEntity() {
  RouteDoc d;
  d.summary = "Choose the entity (and, for staff, the physician) to act for";
  d.tag = "session";
  d.body = {JsonBody("ChooseEntityBody")};
  d.responses = {Answer(200, "The session", "Session")};
  d.problems = {400, 403, 422};
  return d;
}

RouteDoc Vaccines() {
  return Read("The vaccine reference list", Answer(200, "The products", "VaccineList"), {});
}

RouteDoc RequestAccess() {
  return Command("Ask for access as a physician (flow 1)", "AccessRequestBody", 202,
                 {400, 403, 409, 422}, {"Location"});
}

RouteDoc ListRequests() {
  json statuses = json::array();
  for (std::string_view s : kRequestStatusFilters) statuses.push_back(s);
  RouteDoc d = Read("Administrators: the queue of requests (cursor pages)",
                    Answer(200, "A page of requests in log order", "RequestPage"), {400, 403});
  d.params = {Query("status", "Which requests (default pending)",
                    {{"type", "string"}, {"enum", statuses}, {"default", "pending"}}),
              Cursor(), Limit(500, 50)};
  return d;
}

RouteDoc GetRequest() {
  return Read("One request (administrators, the requester, the person concerned)",
              Answer(200, "The request and its decision", "Request"), {404});
}

RouteDoc Approve() {
  RouteDoc d =
      Command("Administrators: approve a request", "DecisionBody", 200, {400, 403, 404, 409, 422});
  d.body_required = false;
  return d;
}

RouteDoc Reject() {
  RouteDoc d = Command("Administrators: reject a request with a reason", "DecisionBody", 200,
                       {400, 403, 404, 422});
  d.body_required = false;
  return d;
}

RouteDoc GetEntity() {
  RouteDoc d =
      Read("An entity's members and pending requests (members, administrators)",
           Answer(200, "The entity; with as_of, as it was then (no ETag)", "Entity", {"ETag"}),
           {400, 404});
  d.params = {AsOf("The membership")};
  return d;
}

RouteDoc LinkRequest() {
  RouteDoc d = Command("Mijn medewerkers, Aanvraag nieuw: link a HAIO or staff member", "LinkBody",
                       202, {400, 403, 404, 409, 412, 422}, {"Location"});
  d.params.push_back(IfMatch());
  return d;
}

RouteDoc UnlinkRequest() {
  RouteDoc d = Command("Aanvraag ontkoppelen: unlink members", "UnlinkBody", 202,
                       {400, 403, 404, 412, 422}, {"Location"});
  d.params.push_back(IfMatch());
  return d;
}

RouteDoc EntityVaccinations() {
  RouteDoc d =
      Read("The entity's registrations (cursor pages)",
           Answer(200, "A page of registrations in log order", "VaccinationPage"), {400, 404});
  d.params = {Cursor(), Limit(1000, 100)};
  return d;
}

RouteDoc GetStock() {
  return Read("The entity's stock by product and lot, shortfalls",
              Answer(200, "The stock", "Stock"), {404});
}

RouteDoc Deliver() {
  return Command("Record a delivery", "DeliveryBody", 201, {400, 403, 404, 422}, {"Location"});
}

RouteDoc Adjust() {
  return Command("Adjust the stock with a reason", "AdjustmentBody", 201, {400, 403, 404, 422},
                 {"Location"});
}

RouteDoc Register() {
  return Command("Register a vaccination (flow 5)", "Registration", 201, {400, 403, 409, 422},
                 {"Location"});
}

RouteDoc RegisterBatch() {
  RouteDoc d;
  d.summary = "Register many (a JSON array, or CSV with product, lot and date in the query)";
  d.tag = "registry";
  d.params = {IdempotencyKey(), Query("product", "CSV: the product of every row", Str()),
              Query("lot", "CSV: the lot of every row", Str()),
              Query("date", "CSV: the date of every row (YYYY-MM-DD)", Str()),
              Query("dose", "CSV: the dose of rows without one (default 1)")};
  d.body = {{"application/json", Array(Ref("Registration"))},
            {"text/csv",
             {{"type", "string"},
              {"description",
               "a header line naming some of insz, name, birth_date, dose, consent; one person per "
               "line"}}}};
  d.responses = {
      Answer(200, "Each row accepted (201) or refused (its problem status)", "BatchAnswer")};
  d.problems = {400};
  return d;
}

RouteDoc SearchPatient() {
  RouteDoc d = Read("A patient's history by INSZ, or name and birth date (kept out of the URL)",
                    Answer(200, "The patient's record (the read is recorded)", "Patient", {"ETag"}),
                    {400, 403, 404});
  d.body = {JsonBody("PatientSearchBody")};
  return d;
}

RouteDoc GetPatient() {
  RouteDoc d = Read("A patient's history by patient id",
                    Answer(200,
                           "The patient's record (the read is recorded); with as_of, as it "
                           "was then (no ETag)",
                           "Patient", {"ETag"}),
                    {400, 403, 404});
  d.params = {AsOf("The record")};
  return d;
}

RouteDoc CheckRiziv() {
  RouteDoc d = Read("Check a RIZIV number as an access request would (the wizard's step)",
                    Answer(200, "The number is valid for an access request", "RizivCheck"), {400});
  d.body = {JsonBody("RizivCheckBody")};
  return d;
}

RouteDoc FindEntities() {
  RouteDoc d = Read("Entities to join, found by name (case-insensitive; at most 20)",
                    Answer(200, "Matching entities (no members)", "EntityMatches"), {400});
  d.params = {Query("name", "2 to 200 characters of the entity's name", Str(), true)};
  return d;
}

RouteDoc DeclareCare() {
  return Command(
      "Declare a care relationship with a reason (break the glass): the session's entity may "
      "read the patient's record for some hours; care.declared in the patient's stream",
      "CareDeclarationBody", 201, {400, 403, 409, 422}, {"Location"});
}

RouteDoc ListCareDeclarations() {
  RouteDoc d = Read("Auditors and administrators: every care declaration, read from the log",
                    Answer(200, "A page of care declarations", "CareDeclarations"), {400, 403});
  d.params = {Query("from", "Log position to start reading at (default 0)"), Limit(1000, 100)};
  return d;
}

RouteDoc Correct() {
  RouteDoc d = Command("Correct a registration with a reason", "CorrectionBody", 200,
                       {400, 403, 404, 409, 412, 422});
  d.params.push_back(IfMatch());
  return d;
}

RouteDoc Retract() {
  RouteDoc d = Command("Mark a registration entered in error, with a reason", "RetractionBody", 200,
                       {400, 403, 404, 412, 422});
  d.params.push_back(IfMatch());
  return d;
}

RouteDoc Consent() {
  return Command("Record the patient's consent decision", "ConsentBody", 200, {400, 403, 404, 422});
}

RouteDoc Roles() {
  return Command("Administrators: grant or revoke administrator and auditor", "RoleBody", 200,
                 {400, 403, 409, 422});
}

RouteDoc Erasures() {
  return Command(
      "Administrators: ask to erase a patient's or a person's personal data (another "
      "administrator approves it with POST /v1/requests/{id}/approve)",
      "ErasureBody", 202, {400, 403, 404, 422});
}

RouteDoc Entries() {
  RouteDoc d = Read("Auditors: leaves, signatures and key ids (pages)",
                    Answer(200, "A page of log entries", "LedgerEntries"), {400, 403});
  d.tag = "ledger";
  d.params = {Query("start", "First log index (default 0)"), Limit(1000, 100)};
  return d;
}

RouteDoc Events() {
  RouteDoc d;
  d.summary = "Server-sent events the caller may see, resumable with Last-Event-ID";
  d.tag = "registry";
  d.params = {{"Last-Event-ID", "header", "Resume after this log position (HTML SSE)", Count()},
              Query("from", "Start at this log position (default: new events only)")};
  d.responses = {{200,
                  "An endless text/event-stream: per event `id: POSITION`, `event: TYPE`, `data: "
                  "{position, type, stream, entity, actor_role, recorded_at_us}`; a comment "
                  "every 15 s without events",
                  {{"text/event-stream", Str()}},
                  {}}};
  d.problems = {400, 403, 503};
  return d;
}

}  // namespace vaxledger::http::registry_api
