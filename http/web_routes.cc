#include "http/web_assets.h"

#include <string>

namespace vaxledger::http {

void AddWebRoutes(Router& router) {
  for (const WebAsset& asset : WebAssets()) {
    Router::Handler handler = [&asset](const Request&) {
      Response r;
      r.content_type = std::string(asset.content_type);
      r.body = std::string(asset.body);
      r.headers.emplace_back("Content-Security-Policy",
                             "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    };
    RouteDoc doc;
    doc.summary = "The web application: " + std::string(asset.path.substr(1));
    doc.tag = "web";
    doc.authenticated = false;
    doc.responses = {{200,
                      "The file",
                      {{std::string(asset.content_type), {{"type", "string"}}}},
                      {"Content-Security-Policy", "X-Content-Type-Options", "Cache-Control"}}};
    router.Add("GET", std::string(asset.path), handler, doc);
    if (asset.path == "/index.html") {
      doc.summary = "The web application";
      router.Add("GET", "/", handler, doc);
    }
  }
}

}  // namespace vaxledger::http
