#include "core/certificate/cbor_value.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace vaxledger::certificate {

CborValue::CborValue() = default;
CborValue::~CborValue() = default;
CborValue::CborValue(const CborValue&) = default;
CborValue::CborValue(CborValue&&) noexcept = default;
CborValue& CborValue::operator=(const CborValue&) = default;
CborValue& CborValue::operator=(CborValue&&) noexcept = default;

namespace {

// A strict reader of one RFC 8949 data item: definite and indefinite lengths, all major types,
// simple values and floats (half, single, double); no item may claim more bytes than remain.
class Reader {
 public:
  Reader(ByteView data, const CborLimits& limits, std::string_view what)
      : data_(data), limits_(limits), what_(what) {}

  Result<CborValue> Item(size_t depth) {
    if (depth > limits_.max_depth) {
      return Error("nested deeper than " + std::to_string(limits_.max_depth));
    }
    if (pos_ >= data_.size()) return Error("ends in the middle of an item");
    const uint8_t initial = data_[pos_++];
    const int major = initial >> 5;
    const int info = initial & 0x1F;
    CborValue v;
    if (major == 7) return Simple(info);
    if (info == 31) {  // indefinite length
      if (major == 0 || major == 1 || major == 6)
        return Error("indefinite length on an integer or tag");
      return Indefinite(major, depth);
    }
    VX_ASSIGN_OR_RETURN(uint64_t arg, Argument(info));
    switch (major) {
      case 0:
        v.kind = CborValue::Kind::kUnsigned;
        v.number = arg;
        return v;
      case 1:
        v.kind = CborValue::Kind::kNegative;
        v.number = arg;
        return v;
      case 2:
      case 3: {
        if (arg > data_.size() - pos_) return Error("a string is longer than the data");
        if (major == 2) {
          v.kind = CborValue::Kind::kBytes;
          v.bytes.assign(data_.data() + pos_, arg);
        } else {
          v.kind = CborValue::Kind::kText;
          v.text.assign(reinterpret_cast<const char*>(data_.data()) + pos_, arg);
        }
        pos_ += arg;
        return v;
      }
      case 4:
        v.kind = CborValue::Kind::kArray;
        if (arg > data_.size() - pos_) return Error("an array is longer than the data");
        for (uint64_t i = 0; i < arg; ++i) {
          VX_ASSIGN_OR_RETURN(CborValue child, Item(depth + 1));
          v.items.push_back(std::move(child));
        }
        return v;
      case 5:
        v.kind = CborValue::Kind::kMap;
        if (arg > (data_.size() - pos_) / 2) return Error("a map is longer than the data");
        for (uint64_t i = 0; i < arg; ++i) {
          VX_ASSIGN_OR_RETURN(CborValue key, Item(depth + 1));
          VX_ASSIGN_OR_RETURN(CborValue value, Item(depth + 1));
          v.entries.emplace_back(std::move(key), std::move(value));
        }
        return v;
      default: {  // 6: tag
        v.kind = CborValue::Kind::kTag;
        v.number = arg;
        VX_ASSIGN_OR_RETURN(CborValue child, Item(depth + 1));
        v.items.push_back(std::move(child));
        return v;
      }
    }
  }

  size_t position() const { return pos_; }

 private:
  Status Error(const std::string& rule) const {
    return InvalidArgument(std::string(what_) + ": not well-formed CBOR: " + rule + " (at byte " +
                           std::to_string(pos_) + ")");
  }

  Result<uint64_t> Argument(int info) {
    if (info < 24) return static_cast<uint64_t>(info);
    if (info > 27) return Error("reserved additional information " + std::to_string(info));
    const size_t n = size_t{1} << (info - 24);
    if (n > data_.size() - pos_) return Error("ends in the middle of an argument");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_++];
    return v;
  }

  Result<CborValue> Simple(int info) {
    CborValue v;
    if (info < 20 || info == 24) {
      if (info == 24 && pos_ < data_.size()) ++pos_;
      return Error("unassigned simple value");
    }
    switch (info) {
      case 20:
      case 21:
        v.kind = CborValue::Kind::kBool;
        v.boolean = info == 21;
        return v;
      case 22:
        v.kind = CborValue::Kind::kNull;
        return v;
      case 23:
        v.kind = CborValue::Kind::kUndefined;
        return v;
      case 25:
      case 26:
      case 27: {
        VX_ASSIGN_OR_RETURN(uint64_t bits, Argument(info));
        v.kind = CborValue::Kind::kFloat;
        if (info == 25) {
          const int exp = (bits >> 10) & 0x1F;
          const double mant = static_cast<double>(bits & 0x3FF);
          double value = exp == 0    ? std::ldexp(mant, -24)
                         : exp != 31 ? std::ldexp(mant + 1024, exp - 25)
                                     : (mant == 0 ? INFINITY : NAN);
          v.real = (bits & 0x8000) ? -value : value;
        } else if (info == 26) {
          float f;
          const uint32_t b32 = static_cast<uint32_t>(bits);
          std::memcpy(&f, &b32, sizeof f);
          v.real = f;
        } else {
          std::memcpy(&v.real, &bits, sizeof v.real);
        }
        return v;
      }
      default:
        return Error(info == 31 ? "a break outside an indefinite-length item"
                                : "reserved simple value");
    }
  }

  bool AtBreak() const { return pos_ < data_.size() && data_[pos_] == 0xFF; }

  Result<CborValue> Indefinite(int major, size_t depth) {
    CborValue v;
    v.kind = major == 2   ? CborValue::Kind::kBytes
             : major == 3 ? CborValue::Kind::kText
             : major == 4 ? CborValue::Kind::kArray
                          : CborValue::Kind::kMap;
    while (true) {
      if (pos_ >= data_.size()) return Error("an indefinite-length item has no break");
      if (AtBreak()) {
        ++pos_;
        return v;
      }
      if (major == 2 || major == 3) {
        if ((data_[pos_] >> 5) != major || (data_[pos_] & 0x1F) == 31) {
          return Error(
              "a chunk of an indefinite-length string is not a definite string of its type");
        }
        VX_ASSIGN_OR_RETURN(CborValue chunk, Item(depth + 1));
        v.bytes += chunk.bytes;
        v.text += chunk.text;
      } else if (major == 4) {
        VX_ASSIGN_OR_RETURN(CborValue child, Item(depth + 1));
        v.items.push_back(std::move(child));
      } else {
        VX_ASSIGN_OR_RETURN(CborValue key, Item(depth + 1));
        if (AtBreak()) return Error("a map ends after a key without its value");
        VX_ASSIGN_OR_RETURN(CborValue value, Item(depth + 1));
        v.entries.emplace_back(std::move(key), std::move(value));
      }
    }
  }

  ByteView data_;
  const CborLimits& limits_;
  std::string_view what_;
  size_t pos_ = 0;
};

void Head(Bytes& out, int major, uint64_t arg) {
  const auto m = static_cast<uint8_t>(major << 5);
  if (arg < 24) {
    out.push_back(m | static_cast<uint8_t>(arg));
  } else if (arg <= 0xFF) {
    out.push_back(m | 24);
    out.push_back(static_cast<uint8_t>(arg));
  } else if (arg <= 0xFFFF) {
    out.push_back(m | 25);
    for (int s = 8; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(arg >> s));
  } else if (arg <= 0xFFFFFFFF) {
    out.push_back(m | 26);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(arg >> s));
  } else {
    out.push_back(m | 27);
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(arg >> s));
  }
}

void Encode(const CborValue& v, Bytes& out) {
  using K = CborValue::Kind;
  switch (v.kind) {
    case K::kUnsigned:
      Head(out, 0, v.number);
      break;
    case K::kNegative:
      Head(out, 1, v.number);
      break;
    case K::kBytes:
      Head(out, 2, v.bytes.size());
      out += v.bytes;
      break;
    case K::kText:
      Head(out, 3, v.text.size());
      out.append(reinterpret_cast<const uint8_t*>(v.text.data()), v.text.size());
      break;
    case K::kArray:
      Head(out, 4, v.items.size());
      for (const CborValue& c : v.items) Encode(c, out);
      break;
    case K::kMap:
      Head(out, 5, v.entries.size());
      for (const auto& [k, val] : v.entries) {
        Encode(k, out);
        Encode(val, out);
      }
      break;
    case K::kTag:
      Head(out, 6, v.number);
      Encode(v.items.at(0), out);
      break;
    case K::kBool:
      out.push_back(v.boolean ? 0xF5 : 0xF4);
      break;
    case K::kNull:
      out.push_back(0xF6);
      break;
    case K::kUndefined:
      out.push_back(0xF7);
      break;
    case K::kFloat: {
      uint64_t bits;
      std::memcpy(&bits, &v.real, sizeof bits);
      out.push_back(0xFB);
      for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(bits >> s));
      break;
    }
  }
}

}  // namespace

CborValue CborValue::Int(int64_t v) {
  CborValue c;
  if (v >= 0) {
    c.kind = Kind::kUnsigned;
    c.number = static_cast<uint64_t>(v);
  } else {
    c.kind = Kind::kNegative;
    c.number = static_cast<uint64_t>(-(v + 1));
  }
  return c;
}

CborValue CborValue::Text(std::string s) {
  CborValue c;
  c.kind = Kind::kText;
  c.text = std::move(s);
  return c;
}

CborValue CborValue::ByteString(Bytes b) {
  CborValue c;
  c.kind = Kind::kBytes;
  c.bytes = std::move(b);
  return c;
}

CborValue CborValue::Array(std::vector<CborValue> items) {
  CborValue c;
  c.kind = Kind::kArray;
  c.items = std::move(items);
  return c;
}

CborValue CborValue::Map(std::vector<std::pair<CborValue, CborValue>> entries) {
  CborValue c;
  c.kind = Kind::kMap;
  c.entries = std::move(entries);
  return c;
}

CborValue CborValue::Tag(uint64_t tag, CborValue item) {
  CborValue c;
  c.kind = Kind::kTag;
  c.number = tag;
  c.items.push_back(std::move(item));
  return c;
}

std::optional<int64_t> CborValue::AsInt() const {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (kind == Kind::kUnsigned && number <= kMax) return static_cast<int64_t>(number);
  if (kind == Kind::kNegative && number <= kMax) return -static_cast<int64_t>(number) - 1;
  return std::nullopt;
}

const CborValue* CborValue::Find(int64_t key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& [k, v] : entries) {
    if (k.IsInt() && k.AsInt() == key) return &v;
  }
  return nullptr;
}

Result<CborValue> CborDecode(ByteView data, std::string_view what, CborLimits limits) {
  if (data.empty()) return InvalidArgument(std::string(what) + ": no CBOR data");
  Reader reader(data, limits, what);
  VX_ASSIGN_OR_RETURN(CborValue v, reader.Item(0));
  if (reader.position() != data.size()) {
    return InvalidArgument(std::string(what) + ": " +
                           std::to_string(data.size() - reader.position()) +
                           " bytes after the CBOR item");
  }
  return v;
}

Result<Bytes> CborEncode(const CborValue& value) {
  Bytes out;
  Encode(value, out);
  return out;
}

Result<nlohmann::json> CborToJson(const CborValue& v, const std::string& path) {
  using K = CborValue::Kind;
  switch (v.kind) {
    case K::kUnsigned:
      return nlohmann::json(v.number);
    case K::kNegative: {
      auto n = v.AsInt();
      if (!n) return InvalidArgument(path + ": integer out of range", path);
      return nlohmann::json(*n);
    }
    case K::kText:
      return nlohmann::json(v.text);
    case K::kFloat:
      if (!std::isfinite(v.real)) return InvalidArgument(path + ": not a finite number", path);
      return nlohmann::json(v.real);
    case K::kBool:
      return nlohmann::json(v.boolean);
    case K::kNull:
    case K::kUndefined:
      return nlohmann::json(nullptr);
    case K::kTag:
      return CborToJson(v.items.at(0), path);
    case K::kArray: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t i = 0; i < v.items.size(); ++i) {
        VX_ASSIGN_OR_RETURN(auto child,
                            CborToJson(v.items[i], path + "[" + std::to_string(i) + "]"));
        a.push_back(std::move(child));
      }
      return a;
    }
    case K::kMap: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [key, value] : v.entries) {
        if (key.kind != K::kText) return InvalidArgument(path + ": a map key is not text", path);
        if (o.contains(key.text)) {
          return InvalidArgument(path + ": the key \"" + key.text + "\" appears twice", path);
        }
        VX_ASSIGN_OR_RETURN(auto child, CborToJson(value, path + "." + key.text));
        o[key.text] = std::move(child);
      }
      return o;
    }
    case K::kBytes:
      break;
  }
  return InvalidArgument(path + ": a byte string has no JSON form", path);
}

CborValue JsonToCbor(const nlohmann::json& j) {
  CborValue c;
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<CborValue, CborValue>> entries;
      for (const auto& [k, v] : j.items()) entries.emplace_back(CborValue::Text(k), JsonToCbor(v));
      return CborValue::Map(std::move(entries));
    }
    case nlohmann::json::value_t::array: {
      std::vector<CborValue> items;
      for (const auto& v : j) items.push_back(JsonToCbor(v));
      return CborValue::Array(std::move(items));
    }
    case nlohmann::json::value_t::string:
      return CborValue::Text(j.get<std::string>());
    case nlohmann::json::value_t::number_unsigned:
      c.kind = CborValue::Kind::kUnsigned;
      c.number = j.get<uint64_t>();
      return c;
    case nlohmann::json::value_t::number_integer:
      return CborValue::Int(j.get<int64_t>());
    case nlohmann::json::value_t::number_float:
      c.kind = CborValue::Kind::kFloat;
      c.real = j.get<double>();
      return c;
    case nlohmann::json::value_t::boolean:
      c.kind = CborValue::Kind::kBool;
      c.boolean = j.get<bool>();
      return c;
    default:
      return c;  // null
  }
}

}  // namespace vaxledger::certificate
