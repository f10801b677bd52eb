#include "http/ledger_routes.h"

#include <catch2/catch.hpp>

#include "core/cosignature.h"
#include "core/signed_note.h"
#include "eventstore/memory_storage.h"
#include "tests/eventstore/test_util.h"

namespace vaxledger::http {
namespace {

Request Make(const std::string& method, const std::string& target, std::string body = {}) {
  Request r;
  r.method = method;
  REQUIRE(ParseTarget(target, &r).ok());
  r.body = std::move(body);
  if (!r.body.empty()) r.headers["content-type"] = "text/plain";  // as a witness posts it
  return r;
}

TEST_CASE("witnesses' cosignatures of the latest checkpoint are published with it") {
  NoteSigner log_key("ledger.test/log", Ed25519Key::Generate());
  auto log = eventstore::EventLog::Open(std::make_unique<eventstore::MemoryStorage>(), log_key);
  REQUIRE(log.ok());
  REQUIRE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
  Cosigner w1("auditor.example/w1", Ed25519Key::Generate());
  Cosigner w2("auditor.example/w2", Ed25519Key::Generate());
  Cosigner stranger("stranger.example/w", Ed25519Key::Generate());
  Router router;
  AddLedgerRoutes(router, **log, {{w1.verifier(), w2.verifier()}});

  const std::string checkpoint = router.Handle(Make("GET", "/v1/ledger/checkpoint")).body;
  const std::string text = checkpoint.substr(0, checkpoint.rfind("\n\n") + 1);
  const std::string line1 = w1.SignatureLine(text, 1700000000);
  // Nobody trusted cosigned it: refused, naming the body.
  Response refused = router.Handle(
      Make("POST", "/v1/ledger/cosignatures", checkpoint + stranger.SignatureLine(text, 1)));
  CHECK(refused.status == 400);
  CHECK(nlohmann::json::parse(refused.body)["field"] == "body");
  // A forged line (another body's signature) is refused.
  Response forged = router.Handle(Make("POST", "/v1/ledger/cosignatures",
                                       checkpoint + w1.SignatureLine("other\n", 1700000000)));
  CHECK(forged.status == 400);
  CHECK(router.Handle(Make("GET", "/v1/ledger/checkpoint")).body == checkpoint);
  // A checkpoint not signed by the log's key is refused.
  NoteSigner impostor("ledger.test/log", Ed25519Key::Generate());
  auto fake = SignNote(text, {&impostor});
  REQUIRE(fake.ok());
  CHECK(router.Handle(Make("POST", "/v1/ledger/cosignatures", *fake + w1.SignatureLine(text, 1)))
            .status == 400);

  Response accepted = router.Handle(Make("POST", "/v1/ledger/cosignatures", checkpoint + line1));
  REQUIRE(accepted.status == 200);
  CHECK(nlohmann::json::parse(accepted.body)["accepted"] ==
        nlohmann::json::array({"auditor.example/w1"}));
  Response published = router.Handle(Make("GET", "/v1/ledger/checkpoint"));
  CHECK(published.body == checkpoint + line1);
  auto stamp = VerifyCosignature(published.body, w1.verifier());
  REQUIRE(stamp.ok());
  CHECK(*stamp == 1700000000);
  CHECK(OpenNote(published.body, {log_key.verifier()}).ok());

  // The log grows: the latest checkpoint has no cosignature yet, so none is shown with it.
  REQUIRE((*log)->Append(eventstore::testing::OneEvent("s")).ok());
  const std::string newer = router.Handle(Make("GET", "/v1/ledger/checkpoint")).body;
  CHECK(newer.find("auditor.example/w1") == std::string::npos);
  const std::string newer_text = newer.substr(0, newer.rfind("\n\n") + 1);
  const std::string both =
      newer + w1.SignatureLine(newer_text, 1700000100) + w2.SignatureLine(newer_text, 1700000101);
  Response two = router.Handle(Make("POST", "/v1/ledger/cosignatures", both));
  REQUIRE(two.status == 200);
  CHECK(nlohmann::json::parse(two.body)["accepted"].size() == 2);
  CHECK(router.Handle(Make("GET", "/v1/ledger/checkpoint")).body == both);
  // An older cosigned checkpoint posted late does not replace a newer one.
  REQUIRE(router.Handle(Make("POST", "/v1/ledger/cosignatures", checkpoint + line1)).status == 200);
  CHECK(router.Handle(Make("GET", "/v1/ledger/checkpoint")).body == both);
}

}  // namespace
}  // namespace vaxledger::http
