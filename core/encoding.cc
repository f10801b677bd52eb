#include "core/encoding.h"

#include <sodium.h>

#include <array>
#include <charconv>

namespace vaxledger {

std::string HexEncode(ByteView bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();  // the terminating NUL
  return out;
}

Result<Bytes> HexDecode(std::string_view text, std::string_view what) {
  if (text.size() % 2 != 0) {
    return InvalidArgument(std::string(what) + ": hex text has an odd number of digits");
  }
  for (char c : text) {
    if (c >= 'A' && c <= 'F') {
      return InvalidArgument(std::string(what) + ": hex digits must be lower-case");
    }
  }
  Bytes out(text.size() / 2, 0);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgument(std::string(what) + ": not hex digits");
  }
  out.resize(len);
  return out;
}

std::string Base64Encode(ByteView bytes) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.pop_back();  // the terminating NUL
  return out;
}

// A table decoder: the data we decode is public (leaves, signatures, keys' public halves, and the
// registry key once at start-up), so libsodium's constant-time decoder, several times slower on an
// export of hundreds of megabytes, buys nothing here.
Result<Bytes> Base64Decode(std::string_view text, std::string_view what) {
  static constexpr auto kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  auto bad = [&] { return InvalidArgument(std::string(what) + ": not valid base64"); };
  if (text.size() % 4 != 0) return bad();
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  const size_t full = text.size() - (pad ? 4 : 0);
  for (size_t i = 0; i < full; i += 4) {
    int a = kTable[static_cast<uint8_t>(text[i])], b = kTable[static_cast<uint8_t>(text[i + 1])];
    int c = kTable[static_cast<uint8_t>(text[i + 2])],
        d = kTable[static_cast<uint8_t>(text[i + 3])];
    if ((a | b | c | d) < 0) return bad();
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out.push_back(static_cast<uint8_t>(v >> 16));
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
  }
  if (pad) {
    const char* q = text.data() + full;
    int a = kTable[static_cast<uint8_t>(q[0])], b = kTable[static_cast<uint8_t>(q[1])];
    if ((a | b) < 0) return bad();
    if (pad == 2) {
      if ((b & 0x0f) != 0) return bad();  // padding bits must be zero: one spelling per value
      out.push_back(static_cast<uint8_t>((a << 2) | (b >> 4)));
    } else {
      int c = kTable[static_cast<uint8_t>(q[2])];
      if (c < 0 || (c & 0x03) != 0) return bad();
      out.push_back(static_cast<uint8_t>((a << 2) | (b >> 4)));
      out.push_back(static_cast<uint8_t>(((b & 0x0f) << 4) | (c >> 2)));
    }
  }
  return out;
}

Result<uint64_t> ParseDecimal(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      (text.size() > 1 && text[0] == '0') || text[0] == '+' || text[0] == '-') {
    return InvalidArgument(std::string(what) + ": must be a decimal number without leading zeros",
                           std::string(what));
  }
  return value;
}

std::string Base64UrlEncode(ByteView bytes) {
  std::string out = Base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

Result<Bytes> Base64UrlDecode(std::string_view text, std::string_view what) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '+' || c == '/' || c == '=') {
      return InvalidArgument(std::string(what) + ": not valid base64url");
    }
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard.size() % 4 == 1) return InvalidArgument(std::string(what) + ": not valid base64url");
  while (standard.size() % 4 != 0) standard.push_back('=');
  auto out = Base64Decode(standard, what);
  if (!out.ok()) return InvalidArgument(std::string(what) + ": not valid base64url");
  return out;
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The length of the sequence and the range its second byte must fall in (RFC 3629 §4).
    size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c == 0xE0) {
      length = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      length = 3;
    } else if (c == 0xED) {
      length = 3, hi = 0x9F;  // no surrogates
    } else if (c == 0xF0) {
      length = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      length = 4;
    } else if (c == 0xF4) {
      length = 4, hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;  // a continuation byte first, C0/C1 (overlong) or F5..FF
    }
    if (n - i < length) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < length; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace vaxledger
