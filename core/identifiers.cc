#include "core/identifiers.h"

#include <cstdint>
#include <cstdio>

namespace vaxledger {
namespace {

// Strips the allowed separators; InvalidArgument naming `field` for any other non-digit.
Result<std::string> Digits(std::string_view text, const std::string& field) {
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != '.' && c != '-' && c != ' ') {
      return InvalidArgument(field + ": '" + std::string(1, c) +
                                 "' is not a digit (only digits and . - and space are allowed)",
                             field)
          .WithRule(field + ".not_a_digit", {{"char", std::string(1, c)}});
    }
  }
  if (digits.empty())
    return InvalidArgument(field + ": is empty", field).WithRule(field + ".empty");
  return digits;
}

uint64_t Number(std::string_view digits) {
  uint64_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n;
}

// The mod-97 check digits the Belgian numbers use: 97 - (n mod 97), 1..97.
uint64_t Check97(uint64_t n) { return 97 - n % 97; }

std::string TwoDigits(uint64_t n) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", static_cast<unsigned>(n));
  return buf;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

}  // namespace

Result<Insz> ParseInsz(std::string_view text) {
  VX_ASSIGN_OR_RETURN(std::string d, Digits(text, "insz"));
  if (d.size() != 11) {
    return InvalidArgument("insz: must have 11 digits, has " + std::to_string(d.size()), "insz")
        .WithRule("insz.length", {{"count", std::to_string(d.size())}});
  }
  const uint64_t first9 = Number(d.substr(0, 9));
  const uint64_t check = Number(d.substr(9, 2));
  Insz out;
  out.digits = d;
  int century;
  if (Check97(first9) == check) {
    century = 1900;
  } else if (Check97(2000000000 + first9) == check) {
    century = 2000;
  } else {
    return InvalidArgument(
               "insz: check digits " + d.substr(9, 2) + " do not match the first 9 digits", "insz")
        .WithRule("insz.check_digits", {{"digits", d.substr(9, 2)}});
  }
  int month = static_cast<int>(Number(d.substr(2, 2)));
  bool sex_known = true;
  if (month >= 40) {
    out.bis = true;
    month -= 40;
  } else if (month >= 20) {
    out.bis = true;
    sex_known = false;
    month -= 20;
  }
  if (month > 12) {
    return InvalidArgument(
               "insz: month " + d.substr(2, 2) + " is not a month (1-12; BIS numbers add 20 or 40)",
               "insz")
        .WithRule("insz.month", {{"month", d.substr(2, 2)}});
  }
  const int year = century + static_cast<int>(Number(d.substr(0, 2)));
  const int day = static_cast<int>(Number(d.substr(4, 2)));
  if (month != 0 && day > DaysIn(year, month)) {
    return InvalidArgument("insz: day " + d.substr(4, 2) + " does not exist in that month", "insz")
        .WithRule("insz.day", {{"day", d.substr(4, 2)}});
  }
  const int serial = static_cast<int>(Number(d.substr(6, 3)));
  if (serial == 0 || serial == 999) {
    return InvalidArgument("insz: serial " + d.substr(6, 3) + " is never issued", "insz")
        .WithRule("insz.serial", {{"serial", d.substr(6, 3)}});
  }
  out.birth_year = year;
  if (month != 0 && day != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
    out.birth_date = buf;
  }
  if (sex_known) out.sex = serial % 2 == 1 ? Insz::Sex::kMale : Insz::Sex::kFemale;
  return out;
}

Result<Riziv> ParseRiziv(std::string_view text) {
  VX_ASSIGN_OR_RETURN(std::string d, Digits(text, "riziv"));
  if (d.size() != 11) {
    return InvalidArgument(
               "riziv: must have 11 digits (8 for the person, 3 for the qualification), "
               "has " +
                   std::to_string(d.size()),
               "riziv")
        .WithRule("riziv.length", {{"count", std::to_string(d.size())}});
  }
  const uint64_t check = Number(d.substr(6, 2));
  if (Check97(Number(d.substr(0, 6))) != check) {
    return InvalidArgument(
               "riziv: check digits " + d.substr(6, 2) + " do not match the first 6 digits",
               "riziv")
        .WithRule("riziv.check_digits", {{"digits", d.substr(6, 2)}});
  }
  if (d[0] != '1') {
    return InvalidArgument("riziv: profession digit is " + d.substr(0, 1) +
                               ", not 1: the number is not a physician's",
                           "riziv")
        .WithRule("riziv.profession", {{"digit", d.substr(0, 1)}});
  }
  Riziv out;
  out.digits = d;
  out.person_key = d.substr(0, 8);
  out.qualification = d.substr(8, 3);
  out.role = out.qualification == "005" || out.qualification == "006"
                 ? Riziv::Role::kPhysicianInTraining
                 : Riziv::Role::kPhysician;
  return out;
}

std::string InszWithCheckDigits(std::string_view first9, bool born_2000_or_later) {
  const uint64_t n = Number(first9) + (born_2000_or_later ? 2000000000 : 0);
  return std::string(first9) + TwoDigits(Check97(n));
}

std::string RizivWithCheckDigits(std::string_view first6, std::string_view qualification) {
  return std::string(first6) + TwoDigits(Check97(Number(first6))) + std::string(qualification);
}

Result<std::string> ParseKbo(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.starts_with("BE") || rest.starts_with("be")) rest.remove_prefix(2);
  VX_ASSIGN_OR_RETURN(std::string d, Digits(rest, "kbo"));
  if (d.size() == 9) d = "0" + d;  // a legacy 9-digit number
  if (d.size() != 10) {
    return InvalidArgument("kbo: must have 10 digits (or 9), has " + std::to_string(d.size()),
                           "kbo")
        .WithRule("kbo.length", {{"count", std::to_string(d.size())}});
  }
  if (d[0] != '0' && d[0] != '1') {
    return InvalidArgument("kbo: first digit must be 0 or 1, is " + d.substr(0, 1), "kbo")
        .WithRule("kbo.first_digit", {{"digit", d.substr(0, 1)}});
  }
  if (Check97(Number(d.substr(0, 8))) != Number(d.substr(8, 2))) {
    return InvalidArgument(
               "kbo: check digits " + d.substr(8, 2) + " do not match the first 8 digits", "kbo")
        .WithRule("kbo.check_digits", {{"digits", d.substr(8, 2)}});
  }
  return d;
}

}  // namespace vaxledger
