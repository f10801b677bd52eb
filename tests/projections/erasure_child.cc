// The child process of the erasure crash test: opens the data directory DIR, erases the patient
// with INSZ as the operator, and kills itself (SIGKILL) at erasure step STEP ("marked": the key
// store marks the subject; "appended": subject.erased is in the log, the key not yet deleted).
//
//   erasure_child DIR STEP INSZ
#include <csignal>
#include <cstdio>
#include <string>

#include "tests/projections/erasure_shared.h"

int main(int argc, char** argv) {
  using namespace vaxledger;
  if (argc != 4) return 2;
  const std::string step = argv[2];
  auto d = testing::OpenErasureDir(argv[1], false, [&](std::string_view at) {
    if (at == step) std::raise(SIGKILL);
  });
  if (!d.ok()) {
    std::fprintf(stderr, "erasure_child: %s\n", d.status().ToString().c_str());
    return 3;
  }
  Caller system;
  system.person = "system";
  auto out = d->registry->Execute(
      system, EraseSubject{"era-crash", "patient", PatientRef{argv[3], "", ""}, "", "court order"});
  std::fprintf(stderr, "erasure_child: finished without being killed: %s\n",
               out.status().ToString().c_str());
  return 4;
}
