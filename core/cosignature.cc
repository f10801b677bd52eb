#include "core/cosignature.h"

#include <algorithm>
#include <cstring>

#include "core/encoding.h"

namespace vaxledger {
namespace {

constexpr std::string_view kDash = "\xe2\x80\x94 ";  // U+2014 and a space
constexpr uint64_t kMaxTimestamp = (uint64_t{1} << 63) - 1;

std::string EncodeKey(const std::array<uint8_t, 32>& key) {
  Bytes raw;
  raw.push_back(kCosignatureAlgorithm);
  raw.append(key.data(), key.size());
  return Base64Encode(raw);
}

// name "+" hex8 "+" base64(0x04 || 32 bytes); the name may not hold '+', the base64 may.
Status ParseKey(std::string_view text, std::string* name, KeyId* id, std::array<uint8_t, 32>* key) {
  const size_t first = text.find('+');
  const size_t second = first == std::string_view::npos ? first : text.find('+', first + 1);
  if (second == std::string_view::npos) {
    return InvalidArgument("cosigner key: expected name+keyid+key");
  }
  *name = std::string(text.substr(0, first));
  VX_RETURN_IF_ERROR(ValidateKeyName(*name));
  VX_ASSIGN_OR_RETURN(Bytes raw_id,
                      HexDecode(text.substr(first + 1, second - first - 1), "key id"));
  if (raw_id.size() != 4) return InvalidArgument("cosigner key: key id must be 8 hex digits");
  VX_ASSIGN_OR_RETURN(Bytes raw, Base64Decode(text.substr(second + 1), "cosigner key"));
  if (raw.size() != 33 || raw[0] != kCosignatureAlgorithm) {
    return InvalidArgument(
        "cosigner key: must encode 0x04 (tlog-cosignature Ed25519) and 32 bytes");
  }
  std::copy(raw_id.begin(), raw_id.end(), id->begin());
  std::copy(raw.begin() + 1, raw.end(), key->begin());
  return Status::Ok();
}

}  // namespace

KeyId CosignerKeyId(std::string_view name, const PublicKey& public_key) {
  Bytes input(AsBytes(name));
  input.push_back('\n');
  input.push_back(kCosignatureAlgorithm);
  input.append(public_key.data(), public_key.size());
  const Hash h = Sha256(input);
  KeyId id;
  std::copy(h.begin(), h.begin() + 4, id.begin());
  return id;
}

std::string CosignedMessage(std::string_view checkpoint_body, uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(checkpoint_body);
}

std::string CosignerVerifierKey::ToText() const {
  return name + "+" + HexEncode(ByteView(key_id.data(), key_id.size())) + "+" +
         EncodeKey(public_key);
}

Result<CosignerVerifierKey> CosignerVerifierKey::Parse(std::string_view text) {
  CosignerVerifierKey out;
  VX_RETURN_IF_ERROR(ParseKey(text, &out.name, &out.key_id, &out.public_key));
  if (CosignerKeyId(out.name, out.public_key) != out.key_id) {
    return InvalidArgument("cosigner key: key id does not match the name and key");
  }
  return out;
}

Cosigner::Cosigner(std::string name, Ed25519Key key)
    : name_(std::move(name)), key_(std::move(key)) {
  key_id_ = CosignerKeyId(name_, key_.public_key());
}

Result<Cosigner> Cosigner::Parse(std::string_view text) {
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (!text.starts_with(kPrefix)) {
    return InvalidArgument("cosigner private key: expected PRIVATE+KEY+name+keyid+key");
  }
  std::string name;
  KeyId id;
  Seed seed;
  VX_RETURN_IF_ERROR(ParseKey(text.substr(kPrefix.size()), &name, &id, &seed));
  Cosigner cosigner(name, Ed25519Key::FromSeed(seed));
  if (cosigner.key_id_ != id) {
    return InvalidArgument("cosigner private key: key id does not match the name and key");
  }
  return cosigner;
}

std::string Cosigner::ToPrivateText() const {
  return "PRIVATE+KEY+" + name_ + "+" + HexEncode(ByteView(key_id_.data(), key_id_.size())) + "+" +
         EncodeKey(key_.seed());
}

std::string Cosigner::SignatureLine(std::string_view checkpoint_body, uint64_t timestamp) const {
  const Signature sig = key_.Sign(AsBytes(CosignedMessage(checkpoint_body, timestamp)));
  Bytes raw(key_id_.data(), key_id_.size());
  for (int shift = 56; shift >= 0; shift -= 8)
    raw.push_back(static_cast<uint8_t>(timestamp >> shift));
  raw.append(sig.data(), sig.size());
  return std::string(kDash) + name_ + " " + Base64Encode(raw) + "\n";
}

Result<uint64_t> VerifyCosignature(std::string_view note, const CosignerVerifierKey& key) {
  VX_RETURN_IF_ERROR(CheckNoteCharacters(note, "note"));
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return InvalidArgument("note: no signature block");
  const std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    if (nl == std::string_view::npos) {
      return InvalidArgument("note: the last signature line has no newline");
    }
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!line.starts_with(kDash)) {
      return InvalidArgument("note: a line after the blank line is not a signature line");
    }
    line.remove_prefix(kDash.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.substr(0, space) != key.name) continue;
    VX_ASSIGN_OR_RETURN(Bytes raw, Base64Decode(line.substr(space + 1), "note signature"));
    if (raw.size() < 4 || !std::equal(key.key_id.begin(), key.key_id.end(), raw.begin())) continue;
    if (raw.size() != 4 + 8 + 64) {
      return InvalidArgument("cosignature of " + key.name +
                             ": must be key id, timestamp, signature");
    }
    uint64_t timestamp = 0;
    for (size_t i = 4; i < 12; ++i) timestamp = (timestamp << 8) | raw[i];
    if (timestamp > kMaxTimestamp) {
      return InvalidArgument("cosignature of " + key.name + ": timestamp over 2^63 - 1");
    }
    Signature sig;
    std::memcpy(sig.data(), raw.data() + 12, sig.size());
    if (!Ed25519Verify(key.public_key, AsBytes(CosignedMessage(body, timestamp)), sig)) {
      return InvalidArgument("cosignature of " + key.name + ": does not verify");
    }
    return timestamp;
  }
  return NotFound("no cosignature by " + key.name);
}

}  // namespace vaxledger
