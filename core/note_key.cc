#include "core/note_key.h"

#include <vector>

namespace vaxledger {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;

// Splits at the first `max_parts - 1` plus signs: the last part is base64, which may hold '+'.
std::vector<std::string_view> SplitPlus(std::string_view text, size_t max_parts) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t plus = parts.size() + 1 == max_parts ? std::string_view::npos : text.find('+', start);
    if (plus == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, plus - start));
    start = plus + 1;
  }
}

// Parses hex8(key_id) and base64(0x01 || 32 bytes) and checks the key id against the name.
Status ParseKeyParts(std::string_view name, std::string_view id_hex, std::string_view b64,
                     KeyId* key_id, std::array<uint8_t, 32>* key) {
  VX_RETURN_IF_ERROR(ValidateKeyName(name));
  VX_ASSIGN_OR_RETURN(Bytes id, HexDecode(id_hex, "key id"));
  if (id.size() != 4) return InvalidArgument("key id: must be 8 hex digits");
  VX_ASSIGN_OR_RETURN(Bytes raw, Base64Decode(b64, "key"));
  if (raw.size() != 33) return InvalidArgument("key: must encode 33 bytes (algorithm + key)");
  if (raw[0] != kAlgEd25519) return InvalidArgument("key: algorithm byte must be 0x01 (Ed25519)");
  std::copy(id.begin(), id.end(), key_id->begin());
  std::copy(raw.begin() + 1, raw.end(), key->begin());
  return Status::Ok();
}

std::string EncodeKey(const std::array<uint8_t, 32>& key) {
  Bytes raw;
  raw.push_back(kAlgEd25519);
  raw.append(key.data(), key.size());
  return Base64Encode(raw);
}

}  // namespace

Result<std::vector<char32_t>> DecodeUtf8(std::string_view text, std::string_view what) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const auto bad = [&] { return InvalidArgument(std::string(what) + ": is not valid UTF-8"); };
  for (size_t i = 0; i < text.size();) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    // The length from the lead byte, and the smallest code point that needs it (no overlongs).
    size_t n;
    char32_t c, min;
    if ((b0 & 0xE0) == 0xC0) {
      n = 2, c = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3, c = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 4, c = b0 & 0x07, min = 0x10000;
    } else {
      return bad();
    }
    if (i + n > text.size()) return bad();
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      if ((b & 0xC0) != 0x80) return bad();
      c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return bad();
    out.push_back(c);
    i += n;
  }
  return out;
}

bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

Status CheckNoteCharacters(std::string_view text, std::string_view what) {
  VX_ASSIGN_OR_RETURN(auto code_points, DecodeUtf8(text, what));
  for (char32_t c : code_points) {
    if (c < 0x20 && c != '\n') {
      return InvalidArgument(std::string(what) +
                             ": holds an ASCII control character other than newline");
    }
  }
  return Status::Ok();
}

Status ValidateKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameBytes) {
    return InvalidArgument("key name: must be 1.." + std::to_string(kMaxKeyNameBytes) + " bytes");
  }
  VX_ASSIGN_OR_RETURN(auto code_points, DecodeUtf8(name, "key name"));
  for (char32_t c : code_points) {
    if (c == '+' || c < 0x20 || IsUnicodeSpace(c)) {
      return InvalidArgument("key name: must not hold '+', a Unicode space or a control character");
    }
  }
  return Status::Ok();
}

KeyId ComputeKeyId(std::string_view name, const PublicKey& public_key) {
  Bytes input(AsBytes(name));
  input.push_back('\n');
  input.push_back(kAlgEd25519);
  input.append(public_key.data(), public_key.size());
  Hash h = Sha256(input);
  KeyId id;
  std::copy(h.begin(), h.begin() + 4, id.begin());
  return id;
}

std::string NoteVerifierKey::ToText() const {
  return name + "+" + HexEncode(ByteView(key_id.data(), key_id.size())) + "+" +
         EncodeKey(public_key);
}

Result<NoteVerifierKey> NoteVerifierKey::Parse(std::string_view text) {
  auto parts = SplitPlus(text, 3);
  if (parts.size() != 3) return InvalidArgument("verifier key: expected name+keyid+key");
  NoteVerifierKey out;
  out.name = std::string(parts[0]);
  VX_RETURN_IF_ERROR(ParseKeyParts(parts[0], parts[1], parts[2], &out.key_id, &out.public_key));
  if (ComputeKeyId(out.name, out.public_key) != out.key_id) {
    return InvalidArgument("verifier key: key id does not match the name and key");
  }
  return out;
}

NoteSigner::NoteSigner(std::string name, Ed25519Key key)
    : name_(std::move(name)), key_(std::move(key)) {
  key_id_ = ComputeKeyId(name_, key_.public_key());
}

Result<NoteSigner> NoteSigner::Parse(std::string_view text) {
  auto parts = SplitPlus(text, 5);
  if (parts.size() != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY") {
    return InvalidArgument("private key: expected PRIVATE+KEY+name+keyid+key");
  }
  KeyId id;
  Seed seed;
  VX_RETURN_IF_ERROR(ParseKeyParts(parts[2], parts[3], parts[4], &id, &seed));
  NoteSigner signer(std::string(parts[2]), Ed25519Key::FromSeed(seed));
  if (signer.key_id() != id) {
    return InvalidArgument("private key: key id does not match the name and key");
  }
  return signer;
}

std::string NoteSigner::ToPrivateText() const {
  return "PRIVATE+KEY+" + name_ + "+" + HexEncode(ByteView(key_id_.data(), key_id_.size())) + "+" +
         EncodeKey(key_.seed());
}

}  // namespace vaxledger
