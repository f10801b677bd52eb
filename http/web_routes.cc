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
    router.Add("GET", std::string(asset.path), handler);
    if (asset.path == "/index.html") router.Add("GET", "/", handler);
  }
}

}  // namespace vaxledger::http
