// ICAO Doc 9303 Part 3 transliteration of names into the machine-readable character set
// (the DCC's `fnt` / `gnt`, pattern ^[A-Z<]*$):
//
//   - letters a-z and A-Z become upper case;
//   - Latin letters with diacritics are folded per ICAO 9303 Part 3 §6 (table A):
//       À Á Â Ã -> A, Ä Æ -> AE, Å -> AA, Ç -> C, É È Ê Ë -> E, Ñ -> N, Ö Ø Œ -> OE, Ü -> UE,
//       ß -> SS, Þ -> TH, Ð Đ -> D, Ł -> L, Ĳ -> IJ, and the rest of Latin-1 and Latin
//       Extended-A (plus Ș Ț) to their base letter;
//   - a space or a hyphen (and the dashes U+2010..U+2015) is a filler "<";
//   - apostrophes (' ’ ʼ ` ´), full stops and commas are left out ("d'Artagnan" -> DARTAGNAN);
//   - runs of fillers are one filler, and leading or trailing fillers are dropped
//     ("Marie  Louise" -> MARIE<LOUISE, "Anne-Marie" -> ANNE<MARIE).
//
// Anything else (digits, other scripts, malformed UTF-8) is refused: InvalidArgument naming
// `field` and the character. An empty result, or one longer than 80 characters (the schema's
// maxLength), is refused too.
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vaxledger::certificate {

Result<std::string> TransliterateIcao(std::string_view utf8_name, const std::string& field);

// The number of Unicode code points in valid UTF-8 `text` (JSON Schema's string length), or
// nullopt when it is not valid UTF-8.
std::optional<size_t> Utf8Length(std::string_view text);

}  // namespace vaxledger::certificate
