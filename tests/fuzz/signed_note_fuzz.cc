// Fuzzes the C2SP signed-note parser (core/signed_note.h) and the verifier-key parser:
//  - the input as a note, opened with the vectors' keys and the harness key;
//  - its first line as a verifier key text: a parsed key must print back to that text;
//  - the input as a note text: if SignNote accepts it, opening the signed note must give the
//    text back, verified by the signer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/signed_note.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& keys = fuzz::KnownKeys();

  auto opened = OpenNote(input, keys);
  if (opened.ok()) {
    if (opened->verified.empty()) fuzz::Violated("an opened note without a verified signature");
    if (!input.starts_with(opened->text)) fuzz::Violated("the opened text is not the note's");
  }

  const std::string_view first_line = input.substr(0, input.find('\n'));
  auto vkey = NoteVerifierKey::Parse(first_line);
  if (vkey.ok() && vkey->ToText() != first_line) {
    fuzz::Violated("a verifier key that does not print back to its text");
  }

  auto note = SignNote(input, {&fuzz::VectorSigner(), &fuzz::FuzzSigner()});
  if (note.ok()) {
    auto back = OpenNote(*note, keys);
    if (!back.ok()) fuzz::Violated("a signed note does not open: " + back.status().ToString());
    if (back->text != input) fuzz::Violated("a signed note opens to another text");
    if (back->verified.size() != 2) fuzz::Violated("a signed note's signatures do not verify");
  }
  return 0;
}
