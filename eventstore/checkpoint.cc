#include "eventstore/checkpoint.h"

#include "core/signed_note.h"

namespace vaxledger::eventstore {

std::string CheckpointText(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(AsBytes(c.root)) + "\n";
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const NoteSigner& signer) {
  if (signer.name() != checkpoint.origin) {
    return InvalidArgument("checkpoint: the key name must be the origin");
  }
  return SignNote(CheckpointText(checkpoint), {&signer});
}

Result<Checkpoint> OpenCheckpoint(std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  VX_ASSIGN_OR_RETURN(OpenedNote opened, OpenNote(note, keys));
  std::string_view text = opened.text;
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return InvalidArgument("checkpoint: needs origin, size and root lines");
  for (std::string_view line : lines) {
    // A signed note's text may hold empty lines; a checkpoint's may not (tlog-checkpoint).
    if (line.empty()) return InvalidArgument("checkpoint: every line must be non-empty");
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return InvalidArgument("checkpoint: empty origin");
  auto size = ParseDecimal(lines[1]);
  if (!size.ok()) {
    return InvalidArgument("checkpoint: size is not a decimal number without leading zeros");
  }
  c.size = *size;
  VX_ASSIGN_OR_RETURN(Bytes root, Base64Decode(lines[2], "checkpoint root"));
  if (root.size() != 32) return InvalidArgument("checkpoint: root is not 32 bytes");
  std::copy(root.begin(), root.end(), c.root.begin());
  bool signed_by_origin = false;
  for (const auto& name : opened.verified) signed_by_origin |= name == c.origin;
  if (!signed_by_origin)
    return InvalidArgument("checkpoint: not signed by a key named as its origin");
  return c;
}

Result<uint64_t> ParseCheckpointSize(std::string_view note) {
  const size_t first = note.find('\n');
  const size_t second = first == std::string_view::npos ? first : note.find('\n', first + 1);
  if (second == std::string_view::npos) {
    return InvalidArgument("checkpoint: needs origin, size and root lines");
  }
  auto size = ParseDecimal(note.substr(first + 1, second - first - 1));
  if (!size.ok()) {
    return InvalidArgument("checkpoint: size is not a decimal number without leading zeros");
  }
  return *size;
}

}  // namespace vaxledger::eventstore
