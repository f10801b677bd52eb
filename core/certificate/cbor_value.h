// CBOR (RFC 8949) values as the HCERT chain needs them: COSE_Sign1 structures, CWT claims with
// integer keys, and the DCC payload (text keys).
//
// Why our own reader: nlohmann::json's from_cbor cannot hold the COSE and CWT maps (their keys
// are integers: 1, 4, -260) nor keep tags apart from their items; Debian 12's libcbor (0.8)
// refuses the one-byte tags 6..20 — tag 18 is COSE_Sign1's own — as malformed (fixed upstream
// in 0.9). So CborDecode is a small strict reader of well-formed CBOR (every major type,
// definite and indefinite lengths, half/single/double floats), bounded in depth and by the
// input's length, tested against the EU vectors and hand-made malformed items.
//
// Encoding is deterministic (RFC 8949 §4.2.1 core rules but for key order, which the caller
// gives): the shortest integer and length forms, definite lengths.
//
// Thread-safety: values; pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "core/status.h"

namespace vaxledger::certificate {

struct CborValue {
  enum class Kind {
    kUnsigned,
    kNegative,
    kBytes,
    kText,
    kArray,
    kMap,
    kTag,
    kBool,
    kNull,
    kUndefined,
    kFloat
  };
  Kind kind = Kind::kNull;
  uint64_t number = 0;   // kUnsigned: the value; kNegative: the value is -1 - number; kTag: tag
  Bytes bytes;           // kBytes
  std::string text;      // kText
  double real = 0;       // kFloat
  bool boolean = false;  // kBool
  std::vector<CborValue> items;                          // kArray; kTag: the one tagged item
  std::vector<std::pair<CborValue, CborValue>> entries;  // kMap, in encoded order

  // Declared here, defined where CborValue is complete: a map entry is a pair of CborValues,
  // which clang's libstdc++ cannot instantiate inside the class's own implicit members.
  CborValue();
  ~CborValue();
  CborValue(const CborValue&);
  CborValue(CborValue&&) noexcept;
  CborValue& operator=(const CborValue&);
  CborValue& operator=(CborValue&&) noexcept;

  static CborValue Int(int64_t v);
  static CborValue Text(std::string s);
  static CborValue ByteString(Bytes b);
  static CborValue Array(std::vector<CborValue> items);
  static CborValue Map(std::vector<std::pair<CborValue, CborValue>> entries);
  static CborValue Tag(uint64_t tag, CborValue item);

  bool IsInt() const { return kind == Kind::kUnsigned || kind == Kind::kNegative; }
  // The integer value; requires IsInt() and that it fits (else nullopt).
  std::optional<int64_t> AsInt() const;
  // The value under integer key `key` of a map, or nullptr (also when this is not a map).
  const CborValue* Find(int64_t key) const;
};

struct CborLimits {
  // Most nesting of arrays, maps and tags. Default 16 (a DCC nests 4 deep).
  size_t max_depth = 16;
};

// Decodes exactly one item that fills `data`. InvalidArgument saying what is wrong (malformed,
// trailing bytes, too deep) prefixed by `what`.
Result<CborValue> CborDecode(ByteView data, std::string_view what, CborLimits limits = {});

// Encodes `value` (never fails; a Result for symmetry with the decoder).
Result<Bytes> CborEncode(const CborValue& value);

// The DCC payload as JSON: maps with text keys, arrays, text, integers, floats, booleans, null;
// a tag is replaced by the item it tags (e.g. tag 1004 full-date). InvalidArgument for a byte
// string or a non-text map key, naming the path.
Result<nlohmann::json> CborToJson(const CborValue& value, const std::string& path = "dcc");
// JSON to CBOR (objects keep nlohmann's key order, which is sorted).
CborValue JsonToCbor(const nlohmann::json& value);

}  // namespace vaxledger::certificate
