#include "eventstore/ledger_export.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "eventstore/event_log.h"
#include "eventstore/memory_storage.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

using testing::TestSigner;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// Opens, verifies and finishes an export; returns "" when it verifies, else what failed.
std::string VerifyFile(const std::string& path, const std::vector<NoteVerifierKey>& keys) {
  auto reader = ExportReader::Open(path);
  if (!reader.ok()) return reader.status().message();
  VerifyOptions o;
  o.chunk_records = 4;
  auto report = VerifyLedger(**reader, keys, o);
  if (!report.ok()) return report.status().message();
  if (report->first_failure)
    return "position " + std::to_string(*report->first_failure) + ": " + report->reason;
  if (!report->checkpoint_problem.empty()) return report->checkpoint_problem;
  Status end = (*reader)->Finish();
  return end.ok() ? "" : end.message();
}

struct Fixture {
  testing::TempDir dir;
  std::string path = dir.path() + "/ledger.export";
  std::unique_ptr<EventLog> log;
  Fixture(int commits) {
    auto opened = EventLog::Open(std::make_unique<MemoryStorage>(), TestSigner());
    REQUIRE(opened.ok());
    log = std::move(opened).value();
    for (int i = 0; i < commits; ++i) {
      AppendBatch b;
      for (int j = 0; j <= i % 3; ++j)
        b.events.push_back(testing::MakeEvent("s" + std::to_string(j)));
      REQUIRE(log->Append(b).ok());
    }
    REQUIRE(WriteExport(log->storage(), path).ok());
  }
};

TEST_CASE("an export verifies offline with the registry's key, every checkpoint included") {
  Fixture f(12);
  auto reader = ExportReader::Open(f.path);
  REQUIRE(reader.ok());
  CHECK((*reader)->keys().size() == 1);
  VerifyOptions o;
  o.chunk_records = 4;
  auto report = VerifyLedger(**reader, {TestSigner().verifier()}, o);
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK(report->verified == f.log->Head().size);
  CHECK(report->checkpoints_verified == 12);
  CHECK(report->root == f.log->Head().root);
  CHECK((*reader)->Finish().ok());

  NoteSigner stranger(TestSigner().name(), Ed25519Key::Generate());
  CHECK_THAT(VerifyFile(f.path, {stranger.verifier()}), Catch::Contains("position 0"));
}

TEST_CASE("changing a byte anywhere in an export makes offline verification fail") {
  Fixture f(5);
  const std::string original = Slurp(f.path);
  REQUIRE(VerifyFile(f.path, {TestSigner().verifier()}).empty());
  size_t failures = 0, tried = 0;
  for (size_t offset = 0; offset < original.size(); ++offset) {
    std::string changed = original;
    changed[offset] = static_cast<char>(changed[offset] ^ 0x04);
    Spit(f.path, changed);
    ++tried;
    if (!VerifyFile(f.path, {TestSigner().verifier()}).empty()) {
      ++failures;
    } else {
      FAIL_CHECK("byte " << offset << " changed and the export still verifies");
    }
  }
  CHECK(failures == tried);
}

TEST_CASE("tampering with an export names where") {
  Fixture f(6);
  std::string text = Slurp(f.path);
  auto change = [&](const std::string& anchor, size_t skip, char to) {
    size_t at = text.find(anchor);
    REQUIRE(at != std::string::npos);
    std::string changed = text;
    changed[at + anchor.size() + skip] = to;
    Spit(f.path, changed);
  };
  SECTION("a leaf of position 3") {
    size_t at = text.find("\nleaf 3 ");
    REQUIRE(at != std::string::npos);
    size_t leaf_at = text.find(' ', text.find(' ', at + 8) + 1) + 1;  // the base64 leaf
    std::string changed = text;
    changed[leaf_at + 40] = changed[leaf_at + 40] == 'A' ? 'B' : 'A';
    Spit(f.path, changed);
    CHECK_THAT(VerifyFile(f.path, {TestSigner().verifier()}), Catch::StartsWith("position 3"));
  }
  SECTION("a signature of position 4") {
    size_t at = text.find("\nleaf 4 ");
    size_t sig_at = text.find(' ', at + 8) + 1;
    std::string changed = text;
    changed[sig_at + 5] = changed[sig_at + 5] == 'A' ? 'B' : 'A';
    Spit(f.path, changed);
    CHECK(VerifyFile(f.path, {TestSigner().verifier()}) == "position 4: signature does not verify");
  }
  SECTION("the root in the checkpoint of size 3") {
    size_t note = text.find('\n', text.find("\ncheckpoint 3 ") + 1) + 1;
    size_t root = text.find('\n', text.find('\n', note) + 1) + 1;  // after origin and size
    std::string changed = text;
    changed[root] = changed[root] == 'A' ? 'B' : 'A';
    Spit(f.path, changed);
    CHECK_THAT(VerifyFile(f.path, {TestSigner().verifier()}),
               Catch::StartsWith("checkpoint at size 3: note: the signature of known key"));
  }
  SECTION("the file cut short") {
    Spit(f.path, text.substr(0, text.find("\nleaf 5 ") + 1));
    CHECK_THAT(VerifyFile(f.path, {TestSigner().verifier()}), Catch::Contains("position 5"));
  }
  SECTION("the end line") {
    change("\nend ", 0, '7');
    CHECK_THAT(VerifyFile(f.path, {TestSigner().verifier()}), Catch::Contains("the end line says"));
  }
}

}  // namespace
}  // namespace vaxledger::eventstore
