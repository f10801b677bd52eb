// The web application (http/web/: index.html, app.js, style.css), compiled into the binary and
// served by `vaxledger serve` at / (no files beside the binary, no CDN, no build step).
//
// Thread-safety: immutable data; the routes are read-only.
#pragma once

#include <span>
#include <string_view>

#include "http/router.h"

namespace vaxledger::http {

struct WebAsset {
  std::string_view path;  // "/app.js"
  std::string_view content_type;
  std::string_view body;
};

// Generated at build time from http/web/ (http/web/embed.cmake).
std::span<const WebAsset> WebAssets();

// GET / (index.html) and every asset by its path, with a Content-Security-Policy that allows
// only this origin's scripts, styles and connections.
void AddWebRoutes(Router& router);

}  // namespace vaxledger::http
