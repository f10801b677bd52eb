#include "core/certificate/qr_image.h"

#include <zlib.h>
#include <catch2/catch.hpp>

namespace vaxledger::certificate {
namespace {

TEST_CASE("an HC1 string becomes a QR code, as PNG and as SVG") {
  auto qr = EncodeQr("HC1:6BF+70790T9WJWG.FKY*4GO0.O1CV2 O5 N2FBBRW1*70HS8WY04AC*W");
  REQUIRE(qr.ok());
  CHECK(qr->size >= 21);
  CHECK((qr->size - 17) % 4 == 0);  // a QR version's size
  // The finder pattern's corner modules are dark.
  CHECK(qr->dark[0]);
  CHECK(qr->dark[qr->size - 1]);
  auto png = QrPng(*qr, 2);
  REQUIRE(png.ok());
  CHECK(png->substr(0, 8) == Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
  CHECK(png->substr(12, 4) == Bytes{'I', 'H', 'D', 'R'});
  const uint32_t width = (*png)[16] << 24 | (*png)[17] << 16 | (*png)[18] << 8 | (*png)[19];
  CHECK(width == static_cast<uint32_t>((qr->size + 8) * 2));
  const std::string svg = QrSvg(*qr);
  CHECK(svg.starts_with("<svg"));
  CHECK(svg.find("viewBox=\"0 0 " + std::to_string(qr->size + 8)) != std::string::npos);
}

TEST_CASE("text outside QR's alphanumeric set is refused") {
  CHECK(!EncodeQr("hc1:lower").ok());
  CHECK(!QrPng(QrMatrix{}, 0).ok());
}

}  // namespace
}  // namespace vaxledger::certificate
