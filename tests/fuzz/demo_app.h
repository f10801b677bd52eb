// The server's route table as `vaxledger serve --demo` builds it, over an in-memory event log
// and views in a temporary directory, with one session per demo person — for the HTTP fuzzers.
//
// Inputs name a session by a placeholder: "@@0" … "@@8" is replaced with the session token of
// DemoPeople()[i] (0 the administrator, 1 the auditor, 2 Dr. Peeters of De Linde, …), so that a
// saved input reproduces although tokens are random.
//
// Thread-safety: App() builds the app once (thread-safe); Handle runs requests on the caller's
// thread, as the server's threads do.
#pragma once

#include <string>
#include <vector>

#include "http/router.h"

namespace vaxledger::fuzz {

class DemoApp {
 public:
  // The app, built at the first call; aborts when it cannot be built (a harness bug).
  static DemoApp& App();

  // Replaces the "@@i" placeholders in `raw` with the tokens.
  std::string WithTokens(std::string raw) const;

  // Routes `request` as the server does, and checks what every response must satisfy: no
  // exception, no 500 (the log is in memory: nothing may fail inside), a problem or JSON body
  // that is valid JSON, and header values without CR, LF or NUL. Aborts on a violation. With
  // VX_FUZZ_TRACE set in the environment, prints each status and request line to stderr.
  http::Response Handle(http::Request request) const;

  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  DemoApp() = default;
  struct Parts;
  Parts* parts_ = nullptr;  // lives until exit
  std::vector<std::string> tokens_;
};

}  // namespace vaxledger::fuzz
