// `vaxledger erase` (issue 16; docs/ledger.md "Erasure"):
//
//   vaxledger erase --data DIR --insz INSZ --reason TEXT [--person]
//   vaxledger erase --data DIR --name NAME --birth-date YYYY-MM-DD --reason TEXT
//
// Erases the personal data of the patient (or, with --person, the person) with that INSZ, or of
// the patient without INSZ with that name and birth date: the subject's data key is deleted from
// DIR/keys, `subject.erased` is appended (the pseudonym, the reason, "system" as who: no personal
// data), the views drop the subject's personal data, the mails to an erased person leave the
// outbox and their sessions end. Whoever holds the data directory acts as the operator: there is
// no second administrator here (the HTTP API asks for one, POST /v1/subjects/erasures). It needs
// the log for itself: with a server running, use the API.
//
// Thread-safety: functions for the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace vaxledger::tools {

class EraseCommand {
 public:
  explicit EraseCommand(CLI::App& app);
  // The exit code, or nullopt when `erase` was not given.
  std::optional<int> Run() const;

 private:
  CLI::App* erase_ = nullptr;
  std::string dir_, insz_, name_, birth_date_, reason_;
  bool person_ = false;
};

}  // namespace vaxledger::tools
