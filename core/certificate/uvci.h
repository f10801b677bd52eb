// Unique vaccination certificate identifiers (UVCI, eHealth Network guidelines, Annex 2):
//
//   uvci      = "URN:UVCI:" version ":" country ":" opaque "#" check
//   version   = "01"
//   country   = 2 upper-case letters (ISO 3166-1 alpha-2), "BE" for this registry
//   opaque    = 1*(A-Z / 0-9)         ; here 26 random characters, never derived from data
//   check     = the Luhn mod N character (N = 38) over everything before "#", in the alphabet
//               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
//
// Known answer (guidelines): LuhnModNCheck("URN:UVCI:01:NL:187/37512422923") == 'Z'.
//
// Thread-safety: pure functions (NewUvci reads the OS random source).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace vaxledger::certificate {

inline constexpr std::string_view kUvciCheckAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:";
inline constexpr size_t kUvciOpaqueLength = 26;

// The check character over `text`; InvalidArgument when `text` holds a character outside the
// alphabet.
Result<char> LuhnModNCheck(std::string_view text);

// A new UVCI for `country` with a random opaque part (about 134 bits). Its check character is
// never "/" (one in 38 draws is drawn again), so that it fits one URL path segment.
std::string NewUvci(std::string_view country = "BE");

// Checks the grammar above and the check character. InvalidArgument naming "uvci".
Status CheckUvci(std::string_view uvci);

}  // namespace vaxledger::certificate
