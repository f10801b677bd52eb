#include "core/pseudonym.h"

#include <catch2/catch.hpp>

namespace vaxledger {
namespace {

TEST_CASE("HMAC-SHA-256 matches RFC 4231 test cases 1, 2 and 6") {
  CHECK(HexEncode(AsBytes(HmacSha256(Bytes(20, 0x0b), AsBytes("Hi There")))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(HexEncode(AsBytes(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?")))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size.
  CHECK(
      HexEncode(AsBytes(HmacSha256(
          Bytes(131, 0xaa), AsBytes("Test Using Larger Than Block-Size Key - Hash Key First")))) ==
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("pseudonyms are stable per key and kind, and reveal nothing of the identifier") {
  Pseudonymizer a(Pseudonymizer::GenerateKey());
  Pseudonymizer b(Pseudonymizer::GenerateKey());
  const std::string insz = "85073003328";
  const std::string p = a.Pseudonym("patient", insz);
  CHECK(p.size() == 32);
  CHECK(p == a.Pseudonym("patient", insz));
  CHECK(p != a.Pseudonym("person", insz));
  CHECK(p != a.Pseudonym("patient", "85073003427"));
  CHECK(p != b.Pseudonym("patient", insz));
  CHECK(p.find(insz.substr(0, 6)) == std::string::npos);
  CHECK(a.StreamFor("patient", insz) == "patient:" + p);
  // kind and identifier are separated: ("ab", "c") and ("a", "bc") differ.
  CHECK(a.Pseudonym("ab", "c") != a.Pseudonym("a", "bc"));
}

}  // namespace
}  // namespace vaxledger
