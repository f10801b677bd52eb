#include "core/signed_note.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vaxledger {
namespace {

nlohmann::json Vectors() {
  std::ifstream in(std::string(VX_VECTORS_DIR) + "/signed_note.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<NoteVerifierKey> Keys(const nlohmann::json& v, const nlohmann::json& names) {
  std::vector<NoteVerifierKey> out;
  for (const auto& n : names) {
    auto k = NoteVerifierKey::Parse(v["keys"][n.get<std::string>()]["vkey"].get<std::string>());
    REQUIRE(k.ok());
    out.push_back(*k);
  }
  return out;
}

TEST_CASE("valid signed-note vectors open with the keys they name") {
  auto v = Vectors();
  for (const auto& t : v["valid"]) {
    INFO(t["why"].get<std::string>());
    auto opened = OpenNote(t["note"].get<std::string>(), Keys(v, t["vkeys"]));
    REQUIRE(opened.ok());
    CHECK(opened->verified.size() == t["vkeys"].size());
  }
}

TEST_CASE("invalid signed-note vectors are refused") {
  auto v = Vectors();
  REQUIRE(v["invalid"].size() >= 6);
  for (const auto& t : v["invalid"]) {
    INFO(t["why"].get<std::string>());
    auto opened = OpenNote(t["note"].get<std::string>(), Keys(v, t["vkeys"]));
    CHECK(opened.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("signing with the vector's private key reproduces the note byte for byte") {
  auto v = Vectors();
  auto signer = NoteSigner::Parse(v["keys"]["PeterNeumann"]["skey"].get<std::string>());
  REQUIRE(signer.ok());
  const auto& first = v["valid"][0];
  std::string note = first["note"];
  std::string text = note.substr(0, note.rfind("\n\n") + 1);
  auto signed_note = SignNote(text, {&*signer});
  REQUIRE(signed_note.ok());
  CHECK(*signed_note == note);
  CHECK(SignNote("no newline", {&*signer}).status().code() == Code::kInvalidArgument);
  CHECK(SignNote("blank\n\nline\n", {&*signer}).status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace vaxledger
