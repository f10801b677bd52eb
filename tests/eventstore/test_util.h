// Helpers shared by the eventstore tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "eventstore/event.h"

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

}  // namespace vaxledger::eventstore::testing
