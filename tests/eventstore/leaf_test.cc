#include "eventstore/leaf.h"

#include <catch2/catch.hpp>

#include "tests/eventstore/test_util.h"

namespace vaxledger::eventstore {
namespace {

TEST_CASE("a leaf built, stamped and decoded gives back every field") {
  NewEvent e = testing::MakeEvent("patient:3f2a", R"({"dose":1})");
  e.on_behalf_of = {"person-2", "physician"};
  e.entity = "entity-7";
  e.correlation_id = EventId::Random();
  e.causation_id = EventId::Random();
  e.personal_data = R"({"name":"An Peeters"})";
  e.data_subject = "subject-77";
  auto leaf = BuildLeaf(e, 1 << 20);
  REQUIRE(leaf.ok());
  const size_t size = leaf->size();
  Hash prev;
  prev.fill(0xab);
  StampLeaf(*leaf, 42, 7, 1'700'000'000'000'000, prev);
  CHECK(leaf->size() == size);  // stamping writes in place

  auto decoded = DecodeLeaf(*leaf);
  REQUIRE(decoded.ok());
  CHECK(decoded->position == 42);
  CHECK(decoded->stream_version == 7);
  CHECK(decoded->recorded_at_us == 1'700'000'000'000'000);
  CHECK(decoded->prev_leaf_hash == prev);
  CHECK(decoded->leaf_hash == LeafHash(*leaf));
  const NewEvent& d = decoded->event;
  CHECK(d.event_id == e.event_id);
  CHECK(d.stream == e.stream);
  CHECK(d.type == e.type);
  CHECK(d.actor == e.actor);
  CHECK(d.on_behalf_of == e.on_behalf_of);
  CHECK(d.entity == e.entity);
  CHECK(d.correlation_id == e.correlation_id);
  CHECK(d.causation_id == e.causation_id);
  CHECK(d.payload == e.payload);
  CHECK(d.personal_data == e.personal_data);
  CHECK(d.data_subject == e.data_subject);

  auto header = ReadLeafHeader(*leaf);
  REQUIRE(header.ok());
  CHECK(header->position == 42);
  CHECK(header->prev_leaf_hash == prev);
}

TEST_CASE("invalid events are refused naming the field") {
  auto refused_field = [](const NewEvent& e) { return BuildLeaf(e, 1 << 20).status().field(); };
  NewEvent e = testing::MakeEvent("s");
  e.type = "Bad-Type";
  CHECK(refused_field(e) == "type");
  e = testing::MakeEvent("s");
  e.actor.person.clear();
  CHECK(refused_field(e) == "actor.person");
  e = testing::MakeEvent("s");
  e.actor.role.clear();
  CHECK(refused_field(e) == "actor.role");
  e = testing::MakeEvent("s");
  e.personal_data = "x";
  CHECK(refused_field(e) == "data_subject");
  e = testing::MakeEvent("s", std::string(2000, 'p'));
  auto big = BuildLeaf(e, 1000);
  CHECK(big.status().field() == "payload");
  CHECK_THAT(big.status().message(), Catch::Contains("over the limit of 1000"));
}

TEST_CASE("damaged leaves are reported as DataLoss, never decoded") {
  auto leaf = BuildLeaf(testing::MakeEvent("s"), 1 << 20);
  REQUIRE(leaf.ok());
  Bytes wrong_id = *leaf;
  wrong_id[4] = 'X';  // the file identifier "VXE1" sits at bytes 4..7
  CHECK(DecodeLeaf(wrong_id).status().code() == Code::kDataLoss);
  Bytes truncated = leaf->substr(0, leaf->size() / 2);
  CHECK(DecodeLeaf(truncated).status().code() == Code::kDataLoss);
  CHECK(ReadLeafHeader(Bytes()).status().code() == Code::kDataLoss);
}

TEST_CASE("event ids parse from UUID text and print back") {
  auto id = EventId::Parse("123e4567-e89b-12d3-a456-426614174000");
  REQUIRE(id.ok());
  CHECK(id->ToString() == "123e4567-e89b-12d3-a456-426614174000");
  CHECK(EventId::Parse("123e4567e89b12d3a456426614174000")->ToString() ==
        "123e4567-e89b-12d3-a456-426614174000");
  CHECK_FALSE(EventId::Parse("123e4567-e89b-12d3-a456-42661417400").ok());
  CHECK_FALSE(EventId::Parse("123e4567+e89b-12d3-a456-426614174000").ok());
  CHECK(EventId::Random() != EventId::Random());
  CHECK(EventId{}.IsNil());
}

}  // namespace
}  // namespace vaxledger::eventstore
