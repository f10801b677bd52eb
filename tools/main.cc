// vaxledger: the registry's command-line program.
//
//   vaxledger init --data DIR [--origin NAME]
//   vaxledger ledger status --data DIR
//   vaxledger ledger verify --data DIR [--threads N]
//
// Exit codes: 0 success; 1 the log does not verify; 2 the command could not run (bad arguments,
// missing or too-open key, no database).
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "eventstore/log_verifier.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "tools/data_dir.h"

namespace vaxledger::tools {
namespace {

int Fail(const Status& s) {
  fmt::print(stderr, "vaxledger: {}\n", s.ToString());
  return 2;
}

int RunInit(const std::string& dir, const std::string& origin) {
  auto log = InitDataDir(dir, origin);
  if (!log.ok()) return Fail(log.status());
  fmt::print("initialised {}\n  key     {}\n  vkey    {}\n  events  {}\n", dir, KeyPath(dir),
             (*log)->signer().verifier().ToText(), (*log)->Head().size);
  return 0;
}

int RunStatus(const std::string& dir) {
  auto log = OpenDataDir(dir);
  if (!log.ok()) return Fail(log.status());
  auto head = (*log)->Head();
  fmt::print("data        {}\nvkey        {}\nevents      {}\nlast leaf   {}\n", dir,
             (*log)->signer().verifier().ToText(), head.size,
             head.size ? HexEncode(AsBytes(head.last_leaf_hash)) : std::string("-"));
  return 0;
}

int RunVerify(const std::string& dir, size_t threads) {
  // Only the public half of the key is used; the key file is still checked as at start-up.
  auto signer = eventstore::LoadRegistryKey(KeyPath(dir));
  if (!signer.ok()) return Fail(signer.status());
  eventstore::RocksDbStorageOptions storage_options;
  storage_options.read_only = true;  // may run beside a live server
  auto storage = eventstore::OpenRocksDbStorage(LogPath(dir), storage_options);
  if (!storage.ok()) return Fail(storage.status());

  eventstore::VerifyOptions options;
  options.threads = threads;
  const bool tty = ::isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  auto last_print = start;
  if (tty) {
    options.progress = [&](eventstore::Position done, eventstore::Position total) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_print < std::chrono::milliseconds(200) && done != total) return;
      last_print = now;
      fmt::print(stderr, "\rverifying: {} / {} events ({:.0f}%)", done, total,
                 total ? 100.0 * done / total : 100.0);
    };
  }
  auto report = eventstore::VerifyLog(**storage, {signer->verifier()}, options);
  if (tty) fmt::print(stderr, "\n");
  if (!report.ok()) return Fail(report.status());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report->first_failure) {
    fmt::print("FAIL at position {}: {} ({} events before it verified)\n", *report->first_failure,
               report->reason, report->verified);
    return 1;
  }
  if (!report->checkpoint_problem.empty()) {
    fmt::print("FAIL: {} (all {} events verified)\n", report->checkpoint_problem, report->verified);
    return 1;
  }
  fmt::print("OK {} events and {} checkpoints verified in {:.2f} s ({:.0f} events/s); root {}\n",
             report->verified, report->checkpoints_verified, seconds,
             seconds > 0 ? report->verified / seconds : 0.0, Base64Encode(AsBytes(report->root)));
  return 0;
}

}  // namespace
}  // namespace vaxledger::tools

int main(int argc, char** argv) {
  using namespace vaxledger::tools;
  CLI::App app{"vaxledger: a vaccination registry on a signed, append-only event log"};
  app.require_subcommand(1);
  std::string dir;
  std::string origin = "vaxledger.local/registry";
  size_t threads = 0;

  auto* init = app.add_subcommand("init", "create a data directory: registry key and event log");
  init->add_option("--data", dir, "data directory")->required();
  init->add_option("--origin", origin, "log origin, also the key name")->capture_default_str();

  auto* ledger = app.add_subcommand("ledger", "inspect and verify the event log");
  ledger->require_subcommand(1);
  auto* status = ledger->add_subcommand("status", "print the log's head and key");
  status->add_option("--data", dir, "data directory")->required();
  auto* verify =
      ledger->add_subcommand("verify", "check every leaf hash, the chain and every signature");
  verify->add_option("--data", dir, "data directory")->required();
  verify->add_option("--threads", threads, "threads (0 = one per core)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (init->parsed()) return RunInit(dir, origin);
  if (status->parsed()) return RunStatus(dir);
  if (verify->parsed()) return RunVerify(dir, threads);
  return 2;
}
