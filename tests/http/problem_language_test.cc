#include "http/problem_language.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "http/web_assets.h"

namespace vaxledger::http {
namespace {

TEST_CASE("Accept-Language: the first of nl, fr, en by weight, else English") {
  CHECK(PreferredLanguage("") == "en");
  CHECK(PreferredLanguage("nl") == "nl");
  CHECK(PreferredLanguage("fr-BE,fr;q=0.9,nl;q=0.8") == "fr");
  CHECK(PreferredLanguage("de, nl-BE;q=0.5, fr;q=0.7") == "fr");
  CHECK(PreferredLanguage("NL-be") == "nl");
  CHECK(PreferredLanguage("de-DE,it") == "en");
  CHECK(PreferredLanguage("fr;q=0, nl;q=0.1") == "nl");   // q=0: not acceptable
  CHECK(PreferredLanguage("fr;q=zz, nl;q=0.1") == "nl");  // a malformed weight too
}

Response ProblemWith(nlohmann::json body) {
  Response r;
  r.status = 400;
  r.content_type = "application/problem+json";
  r.body = body.dump();
  return r;
}

TEST_CASE("A problem's detail in Dutch or French from the web application's translations") {
  const nlohmann::json problem = {{"status", 400},
                                  {"detail", "riziv: check digits 78 do not match"},
                                  {"field", "riziv"},
                                  {"code", "riziv.check_digits"},
                                  {"params", {{"digits", "78"}}}};
  Response nl = ProblemWith(problem);
  LocalizeProblem("nl", &nl);
  const auto body = nlohmann::json::parse(nl.body);
  CHECK_THAT(body["detail"].get<std::string>(), Catch::Contains("controlecijfers 78 passen niet"));
  CHECK(body["code"] == "riziv.check_digits");  // the rest is unchanged
  CHECK(body["field"] == "riziv");
  CHECK(nl.headers == std::vector<std::pair<std::string, std::string>>{{"Content-Language", "nl"}});
  Response fr = ProblemWith(problem);
  LocalizeProblem("fr", &fr);
  CHECK_THAT(nlohmann::json::parse(fr.body)["detail"].get<std::string>(),
             Catch::Contains("les chiffres de contrôle 78"));
  Response en = ProblemWith(problem);
  LocalizeProblem("en", &en);
  CHECK(nlohmann::json::parse(en.body)["detail"] == problem["detail"]);
  // Without a code, or with one no language has, the English detail stays.
  Response uncoded = ProblemWith({{"detail", "no route /x"}});
  LocalizeProblem("fr", &uncoded);
  CHECK(nlohmann::json::parse(uncoded.body)["detail"] == "no route /x");
  Response unknown = ProblemWith({{"detail", "d"}, {"code", "no.such_rule"}});
  LocalizeProblem("nl", &unknown);
  CHECK(nlohmann::json::parse(unknown.body)["detail"] == "d");
  // Not a problem: untouched.
  Response ok;
  ok.body = R"({"code":"riziv.check_digits"})";
  LocalizeProblem("nl", &ok);
  CHECK(ok.body == R"({"code":"riziv.check_digits"})");
  CHECK(ok.headers.empty());
}

TEST_CASE("The three translation files have the same keys") {
  // The web application and API clients rely on every code and label existing in each language.
  std::map<std::string, nlohmann::json> files;
  for (const WebAsset& asset : WebAssets()) {
    if (asset.path.starts_with("/i18n/"))
      files[std::string(asset.path)] = nlohmann::json::parse(asset.body);
  }
  REQUIRE(files.size() == 3);
  const nlohmann::json& en = files.at("/i18n/en.json");
  CHECK(en["problem"].size() > 50);
  for (const auto& [path, file] : files) {
    for (const char* part : {"ui", "problem", "disease"}) {
      INFO(path << " " << part);
      REQUIRE(file[part].size() == en[part].size());
      for (const auto& [key, text] : en[part].items()) {
        INFO(key);
        CHECK(file[part].contains(key));
      }
    }
  }
}

}  // namespace
}  // namespace vaxledger::http
