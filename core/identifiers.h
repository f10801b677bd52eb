// Belgian identifiers: INSZ/NISS (national register and BIS numbers), RIZIV/INAMI numbers of
// physicians, and KBO/BCE enterprise numbers. Rules and worked examples:
// tests/vectors/identifiers.json.
//
// Parsers accept the separators ".", "-" and " " anywhere (and "BE" before a KBO number) and
// return the bare digits. A refusal is InvalidArgument with the field ("insz", "riziv", "kbo")
// and a message that says which part is wrong: length, a character, check digits, month, day,
// serial, profession digit.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vaxledger {

struct Insz {
  enum class Sex { kMale, kFemale, kUnknown };
  std::string digits;  // 11 digits
  bool bis = false;    // a BIS number (month + 20 or + 40)
  // The birth date as YYYY-MM-DD, or nullopt when the number says it is unknown (month or day 0).
  std::optional<std::string> birth_date;
  int birth_year = 0;  // the century follows from the check digits
  Sex sex = Sex::kUnknown;
};

Result<Insz> ParseInsz(std::string_view text);

struct Riziv {
  enum class Role { kPhysician, kPhysicianInTraining };
  std::string digits;            // 11 digits
  std::string person_key;        // the first 8 digits: the person, for life
  std::string qualification;     // the last 3 digits: changes over a career
  Role role = Role::kPhysician;  // 005 and 006: physician in training (HAIO)
};

// Refuses numbers whose profession digit is not 1 (physician).
Result<Riziv> ParseRiziv(std::string_view text);

// The 11 digits of an INSZ from its first 9 (YYMMDDSSS) and the check digits for a birth before
// 2000 or from 2000 on. For demo data, tests and benchmarks. Requires 9 digits.
std::string InszWithCheckDigits(std::string_view first9, bool born_2000_or_later = false);
// The 11 digits of a RIZIV number from its first 6 (profession digit and 5 digits), the check
// digits, and the 3-digit qualification. Requires 6 and 3 digits.
std::string RizivWithCheckDigits(std::string_view first6, std::string_view qualification);

// Returns the 10 digits (a 9-digit legacy number gets a leading 0).
Result<std::string> ParseKbo(std::string_view text);

}  // namespace vaxledger
