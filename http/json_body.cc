#include "http/json_body.h"

#include "core/encoding.h"

namespace vaxledger::http {

Result<JsonObject> JsonObject::Parse(std::string_view text,
                                     std::initializer_list<std::string_view> allowed) {
  if (JsonNestingDepth(text) > kMaxJsonDepth) {
    return InvalidArgument(
        "the body nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth), "body");
  }
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return InvalidArgument("the body is not valid JSON", "body").WithRule("json.invalid");
  return From(json, "", allowed);
}

Result<JsonObject> JsonObject::From(const nlohmann::json& value, std::string path,
                                    std::initializer_list<std::string_view> allowed) {
  const std::string where = path.empty() ? "body" : path;
  if (!value.is_object())
    return InvalidArgument(where + " must be a JSON object", where).WithRule("json.object");
  for (const auto& [key, v] : value.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) {
      const std::string field = path.empty() ? key : path + "." + key;
      return InvalidArgument(field + " is not a known field", field).WithRule("json.unknown_field");
    }
  }
  return JsonObject(value, path.empty() ? "" : path + ".");
}

std::string JsonObject::Field(std::string_view name) const { return path_ + std::string(name); }

Result<std::string> JsonObject::String(std::string_view name) const {
  auto it = json_.find(name);
  if (it == json_.end() || it->is_null()) {
    return InvalidArgument(Field(name) + " is required", Field(name)).WithRule("text.required");
  }
  if (!it->is_string())
    return InvalidArgument(Field(name) + " must be a string", Field(name)).WithRule("json.string");
  return it->get<std::string>();
}

Result<std::string> JsonObject::OptionalString(std::string_view name, std::string fallback) const {
  if (!json_.contains(name) || json_.at(name).is_null()) return fallback;
  return String(name);
}

Result<int64_t> JsonObject::Integer(std::string_view name) const {
  auto it = json_.find(name);
  if (it == json_.end() || it->is_null()) {
    return InvalidArgument(Field(name) + " is required", Field(name)).WithRule("text.required");
  }
  if (!it->is_number_integer()) {
    return InvalidArgument(Field(name) + " must be an integer", Field(name))
        .WithRule("json.integer");
  }
  return it->get<int64_t>();
}

Result<std::optional<int64_t>> JsonObject::OptionalInteger(std::string_view name) const {
  if (!json_.contains(name) || json_.at(name).is_null()) return std::optional<int64_t>();
  VX_ASSIGN_OR_RETURN(int64_t v, Integer(name));
  return std::optional<int64_t>(v);
}

Result<bool> JsonObject::Boolean(std::string_view name) const {
  auto it = json_.find(name);
  if (it == json_.end() || it->is_null()) {
    return InvalidArgument(Field(name) + " is required", Field(name)).WithRule("text.required");
  }
  if (!it->is_boolean())
    return InvalidArgument(Field(name) + " must be true or false", Field(name))
        .WithRule("json.boolean");
  return it->get<bool>();
}

Result<std::vector<std::string>> JsonObject::Strings(std::string_view name) const {
  auto it = json_.find(name);
  if (it == json_.end() || it->is_null()) {
    return InvalidArgument(Field(name) + " is required", Field(name)).WithRule("text.required");
  }
  if (!it->is_array())
    return InvalidArgument(Field(name) + " must be an array", Field(name)).WithRule("json.array");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) {
      return InvalidArgument(Field(name) + " must be an array of strings", Field(name))
          .WithRule("json.array");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status JsonObject::ReadStrings(
    std::initializer_list<std::pair<std::string_view, std::string*>> fields) const {
  for (const auto& [name, out] : fields) {
    VX_ASSIGN_OR_RETURN(*out, String(name));
  }
  return Status::Ok();
}

Result<JsonObject> JsonObject::Object(std::string_view name,
                                      std::initializer_list<std::string_view> allowed) const {
  auto it = json_.find(name);
  if (it == json_.end() || it->is_null()) {
    return InvalidArgument(Field(name) + " is required", Field(name)).WithRule("text.required");
  }
  return From(*it, Field(name), allowed);
}

}  // namespace vaxledger::http
