// Reading a JSON request body strictly: an object with known fields of the right types. Every
// refusal is InvalidArgument naming the field ("patient.insz") and what is wrong, so that the
// client gets a problem body that points at it.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vaxledger::http {

class JsonObject {
 public:
  // Parses `text` as a JSON object whose fields are all in `allowed`.
  static Result<JsonObject> Parse(std::string_view text,
                                  std::initializer_list<std::string_view> allowed);
  // Checks that `value` (the field `path`) is an object whose fields are all in `allowed`.
  static Result<JsonObject> From(const nlohmann::json& value, std::string path,
                                 std::initializer_list<std::string_view> allowed);

  bool Has(std::string_view name) const { return json_.contains(name); }
  // A required string (non-empty when `allow_empty` is false), or the default when absent.
  Result<std::string> String(std::string_view name) const;
  Result<std::string> OptionalString(std::string_view name, std::string fallback = {}) const;
  Result<int64_t> Integer(std::string_view name) const;
  Result<std::optional<int64_t>> OptionalInteger(std::string_view name) const;
  Result<bool> Boolean(std::string_view name) const;
  Result<std::vector<std::string>> Strings(std::string_view name) const;
  // Reads each named required string into its destination; the first refusal is returned.
  Status ReadStrings(std::initializer_list<std::pair<std::string_view, std::string*>> fields) const;
  Result<JsonObject> Object(std::string_view name,
                            std::initializer_list<std::string_view> allowed) const;
  const nlohmann::json& json() const { return json_; }

 private:
  JsonObject(nlohmann::json json, std::string path)
      : json_(std::move(json)), path_(std::move(path)) {}
  std::string Field(std::string_view name) const;
  nlohmann::json json_;
  std::string path_;  // "" at the top, "patient." inside
};

}  // namespace vaxledger::http
