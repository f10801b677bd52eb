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
  CHECK(SignNote("tab\there\n", {&*signer}).status().code() == Code::kInvalidArgument);
  CHECK(SignNote("bad \xff utf-8\n", {&*signer}).status().code() == Code::kInvalidArgument);
}

nlohmann::json GoVectors() {
  std::ifstream in(std::string(VX_VECTORS_DIR) + "/signed_note_go.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// C2SP: "The note text MAY contain empty lines; the text is separated from the signatures by the
// last empty line in the note." Key names are any UTF-8 without Unicode spaces or '+'.
TEST_CASE("notes signed by Go's sumdb/note with empty lines and non-ASCII key names open") {
  auto v = GoVectors();
  std::vector<NoteVerifierKey> keys;
  std::vector<NoteSigner> signers;
  for (const auto& [name, k] : v["keys"].items()) {
    auto vkey = NoteVerifierKey::Parse(k["vkey"].get<std::string>());
    REQUIRE(vkey.ok());
    CHECK(vkey->name == name);
    CHECK(vkey->ToText() == k["vkey"].get<std::string>());
    keys.push_back(*vkey);
    auto signer = NoteSigner::Parse(k["skey"].get<std::string>());
    REQUIRE(signer.ok());
    CHECK(signer->ToPrivateText() == k["skey"].get<std::string>());
    signers.push_back(*signer);
  }
  REQUIRE(keys.size() == 2);
  REQUIRE(v["valid"].size() >= 4);
  for (const auto& t : v["valid"]) {
    const std::string text = t["text"], note = t["note"];
    INFO(text);
    auto opened = OpenNote(note, keys);
    REQUIRE(opened.ok());
    CHECK(opened->text == text);
    CHECK(opened->verified.size() == 2);
    // Ed25519 is deterministic: signing the same text with the same keys gives Go's bytes, so
    // Go accepts what we sign.
    auto ours = SignNote(text, {&signers[0], &signers[1]});
    REQUIRE(ours.ok());
    CHECK(*ours == note);
  }
}

TEST_CASE("key names: what Go's sumdb/note accepts and refuses, we do too") {
  auto v = GoVectors();
  REQUIRE(v["names_accepted"].size() >= 4);
  REQUIRE(v["names_refused"].size() >= 8);
  for (const auto& name : v["names_accepted"]) {
    INFO(name.get<std::string>());
    CHECK(ValidateKeyName(name.get<std::string>()).ok());
  }
  for (const auto& name : v["names_refused"]) {
    INFO(name.get<std::string>());
    CHECK(ValidateKeyName(name.get<std::string>()).code() == Code::kInvalidArgument);
  }
}

TEST_CASE("a note's characters: UTF-8 without control characters but LF") {
  NoteSigner signer("zoë.example/régistre", Ed25519Key::Generate());
  auto note = SignNote("first\n\nafter an empty line\n", {&signer});
  REQUIRE(note.ok());
  auto opened = OpenNote(*note, {signer.verifier()});
  REQUIRE(opened.ok());
  CHECK(opened->text == "first\n\nafter an empty line\n");
  // A control character or bad UTF-8 anywhere in the note, signature lines included, is refused.
  for (const std::string& bad :
       {std::string("first\r\n\n") + note->substr(note->rfind("\n\n") + 2), *note + "\x01",
        note->substr(0, 3) + "\xc0\xaf" + note->substr(3)}) {
    auto refused = OpenNote(bad, {signer.verifier()});
    CHECK(refused.status().code() == Code::kInvalidArgument);
  }
  CHECK_THAT(OpenNote("text\n\n\xe2\x80\x94 a\xc2\xa0"
                      "b AAAAAAA=\n",
                      {signer.verifier()})
                 .status()
                 .message(),
             Catch::Contains("key name"));
}

TEST_CASE("a note may carry up to kMaxNoteSignatures signature lines, 16 at least") {
  NoteSigner signer("example.org/log", Ed25519Key::Generate());
  auto note = SignNote("hello\n", {&signer});
  REQUIRE(note.ok());
  std::string many = *note;
  std::string unknown_line;
  {
    NoteSigner other("example.org/witness", Ed25519Key::Generate());
    auto other_note = SignNote("hello\n", {&other});
    REQUIRE(other_note.ok());
    unknown_line = other_note->substr(other_note->rfind("\n\n") + 2);
  }
  for (size_t i = 1; i < kMaxNoteSignatures; ++i) many += unknown_line;
  CHECK(OpenNote(many, {signer.verifier()}).ok());
  CHECK(OpenNote(many + unknown_line, {signer.verifier()}).status().code() ==
        Code::kInvalidArgument);
  static_assert(kMaxNoteSignatures >= 16);
}

}  // namespace
}  // namespace vaxledger
