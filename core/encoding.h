// Hex and base64 (standard alphabet, with padding) encodings of byte strings.
//
// Decoders return InvalidArgument naming `what` when the text is not a valid encoding.
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vaxledger {

using Bytes = std::basic_string<uint8_t>;
using ByteView = std::basic_string_view<uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsChars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Lower-case hex. The decoder accepts only lower-case digits, so every byte string has exactly
// one encoding (the base64 decoder likewise refuses non-zero padding bits).
std::string HexEncode(ByteView bytes);
Result<Bytes> HexDecode(std::string_view text, std::string_view what = "hex");

std::string Base64Encode(ByteView bytes);
Result<Bytes> Base64Decode(std::string_view text, std::string_view what = "base64");

// A decimal number in its one canonical spelling: ASCII digits, no sign, no leading zeros (but
// "0"), no overflow. InvalidArgument naming `what` otherwise.
Result<uint64_t> ParseDecimal(std::string_view text, std::string_view what = "number");

// base64url without padding (RFC 4648 §5, as JOSE uses it). The decoder refuses padding and
// non-zero trailing bits.
std::string Base64UrlEncode(ByteView bytes);
Result<Bytes> Base64UrlDecode(std::string_view text, std::string_view what = "base64url");

// Whether `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800 to
// U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view text);

}  // namespace vaxledger
