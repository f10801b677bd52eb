#include "core/certificate/uvci.h"

#include "core/crypto.h"

namespace vaxledger::certificate {

namespace {
std::string NewUvciCandidate(std::string_view country);
}  // namespace

Result<char> LuhnModNCheck(std::string_view text) {
  const int n = static_cast<int>(kUvciCheckAlphabet.size());
  int factor = 2;
  int sum = 0;
  // From the right, every second code point doubled (Luhn mod N).
  for (size_t i = text.size(); i-- > 0;) {
    const size_t code = kUvciCheckAlphabet.find(text[i]);
    if (code == std::string_view::npos) {
      return InvalidArgument(std::string("uvci: character '") + text[i] + "' at offset " +
                                 std::to_string(i) + " is not in the check alphabet",
                             "uvci");
    }
    int addend = factor * static_cast<int>(code);
    factor = factor == 2 ? 1 : 2;
    addend = addend / n + addend % n;
    sum += addend;
  }
  return kUvciCheckAlphabet[(n - sum % n) % n];
}

std::string NewUvci(std::string_view country) {
  while (true) {
    std::string uvci = NewUvciCandidate(country);
    // A "/" check character would split the UVCI in a URL path (routes decode before they
    // split): draw again, which keeps the opaque part uniform over the UVCIs we issue.
    if (uvci.back() != '/') return uvci;
  }
}

namespace {
std::string NewUvciCandidate(std::string_view country) {
  constexpr std::string_view kOpaque = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string uvci = "URN:UVCI:01:" + std::string(country) + ":";
  uint8_t random[kUvciOpaqueLength];
  size_t made = 0;
  while (made < kUvciOpaqueLength) {
    RandomBytes(random, sizeof random);
    for (uint8_t b : random) {
      // 252 = 7 * 36: rejecting the rest keeps every character equally likely.
      if (b < 252 && made < kUvciOpaqueLength) {
        uvci += kOpaque[b % 36];
        ++made;
      }
    }
  }
  auto check = LuhnModNCheck(uvci);
  return uvci + "#" + (check.ok() ? *check : '?');  // the text is in the alphabet by construction
}
}  // namespace

Status CheckUvci(std::string_view uvci) {
  auto bad = [&](const std::string& rule) {
    return InvalidArgument("uvci " + std::string(uvci) + ": " + rule, "uvci");
  };
  constexpr std::string_view kPrefix = "URN:UVCI:01:";
  if (!uvci.starts_with(kPrefix)) return bad("must start with URN:UVCI:01:");
  const size_t hash = uvci.find('#');
  if (hash == std::string_view::npos || hash + 2 != uvci.size()) {
    return bad("must end with # and one check character");
  }
  std::string_view rest = uvci.substr(kPrefix.size(), hash - kPrefix.size());
  if (rest.size() < 4 || rest[2] != ':') return bad("needs a 2-letter country and an identifier");
  for (size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    const bool ok = i == 2 ? c == ':' : (c >= 'A' && c <= 'Z') || (i > 2 && c >= '0' && c <= '9');
    if (!ok) return bad("the country and identifier are A-Z and 0-9 only");
  }
  VX_ASSIGN_OR_RETURN(char check, LuhnModNCheck(uvci.substr(0, hash)));
  if (check != uvci.back()) return bad(std::string("the check character should be ") + check);
  return Status::Ok();
}

}  // namespace vaxledger::certificate
