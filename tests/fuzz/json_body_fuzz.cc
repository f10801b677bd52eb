// Fuzzes the JSON body reader (http/json_body.h):
//  - directly: JsonObject::Parse with the fields of a registration, every accessor on every
//    field, nested objects; every refusal must make a problem response whose body is JSON;
//  - through the routes that read a JSON body (demo_app.h): the first input byte picks the
//    route (byte % number of routes, e.g. 'a' = POST /v1/vaccinations), the rest is the body.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http/json_body.h"
#include "tests/fuzz/demo_app.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;
using vaxledger::fuzz::DemoApp;

namespace {

struct Route {
  const char* method;
  const char* path;
  int person;  // DemoPeople() index of the session, -1 for none
};

// 'a' % 12 == 1: the list starts one before 'a' so that seed files read "a{...}", "b{...}".
constexpr Route kRoutes[] = {
    {"POST", "/v1/demo/assertion", -1},                        // '`'
    {"POST", "/v1/vaccinations", 2},                           // 'a'
    {"POST", "/v1/vaccinations/batch", 2},                     // 'b'
    {"POST", "/v1/access-requests", 8},                        // 'c'
    {"POST", "/v1/sessions", -1},                              // 'd'
    {"POST", "/v1/patients/search", 2},                        // 'e'
    {"POST", "/v1/roles", 0},                                  // 'f'
    {"PUT", "/v1/session/entity", 7},                          // 'g'
    {"POST", "/v1/entities/demo-linde/stock/deliveries", 2},   // 'h'
    {"POST", "/v1/entities/demo-linde/stock/adjustments", 2},  // 'i'
    {"POST", "/v1/entities/demo-linde/link-requests", 2},      // 'j'
    {"POST", "/v1/entities/demo-linde/unlink-requests", 2},    // 'k'
};
constexpr size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];

// A refusal must be a Status that makes a JSON problem response.
void CheckRefusal(const Status& status) {
  if (status.ok()) return;
  if (status.code() != Code::kInvalidArgument) {
    fuzz::Violated("a body refusal that is not InvalidArgument: " + status.ToString());
  }
  const http::Response problem = http::ProblemResponse(status);
  if (!nlohmann::json::accept(problem.body)) fuzz::Violated("a problem body that is not JSON");
}

template <typename T>
void Check(const Result<T>& r) {
  CheckRefusal(r.status());
}

void Direct(std::string_view body) {
  auto object = http::JsonObject::Parse(
      body, {"patient", "product", "lot", "dose", "date", "performer", "consent", "entity"});
  Check(object);
  if (!object.ok()) return;
  for (std::string_view name :
       {"patient", "product", "lot", "dose", "date", "performer", "consent", "entity"}) {
    Check(object->String(name));
    Check(object->OptionalString(name));
    Check(object->Integer(name));
    Check(object->OptionalInteger(name));
    Check(object->Boolean(name));
    Check(object->Strings(name));
  }
  auto patient = object->Object("patient", {"insz", "name", "birth_date"});
  Check(patient);
  if (patient.ok()) {
    std::string insz, name;
    CheckRefusal(patient->ReadStrings({{"insz", &insz}, {"name", &name}}));
    Check(patient->OptionalString("birth_date"));
  }
  auto consent = object->Object("consent", {"decision", "date"});
  Check(consent);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Direct(body);

  const DemoApp& app = DemoApp::App();
  const Route& route = kRoutes[data[0] % kRouteCount];
  http::Request request;
  request.method = route.method;
  request.path = route.path;
  request.headers["content-type"] = "application/json";
  if (route.person >= 0) {
    request.headers["authorization"] = "Bearer " + app.tokens()[static_cast<size_t>(route.person)];
  }
  request.body = std::string(body);
  (void)app.Handle(std::move(request));
  return 0;
}
