#include "core/certificate/base45.h"

#include <array>

namespace vaxledger::certificate {

namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

// The value of each character, or -1.
constexpr std::array<int, 256> ReverseTable() {
  std::array<int, 256> t{};
  for (int& v : t) v = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i) t[static_cast<uint8_t>(kAlphabet[i])] = int(i);
  return t;
}
constexpr std::array<int, 256> kReverse = ReverseTable();

}  // namespace

std::string Base45Encode(ByteView bytes) {
  std::string out;
  out.reserve(bytes.size() / 2 * 3 + 2);
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    unsigned n = bytes[i] * 256u + bytes[i + 1];
    out += kAlphabet[n % 45];
    out += kAlphabet[(n / 45) % 45];
    out += kAlphabet[n / 2025];
  }
  if (i < bytes.size()) {
    unsigned n = bytes[i];
    out += kAlphabet[n % 45];
    out += kAlphabet[n / 45];
  }
  return out;
}

Result<Bytes> Base45Decode(std::string_view text) {
  if (text.size() % 3 == 1) {
    return InvalidArgument("base45: a single character is left at the end (offset " +
                           std::to_string(text.size() - 1) + ")");
  }
  Bytes out;
  out.reserve(text.size() / 3 * 2 + 1);
  for (size_t i = 0; i < text.size(); i += 3) {
    const size_t n = std::min<size_t>(3, text.size() - i);
    unsigned value = 0, weight = 1;
    for (size_t j = 0; j < n; ++j) {
      const int v = kReverse[static_cast<uint8_t>(text[i + j])];
      if (v < 0) {
        return InvalidArgument("base45: character at offset " + std::to_string(i + j) +
                               " is not in the base45 alphabet");
      }
      value += unsigned(v) * weight;
      weight *= 45;
    }
    if (n == 3) {
      if (value > 0xFFFF) {
        return InvalidArgument("base45: the triple at offset " + std::to_string(i) +
                               " is above 65535");
      }
      out.push_back(static_cast<uint8_t>(value >> 8));
      out.push_back(static_cast<uint8_t>(value & 0xFF));
    } else {
      if (value > 0xFF) {
        return InvalidArgument("base45: the last pair at offset " + std::to_string(i) +
                               " is above 255");
      }
      out.push_back(static_cast<uint8_t>(value));
    }
  }
  return out;
}

}  // namespace vaxledger::certificate
