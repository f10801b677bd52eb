#include "core/certificate/qr_image.h"

#include <qrencode.h>
#include <zlib.h>

#include <memory>

namespace vaxledger::certificate {

namespace {

constexpr int kQuiet = 4;

void PutU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void Chunk(Bytes& png, const char* type, const Bytes& data) {
  PutU32(png, static_cast<uint32_t>(data.size()));
  Bytes body(reinterpret_cast<const uint8_t*>(type), 4);
  body += data;
  png += body;
  PutU32(png, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

}  // namespace

Result<QrMatrix> EncodeQr(std::string_view text) {
  const std::string s(text);
  // The base45 alphabet plus "HC1:" is QR's alphanumeric set, so libqrencode's mode
  // optimisation puts the whole text in alphanumeric mode (the hint only chooses 8-bit vs Kanji).
  for (char c : text) {
    if (std::string_view("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:").find(c) ==
        std::string_view::npos) {
      return InvalidArgument("the text has characters outside the QR alphanumeric set");
    }
  }
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeString(s.c_str(), 0, QR_ECLEVEL_Q, QR_MODE_8, 1), QRcode_free);
  if (!code) {
    return InvalidArgument("the text cannot be a QR code (too long, or not alphanumeric)");
  }
  QrMatrix m;
  m.size = code->width;
  m.dark.resize(static_cast<size_t>(m.size) * m.size);
  for (int i = 0; i < m.size * m.size; ++i) m.dark[i] = (code->data[i] & 1) != 0;
  return m;
}

Result<Bytes> QrPng(const QrMatrix& qr, int scale) {
  if (scale < 1 || scale > 32) return InvalidArgument("scale must be 1..32", "scale");
  const int side = (qr.size + 2 * kQuiet) * scale;
  Bytes raw;
  raw.reserve(static_cast<size_t>(side) * (side + 1));
  for (int y = 0; y < side; ++y) {
    raw.push_back(0);  // filter: none
    const int my = y / scale - kQuiet;
    for (int x = 0; x < side; ++x) {
      const int mx = x / scale - kQuiet;
      const bool dark = my >= 0 && mx >= 0 && my < qr.size && mx < qr.size &&
                        qr.dark[static_cast<size_t>(my) * qr.size + mx];
      raw.push_back(dark ? 0 : 255);
    }
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  Bytes idat(size, 0);
  if (compress2(idat.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK) {
    return Internal("PNG: zlib cannot compress");
  }
  idat.resize(size);
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  PutU32(ihdr, static_cast<uint32_t>(side));
  PutU32(ihdr, static_cast<uint32_t>(side));
  ihdr += Bytes{8, 0, 0, 0, 0};  // 8-bit greyscale, deflate, no filter, no interlace
  Chunk(png, "IHDR", ihdr);
  Chunk(png, "IDAT", idat);
  Chunk(png, "IEND", {});
  return png;
}

std::string QrSvg(const QrMatrix& qr) {
  const int side = qr.size + 2 * kQuiet;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(side) + " " + std::to_string(side) +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < qr.size; ++y) {
    for (int x = 0; x < qr.size; ++x) {
      if (qr.dark[static_cast<size_t>(y) * qr.size + x]) {
        svg += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

}  // namespace vaxledger::certificate
