#include "core/certificate/transliteration.h"

#include <array>
#include <cstdio>
#include <optional>

namespace vaxledger::certificate {

namespace {

// Upper-case Latin transliteration of U+00C0..U+017F; nullptr where the code point is not a
// letter (× ÷).
constexpr std::array<const char*, 0x180 - 0xC0> kLatin = {
    // U+00C0
    "A",
    "A",
    "A",
    "A",
    "AE",
    "AA",
    "AE",
    "C",
    "E",
    "E",
    "E",
    "E",
    "I",
    "I",
    "I",
    "I",
    // U+00D0
    "D",
    "N",
    "O",
    "O",
    "O",
    "O",
    "OE",
    nullptr,
    "OE",
    "U",
    "U",
    "U",
    "UE",
    "Y",
    "TH",
    "SS",
    // U+00E0
    "A",
    "A",
    "A",
    "A",
    "AE",
    "AA",
    "AE",
    "C",
    "E",
    "E",
    "E",
    "E",
    "I",
    "I",
    "I",
    "I",
    // U+00F0
    "D",
    "N",
    "O",
    "O",
    "O",
    "O",
    "OE",
    nullptr,
    "OE",
    "U",
    "U",
    "U",
    "UE",
    "Y",
    "TH",
    "Y",
    // U+0100
    "A",
    "A",
    "A",
    "A",
    "A",
    "A",
    "C",
    "C",
    "C",
    "C",
    "C",
    "C",
    "C",
    "C",
    "D",
    "D",
    // U+0110
    "D",
    "D",
    "E",
    "E",
    "E",
    "E",
    "E",
    "E",
    "E",
    "E",
    "E",
    "E",
    "G",
    "G",
    "G",
    "G",
    // U+0120
    "G",
    "G",
    "G",
    "G",
    "H",
    "H",
    "H",
    "H",
    "I",
    "I",
    "I",
    "I",
    "I",
    "I",
    "I",
    "I",
    // U+0130
    "I",
    "I",
    "IJ",
    "IJ",
    "J",
    "J",
    "K",
    "K",
    "K",
    "L",
    "L",
    "L",
    "L",
    "L",
    "L",
    "L",
    // U+0140
    "L",
    "L",
    "L",
    "N",
    "N",
    "N",
    "N",
    "N",
    "N",
    "N",
    "N",
    "N",
    "O",
    "O",
    "O",
    "O",
    // U+0150
    "O",
    "O",
    "OE",
    "OE",
    "R",
    "R",
    "R",
    "R",
    "R",
    "R",
    "S",
    "S",
    "S",
    "S",
    "S",
    "S",
    // U+0160
    "S",
    "S",
    "T",
    "T",
    "T",
    "T",
    "T",
    "T",
    "U",
    "U",
    "U",
    "U",
    "U",
    "U",
    "U",
    "U",
    // U+0170
    "U",
    "U",
    "U",
    "U",
    "W",
    "W",
    "Y",
    "Y",
    "Y",
    "Z",
    "Z",
    "Z",
    "Z",
    "Z",
    "Z",
    "S",
};

// Decodes one UTF-8 code point at `text[*i]`, advancing *i; nullopt when malformed.
std::optional<char32_t> NextCodePoint(std::string_view text, size_t* i) {
  const auto b0 = static_cast<uint8_t>(text[*i]);
  int extra;
  char32_t cp;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (*i + extra >= text.size()) return std::nullopt;
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<uint8_t>(text[*i + k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are malformed.
  static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  *i += extra + 1;
  return cp;
}

std::string Hex(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

std::optional<size_t> Utf8Length(std::string_view text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++n) {
    if (!NextCodePoint(text, &i)) return std::nullopt;
  }
  return n;
}

Result<std::string> TransliterateIcao(std::string_view name, const std::string& field) {
  std::string out;
  bool filler = false;  // a filler is due before the next letter
  for (size_t i = 0; i < name.size();) {
    const size_t at = i;
    auto cp = NextCodePoint(name, &i);
    if (!cp) {
      return InvalidArgument(field + " is not valid UTF-8 (byte " + std::to_string(at) + ")",
                             field);
    }
    const char32_t c = *cp;
    const char* letters = nullptr;
    char ascii[2] = {0, 0};
    if (c >= 'a' && c <= 'z') {
      ascii[0] = static_cast<char>(c - 'a' + 'A');
      letters = ascii;
    } else if (c >= 'A' && c <= 'Z') {
      ascii[0] = static_cast<char>(c);
      letters = ascii;
    } else if (c >= 0xC0 && c < 0x180) {
      letters = kLatin[c - 0xC0];
    } else if (c == 0x218 || c == 0x219) {
      letters = "S";
    } else if (c == 0x21A || c == 0x21B) {
      letters = "T";
    } else if (c == ' ' || c == '-' || c == 0xA0 || (c >= 0x2010 && c <= 0x2015)) {
      filler = !out.empty();
      continue;
    } else if (c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == '`' || c == 0xB4 ||
               c == '.' || c == ',') {
      continue;
    }
    if (letters == nullptr) {
      return InvalidArgument(field + ": the character " + Hex(c) +
                                 " has no ICAO 9303 transliteration (Latin letters, spaces, "
                                 "hyphens and apostrophes only)",
                             field);
    }
    if (filler) out += '<';
    filler = false;
    out += letters;
  }
  if (out.empty()) {
    return InvalidArgument(field + " must contain at least one letter", field);
  }
  if (out.size() > 80) {
    return InvalidArgument(field + " is longer than 80 characters once transliterated", field);
  }
  return out;
}

}  // namespace vaxledger::certificate
