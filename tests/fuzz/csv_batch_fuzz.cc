// Fuzzes the CSV batch reader (POST /v1/vaccinations/batch with Content-Type text/csv, in
// http/registry_routes.cc) through the routes of `serve --demo` (demo_app.h), as Dr. Peeters of
// De Linde. The input's first line is the query (product=…&lot=…&date=…[&dose=…]), the rest is
// the CSV body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/demo_app.h"

using namespace vaxledger;
using vaxledger::fuzz::DemoApp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const DemoApp& app = DemoApp::App();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view query = input.substr(0, nl);
  http::Request request;
  if (!http::ParseTarget("/v1/vaccinations/batch?" + std::string(query), &request).ok()) return 0;
  request.method = "POST";
  request.headers["content-type"] = "text/csv";
  request.headers["authorization"] = "Bearer " + app.tokens()[2];
  if (nl != std::string_view::npos) request.body = std::string(input.substr(nl + 1));
  (void)app.Handle(std::move(request));
  return 0;
}
