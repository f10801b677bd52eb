#include "eventstore/checkpoint.h"

#include <catch2/catch.hpp>

#include "core/signed_note.h"

namespace vaxledger::eventstore {
namespace {

TEST_CASE("a checkpoint with a non-ASCII origin signs and opens") {
  NoteSigner signer("zo\xc3\xab.example/r\xc3\xa9gistre", Ed25519Key::Generate());
  Checkpoint c{signer.name(), 7, Sha256(AsBytes(std::string("root")))};
  auto note = SignCheckpoint(c, signer);
  REQUIRE(note.ok());
  auto opened = OpenCheckpoint(*note, {signer.verifier()});
  REQUIRE(opened.ok());
  CHECK(*opened == c);
}

TEST_CASE("a checkpoint's lines must all be non-empty, though a note's text may have empty ones") {
  NoteSigner signer("example.org/log", Ed25519Key::Generate());
  Checkpoint c{signer.name(), 7, Sha256(AsBytes(std::string("root")))};
  // An extension line is fine (and ignored); an empty one is not (c2sp.org/tlog-checkpoint).
  auto with_extension = SignNote(CheckpointText(c) + "extension\n", {&signer});
  REQUIRE(with_extension.ok());
  CHECK(OpenCheckpoint(*with_extension, {signer.verifier()}).ok());
  auto with_empty = SignNote(CheckpointText(c) + "\nextension\n", {&signer});
  REQUIRE(with_empty.ok());  // a valid signed note
  auto refused = OpenCheckpoint(*with_empty, {signer.verifier()});
  CHECK(refused.status().code() == Code::kInvalidArgument);
  CHECK_THAT(refused.status().message(), Catch::Contains("non-empty"));
}

}  // namespace
}  // namespace vaxledger::eventstore
