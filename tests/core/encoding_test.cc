#include "core/encoding.h"

#include <catch2/catch.hpp>
#include <string>

namespace vaxledger {
namespace {

TEST_CASE("IsValidUtf8 accepts well-formed UTF-8 and refuses every ill-formed kind") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ASCII /v1/healthz?x=1"));
  CHECK(IsValidUtf8("Ren\xC3\xA9 Fran\xC3\xA7ois"));  // é, ç
  CHECK(IsValidUtf8("\xE2\x82\xAC"));                 // €
  CHECK(IsValidUtf8("\xF0\x9F\x92\x89"));             // U+1F489 syringe
  CHECK(IsValidUtf8("\xF4\x8F\xBF\xBF"));             // U+10FFFF, the last code point
  CHECK(IsValidUtf8("\xED\x9F\xBF"));                 // U+D7FF, just below surrogates

  CHECK_FALSE(IsValidUtf8("\xFF"));                      // never in UTF-8
  CHECK_FALSE(IsValidUtf8("\xC3\x28"));                  // bad continuation
  CHECK_FALSE(IsValidUtf8("\xC3"));                      // truncated
  CHECK_FALSE(IsValidUtf8("\xE2\x82"));                  // truncated
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));              // U+D800, a surrogate
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));                  // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));              // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));          // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\x80"));                      // a lone continuation byte
  CHECK_FALSE(IsValidUtf8(std::string("ok\0\xFE", 4)));  // bad byte after a NUL
}

TEST_CASE("JsonNestingDepth counts arrays and objects, not brackets in strings") {
  CHECK(JsonNestingDepth("1") == 0);
  CHECK(JsonNestingDepth("{}") == 1);
  CHECK(JsonNestingDepth("{\"a\":[1,{\"b\":[]}]}") == 4);
  CHECK(JsonNestingDepth("[\"[[[[\", \"\\\"[[\"]") == 1);  // escaped quote inside a string
  CHECK(JsonNestingDepth(std::string(100000, '[')) == 100000);
}

}  // namespace
}  // namespace vaxledger
