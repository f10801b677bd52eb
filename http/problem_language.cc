#include "http/problem_language.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "http/web_assets.h"

namespace vaxledger::http {

namespace {

// language -> code -> template, from the embedded i18n files.
const std::map<std::string, std::map<std::string, std::string>>& Templates() {
  static const auto* templates = [] {
    auto* out = new std::map<std::string, std::map<std::string, std::string>>();
    for (const WebAsset& asset : WebAssets()) {
      for (const char* lang : {"nl", "fr", "en"}) {
        if (asset.path != std::string("/i18n/") + lang + ".json") continue;
        auto data = nlohmann::json::parse(asset.body, nullptr, false);
        if (!data.is_object() || !data.contains("problem") || !data["problem"].is_object())
          continue;
        for (const auto& [code, text] : data["problem"].items()) {
          if (text.is_string()) (*out)[lang][code] = text.get<std::string>();
        }
      }
    }
    return out;
  }();
  return *templates;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string PreferredLanguage(std::string_view accept_language) {
  struct Choice {
    std::string lang;
    double q;
    size_t order;
  };
  std::vector<Choice> choices;
  size_t order = 0;
  while (!accept_language.empty()) {
    const size_t comma = accept_language.find(',');
    std::string_view item = accept_language.substr(0, comma);
    accept_language =
        comma == std::string_view::npos ? std::string_view() : accept_language.substr(comma + 1);
    double q = 1.0;
    const size_t semi = item.find(';');
    if (semi != std::string_view::npos) {
      std::string param = Trim(item.substr(semi + 1));
      if (param.starts_with("q=")) {
        const char* first = param.data() + 2;
        const char* last = param.data() + param.size();
        auto [end, err] = std::from_chars(first, last, q);
        if (err != std::errc() || end != last) q = 0;  // a malformed weight: not acceptable
      }
      item = item.substr(0, semi);
    }
    std::string tag = Trim(item);
    std::transform(tag.begin(), tag.end(), tag.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const std::string primary = tag.substr(0, tag.find('-'));
    if ((primary == "nl" || primary == "fr" || primary == "en") && q > 0) {
      choices.push_back({primary, q, order});
    }
    ++order;
  }
  if (choices.empty()) return "en";
  std::stable_sort(choices.begin(), choices.end(),
                   [](const Choice& a, const Choice& b) { return a.q > b.q; });
  return choices.front().lang;
}

void LocalizeProblem(const std::string& language, Response* response) {
  if (response->content_type != "application/problem+json") return;
  response->headers.emplace_back("Content-Language", language);
  if (language == "en") return;
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string()) return;
  const auto& all = Templates();
  auto lang = all.find(language);
  if (lang == all.end()) return;
  auto sentence = lang->second.find(body["code"].get<std::string>());
  if (sentence == lang->second.end()) return;
  std::string text = sentence->second;
  if (body.contains("params") && body["params"].is_object()) {
    for (const auto& [name, value] : body["params"].items()) {
      if (!value.is_string()) continue;
      const std::string key = "{" + name + "}";
      for (size_t at = text.find(key); at != std::string::npos;
           at = text.find(key, at + value.get<std::string>().size())) {
        text.replace(at, key.size(), value.get<std::string>());
      }
    }
  }
  body["detail"] = text;
  response->body = JsonText(body);
}

}  // namespace vaxledger::http
