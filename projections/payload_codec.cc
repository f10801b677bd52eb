#include "projections/payload_codec.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>

#include "core/registry_state.h"
#include "eventstore/payloads_generated.h"

namespace vaxledger::projections {

namespace {

using nlohmann::json;
namespace fbp = vaxledger::fb::payload;

constexpr char kIdentifier[] = "VXP1";  // payloads.fbs file_identifier

// How a field is written; the schema uses only these.
enum class Kind { kString, kBool, kInt, kLong, kStrings, kTable, kTables };

struct TableSpec;

struct FieldSpec {
  std::string name;
  flatbuffers::voffset_t slot = 0;  // the field's vtable offset
  Kind kind = Kind::kString;
  const TableSpec* table = nullptr;  // kTable, kTables
};

struct TableSpec {
  std::string name;
  std::vector<FieldSpec> fields;          // in the schema's order (slot order)
  std::vector<const FieldSpec*> by_name;  // the same in JSON key order
  const FieldSpec* Find(std::string_view key) const {
    for (const FieldSpec& f : fields) {
      if (f.name == key) return &f;
    }
    return nullptr;
  }
};

using TypeTableFn = const flatbuffers::TypeTable* (*)();
using VerifyFn = bool (*)(flatbuffers::Verifier&);

template <typename T>
bool VerifyRoot(flatbuffers::Verifier& v) {
  return v.VerifyBuffer<T>(nullptr);  // the identifier is checked before (Decode)
}

// The table of each event type. "patients.read" is the batched read trail (one event for many
// reads of one reader).
struct TypeEntry {
  std::string_view type;
  std::string_view table;
  TypeTableFn type_table;
  VerifyFn verify;
};

#define VX_PAYLOAD(type, T) \
  TypeEntry { type, #T, &fbp::T##TypeTable, &VerifyRoot<fbp::T> }
const TypeEntry kTypes[] = {
    VX_PAYLOAD(event_type::kAccessRequested, AccessRequested),
    VX_PAYLOAD(event_type::kAccessApproved, AccessApproved),
    VX_PAYLOAD(event_type::kAccessRejected, AccessRejected),
    VX_PAYLOAD(event_type::kEntityCreated, EntityCreated),
    VX_PAYLOAD(event_type::kMemberLinked, MemberLinked),
    VX_PAYLOAD(event_type::kMemberUnlinked, MemberUnlinked),
    VX_PAYLOAD(event_type::kLinkRequested, LinkRequested),
    VX_PAYLOAD(event_type::kLinkApproved, LinkApproved),
    VX_PAYLOAD(event_type::kLinkRejected, LinkRejected),
    VX_PAYLOAD(event_type::kUnlinkRequested, UnlinkRequested),
    VX_PAYLOAD(event_type::kUnlinkApproved, UnlinkApproved),
    VX_PAYLOAD(event_type::kUnlinkRejected, UnlinkRejected),
    VX_PAYLOAD(event_type::kQualificationChanged, QualificationChanged),
    VX_PAYLOAD(event_type::kRoleGranted, RoleGranted),
    VX_PAYLOAD(event_type::kRoleRevoked, RoleRevoked),
    VX_PAYLOAD(event_type::kVaccinationRegistered, VaccinationRegistered),
    VX_PAYLOAD(event_type::kVaccinationCorrected, VaccinationCorrected),
    VX_PAYLOAD(event_type::kVaccinationEnteredInError, VaccinationEnteredInError),
    VX_PAYLOAD(event_type::kConsentRecorded, ConsentRecorded),
    VX_PAYLOAD(event_type::kCareDeclared, CareDeclared),
    VX_PAYLOAD(event_type::kCertificateIssued, CertificateIssued),
    VX_PAYLOAD(event_type::kCertificateRevoked, CertificateRevoked),
    VX_PAYLOAD(event_type::kStockReceived, StockReceived),
    VX_PAYLOAD(event_type::kStockAdjusted, StockAdjusted),
    VX_PAYLOAD(event_type::kPatientRead, PatientRead),
    VX_PAYLOAD("patients.read", PatientsRead),
    VX_PAYLOAD("population.loaded", PopulationLoaded),
    VX_PAYLOAD("erasure.requested", ErasureRequested),
    VX_PAYLOAD("erasure.approved", ErasureApproved),
    VX_PAYLOAD("erasure.rejected", ErasureRejected),
    VX_PAYLOAD("subject.erased", SubjectErased),
};
const TypeEntry kPersonal = VX_PAYLOAD("", Personal);
#undef VX_PAYLOAD

// The field specs of every table, read once from the generated mini-reflection. A field's
// vtable offset is 4 + 2 × its index: the schema uses no `id:` attributes (payloads.fbs).
class Schema {
 public:
  struct Type {
    const TypeEntry* entry;
    const TableSpec* spec;
  };

  Schema() {
    // The nested tables first, so that they are named as in payloads.fbs.
    Spec(fbp::NewEntityTypeTable(), "NewEntity");
    Spec(fbp::ConsentTypeTable(), "Consent");
    Spec(fbp::VaccinationValuesTypeTable(), "VaccinationValues");
    Spec(fbp::PatientReadEntryTypeTable(), "PatientReadEntry");
    for (const TypeEntry& e : kTypes) {
      types_.emplace(e.type, Type{&e, Spec(e.type_table(), std::string(e.table))});
    }
    personal_ = Type{&kPersonal, Spec(kPersonal.type_table(), "Personal")};
    for (const TypeEntry& e : kTypes) order_.push_back(e.type);
  }

  const Type* Find(std::string_view type) const {
    auto it = types_.find(type);
    return it == types_.end() ? nullptr : &it->second;
  }
  const Type& personal() const { return personal_; }
  const std::vector<std::string_view>& order() const { return order_; }
  // Whether every field of every table has a kind the codec handles.
  bool supported() const { return supported_; }

 private:
  const TableSpec* Spec(const flatbuffers::TypeTable* tt, std::string name) {
    if (auto it = specs_.find(tt); it != specs_.end()) return it->second.get();
    auto owned = std::make_unique<TableSpec>();
    TableSpec* spec = owned.get();
    specs_.emplace(tt, std::move(owned));
    spec->name = std::move(name);
    for (size_t i = 0; i < tt->num_elems; ++i) {
      const flatbuffers::TypeCode code = tt->type_codes[i];
      FieldSpec f;
      f.name = tt->names[i];
      f.slot = static_cast<flatbuffers::voffset_t>(4 + 2 * i);
      const bool vector = code.is_repeating != 0;
      switch (code.base_type) {
        case flatbuffers::ET_STRING:
          f.kind = vector ? Kind::kStrings : Kind::kString;
          break;
        case flatbuffers::ET_BOOL:
          f.kind = Kind::kBool;
          break;
        case flatbuffers::ET_INT:
          f.kind = Kind::kInt;
          break;
        case flatbuffers::ET_LONG:
          f.kind = Kind::kLong;
          break;
        case flatbuffers::ET_SEQUENCE: {
          const flatbuffers::TypeTable* nested = tt->type_refs[code.sequence_ref]();
          if (nested->st != flatbuffers::ST_TABLE) supported_ = false;  // a struct or a union
          f.kind = vector ? Kind::kTables : Kind::kTable;
          f.table = Spec(nested, spec->name + "." + f.name);
          break;
        }
        default:
          // A field kind this codec does not know: payloads.fbs may use only the kinds above.
          // The codec's tests encode every table, so this cannot ship unnoticed.
          f.kind = Kind::kString;
          supported_ = false;
          break;
      }
      if ((f.kind == Kind::kBool || f.kind == Kind::kInt || f.kind == Kind::kLong) && vector) {
        supported_ = false;
      }
      spec->fields.push_back(std::move(f));
    }
    for (const FieldSpec& f : spec->fields) spec->by_name.push_back(&f);
    std::sort(spec->by_name.begin(), spec->by_name.end(),
              [](const FieldSpec* a, const FieldSpec* b) { return a->name < b->name; });
    return spec;
  }

  std::unordered_map<const flatbuffers::TypeTable*, std::unique_ptr<TableSpec>> specs_;
  // Looked up at every decode: a cheap hash of a few characters (types are short and differ
  // early or late), equality settles the rest.
  struct TypeHash {
    size_t operator()(std::string_view t) const {
      return t.empty() ? 0
                       : t.size() * 131 + static_cast<unsigned char>(t[0]) * 31 +
                             static_cast<unsigned char>(t[t.size() / 2]) * 7 +
                             static_cast<unsigned char>(t.back());
    }
  };
  std::unordered_map<std::string_view, Type, TypeHash> types_;
  Type personal_{};
  std::vector<std::string_view> order_;
  bool supported_ = true;
};

const Schema& TheSchema() {
  static const Schema schema;
  return schema;
}

// ---- Encoding -------------------------------------------------------------------------------

using Offset = flatbuffers::Offset<void>;

class Encoder {
 public:
  explicit Encoder(std::string what) : what_(std::move(what)) {}

  Result<Offset> Table(const TableSpec& spec, const json& object, const std::string& path) {
    if (!object.is_object()) {
      return Refuse(path, "must be a JSON object (table " + spec.name + ")");
    }
    // Strings, vectors and tables are written before the table that points at them.
    struct Pending {
      const FieldSpec* field;
      Offset offset;
      int64_t scalar = 0;
    };
    std::vector<Pending> pending;
    pending.reserve(object.size());
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string field_path = path.empty() ? it.key() : path + "." + it.key();
      const FieldSpec* f = spec.Find(it.key());
      if (f == nullptr) {
        return Refuse(field_path, "is not a field of table " + spec.name);
      }
      const json& v = it.value();
      Pending p{f, Offset()};
      switch (f->kind) {
        case Kind::kString: {
          VX_ASSIGN_OR_RETURN(p.offset, String(v, field_path));
          break;
        }
        case Kind::kBool:
          if (!v.is_boolean()) return Refuse(field_path, "must be true or false");
          p.scalar = v.get<bool>() ? 1 : 0;
          break;
        case Kind::kInt: {
          VX_ASSIGN_OR_RETURN(p.scalar, Integer(v, field_path, std::numeric_limits<int32_t>::min(),
                                                std::numeric_limits<int32_t>::max()));
          break;
        }
        case Kind::kLong: {
          VX_ASSIGN_OR_RETURN(p.scalar, Integer(v, field_path, std::numeric_limits<int64_t>::min(),
                                                std::numeric_limits<int64_t>::max()));
          break;
        }
        case Kind::kStrings: {
          if (!v.is_array()) return Refuse(field_path, "must be an array of strings");
          std::vector<flatbuffers::Offset<flatbuffers::String>> items;
          items.reserve(v.size());
          for (size_t i = 0; i < v.size(); ++i) {
            VX_ASSIGN_OR_RETURN(Offset s, String(v[i], field_path + "[" + std::to_string(i) + "]"));
            items.emplace_back(s.o);
          }
          p.offset = Offset(b_.CreateVector(items).o);
          break;
        }
        case Kind::kTable: {
          VX_ASSIGN_OR_RETURN(p.offset, Table(*f->table, v, field_path));
          break;
        }
        case Kind::kTables: {
          if (!v.is_array()) return Refuse(field_path, "must be an array of objects");
          std::vector<flatbuffers::Offset<flatbuffers::Table>> items;
          items.reserve(v.size());
          for (size_t i = 0; i < v.size(); ++i) {
            VX_ASSIGN_OR_RETURN(Offset t,
                                Table(*f->table, v[i], field_path + "[" + std::to_string(i) + "]"));
            items.emplace_back(t.o);
          }
          p.offset = Offset(b_.CreateVector(items).o);
          break;
        }
      }
      pending.push_back(p);
    }
    const flatbuffers::uoffset_t start = b_.StartTable();
    for (const Pending& p : pending) {
      switch (p.field->kind) {
        case Kind::kBool:
          b_.AddElement<uint8_t>(p.field->slot, static_cast<uint8_t>(p.scalar));
          break;
        case Kind::kInt:
          b_.AddElement<int32_t>(p.field->slot, static_cast<int32_t>(p.scalar));
          break;
        case Kind::kLong:
          b_.AddElement<int64_t>(p.field->slot, p.scalar);
          break;
        default:
          b_.AddOffset(p.field->slot, p.offset);
          break;
      }
    }
    return Offset(b_.EndTable(start));
  }

  std::string Finish(Offset root) {
    b_.Finish(root, kIdentifier);
    return std::string(reinterpret_cast<const char*>(b_.GetBufferPointer()), b_.GetSize());
  }

 private:
  Status Refuse(const std::string& path, const std::string& rule) {
    if (path.empty()) return InvalidArgument(what_ + " " + rule, "payload");
    return InvalidArgument(what_ + ": " + path + " " + rule, path);
  }

  Result<Offset> String(const json& v, const std::string& path) {
    if (!v.is_string()) return Refuse(path, "must be a string");
    const std::string& s = v.get_ref<const std::string&>();
    if (!IsValidUtf8(s)) return Refuse(path, "is not valid UTF-8");
    return Offset(b_.CreateString(s.data(), s.size()).o);
  }

  Result<int64_t> Integer(const json& v, const std::string& path, int64_t min, int64_t max) {
    const std::string range =
        "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(max)) return Refuse(path, "must be " + range);
      return static_cast<int64_t>(u);
    }
    if (!v.is_number_integer()) return Refuse(path, "must be " + range);
    const int64_t i = v.get<int64_t>();
    if (i < min || i > max) return Refuse(path, "must be " + range);
    return i;
  }

  std::string what_;
  flatbuffers::FlatBufferBuilder b_{256};
};

// What a message names: "payload of <type>", or "personal data" for an empty type.
std::string What(std::string_view type) {
  return type.empty() ? std::string("personal data") : "payload of " + std::string(type);
}

Result<std::string> Encode(const Schema::Type& type, std::string_view event_type,
                           const json& object) {
  if (!TheSchema().supported()) {
    return Internal("eventstore/payloads.fbs uses a field kind the payload codec does not know");
  }
  Encoder encoder(What(event_type));
  VX_ASSIGN_OR_RETURN(Offset root, encoder.Table(*type.spec, object, ""));
  return encoder.Finish(root);
}

// ---- Decoding -------------------------------------------------------------------------------

// Builds the object of a verified table; false when a string is not UTF-8.
bool DecodeTable(const flatbuffers::Table& t, const TableSpec& spec, json& out) {
  out = json::object();
  json::object_t& object = out.get_ref<json::object_t&>();
  for (const FieldSpec* field : spec.by_name) {
    const FieldSpec& f = *field;
    if (!t.CheckField(f.slot)) continue;
    // In key order, so that each key goes at the map's end without a search.
    json& v = object.emplace_hint(object.end(), f.name, nullptr)->second;
    switch (f.kind) {
      case Kind::kString: {
        const auto* s = t.GetPointer<const flatbuffers::String*>(f.slot);
        if (!IsValidUtf8(s->string_view())) return false;
        v = s->str();
        break;
      }
      case Kind::kBool:
        v = t.GetField<uint8_t>(f.slot, 0) != 0;
        break;
      case Kind::kInt:
        v = t.GetField<int32_t>(f.slot, 0);
        break;
      case Kind::kLong:
        v = t.GetField<int64_t>(f.slot, 0);
        break;
      case Kind::kStrings: {
        const auto* vec =
            t.GetPointer<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>*>(
                f.slot);
        v = json::array();
        json::array_t& array = v.get_ref<json::array_t&>();
        array.reserve(vec->size());
        for (const flatbuffers::String* s : *vec) {
          if (!IsValidUtf8(s->string_view())) return false;
          array.emplace_back(s->str());
        }
        break;
      }
      case Kind::kTable:
        if (!DecodeTable(*t.GetPointer<const flatbuffers::Table*>(f.slot), *f.table, v)) {
          return false;
        }
        break;
      case Kind::kTables: {
        const auto* vec =
            t.GetPointer<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(
                f.slot);
        v = json::array();
        json::array_t& array = v.get_ref<json::array_t&>();
        array.resize(vec->size());
        for (flatbuffers::uoffset_t i = 0; i < vec->size(); ++i) {
          if (!DecodeTable(*vec->Get(i), *f.table, array[i])) return false;
        }
        break;
      }
    }
  }
  return true;
}

Result<json> Decode(const Schema::Type& type, std::string_view event_type, ByteView bytes) {
  auto refuse = [&](const std::string& why) {
    return DataLoss(What(event_type) + " (" + std::to_string(bytes.size()) +
                    " bytes) is not a table " + std::string(type.entry->table) + ": " + why);
  };
  if (bytes.empty()) return refuse("it is empty");
  // The leaf holds payloads 4-byte aligned; longs need 8.
  std::unique_ptr<uint64_t[]> aligned;
  const uint8_t* data = bytes.data();
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned.reset(new uint64_t[(bytes.size() + 7) / 8]);
    std::memcpy(aligned.get(), data, bytes.size());
    data = reinterpret_cast<const uint8_t*>(aligned.get());
  }
  if (bytes.size() < 8 || std::memcmp(data + flatbuffers::kFileIdentifierLength, kIdentifier,
                                      flatbuffers::kFileIdentifierLength) != 0) {
    return refuse("it does not carry the identifier VXP1");
  }
  // At most one table per 4 bytes: the verifier's table limit follows the size.
  flatbuffers::Verifier verifier(
      data, bytes.size(), /*max_depth=*/64,
      /*max_tables=*/static_cast<flatbuffers::uoffset_t>(bytes.size() / 4 + 1));
  if (!type.entry->verify(verifier)) return refuse("the FlatBuffers verifier refuses it");
  json out;
  if (!DecodeTable(*flatbuffers::GetRoot<flatbuffers::Table>(data), *type.spec, out)) {
    return refuse("a string is not valid UTF-8");
  }
  return out;
}

}  // namespace

std::optional<std::string_view> PayloadTable(std::string_view type) {
  const Schema::Type* t = TheSchema().Find(type);
  if (t == nullptr) return std::nullopt;
  return t->entry->table;
}

const std::vector<std::string_view>& PayloadTypes() { return TheSchema().order(); }

Result<std::string> EncodePayload(std::string_view type, const nlohmann::json& payload) {
  const Schema::Type* t = TheSchema().Find(type);
  if (t == nullptr) {
    return InvalidArgument("event type " + std::string(type) + " has no payload table", "type");
  }
  return Encode(*t, type, payload);
}

Result<nlohmann::json> DecodePayload(std::string_view type, ByteView bytes) {
  const Schema::Type* t = TheSchema().Find(type);
  if (t == nullptr) {
    return DataLoss("event type " + std::string(type) + " has no payload table");
  }
  return Decode(*t, type, bytes);
}

Result<std::string> EncodePersonalData(const nlohmann::json& personal) {
  return Encode(TheSchema().personal(), "", personal);
}

Result<nlohmann::json> DecodePersonalData(ByteView bytes) {
  return Decode(TheSchema().personal(), "", bytes);
}

}  // namespace vaxledger::projections
