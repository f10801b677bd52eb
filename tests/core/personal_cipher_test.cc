#include "core/personal_cipher.h"

#include <catch2/catch.hpp>

namespace vaxledger {
namespace {

const Bytes kId(16, 0x42);
const Bytes kOtherId(16, 0x43);

DataKey KeyOf(uint8_t fill) {
  DataKey k;
  k.fill(fill);
  return k;
}

TEST_CASE("sealed personal data opens with its key, event id and subject only") {
  const std::string message = "insz 85073003328, name An Peeters";
  auto sealed = SealPersonal(KeyOf(1), kId, "subject-a", AsBytes(message));
  REQUIRE(sealed.ok());
  CHECK(sealed->size() == message.size() + kSealedOverhead);
  CHECK((*sealed)[0] == 1);
  CHECK(sealed->find("Peeters") == std::string::npos);  // no plaintext in the seal

  auto opened = OpenPersonal(KeyOf(1), kId, "subject-a", AsBytes(*sealed));
  REQUIRE(opened.ok());
  CHECK(*opened == message);

  // A fresh nonce each time: the same message seals differently.
  CHECK(*SealPersonal(KeyOf(1), kId, "subject-a", AsBytes(message)) != *sealed);

  SECTION("another key") {
    auto s = OpenPersonal(KeyOf(2), kId, "subject-a", AsBytes(*sealed));
    CHECK(s.status().code() == Code::kDataLoss);
  }
  SECTION("moved to another event") {
    CHECK(OpenPersonal(KeyOf(1), kOtherId, "subject-a", AsBytes(*sealed)).status().code() ==
          Code::kDataLoss);
  }
  SECTION("moved to another subject") {
    CHECK(OpenPersonal(KeyOf(1), kId, "subject-b", AsBytes(*sealed)).status().code() ==
          Code::kDataLoss);
  }
  SECTION("any byte changed") {
    for (size_t i = 0; i < sealed->size(); ++i) {
      std::string tampered = *sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
      INFO("byte " << i);
      CHECK(OpenPersonal(KeyOf(1), kId, "subject-a", AsBytes(tampered)).status().code() ==
            Code::kDataLoss);
    }
  }
  SECTION("cut short, or not a seal at all") {
    CHECK(
        OpenPersonal(KeyOf(1), kId, "subject-a", AsBytes(sealed->substr(0, 40))).status().code() ==
        Code::kDataLoss);
    CHECK(OpenPersonal(KeyOf(1), kId, "subject-a", AsBytes(std::string(message))).status().code() ==
          Code::kDataLoss);
  }
}

TEST_CASE("an event id that is not 16 bytes is refused") {
  auto s = SealPersonal(KeyOf(1), Bytes(15, 0), "s", AsBytes(std::string("x")));
  CHECK(s.status().code() == Code::kInvalidArgument);
  CHECK(s.status().field() == "event_id");
}

TEST_CASE("MemorySubjects: one subject per identifier until it is erased, then a new one") {
  MemorySubjects subjects(PseudonymKey{5});
  auto a = subjects.Pseudonym("patient", "85073003328");
  REQUIRE(a.ok());
  CHECK(a->size() == 32);
  CHECK(*subjects.Pseudonym("patient", "85073003328") == *a);
  CHECK(*subjects.Pseudonym("person", "85073003328") != *a);  // kinds are apart
  CHECK(*subjects.Find("patient", "85073003328") == std::optional(*a));
  CHECK_FALSE(subjects.Find("patient", "85073003427")->has_value());  // Find makes nothing
  REQUIRE(subjects.Key(*a)->has_value());
  REQUIRE(subjects.MarkErasing(*a, "era-1").ok());
  CHECK(subjects.Erasing()->at(*a) == "era-1");
  REQUIRE(subjects.Erase(*a).ok());
  CHECK(subjects.Erasing()->empty());
  CHECK_FALSE(subjects.Key(*a)->has_value());
  CHECK_FALSE(subjects.Find("patient", "85073003328")->has_value());
  auto again = subjects.Pseudonym("patient", "85073003328");
  REQUIRE(again.ok());
  CHECK(*again != *a);  // the erased history does not come back
}

}  // namespace
}  // namespace vaxledger
