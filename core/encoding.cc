#include "core/encoding.h"

#include <sodium.h>

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

Result<Bytes> Base64Decode(std::string_view text, std::string_view what) {
  Bytes out(text.size() / 4 * 3 + 3, 0);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgument(std::string(what) + ": not valid base64");
  }
  out.resize(len);
  return out;
}

}  // namespace vaxledger
