#include "core/certificate/dcc_schema.h"

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/certificate/transliteration.h"

namespace vaxledger::certificate {

extern const char kDccSchemaText[];  // dcc_schema_data.cc

using nlohmann::json;

struct DccSchema::Rep {
  json document;
  std::map<std::string, std::regex> patterns;  // compiled once, by pattern text

  Status Check(const json& schema, const std::string& where);
  Status Validate(const json& schema, const json& value, const std::string& path, int depth) const;
  Result<const json*> Resolve(const std::string& ref) const;
};

namespace {

const std::set<std::string>& Annotations() {
  static const std::set<std::string> k = {"$schema",     "$id",         "$comment",     "title",
                                          "description", "examples",    "valueset-uri", "format",
                                          "$defs",       "definitions", "default"};
  return k;
}

const std::set<std::string>& Assertions() {
  static const std::set<std::string> k = {
      "type",    "properties", "required", "items", "minItems", "maxItems", "minimum", "maxLength",
      "pattern", "oneOf",      "anyOf",    "allOf", "enum",     "const",    "$ref"};
  return k;
}

bool HasType(const json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    // Draft 2020-12: a number with a zero fractional part is an integer.
    return value.is_number_float() &&
           value.get<double>() == static_cast<double>(static_cast<int64_t>(value.get<double>()));
  }
  return false;
}

std::string Field(const std::string& path) { return path.empty() ? "dcc" : path; }

}  // namespace

Status DccSchema::Rep::Check(const json& schema, const std::string& where) {
  if (schema.is_boolean()) return Status::Ok();
  if (!schema.is_object()) return InvalidArgument("schema at " + where + " is not an object");
  for (const auto& [key, value] : schema.items()) {
    if (Annotations().contains(key)) continue;
    if (!Assertions().contains(key)) {
      return InvalidArgument("schema at " + where + ": the keyword \"" + key +
                             "\" is not supported by this validator");
    }
  }
  if (auto it = schema.find("pattern"); it != schema.end()) {
    if (!it->is_string()) return InvalidArgument("schema at " + where + ": pattern is not text");
    const std::string p = it->get<std::string>();
    try {
      patterns.emplace(p, std::regex(p, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
      return InvalidArgument("schema at " + where + ": pattern " + p + " does not compile");
    }
  }
  if (auto it = schema.find("$ref"); it != schema.end()) {
    if (!it->is_string()) return InvalidArgument("schema at " + where + ": $ref is not text");
    VX_ASSIGN_OR_RETURN(const json* target, Resolve(it->get<std::string>()));
    (void)target;
  }
  for (const char* key : {"properties", "$defs", "definitions"}) {
    if (auto it = schema.find(key); it != schema.end() && it->is_object()) {
      for (const auto& [name, sub] : it->items()) {
        VX_RETURN_IF_ERROR(Check(sub, where + "/" + key + "/" + name));
      }
    }
  }
  if (auto it = schema.find("items"); it != schema.end()) {
    VX_RETURN_IF_ERROR(Check(*it, where + "/items"));
  }
  for (const char* key : {"oneOf", "anyOf", "allOf"}) {
    if (auto it = schema.find(key); it != schema.end()) {
      if (!it->is_array())
        return InvalidArgument("schema at " + where + ": " + key + " is not a list");
      for (size_t i = 0; i < it->size(); ++i) {
        VX_RETURN_IF_ERROR(Check((*it)[i], where + "/" + key + "/" + std::to_string(i)));
      }
    }
  }
  return Status::Ok();
}

Result<const json*> DccSchema::Rep::Resolve(const std::string& ref) const {
  if (!ref.starts_with("#")) {
    return InvalidArgument("schema: $ref " + ref + " is not within the document");
  }
  try {
    const json::json_pointer pointer(ref.substr(1));
    if (!document.contains(pointer))
      return InvalidArgument("schema: $ref " + ref + " is not found");
    return &document.at(pointer);
  } catch (const json::exception&) {
    return InvalidArgument("schema: $ref " + ref + " is not a JSON pointer");
  }
}

Status DccSchema::Rep::Validate(const json& schema, const json& value, const std::string& path,
                                int depth) const {
  if (depth > 64)
    return InvalidArgument(Field(path) + ": the schema nests too deeply", Field(path));
  if (schema.is_boolean()) {
    return schema.get<bool>() ? Status::Ok()
                              : InvalidArgument(Field(path) + ": not allowed here", Field(path));
  }
  auto fail = [&](const std::string& rule) {
    return InvalidArgument(Field(path) + ": " + rule, Field(path));
  };
  if (auto it = schema.find("$ref"); it != schema.end()) {
    VX_ASSIGN_OR_RETURN(const json* target, Resolve(it->get<std::string>()));
    VX_RETURN_IF_ERROR(Validate(*target, value, path, depth + 1));
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    std::string names;
    for (const json& t : it->is_array() ? *it : json::array({*it})) {
      ok = ok || HasType(value, t.get<std::string>());
      names += (names.empty() ? "" : " or ") + t.get<std::string>();
    }
    if (!ok) return fail("must be of type " + names);
  }
  if (auto it = schema.find("enum"); it != schema.end()) {
    bool found = false;
    for (const json& e : *it) found = found || e == value;
    if (!found) return fail("must be one of " + it->dump());
  }
  if (auto it = schema.find("const"); it != schema.end() && *it != value) {
    return fail("must be " + it->dump());
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (auto it = schema.find("maxLength"); it != schema.end()) {
      auto n = Utf8Length(s);
      if (!n) return fail("is not valid UTF-8");
      if (*n > it->get<size_t>()) return fail("must be at most " + it->dump() + " characters");
    }
    if (auto it = schema.find("pattern"); it != schema.end()) {
      const std::regex& re = patterns.at(it->get<std::string>());
      if (!std::regex_search(s, re))
        return fail("must match the pattern " + it->get<std::string>());
    }
  }
  if (value.is_number()) {
    if (auto it = schema.find("minimum");
        it != schema.end() && value.get<double>() < it->get<double>()) {
      return fail("must be at least " + it->dump());
    }
  }
  if (value.is_array()) {
    if (auto it = schema.find("minItems"); it != schema.end() && value.size() < it->get<size_t>()) {
      return fail("must have at least " + it->dump() + " items");
    }
    if (auto it = schema.find("maxItems"); it != schema.end() && value.size() > it->get<size_t>()) {
      return fail("must have at most " + it->dump() + " items");
    }
    if (auto it = schema.find("items"); it != schema.end()) {
      for (size_t i = 0; i < value.size(); ++i) {
        VX_RETURN_IF_ERROR(
            Validate(*it, value[i], path + "[" + std::to_string(i) + "]", depth + 1));
      }
    }
  }
  if (value.is_object()) {
    if (auto it = schema.find("required"); it != schema.end()) {
      for (const json& name : *it) {
        if (!value.contains(name.get<std::string>())) {
          return fail("the field \"" + name.get<std::string>() + "\" is required");
        }
      }
    }
    if (auto it = schema.find("properties"); it != schema.end()) {
      for (const auto& [name, sub] : it->items()) {
        if (auto v = value.find(name); v != value.end()) {
          VX_RETURN_IF_ERROR(Validate(sub, *v, path.empty() ? name : path + "." + name, depth + 1));
        }
      }
    }
  }
  if (auto it = schema.find("allOf"); it != schema.end()) {
    for (const json& sub : *it) VX_RETURN_IF_ERROR(Validate(sub, value, path, depth + 1));
  }
  if (auto it = schema.find("anyOf"); it != schema.end()) {
    Status first;
    bool any = false;
    for (const json& sub : *it) {
      Status s = Validate(sub, value, path, depth + 1);
      if (s.ok()) {
        any = true;
        break;
      }
      if (first.ok()) first = s;
    }
    if (!any) return fail("must match one of the alternatives (" + first.message() + ")");
  }
  if (auto it = schema.find("oneOf"); it != schema.end()) {
    size_t matched = 0;
    Status first;
    for (const json& sub : *it) {
      Status s = Validate(sub, value, path, depth + 1);
      if (s.ok()) {
        ++matched;
      } else if (first.ok()) {
        first = s;
      }
    }
    if (matched == 0)
      return fail("must match exactly one of the alternatives (" + first.message() + ")");
    if (matched > 1)
      return fail("matches more than one of the alternatives that exclude each other");
  }
  return Status::Ok();
}

DccSchema::DccSchema(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
DccSchema::~DccSchema() = default;
DccSchema::DccSchema(DccSchema&&) noexcept = default;
DccSchema& DccSchema::operator=(DccSchema&&) noexcept = default;

Result<DccSchema> DccSchema::Load(const json& schema) {
  auto rep = std::make_unique<Rep>();
  rep->document = schema;
  VX_RETURN_IF_ERROR(rep->Check(rep->document, "#"));
  return DccSchema(std::move(rep));
}

Result<DccSchema> DccSchema::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read the schema " + path);
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return InvalidArgument("the schema " + path + " is not JSON");
  return Load(doc);
}

const DccSchema& DccSchema::Builtin() {
  static const DccSchema* schema = [] {
    auto loaded = Load(json::parse(kDccSchemaText));
    // The compiled-in copy is checked by the tests; a failure here is a build defect.
    if (!loaded.ok()) std::abort();
    return new DccSchema(std::move(loaded).value());
  }();
  return *schema;
}

Status DccSchema::Validate(const json& instance) const {
  return rep_->Validate(rep_->document, instance, "", 0);
}

}  // namespace vaxledger::certificate
