// The child process of the killed-rebuild test: rebuilds every view of LOG into VIEWS with small
// writes and kills itself (SIGKILL) once RECORDS records of VIEW are written.
//
//   rebuild_child LOG VIEWS VIEW RECORDS
#include <csignal>
#include <cstdio>
#include <string>

#include "core/subjects.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/rebuild.h"

int main(int argc, char** argv) {
  using namespace vaxledger;
  if (argc != 5) return 2;
  const std::string view = argv[3];
  const uint64_t records = std::stoull(argv[4]);
  eventstore::RocksDbStorageOptions o;
  o.read_only = true;
  auto storage = eventstore::OpenRocksDbStorage(argv[1], o);
  if (!storage.ok()) return 3;
  // The parent's data keys are not here: personal data reads as erased, which changes nothing
  // of what this child is for (it is killed before it publishes anything).
  MemorySubjects subjects(PseudonymKey{});
  projections::RebuildOptions options;
  options.subjects = &subjects;
  options.write_chunk = 16;
  options.on_write = [&](std::string_view name, uint64_t written) {
    if (name == view && written >= records) std::raise(SIGKILL);
  };
  auto report = projections::RebuildViews(**storage, argv[2], options);
  std::fprintf(stderr, "rebuild_child: finished without being killed: %s\n",
               report.status().ToString().c_str());
  return 4;
}
