// Helpers shared by the eventstore tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <memory>

#include "eventstore/event.h"
#include "eventstore/event_log.h"
#include "eventstore/rocksdb_storage.h"

namespace vaxledger::eventstore::testing {

// A fresh directory under the system temp directory, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vaxledger-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);  // best effort: a leftover temp dir harms nothing
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline NewEvent MakeEvent(const std::string& stream, const std::string& payload = "{}") {
  NewEvent e;
  e.event_id = EventId::Random();
  e.stream = stream;
  e.type = "test.happened";
  e.actor = {"person-1", "physician"};
  e.payload = payload;
  return e;
}

inline AppendBatch OneEvent(const std::string& stream,
                            ExpectedVersion expected = ExpectedVersion::Any()) {
  AppendBatch b;
  b.events.push_back(MakeEvent(stream));
  b.expectations.push_back({stream, expected});
  return b;
}

// One signing key for a whole test executable.
inline const NoteSigner& TestSigner() {
  static const NoteSigner signer("test.example/log", Ed25519Key::Generate());
  return signer;
}

// Opens (creating when `create`) the RocksDB log at `path`, signed by `signer`.
inline std::unique_ptr<EventLog> OpenRocksDbLog(const std::string& path, bool create,
                                                const NoteSigner& signer = TestSigner()) {
  RocksDbStorageOptions o;
  o.create_if_missing = create;
  auto storage = OpenRocksDbStorage(path, o);
  REQUIRE(storage.ok());
  auto log = EventLog::Open(std::move(storage).value(), signer);
  REQUIRE(log.ok());
  return std::move(log).value();
}

}  // namespace vaxledger::eventstore::testing
