// Validation of a DCC payload against the EU's JSON schema (DCC.combined-schema.json, draft
// 2020-12), by interpreting the schema document itself.
//
// Debian 12 packages no C++ JSON Schema validator, so this implements the keywords that the
// DCC schema uses, with their draft 2020-12 meaning:
//   type (string, integer, number, object, array, boolean, null; a list of them), properties,
//   required, items, minItems, maxItems, minimum, maxLength (in code points), pattern
//   (ECMAScript, unanchored, as std::regex runs it), oneOf, anyOf, allOf, enum, const,
//   $ref ("#/..." JSON pointers into the same document only).
// Annotations are ignored: title, description, examples, $comment, valueset-uri — and `format`,
// which draft 2020-12 makes an annotation by default. Any other keyword makes Load fail, so
// that a schema using more than this is never silently half-checked.
//
// Thread-safety: a loaded DccSchema is immutable; Validate may run on any thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace vaxledger::certificate {

class DccSchema {
 public:
  // InvalidArgument when `schema` uses an unsupported keyword or a malformed pattern or $ref.
  static Result<DccSchema> Load(const nlohmann::json& schema);
  static Result<DccSchema> LoadFile(const std::string& path);
  // The schema compiled into the binary: the copy of DCC.combined-schema.json (1.3.3) in
  // core/certificate/dcc_schema_data.cc.
  static const DccSchema& Builtin();

  // OK, or InvalidArgument naming the first failing instance path and rule
  // ("v[0].dn: must be at least 1").
  Status Validate(const nlohmann::json& instance) const;

  ~DccSchema();
  DccSchema(DccSchema&&) noexcept;
  DccSchema& operator=(DccSchema&&) noexcept;

 private:
  struct Rep;
  explicit DccSchema(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace vaxledger::certificate
