// `vaxledger impact ...` (issue 11; docs/impact.md):
//
//   vaxledger impact doses --data DIR [--from D] [--to D] [--by day|week] [--product P]
//                          [--region R] [--as-of POSITION|TIME] [--csv]
//   vaxledger impact coverage --data DIR [--date D] [--by age|region|age,region|total]
//                             [--as-of POSITION|TIME] [--csv]
//   vaxledger impact population --data DIR --as INSZ FILE
//
// doses and coverage print a table (or CSV) of the figures. They open DIR/impact read-only, so
// they work beside a running server, and show it as the server last wrote it (a line on stderr
// says when it is behind the log). With --as-of they replay the log (opened read-only) into an
// in-memory projection instead: exact, and the cost grows with the position. The data
// directory's owner sees every figure unmasked, as an administrator does.
//
// population loads a population file (docs/impact.md) as the administrator with INSZ --as: the
// `population.loaded` event is decided like every command (core/registry_commands.h
// LoadPopulation), so it needs the log for itself: with a server running, POST the file to
// /v1/impact/population instead.
//
// Thread-safety: functions for the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace vaxledger::tools {

// Adds `impact doses|coverage|population` to `app`; Run() runs the one parsed.
class ImpactCommands {
 public:
  explicit ImpactCommands(CLI::App& app);
  // The exit code, or nullopt when no impact command was given.
  std::optional<int> Run() const;

 private:
  CLI::App* doses_ = nullptr;
  CLI::App* coverage_ = nullptr;
  CLI::App* population_ = nullptr;
  std::string dir_;
  std::string from_, to_, date_, by_, product_, region_, as_of_, as_, file_;
  bool csv_ = false;
};

}  // namespace vaxledger::tools
