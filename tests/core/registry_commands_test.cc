#include "core/registry_commands.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "core/vaccines.h"
#include "tests/core/registry_world.h"

namespace vaxledger::testing {
namespace {

using Catch::Matchers::Contains;

#define REQUIRE_REFUSED(result, code_, field_, text)   \
  do {                                                 \
    auto r_ = (result);                                \
    REQUIRE_FALSE(r_.ok());                            \
    CHECK(r_.status().code() == (code_));              \
    CHECK(r_.status().field() == (field_));            \
    CHECK_THAT(r_.status().message(), Contains(text)); \
  } while (0)

// Admin; physicians P1 (group practice "g1"), P2 (joins g1), P3 (practice "pr1");
// organisation "org1" with physician P4.
struct Registry {
  World w;
  const std::string admin = MakeInsz(1);
  const std::string p1 = MakeInsz(2), p2 = MakeInsz(3), p3 = MakeInsz(6), p4 = MakeInsz(7);
  const std::string staff = MakeInsz(4), haio = MakeInsz(5), outsider = MakeInsz(8);
  int next_id = 0;

  Registry() {
    w.Bootstrap(admin);
    Join(p1, MakeRiziv(10001, "004"), "",
         NewEntity{"group_practice", "Groep Noord", "", "flanders"}, "g1");
    Join(p2, MakeRiziv(10002, "004"), "g1", std::nullopt, "");
    Join(p3, MakeRiziv(10003, "004"), "", NewEntity{"practice", "Dokter Drie", "", "brussels"},
         "pr1");
    Join(p4, MakeRiziv(10004, "004"), "",
         NewEntity{"organisation", "Ziekenhuis", "0403.019.261", "wallonia"}, "org1");
  }

  std::string Id() { return "id-" + std::to_string(++next_id); }
  Caller Admin() const { return w.Person(admin); }
  std::string PersonOf(const std::string& insz) const { return w.PersonIdOf(insz); }

  RequestAccess Access(const std::string& riziv, const std::string& join,
                       std::optional<NewEntity> create) {
    return RequestAccess{Id(), "Dr. Test", "dr@example.be", riziv, "terms-2026-01", join, create};
  }

  void Join(const std::string& insz, const std::string& riziv, const std::string& join,
            std::optional<NewEntity> create, const std::string& new_id) {
    auto req = w.Do(w.Person(insz), Access(riziv, join, create));
    REQUIRE(req.ok());
    auto ok = w.Do(Admin(), DecideRequest{req->id, true, "", new_id});
    REQUIRE(ok.ok());
  }

  // P1 links a collaborator to g1 and the admin approves.
  void Link(const std::string& insz, bool is_physician, const std::string& riziv,
            const std::string& entity = "g1", const std::string& by = {}) {
    auto req = w.Do(w.Person(by.empty() ? p1 : by, entity),
                    RequestLink{Id(), insz, "Collaborator", "c@example.be", is_physician, riziv});
    REQUIRE(req.ok());
    REQUIRE(w.Do(Admin(), DecideRequest{req->id, true, "", ""}).ok());
  }

  RegisterVaccination Vaccination(const std::string& patient_insz,
                                  const std::string& product = "EU/1/20/1528",
                                  const std::string& date = "2026-11-20") {
    RegisterVaccination v;
    v.vaccination_id = Id();
    v.patient.insz = patient_insz;
    v.product = product;
    v.lot = "FK1234";
    v.dose = 1;
    v.date = date;
    v.consent = {"given", "2026-11-20"};
    return v;
  }
};

TEST_CASE("Access: a physician's request waits for an administrator, who approves it") {
  Registry r;
  const std::string insz = MakeInsz(20);
  auto req = r.w.Do(r.w.Person(insz), r.Access(MakeRiziv(10020, "004"), "g1", std::nullopt));
  REQUIRE(req.ok());
  CHECK(req->waits_for_approval);
  const Entity* g1 = r.w.state().membership.FindEntity("g1");
  CHECK_FALSE(g1->members.contains(r.PersonOf(insz)));  // nothing changes before approval
  CHECK(r.w.state().requests.Pending().size() == 1);
  REQUIRE(r.w.Do(r.Admin(), DecideRequest{req->id, true, "", ""}).ok());
  CHECK(r.w.state().membership.FindEntity("g1")->members.at(r.PersonOf(insz)).role == "physician");
  CHECK(r.w.state().requests.Find(req->id)->status == "approved");
  CHECK(r.w.state().requests.Pending().empty());
}

TEST_CASE("Access: refusals name the field and the rule") {
  Registry r;
  const Caller c = r.w.Person(MakeInsz(21));
  SECTION("bad RIZIV check digits") {
    std::string riziv = MakeRiziv(10021, "004");
    riziv[6] = riziv[6] == '9' ? '0' : riziv[6] + 1;
    REQUIRE_REFUSED(r.w.Do(c, r.Access(riziv, "g1", std::nullopt)), Code::kInvalidArgument, "riziv",
                    "check");
  }
  SECTION("a HAIO number is linked by the trainer") {
    REQUIRE_REFUSED(r.w.Do(c, r.Access(MakeRiziv(10021, "005"), "g1", std::nullopt)),
                    Code::kInvalidArgument, "riziv", "Mijn medewerkers");
  }
  SECTION("a second request while one is pending") {
    REQUIRE(r.w.Do(c, r.Access(MakeRiziv(10021, "004"), "g1", std::nullopt)).ok());
    REQUIRE_REFUSED(r.w.Do(c, r.Access(MakeRiziv(10021, "004"), "org1", std::nullopt)),
                    Code::kAlreadyExists, "request", "pending access request");
  }
  SECTION("a practice has one physician") {
    REQUIRE_REFUSED(r.w.Do(c, r.Access(MakeRiziv(10021, "004"), "pr1", std::nullopt)),
                    Code::kFailedPrecondition, "entity", "already has its physician");
  }
  SECTION("an unknown entity") {
    REQUIRE_REFUSED(r.w.Do(c, r.Access(MakeRiziv(10021, "004"), "nope", std::nullopt)),
                    Code::kNotFound, "entity", "does not exist");
  }
  SECTION("a bad e-mail address") {
    auto a = r.Access(MakeRiziv(10021, "004"), "g1", std::nullopt);
    a.email = "not-an-address";
    REQUIRE_REFUSED(r.w.Do(c, a), Code::kInvalidArgument, "email", "e-mail");
  }
  SECTION("a new entity of an unknown kind") {
    REQUIRE_REFUSED(r.w.Do(c, r.Access(MakeRiziv(10021, "004"), "",
                                       NewEntity{"hospital", "X", "", "flanders"})),
                    Code::kInvalidArgument, "new_entity.kind", "practice, group_practice");
  }
  SECTION("the terms of use must be accepted") {
    auto a = r.Access(MakeRiziv(10021, "004"), "g1", std::nullopt);
    a.terms_version.clear();
    REQUIRE_REFUSED(r.w.Do(c, a), Code::kInvalidArgument, "terms_version", "required");
  }
}

TEST_CASE("Access: only administrators decide, once, and a rejection has a reason") {
  Registry r;
  const Caller c = r.w.Person(MakeInsz(22));
  auto req = r.w.Do(c, r.Access(MakeRiziv(10022, "004"), "g1", std::nullopt));
  REQUIRE(req.ok());
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), DecideRequest{req->id, true, "", ""}),
                  Code::kPermissionDenied, "", "administrator");
  REQUIRE_REFUSED(r.w.Do(r.Admin(), DecideRequest{req->id, false, "", ""}), Code::kInvalidArgument,
                  "reason", "required");
  REQUIRE(r.w.Do(r.Admin(), DecideRequest{req->id, false, "not a physician here", ""}).ok());
  REQUIRE_REFUSED(r.w.Do(r.Admin(), DecideRequest{req->id, true, "", ""}),
                  Code::kFailedPrecondition, "request_id", "already rejected");
  // Rejected: a new request may be made.
  CHECK(r.w.Do(c, r.Access(MakeRiziv(10022, "004"), "g1", std::nullopt)).ok());
}

TEST_CASE("Access: joining is checked again at approval") {
  Registry r;
  const Caller a = r.w.Person(MakeInsz(23));
  auto first =
      r.w.Do(a, r.Access(MakeRiziv(10023, "004"), "", NewEntity{"practice", "P", "", "flanders"}));
  REQUIRE(first.ok());
  REQUIRE(r.w.Do(r.Admin(), DecideRequest{first->id, true, "", "pr2"}).ok());
  // Two requests to join the practice pr2... the first approval fills it.
  REQUIRE_REFUSED(
      r.w.Do(r.w.Person(MakeInsz(24)), r.Access(MakeRiziv(10024, "004"), "pr2", std::nullopt)),
      Code::kFailedPrecondition, "entity", "already has its physician");
}

TEST_CASE("Link: a HAIO is linked to the requesting physician, who becomes the trainer") {
  Registry r;
  r.Link(r.haio, true, MakeRiziv(10005, "005"));
  const Member& m = r.w.state().membership.FindEntity("g1")->members.at(r.PersonOf(r.haio));
  CHECK(m.role == "haio");
  CHECK(m.trainer == r.PersonOf(r.p1));
}

TEST_CASE("Link: staff of a group practice are linked to all its physicians") {
  Registry r;
  r.Link(r.staff, false, "");
  const Member& m = r.w.state().membership.FindEntity("g1")->members.at(r.PersonOf(r.staff));
  CHECK(m.role == "staff");
  CHECK(m.linked_to.size() == 2);
}

TEST_CASE("Link: staff of a group practice also act for a physician who joins later") {
  Registry r;
  r.Link(r.staff, false, "");
  const std::string later = r.outsider;
  r.Join(later, MakeRiziv(10008, "004"), "g1", std::nullopt, "");
  const Member& m = r.w.state().membership.FindEntity("g1")->members.at(r.PersonOf(r.staff));
  CHECK(m.linked_to.size() == 3);
  auto d = r.w.Do(r.w.Person(r.staff, "g1", r.PersonOf(later)), r.Vaccination(MakeInsz(100)));
  REQUIRE(d.ok());
  CHECK(d->events[0].on_behalf_of == r.PersonOf(later));
}

TEST_CASE("Link: staff of an organisation act only for the physicians they were linked to") {
  Registry r;
  r.Link(r.staff, false, "", "org1", r.p4);
  r.Join(r.outsider, MakeRiziv(10008, "004"), "org1", std::nullopt, "");
  const Member& m = r.w.state().membership.FindEntity("org1")->members.at(r.PersonOf(r.staff));
  CHECK(m.linked_to == std::vector<std::string>{r.PersonOf(r.p4)});
}

TEST_CASE("Refusals name their rule, with its parameters, for a client to translate") {
  Registry r;
  auto bad = r.w.Do(r.w.Person(r.outsider), r.Access("10000499004", "", std::nullopt));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().rule() == "riziv.check_digits");
  CHECK(bad.status().params() == Status::Params{{"digits", "99"}});
  auto v = r.Vaccination("85073003329");
  auto insz = r.w.Do(r.w.Person(r.p1, "g1"), v);
  REQUIRE_FALSE(insz.ok());
  CHECK(insz.status().field() == "patient.insz");
  CHECK(insz.status().rule() == "insz.check_digits");
  auto reason = r.w.Do(r.Admin(), DecideRequest{"no-such", false, "", ""});
  CHECK(reason.status().rule() == "request.not_found");
}

TEST_CASE("Link: staff of a practice are linked to its physician") {
  Registry r;
  r.Link(r.staff, false, "", "pr1", r.p3);
  const Member& m = r.w.state().membership.FindEntity("pr1")->members.at(r.PersonOf(r.staff));
  CHECK(m.linked_to == std::vector<std::string>{r.PersonOf(r.p3)});
}

TEST_CASE("Link: the request waits; until approved the membership is unchanged") {
  Registry r;
  auto req = r.w.Do(r.w.Person(r.p1, "g1"),
                    RequestLink{"l1", r.staff, "Staff", "s@example.be", false, ""});
  REQUIRE(req.ok());
  CHECK(req->waits_for_approval);
  const Entity* g1 = r.w.state().membership.FindEntity("g1");
  CHECK_FALSE(g1->members.contains(r.PersonOf(r.staff)));
  CHECK(g1->pending.contains("l1"));
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p2, "g1"),
                         RequestLink{"l2", r.staff, "Staff", "s@example.be", false, ""}),
                  Code::kAlreadyExists, "insz", "already pending");
}

TEST_CASE("Link: refusals") {
  Registry r;
  SECTION("a HAIO needs qualification 005 or 006") {
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), RequestLink{"l", r.haio, "H", "h@example.be",
                                                               true, MakeRiziv(10005, "004")}),
                    Code::kInvalidArgument, "riziv", "005 or 006");
  }
  SECTION("a HAIO needs a RIZIV number") {
    REQUIRE_REFUSED(
        r.w.Do(r.w.Person(r.p1, "g1"), RequestLink{"l", r.haio, "H", "h@example.be", true, ""}),
        Code::kInvalidArgument, "riziv", "required");
  }
  SECTION("staff have no RIZIV number") {
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), RequestLink{"l", r.staff, "S", "s@example.be",
                                                               false, MakeRiziv(10005, "004")}),
                    Code::kInvalidArgument, "riziv", "staff");
  }
  SECTION("only a physician of the entity asks") {
    r.Link(r.staff, false, "");
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.staff, "g1", r.PersonOf(r.p1)),
                           RequestLink{"l", r.haio, "H", "h@example.be", false, ""}),
                    Code::kPermissionDenied, "", "only a physician");
    REQUIRE_REFUSED(
        r.w.Do(r.w.Person(r.p3, "g1"), RequestLink{"l", r.haio, "H", "h@example.be", false, ""}),
        Code::kPermissionDenied, "entity", "not linked");
  }
  SECTION("an invalid INSZ") {
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"),
                           RequestLink{"l", "85073003329", "H", "h@example.be", false, ""}),
                    Code::kInvalidArgument, "insz", "check");
  }
  SECTION("someone already linked") {
    REQUIRE_REFUSED(
        r.w.Do(r.w.Person(r.p1, "g1"), RequestLink{"l", r.p2, "P2", "p2@example.be", false, ""}),
        Code::kAlreadyExists, "insz", "already linked");
  }
}

TEST_CASE("Unlink: an entity keeps at least one linked person, checked at request and approval") {
  Registry r;
  const std::string p1 = r.PersonOf(r.p1), p2 = r.PersonOf(r.p2);
  SECTION("at request") {
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), RequestUnlink{"u", {p1, p2}}),
                    Code::kFailedPrecondition, "members", "link someone new first");
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p3, "pr1"), RequestUnlink{"u", {r.PersonOf(r.p3)}}),
                    Code::kFailedPrecondition, "members", "at least one linked person");
  }
  SECTION("at approval, after the state changed") {
    auto a = r.w.Do(r.w.Person(r.p1, "g1"), RequestUnlink{"u1", {p1}});
    auto b = r.w.Do(r.w.Person(r.p2, "g1"), RequestUnlink{"u2", {p2}});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->waits_for_approval);
    CHECK(r.w.state().membership.FindEntity("g1")->members.size() == 2);  // unchanged
    REQUIRE(r.w.Do(r.Admin(), DecideRequest{"u1", true, "", ""}).ok());
    CHECK_FALSE(r.w.state().membership.FindEntity("g1")->members.contains(p1));
    REQUIRE_REFUSED(r.w.Do(r.Admin(), DecideRequest{"u2", true, "", ""}), Code::kFailedPrecondition,
                    "request_id", "link someone new first");
    CHECK(r.w.state().membership.FindEntity("g1")->members.contains(p2));
  }
  SECTION("an organisation keeps a responsible physician") {
    r.Link(r.staff, false, "", "org1", r.p4);
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p4, "org1"), RequestUnlink{"u", {r.PersonOf(r.p4)}}),
                    Code::kFailedPrecondition, "members", "responsible physician");
  }
  SECTION("unlinking staff is allowed and removes them") {
    r.Link(r.staff, false, "");
    REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), RequestUnlink{"u", {r.PersonOf(r.staff)}}).ok());
    REQUIRE(r.w.Do(r.Admin(), DecideRequest{"u", true, "", ""}).ok());
    CHECK_FALSE(r.w.state().membership.FindEntity("g1")->members.contains(r.PersonOf(r.staff)));
  }
  SECTION("members must be linked") {
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), RequestUnlink{"u", {"someone"}}),
                    Code::kNotFound, "members", "not linked");
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), RequestUnlink{"u", {}}), Code::kInvalidArgument,
                    "members", "at least one");
  }
}

TEST_CASE("Unlink: a trainer leaves only with their HAIO") {
  Registry r;
  r.Link(r.haio, true, MakeRiziv(10005, "005"));
  const std::string p1 = r.PersonOf(r.p1), haio = r.PersonOf(r.haio);
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p2, "g1"), RequestUnlink{"u", {p1}}),
                  Code::kFailedPrecondition, "members", "unlink the HAIO too");
  auto both = r.w.Do(r.w.Person(r.p2, "g1"), RequestUnlink{"u2", {p1, haio}});
  REQUIRE(both.ok());
  REQUIRE(r.w.Do(r.Admin(), DecideRequest{"u2", true, "", ""}).ok());
  CHECK(r.w.state().membership.FindEntity("g1")->members.size() == 1);
}

TEST_CASE("Access: a physician's RIZIV person key stays theirs") {
  Registry r;
  // P1 has access with MakeRiziv(10001, ...); another person key is refused, a new
  // qualification of the same person key is accepted.
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1), r.Access(MakeRiziv(10009, "004"), "org1", std::nullopt)),
                  Code::kInvalidArgument, "riziv", "for life");
  CHECK(r.w.Do(r.w.Person(r.p1), r.Access(MakeRiziv(10001, "004"), "org1", std::nullopt)).ok());
}

TEST_CASE("Vaccination: who may register, for whom") {
  Registry r;
  r.Link(r.staff, false, "");
  r.Link(r.haio, true, MakeRiziv(10005, "005"));
  const std::string patient = MakeInsz(100);
  SECTION("a physician, for themselves") {
    auto d = r.w.Do(r.w.Person(r.p1, "g1"), r.Vaccination(patient));
    REQUIRE(d.ok());
    CHECK(d->events[0].actor_role == "physician");
    CHECK(d->events[0].on_behalf_of.empty());
  }
  SECTION("a HAIO, under their trainer") {
    auto d = r.w.Do(r.w.Person(r.haio, "g1"), r.Vaccination(patient));
    REQUIRE(d.ok());
    CHECK(d->events[0].actor_role == "haio");
    CHECK(d->events[0].on_behalf_of == r.PersonOf(r.p1));
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.haio, "g1", r.PersonOf(r.p2)), r.Vaccination(patient)),
                    Code::kPermissionDenied, "on_behalf_of", "trainer");
  }
  SECTION("staff, on behalf of a physician they are linked to") {
    auto d = r.w.Do(r.w.Person(r.staff, "g1", r.PersonOf(r.p2)), r.Vaccination(patient));
    REQUIRE(d.ok());
    CHECK(d->events[0].on_behalf_of == r.PersonOf(r.p2));
    CHECK(d->events[0].payload["performer"] == r.PersonOf(r.p2));
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.staff, "g1"), r.Vaccination(patient)),
                    Code::kPermissionDenied, "on_behalf_of", "behalf");
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.staff, "g1", r.PersonOf(r.p3)), r.Vaccination(patient)),
                    Code::kPermissionDenied, "on_behalf_of", "not linked");
  }
  SECTION("not someone of another entity") {
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p3, "g1"), r.Vaccination(patient)), Code::kPermissionDenied,
                    "entity", "not linked");
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.outsider), r.Vaccination(patient)), Code::kPermissionDenied,
                    "entity", "choose");
  }
}

TEST_CASE("Vaccination: the fields' rules") {
  Registry r;
  const Caller c = r.w.Person(r.p1, "g1");
  const std::string patient = MakeInsz(101);
  SECTION("a duplicate: same product, same patient, same day") {
    REQUIRE(r.w.Do(c, r.Vaccination(patient)).ok());
    REQUIRE_REFUSED(r.w.Do(c, r.Vaccination(patient)), Code::kAlreadyExists, "product",
                    "duplicate");
    CHECK(r.w.Do(c, r.Vaccination(patient, "EU/1/20/1528", "2026-11-21")).ok());
    CHECK(r.w.Do(c, r.Vaccination(patient, "EU/1/18/1326")).ok());
  }
  SECTION("a lot number for COVID-19, not for others") {
    auto v = r.Vaccination(patient);
    v.lot.clear();
    REQUIRE_REFUSED(r.w.Do(c, v), Code::kInvalidArgument, "lot", "COVID-19");
    v.product = "EU/1/06/337";
    CHECK(r.w.Do(c, v).ok());
  }
  SECTION("no date in the future") {
    REQUIRE_REFUSED(r.w.Do(c, r.Vaccination(patient, "EU/1/20/1528", "2026-11-25")),
                    Code::kInvalidArgument, "date", "in the future");
    CHECK(r.w.Do(c, r.Vaccination(patient, "EU/1/20/1528", "2026-11-24")).ok());
  }
  SECTION("a real calendar date") {
    REQUIRE_REFUSED(r.w.Do(c, r.Vaccination(patient, "EU/1/20/1528", "2026-02-30")),
                    Code::kInvalidArgument, "date", "calendar");
    REQUIRE_REFUSED(r.w.Do(c, r.Vaccination(patient, "EU/1/20/1528", "20-11-2026")),
                    Code::kInvalidArgument, "date", "YYYY-MM-DD");
  }
  SECTION("a product of the reference list") {
    REQUIRE_REFUSED(r.w.Do(c, r.Vaccination(patient, "EU/1/99/0000")), Code::kInvalidArgument,
                    "product", "reference list");
  }
  SECTION("a valid patient INSZ") {
    REQUIRE_REFUSED(r.w.Do(c, r.Vaccination("85073003329")), Code::kInvalidArgument, "patient.insz",
                    "check");
  }
  SECTION("a patient without INSZ: name and birth date") {
    auto v = r.Vaccination("");
    v.patient.name = "Jan Zonder";
    REQUIRE_REFUSED(r.w.Do(c, v), Code::kInvalidArgument, "patient.birth_date", "required");
    v.patient.birth_date = "2020-01-01";
    REQUIRE(r.w.Do(c, v).ok());
    const Patient* p = r.w.state().vaccinations.FindPatient(r.w.PatientIdOf(v.patient));
    REQUIRE(p != nullptr);
    CHECK(p->name == "Jan Zonder");
  }
  SECTION("a dose between 1 and 10, a consent decision") {
    auto v = r.Vaccination(patient);
    v.dose = 0;
    REQUIRE_REFUSED(r.w.Do(c, v), Code::kInvalidArgument, "dose", "between 1 and 10");
    v.dose = 2;
    v.consent.decision = "maybe";
    REQUIRE_REFUSED(r.w.Do(c, v), Code::kInvalidArgument, "consent.decision", "given or refused");
  }
  SECTION("the patient's identity is personal data, the stream a pseudonym") {
    auto d = r.w.Do(c, r.Vaccination(patient));
    REQUIRE(d.ok());
    const DomainEvent& e = d->events[0];
    CHECK(e.stream.find(patient) == std::string::npos);
    CHECK(e.payload.dump().find(patient) == std::string::npos);
    CHECK(e.personal["insz"] == patient);
  }
}

TEST_CASE("Vaccination: corrections and retractions by the registering entity, with a reason") {
  Registry r;
  const Caller c = r.w.Person(r.p1, "g1");
  const std::string patient = MakeInsz(102);
  auto reg = r.w.Do(c, r.Vaccination(patient));
  REQUIRE(reg.ok());
  const std::string pid = r.w.PatientIdOf(PatientRef{patient, "", ""});
  CorrectVaccination fix{pid,          reg->id, std::nullopt, std::string("FK9999"), std::nullopt,
                         std::nullopt, ""};
  REQUIRE_REFUSED(r.w.Do(c, fix), Code::kInvalidArgument, "reason", "required");
  fix.reason = "wrong lot typed";
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p3, "pr1"), fix), Code::kNotFound, "vaccination_id",
                  "does not exist");
  REQUIRE(r.w.Do(c, fix).ok());
  CHECK(r.w.state().vaccinations.FindPatient(pid)->Find(reg->id)->lot == "FK9999");
  // The stock moved the dose from one lot to the other.
  const EntityStock* stock = r.w.state().stock.Find("g1");
  CHECK(stock->lots.at("EU/1/20/1528|FK1234").used == 0);
  CHECK(stock->lots.at("EU/1/20/1528|FK9999").used == 1);

  REQUIRE_REFUSED(r.w.Do(c, RetractVaccination{pid, reg->id, ""}), Code::kInvalidArgument, "reason",
                  "required");
  REQUIRE(r.w.Do(c, RetractVaccination{pid, reg->id, "wrong patient"}).ok());
  const Vaccination* v = r.w.state().vaccinations.FindPatient(pid)->Find(reg->id);
  CHECK(v->status == "entered_in_error");  // kept, never deleted
  CHECK(r.w.state().stock.Find("g1")->lots.at("EU/1/20/1528|FK9999").used == 0);
  REQUIRE_REFUSED(r.w.Do(c, RetractVaccination{pid, reg->id, "again"}), Code::kFailedPrecondition,
                  "vaccination_id", "entered in error");
  // Retracted, the same product that day may be registered again.
  CHECK(r.w.Do(c, r.Vaccination(patient)).ok());
}

TEST_CASE(
    "Care relationship: a registration of one's own not in error, or a declaration in force") {
  Registry r;
  const Caller g1 = r.w.Person(r.p1, "g1");
  const Caller pr1 = r.w.Person(r.p3, "pr1");
  const std::string insz = MakeInsz(103);
  const std::string pid = r.w.PatientIdOf(PatientRef{insz, "", ""});
  auto reg = r.w.Do(g1, r.Vaccination(insz));
  REQUIRE(reg.ok());
  const Patient* p = r.w.state().vaccinations.FindPatient(pid);
  CHECK(p->CaredForBy("g1", World::kNow));
  CHECK_FALSE(p->CaredForBy("pr1", World::kNow));
  CHECK_FALSE(p->CaredForBy("", World::kNow));

  // A duplicate by an entity without a relationship says nothing of the first registration.
  auto dup = r.w.Do(pr1, r.Vaccination(insz));
  REQUIRE(dup.status().code() == Code::kAlreadyExists);
  CHECK(dup.status().message().find("EU/1/20/1528") == std::string::npos);
  CHECK(dup.status().message().find("2026-11-20") == std::string::npos);
  auto own_dup = r.w.Do(g1, r.Vaccination(insz));
  CHECK(own_dup.status().message().find("EU/1/20/1528") != std::string::npos);

  // A declaration: reasoned, bounded, for the declaring entity only, until it runs out.
  REQUIRE_REFUSED(r.w.Do(pr1, DeclareCare{PatientRef{insz, "", ""}, "", 24}),
                  Code::kInvalidArgument, "reason", "required");
  REQUIRE_REFUSED(r.w.Do(pr1, DeclareCare{PatientRef{insz, "", ""}, "urgent", 721}),
                  Code::kInvalidArgument, "hours", "720");
  REQUIRE_REFUSED(r.w.Do(pr1, DeclareCare{PatientRef{"12345678901", "", ""}, "urgent", 2}),
                  Code::kInvalidArgument, "patient.insz", "");
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.outsider), DeclareCare{PatientRef{insz, "", ""}, "x", 2}),
                  Code::kPermissionDenied, "entity", "");
  REQUIRE(r.w.Do(pr1, DeclareCare{PatientRef{insz, "", ""}, "urgent care", 2}).ok());
  p = r.w.state().vaccinations.FindPatient(pid);
  CHECK(p->CaredForBy("pr1", World::kNow));
  CHECK(p->CaredForBy("pr1", World::kNow + 2LL * 3600 * 1000000 - 1));
  CHECK_FALSE(p->CaredForBy("pr1", World::kNow + 2LL * 3600 * 1000000));
  CHECK_FALSE(p->CaredForBy("org1", World::kNow));

  // A retraction ends the registering entity's relationship.
  REQUIRE(r.w.Do(g1, RetractVaccination{pid, reg->id, "wrong patient"}).ok());
  CHECK_FALSE(r.w.state().vaccinations.FindPatient(pid)->CaredForBy("g1", World::kNow));
}

TEST_CASE("Stock: deliveries add, registrations take one dose, a shortfall is shown not refused") {
  Registry r;
  r.Link(r.staff, false, "");
  const Caller p2 = r.w.Person(r.p2, "g1");
  REQUIRE(r.w.Do(p2, ReceiveStock{"EU/1/20/1528", "FK1234", "2027-06-30", 1}).ok());
  // Shared stock of the group practice: P1 uses the dose P2 received, and one more.
  REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), r.Vaccination(MakeInsz(103))).ok());
  REQUIRE(r.w.Do(r.w.Person(r.staff, "g1", r.PersonOf(r.p2)), r.Vaccination(MakeInsz(104))).ok());
  const StockLot& lot = r.w.state().stock.Find("g1")->lots.at("EU/1/20/1528|FK1234");
  CHECK(lot.received == 1);
  CHECK(lot.used == 2);
  CHECK(lot.OnHand() == -1);
  CHECK(lot.Shortfall() == 1);
  REQUIRE(r.w.Do(p2, AdjustStock{"EU/1/20/1528", "FK1234", -1, "broken vial"}).ok());
  CHECK(r.w.state().stock.Find("g1")->lots.at("EU/1/20/1528|FK1234").Shortfall() == 2);
  REQUIRE_REFUSED(r.w.Do(p2, ReceiveStock{"EU/1/20/1528", "FK1234", "2027-06-30", 0}),
                  Code::kInvalidArgument, "quantity", "between 1");
  REQUIRE_REFUSED(r.w.Do(p2, ReceiveStock{"EU/1/20/1528", "FK1234", "30/06/2027", 5}),
                  Code::kInvalidArgument, "expiry", "YYYY-MM-DD");
  // An expired lot (World's today is 2026-11-24) is not received; one expiring today is.
  auto expired = r.w.Do(p2, ReceiveStock{"EU/1/20/1528", "OLD1", "2019-03-31", 5});
  REQUIRE_REFUSED(expired, Code::kFailedPrecondition, "expiry", "has passed");
  CHECK(expired.status().rule() == "stock.expired");
  CHECK(r.w.Do(p2, ReceiveStock{"EU/1/20/1528", "TODAY1", "2026-11-24", 5}).ok());
  REQUIRE_REFUSED(r.w.Do(p2, AdjustStock{"EU/1/20/1528", "FK1234", -1, ""}), Code::kInvalidArgument,
                  "reason", "required");
  REQUIRE_REFUSED(
      r.w.Do(r.w.Person(r.p3, "g1"), ReceiveStock{"EU/1/20/1528", "X", "2027-06-30", 5}),
      Code::kPermissionDenied, "entity", "not linked");
}

TEST_CASE("Roles: administrators grant and revoke; the last administrator stays") {
  Registry r;
  const std::string auditor = MakeInsz(30);
  REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1, "g1"), ChangeRole{auditor, "auditor", true}),
                  Code::kPermissionDenied, "", "administrator");
  REQUIRE(r.w.Do(r.Admin(), ChangeRole{auditor, "auditor", true}).ok());
  CHECK(r.w.state().membership.FindPerson(r.PersonOf(auditor))->roles.contains("auditor"));
  REQUIRE_REFUSED(r.w.Do(r.Admin(), ChangeRole{auditor, "auditor", true}), Code::kAlreadyExists,
                  "role", "already has");
  REQUIRE_REFUSED(r.w.Do(r.Admin(), ChangeRole{r.admin, "administrator", false}),
                  Code::kFailedPrecondition, "role", "at least one administrator");
  REQUIRE(r.w.Do(r.Admin(), ChangeRole{auditor, "administrator", true}).ok());
  CHECK(r.w.Do(r.Admin(), ChangeRole{r.admin, "administrator", false}).ok());
}

// ---- Issue 16: erasure ----------------------------------------------------------------------

TEST_CASE("Erasure: one administrator asks, another approves; the patient keeps only the facts") {
  Registry r;
  const std::string admin2 = MakeInsz(9);
  REQUIRE(r.w.Do(r.Admin(), ChangeRole{admin2, "administrator", true}).ok());
  const std::string patient = MakeInsz(300);
  RegisterVaccination v = r.Vaccination(patient);
  v.patient.name = "Zelda Vergeet";
  v.patient.birth_date = "1985-07-30";
  REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), v).ok());
  const std::string pid = r.w.PatientIdOf(v.patient);
  IssueCertificate issue;
  issue.patient = pid;
  issue.vaccination_id = v.vaccination_id;
  issue.uvci = "URN:UVCI:01:BE:TEST0000000000000000001#X";
  issue.kid = Base64Encode(Bytes(8, 1));
  issue.signature_sha256 = Base64Encode(Bytes(32, 2));
  issue.dn = issue.sd = 1;
  issue.expires_at_us = World::kNow + 1000000;
  issue.family_name = "Vergeet";
  issue.given_name = "Zelda";
  issue.hc1 = "HC1:...";
  const bool issued = r.w.Do(r.w.Person(r.p1, "g1"), issue).ok();
  const size_t before = r.w.size();

  SECTION("refusals name the field and the rule, and append nothing") {
    auto ask = [&](RequestErasure c) { return r.w.Do(r.Admin(), c); };
    REQUIRE_REFUSED(r.w.Do(r.w.Person(r.p1), RequestErasure{"e", "patient", v.patient, "", "x"}),
                    Code::kPermissionDenied, "", "only an administrator");
    REQUIRE_REFUSED(ask({"e", "other", v.patient, "", "x"}), Code::kInvalidArgument, "kind",
                    "patient or person");
    REQUIRE_REFUSED(ask({"e", "patient", v.patient, "", ""}), Code::kInvalidArgument, "reason", "");
    REQUIRE_REFUSED(ask({"e", "patient", PatientRef{"85073003329", "", ""}, "", "x"}),
                    Code::kInvalidArgument, "patient.insz", "");
    REQUIRE_REFUSED(ask({"e", "patient", PatientRef{MakeInsz(301), "", ""}, "", "x"}),
                    Code::kNotFound, "patient.insz", "no patient");
    REQUIRE_REFUSED(ask({"e", "person", {}, MakeInsz(302), "x"}), Code::kNotFound, "insz",
                    "no person");
    REQUIRE_REFUSED(ask({"e", "person", {}, r.admin, "x"}), Code::kFailedPrecondition, "insz",
                    "revoke the role");
    CHECK(r.w.size() == before);
  }
  SECTION("the administrator who asked cannot approve; another can") {
    auto asked = r.w.Do(r.Admin(), RequestErasure{"e1", "patient", v.patient, "", "unlawful"});
    REQUIRE(asked.ok());
    CHECK(asked->waits_for_approval);
    CHECK(r.w.state().requests.Find("e1")->kind == "erasure");
    REQUIRE_REFUSED(r.w.Do(r.Admin(), DecideRequest{"e1", true, "", ""}), Code::kPermissionDenied,
                    "request_id", "another administrator");
    CHECK_FALSE(r.w.state().vaccinations.FindPatient(pid)->erased);
    auto approved = r.w.Do(r.w.Person(admin2), DecideRequest{"e1", true, "", ""});
    REQUIRE(approved.ok());
    REQUIRE(approved->events.size() == 2);
    CHECK(approved->events[1].type == event_type::kSubjectErased);
    CHECK(approved->events[1].payload["subject"] == pid);
    CHECK(approved->events[1].personal.is_null());  // no personal data in the erasure

    const Patient& p = *r.w.state().vaccinations.FindPatient(pid);
    CHECK(p.erased);
    CHECK(p.insz.empty());
    CHECK(p.name.empty());
    CHECK(p.birth_date.empty());
    REQUIRE(p.vaccinations.size() == 1);  // the facts stay
    CHECK(p.vaccinations[0].product == v.product);
    CHECK(p.vaccinations[0].lot == v.lot);
    CHECK(p.vaccinations[0].date == v.date);
    CHECK(p.vaccinations[0].entity == "g1");
    if (issued) {
      REQUIRE(p.certificates.size() == 1);
      CHECK(p.certificates[0].family_name.empty());
      CHECK(p.certificates[0].hc1.empty());
    }
    CHECK_FALSE(r.w.subjects().Key(pid)->has_value());

    // Once erased: asked again, refused; the same INSZ is a new patient.
    REQUIRE_REFUSED(r.w.Do(r.Admin(), RequestErasure{"e2", "patient", v.patient, "", "again"}),
                    Code::kNotFound, "patient.insz", "no patient");
    RegisterVaccination again = r.Vaccination(patient, "EU/1/20/1507", "2026-11-21");
    REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), again).ok());
    const std::string new_pid = r.w.PatientIdOf(again.patient);
    CHECK(new_pid != pid);
    CHECK(r.w.state().vaccinations.FindPatient(new_pid)->vaccinations.size() == 1);
    CHECK(r.w.state().vaccinations.FindPatient(pid)->vaccinations.size() == 1);
  }
  SECTION("a rejection keeps everything") {
    REQUIRE(r.w.Do(r.Admin(), RequestErasure{"e1", "patient", v.patient, "", "unlawful"}).ok());
    REQUIRE_REFUSED(r.w.Do(r.Admin(), DecideRequest{"e1", false, "", ""}), Code::kInvalidArgument,
                    "reason", "");
    REQUIRE(r.w.Do(r.Admin(), DecideRequest{"e1", false, "the entry is lawful", ""}).ok());
    CHECK(r.w.state().requests.Find("e1")->status == "rejected");
    CHECK(r.w.state().vaccinations.FindPatient(pid)->name == "Zelda Vergeet");
    CHECK(r.w.subjects().Key(pid)->has_value());
  }
  SECTION("a patient without INSZ is named by name and birth date") {
    RegisterVaccination nameless = r.Vaccination("");
    nameless.patient = PatientRef{"", "Zonder Nummer", "2001-02-03"};
    REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), nameless).ok());
    const std::string id = r.w.PatientIdOf(nameless.patient);
    REQUIRE_REFUSED(r.w.Do(r.Admin(), RequestErasure{"e3", "patient",
                                                     PatientRef{"", "Zonder Nummer", ""}, "", "x"}),
                    Code::kInvalidArgument, "patient.insz", "name and patient.birth_date");
    REQUIRE(r.w.Do(r.Admin(), RequestErasure{"e3", "patient", nameless.patient, "", "x"}).ok());
    REQUIRE(r.w.Do(r.w.Person(admin2), DecideRequest{"e3", true, "", ""}).ok());
    CHECK(r.w.state().vaccinations.FindPatient(id)->erased);
    CHECK(r.w.state().vaccinations.FindPatient(id)->name.empty());
    CHECK_FALSE(r.w.state().vaccinations.FindPatient(pid)->erased);  // the other one stays
  }
  SECTION("the operator erases directly; nobody else does") {
    REQUIRE_REFUSED(r.w.Do(r.Admin(), EraseSubject{"e9", "patient", v.patient, "", "court"}),
                    Code::kPermissionDenied, "", "operator");
    Caller system;
    system.person = "system";
    REQUIRE(r.w.Do(system, EraseSubject{"e9", "patient", v.patient, "", "court"}).ok());
    CHECK(r.w.state().vaccinations.FindPatient(pid)->erased);
  }
}

TEST_CASE("Erasure of a person linked to an entity: the member stays, erased; the rules hold") {
  Registry r;
  const std::string admin2 = MakeInsz(9);
  REQUIRE(r.w.Do(r.Admin(), ChangeRole{admin2, "administrator", true}).ok());
  r.Link(r.staff, false, "");
  const std::string staff = r.PersonOf(r.staff);
  const std::string p3 = r.PersonOf(r.p3);
  REQUIRE(r.w.state().membership.FindEntity("g1")->members.at(staff).name == "Collaborator");
  for (const std::string& insz : {r.staff, r.p3}) {
    const std::string id = "er-" + insz;
    REQUIRE(r.w.Do(r.Admin(), RequestErasure{id, "person", {}, insz, "retention ended"}).ok());
    REQUIRE(r.w.Do(r.w.Person(admin2), DecideRequest{id, true, "", ""}).ok());
  }
  const Member& m = r.w.state().membership.FindEntity("g1")->members.at(staff);
  CHECK(m.erased);
  CHECK(m.name.empty());
  const Person* person = r.w.state().membership.FindPerson(p3);
  CHECK(person->erased);
  CHECK(person->name.empty());
  CHECK(person->email.empty());
  CHECK(person->entities.contains("pr1"));  // still the practice's physician
  // The requests that named them hold no name or e-mail any more.
  r.w.state().requests.ForEachOf(staff, [&](const Request& q) {
    CHECK(q.name.empty());
    CHECK(q.email.empty());
    return true;
  });
  // The practice keeps its one (erased) physician: unlinking them is still refused, and the
  // erased physician's INSZ is a new person now, linked nowhere.
  Caller erased_p3;
  erased_p3.person = p3;
  erased_p3.entity = "pr1";
  erased_p3.now_us = World::kNow;
  REQUIRE_REFUSED(r.w.Do(erased_p3, RequestUnlink{"u", {p3}}), Code::kFailedPrecondition, "members",
                  "at least one linked person");
  CHECK(r.w.PersonIdOf(r.p3) != p3);
  CHECK(r.w.state().membership.FindEntity("pr1")->members.contains(p3));
  // Staff erased: unlinking them is allowed as before.
  REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), RequestUnlink{"u2", {staff}}).ok());
}

TEST_CASE("Qualification: a HAIO who qualifies becomes a physician in their entities") {
  Registry r;
  r.Link(r.haio, true, MakeRiziv(10005, "005"));
  const std::string person = r.PersonOf(r.haio);
  REQUIRE_REFUSED(r.w.Do(r.Admin(), ChangeQualification{person, MakeRiziv(10006, "004")}),
                  Code::kInvalidArgument, "riziv", "for life");
  REQUIRE(r.w.Do(r.Admin(), ChangeQualification{person, MakeRiziv(10005, "004")}).ok());
  CHECK(r.w.state().membership.FindEntity("g1")->members.at(person).role == "physician");
}

// The records of one view as a store would hold them, for a working set to read.
class MapSource : public RecordSource {
 public:
  std::map<std::string, std::string> records;
  Result<std::optional<std::string>> Get(const std::string& key) const override {
    auto it = records.find(key);
    return it == records.end() ? std::optional<std::string>() : std::optional(it->second);
  }
  Status Scan(const std::string& prefix, const std::string& start,
              const std::function<bool(const std::string&, const std::string&)>& f) const override {
    for (auto it = records.lower_bound(std::max(prefix, start));
         it != records.end() && it->first.starts_with(prefix); ++it) {
      if (!f(it->first, it->second)) break;
    }
    return Status::Ok();
  }
};

TEST_CASE("Views: records written as a store holds them read back unchanged in a working set") {
  Registry r;
  r.Link(r.staff, false, "");
  REQUIRE(r.w.Do(r.w.Person(r.p1, "g1"), r.Vaccination(MakeInsz(105))).ok());
  REQUIRE(
      r.w.Do(r.w.Person(r.p1, "g1"), ReceiveStock{"EU/1/20/1528", "FK1", "2027-01-01", 9}).ok());
  RegistryState& live = const_cast<RegistryState&>(r.w.state());
  MapSource membership, requests, vaccinations, stock;
  for (const std::string& key : live.membership.TakeDirty()) {
    if (auto v = live.membership.EncodeRecord(key)) membership.records[key] = *v;
  }
  for (const std::string& key : live.requests.TakeDirty()) {
    if (auto v = live.requests.EncodeRecord(key)) requests.records[key] = *v;
  }
  for (const std::string& key : live.vaccinations.TakeDirty()) {
    if (auto v = live.vaccinations.EncodeRecord(key)) vaccinations.records[key] = *v;
  }
  for (const std::string& key : live.stock.TakeDirty()) {
    if (auto v = live.stock.EncodeRecord(key)) stock.records[key] = *v;
  }
  RegistryState ws;
  ws.membership.set_source(&membership);
  ws.requests.set_source(&requests);
  ws.vaccinations.set_source(&vaccinations);
  ws.stock.set_source(&stock);
  size_t entities = 0, people = 0, patients = 0;
  for (const auto& [key, value] : membership.records) {
    if (key.starts_with("e/")) {
      ++entities;
      CHECK(*ws.membership.FindEntity(key.substr(2)) == *live.membership.FindEntity(key.substr(2)));
    } else if (key.starts_with("p/")) {
      ++people;
      CHECK(*ws.membership.FindPerson(key.substr(2)) == *live.membership.FindPerson(key.substr(2)));
    }
  }
  for (const auto& [key, value] : vaccinations.records) {
    if (!key.starts_with("v/")) continue;
    ++patients;
    CHECK(*ws.vaccinations.FindPatient(key.substr(2)) ==
          *live.vaccinations.FindPatient(key.substr(2)));
    for (const Vaccination& v : live.vaccinations.FindPatient(key.substr(2))->vaccinations) {
      // The by-entity index record names the registration.
      auto listed = ws.vaccinations.ByEntity(v.entity);
      CHECK(std::any_of(listed.begin(), listed.end(),
                        [&](const auto& e) { return e.vaccination == v.id; }));
    }
  }
  CHECK(entities > 0);
  CHECK(people > 0);
  CHECK(patients == 1);
  CHECK(ws.stock.Find("g1")->lots == live.stock.Find("g1")->lots);
  CHECK(ws.requests.Pending().size() == live.requests.Pending().size());
  CHECK(ws.membership.administrators() == live.membership.administrators());
  CHECK(ws.load_status().ok());
  // A record that does not decode makes the working set fail, naming the record.
  membership.records["e/x"] = "not a record";
  CHECK(ws.membership.FindEntity("x") == nullptr);
  CHECK(ws.load_status().code() == Code::kDataLoss);
}

TEST_CASE("Vaccine reference list: the EU COVID-19 products with their holders") {
  const VaccineProduct* c = FindVaccineProduct("EU/1/20/1528");
  REQUIRE(c != nullptr);
  CHECK(c->name == "Comirnaty");
  CHECK(c->holder_code == "ORG-100030215");
  CHECK(c->covid19);
  CHECK(FindVaccineProduct("EU/1/20/1507")->holder_code == "ORG-100031184");
  CHECK(FindVaccineProduct("EU/1/21/1529")->holder_code == "ORG-100001699");
  CHECK(FindVaccineProduct("EU/1/20/1525")->holder_code == "ORG-100001417");
  CHECK_FALSE(FindVaccineProduct("EU/1/18/1326")->covid19);
  CHECK(FindVaccineProduct("nope") == nullptr);
}

}  // namespace
}  // namespace vaxledger::testing
