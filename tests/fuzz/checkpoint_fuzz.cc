// Fuzzes the checkpoint parser (eventstore/checkpoint.h) behind the signed-note parser:
//  - the input as a signed checkpoint, opened with the vectors' keys and the harness key;
//  - the input as a checkpoint text, signed with the harness key (origin kFuzzOrigin) and then
//    opened: a checkpoint that opens must be what the text's first three lines say.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/signed_note.h"
#include "eventstore/checkpoint.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& keys = fuzz::KnownKeys();

  (void)eventstore::OpenCheckpoint(input, keys);

  auto note = SignNote(input, {&fuzz::FuzzSigner()});
  if (!note.ok()) return 0;
  auto checkpoint = eventstore::OpenCheckpoint(*note, keys);
  if (!checkpoint.ok()) return 0;
  if (checkpoint->origin != fuzz::kFuzzOrigin) fuzz::Violated("a checkpoint of another origin");
  // The three lines print back exactly (one spelling per value); extension lines may follow.
  if (!input.starts_with(eventstore::CheckpointText(*checkpoint))) {
    fuzz::Violated("a checkpoint that does not print back to its text");
  }
  auto resigned = eventstore::SignCheckpoint(*checkpoint, fuzz::FuzzSigner());
  if (!resigned.ok()) fuzz::Violated("an opened checkpoint cannot be signed again");
  auto again = eventstore::OpenCheckpoint(*resigned, keys);
  if (!again.ok() || !(*again == *checkpoint)) fuzz::Violated("a checkpoint does not round-trip");
  return 0;
}
