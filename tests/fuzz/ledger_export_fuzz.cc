// Fuzzes the export reader (eventstore/ledger_export.h) as `vaxledger ledger verify --export`
// uses it: open, verify every leaf and checkpoint (VerifyLedger, one thread, small chunks so that
// reads cross chunk boundaries), then Finish. The input is the file, held in memory (memfd).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "eventstore/ledger_export.h"
#include "eventstore/log_verifier.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = [] {
    int f = ::memfd_create("export", 0);
    if (f < 0) fuzz::Violated("memfd_create failed");
    return f;
  }();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    fuzz::Violated("cannot write the input to the memfd");
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto reader = eventstore::ExportReader::Open(path);
  if (!reader.ok()) return 0;
  if ((*reader)->keys().empty()) fuzz::Violated("an export opened without keys");
  std::vector<NoteVerifierKey> trusted = {(*reader)->keys().front().second,
                                          fuzz::FuzzSigner().verifier()};
  eventstore::VerifyOptions options;
  options.threads = 1;
  options.chunk_records = 3;
  auto report = eventstore::VerifyLedger(**reader, trusted, options);
  if (report.ok() && report->ok()) {
    if (report->verified != report->size) fuzz::Violated("a verified export with records left");
    (void)(*reader)->Finish();
  }
  return 0;
}
