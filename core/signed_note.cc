#include "core/signed_note.h"

#include <cstring>

namespace vaxledger {
namespace {

constexpr std::string_view kDash = "\xe2\x80\x94 ";  // U+2014 and a space

Status CheckText(std::string_view text) {
  if (text.empty() || text.back() != '\n')
    return InvalidArgument("note: text must end with a newline");
  return CheckNoteCharacters(text, "note");
}

Signature SignatureOf(const Bytes& raw) {
  Signature sig;
  std::memcpy(sig.data(), raw.data() + 4, sig.size());
  return sig;
}

}  // namespace

Result<std::string> SignNote(std::string_view text, const std::vector<const NoteSigner*>& signers) {
  VX_RETURN_IF_ERROR(CheckText(text));
  std::string note(text);
  note += "\n";
  for (const NoteSigner* s : signers) {
    Signature sig = s->key().Sign(AsBytes(text));
    Bytes raw(s->key_id().data(), s->key_id().size());
    raw.append(sig.data(), sig.size());
    note += std::string(kDash) + s->name() + " " + Base64Encode(raw) + "\n";
  }
  return note;
}

Result<OpenedNote> OpenNote(std::string_view note, const std::vector<NoteVerifierKey>& known) {
  VX_RETURN_IF_ERROR(CheckNoteCharacters(note, "note"));
  // The last blank line ends the text: signature lines are never empty.
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return InvalidArgument("note: no signature block");
  OpenedNote out;
  out.text = std::string(note.substr(0, split + 1));
  VX_RETURN_IF_ERROR(CheckText(out.text));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return InvalidArgument("note: no signature lines");
  if (sigs.back() != '\n') return InvalidArgument("note: the last signature line has no newline");
  size_t lines = 0;
  while (!sigs.empty()) {
    if (++lines > kMaxNoteSignatures) {
      return InvalidArgument("note: more than " + std::to_string(kMaxNoteSignatures) +
                             " signature lines");
    }
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!line.starts_with(kDash)) {
      return InvalidArgument("note: a line after the blank line is not a signature line");
    }
    line.remove_prefix(kDash.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos)
      return InvalidArgument("note: signature line without a key name");
    std::string_view name = line.substr(0, space);
    if (Status valid = ValidateKeyName(name); !valid.ok()) {
      return InvalidArgument("note: signature line with a bad " + valid.message());
    }
    auto raw = Base64Decode(line.substr(space + 1), "note signature");
    if (!raw.ok()) return raw.status();
    if (raw->size() < 5) return InvalidArgument("note: signature shorter than a key id");
    for (const NoteVerifierKey& k : known) {
      if (k.name != name || !std::equal(k.key_id.begin(), k.key_id.end(), raw->begin())) continue;
      if (raw->size() != 4 + 64 ||
          !Ed25519Verify(k.public_key, AsBytes(out.text), SignatureOf(*raw))) {
        return InvalidArgument("note: the signature of known key " + k.name + " does not verify");
      }
      out.verified.push_back(k.name);
    }
  }
  if (out.verified.empty()) return InvalidArgument("note: no known key signed it");
  return out;
}

}  // namespace vaxledger
