// The QR code of an HC1 string (libqrencode, Debian's libqrencode-dev): alphanumeric mode,
// error correction level Q (as the HCERT specification recommends), drawn as PNG or SVG.
//
// PNG: 8-bit greyscale, `scale` pixels per module, a 4-module quiet zone, written with zlib
// (IHDR, IDAT, IEND; the grammar is the PNG specification's). SVG: one path of unit squares in
// a viewBox of the module count plus the quiet zone.
//
// Thread-safety: pure functions (libqrencode's QRcode_encodeString is reentrant).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/status.h"

namespace vaxledger::certificate {

struct QrMatrix {
  int size = 0;            // modules per side
  std::vector<bool> dark;  // size * size, row by row
};

// InvalidArgument when `text` has characters outside QR's alphanumeric set or is too long.
Result<QrMatrix> EncodeQr(std::string_view text);
Result<Bytes> QrPng(const QrMatrix& qr, int scale = 4);
std::string QrSvg(const QrMatrix& qr);

}  // namespace vaxledger::certificate
