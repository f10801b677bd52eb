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

// Returns the 10 digits (a 9-digit legacy number gets a leading 0).
Result<std::string> ParseKbo(std::string_view text);

}  // namespace vaxledger
