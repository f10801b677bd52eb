// Base45 (RFC 9285): the alphanumeric-QR-friendly encoding of the HCERT chain.
//
//   two bytes a b  -> n = a*256 + b = c + d*45 + e*45^2 -> the characters c d e
//   a last single byte a -> a = c + d*45                -> the characters c d
//
// with the alphabet "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:". The decoder refuses a
// character outside the alphabet, a single trailing character, and a triple above 65535 (or a
// pair above 255), naming the offset.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/status.h"

namespace vaxledger::certificate {

std::string Base45Encode(ByteView bytes);
Result<Bytes> Base45Decode(std::string_view text);

}  // namespace vaxledger::certificate
