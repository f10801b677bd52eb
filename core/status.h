// Status and Result<T>: the one error vocabulary at every module boundary.
//
// A Status is either OK or carries a Code and a message. The message names what was wrong
// (the field and the rule) so that it can be shown to a person as it is. A Status may also
// name the field it is about (`field()`), which the HTTP layer copies into a problem body.
// And it may name the rule broken (`rule()`, a stable machine-readable name such as
// "riziv.check_digits") with the rule's parameters (`params()`, e.g. {"digits", "78"}): the
// HTTP layer copies them into the problem body as "code" and "params", so that a client can
// say the message in its user's language (http/web/i18n/*.json hold those sentences). A rule
// name, once published, is never reused for another rule; the English message stays as it is.
//
// The set of codes is fixed (after Abseil's canonical codes); do not add codes casually:
//   kInvalidArgument    the input is malformed, whatever the state (bad identifier, empty batch)
//   kNotFound           the thing asked for does not exist (an ordinary result, not a crash)
//   kAlreadyExists      a creation of something that exists
//   kFailedPrecondition the input is well formed but the state does not allow it
//   kAborted            a concurrency conflict: an expected version did not match
//   kPermissionDenied   the caller is known but may not do this
//   kUnauthenticated    the caller is not known
//   kResourceExhausted  a limit was hit
//   kUnavailable        try again later (shutting down, busy)
//   kDataLoss           stored data failed a check (hash, signature, format)
//   kInternal           a bug or an unexpected failure of a library below us
//
// Status and Result are [[nodiscard]]: ignoring one is a compile error under -Werror.
// Swallowing an error on purpose is written `IgnoreError(status)`, which is searchable.
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vaxledger {

enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kAborted,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kUnavailable,
  kDataLoss,
  kInternal,
};

// The code's canonical name, e.g. "InvalidArgument".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  // A rule's parameters: name -> value, in the order the message uses them.
  using Params = std::vector<std::pair<std::string, std::string>>;

  Status() = default;  // OK
  Status(Code code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The input field the error is about, or empty.
  const std::string& field() const { return field_; }
  // The stable name of the rule broken ("riziv.check_digits"), or empty; and its parameters.
  const std::string& rule() const { return rule_; }
  const Params& params() const { return params_; }

  // This status naming the rule it reports: `return InvalidArgument(...).WithRule("x.y", {...});`
  Status WithRule(std::string rule, Params params = {}) && {
    rule_ = std::move(rule);
    params_ = std::move(params);
    return std::move(*this);
  }
  // A copy with another message and field, keeping the code, rule and parameters (for a
  // caller that puts an error into its own context, e.g. "insz" -> "patient.insz").
  Status Rewritten(std::string message, std::string field) const {
    Status s = *this;
    s.message_ = std::move(message);
    s.field_ = std::move(field);
    return s;
  }

  // "InvalidArgument: stream: ..." — for logs and command-line output.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
  std::string rule_;
  Params params_;
};

inline Status InvalidArgument(std::string message, std::string field = {}) {
  return Status(Code::kInvalidArgument, std::move(message), std::move(field));
}
inline Status NotFound(std::string message) { return Status(Code::kNotFound, std::move(message)); }
inline Status FailedPrecondition(std::string message, std::string field = {}) {
  return Status(Code::kFailedPrecondition, std::move(message), std::move(field));
}
inline Status Aborted(std::string message) { return Status(Code::kAborted, std::move(message)); }
inline Status ResourceExhausted(std::string message) {
  return Status(Code::kResourceExhausted, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(Code::kUnavailable, std::move(message));
}
inline Status DataLoss(std::string message) { return Status(Code::kDataLoss, std::move(message)); }
inline Status Internal(std::string message) { return Status(Code::kInternal, std::move(message)); }

// Drops a status on purpose. Every use should say why in a comment.
inline void IgnoreError(const Status&) {}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : rep_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : rep_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(rep_).ok() && "a Result needs a value or an error");
  }

  bool ok() const { return std::holds_alternative<T>(rep_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(rep_); }

  // Requires ok().
  T& value() & { return std::get<T>(rep_); }
  const T& value() const& { return std::get<T>(rep_); }
  T&& value() && { return std::get<T>(std::move(rep_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace vaxledger

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define VX_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::vaxledger::Status vx_status_ = (expr); \
    if (!vx_status_.ok()) return vx_status_; \
  } while (0)

#define VX_CONCAT_INNER(a, b) a##b
#define VX_CONCAT(a, b) VX_CONCAT_INNER(a, b)
// `VX_ASSIGN_OR_RETURN(auto x, F());` declares x from a Result or returns its error.
#define VX_ASSIGN_OR_RETURN(decl, expr) \
  VX_ASSIGN_OR_RETURN_IMPL(VX_CONCAT(vx_result_, __LINE__), decl, expr)
#define VX_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  decl = std::move(tmp).value()
