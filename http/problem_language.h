// The language of a problem's `detail` for API clients: Accept-Language picks Dutch, French or
// English (the default), and the sentence comes from the web application's own translation data
// (http/web/i18n/<lang>.json, "problem" object, keyed by the problem's `code`), so that the web
// application and an API client read the same words.
//
// A template names its parameters in braces: "RIZIV: de controlecijfers {digits} kloppen niet".
// A problem without a `code`, or whose code has no sentence in that language, keeps its English
// detail. The problem's other members (code, params, field) never change.
//
// Thread-safety: the translations are read once, on first use (thread-safe static); the
// functions are pure otherwise.
#pragma once

#include <string>
#include <string_view>

#include "http/router.h"

namespace vaxledger::http {

// "nl", "fr" or "en": the first of those Accept-Language names with q > 0, by q then order
// ("fr-BE,fr;q=0.9,nl;q=0.8" -> "fr"; "de" or empty -> "en").
std::string PreferredLanguage(std::string_view accept_language);

// Rewrites the detail of a problem+json `response` into `language` (see above) and sets
// Content-Language. Responses that are not problems are left as they are.
void LocalizeProblem(const std::string& language, Response* response);

}  // namespace vaxledger::http
