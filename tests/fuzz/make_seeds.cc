// Writes the generated seeds of the fuzz corpus: leaves, checkpoint texts and signed
// checkpoints, and an export file, all of one small log signed by the harness key (with one key
// rotation); and one view record of each kind. Run once by hand; the output is committed
// (tests/fuzz/corpus/):
//
//   build-fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#include <cstdio>
#include <fstream>
#include <string>

#include "core/view_records.h"
#include "eventstore/checkpoint.h"
#include "eventstore/event_log.h"
#include "eventstore/ledger_export.h"
#include "eventstore/memory_storage.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;

namespace {

void Write(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fuzz::Violated("cannot write " + path);
}

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) fuzz::Violated(r.status().ToString());
  return std::move(r).value();
}

// One record of each kind with every field and collection filled, and the empty ones.
void WriteViewRecords(const std::string& dir) {
  Entity e{"demo-linde", "group_practice", "De Linde", "0123456749", "flanders", 7, {}, {"r-1"}};
  e.members["p-1"] = Member{"p-1", "physician", "Dr. A", "10000017005", "", {}, 1, 2};
  e.members["p-2"] = Member{"p-2", "staff", "B", "", "", {"p-1"}, 3, 4};
  Write(dir + "/seed-entity", EncodeEntity(e));
  Write(dir + "/seed-entity-empty", EncodeEntity(Entity{}));
  Person p{"p-1", "Dr. A", "a@example.be", "10000017005", {"administrator"}, {"demo-linde"}, "r-2",
           3,     true};
  Write(dir + "/seed-person", EncodePerson(p));
  Request r;
  r.id = "r-1";
  r.kind = "access";
  r.status = "pending";
  r.new_entity = {{"kind", "practice"}, {"name", "P"}, {"kbo", ""}, {"region", "brussels"}};
  r.members = {"p-1", "p-2"};
  r.requested_at_us = 5;
  Write(dir + "/seed-request", EncodeRequest(r));
  Patient patient;
  patient.id = "v-1";
  patient.insz = "85073003328";
  patient.version = 4;
  Vaccination v;
  v.id = "vac-1";
  v.product = "EU/1/20/1528";
  v.dose = 1;
  v.history.push_back(VaccinationChange{"corrected", "EU/1/20/1507", "L", 2, "2026-01-01", "",
                                        "typo", "p-1", 6, 7});
  patient.vaccinations = {v, v};
  patient.vaccinations[1].id = "vac-2";
  patient.declared_care = {{"demo-linde", 8}};
  IssuedCertificate c;
  c.uvci = "URN:UVCI:01:BE:X";
  c.dn = 1;
  c.hc1 = "HC1:...";
  patient.certificates = {c};
  Write(dir + "/seed-patient", EncodePatient(patient));
  EntityStock stock{"demo-linde", 2, true, {}};
  Write(dir + "/seed-stock", EncodeEntityStock(stock));
  stock.lots["EU/1/20/1528|FK1"] = StockLot{"EU/1/20/1528", "FK1", "2027-01-31", 10, -1, 3};
  Write(dir + "/seed-stock-lots", EncodeEntityStock(stock));
  Write(dir + "/seed-lot", EncodeStockLot(stock.lots.begin()->second));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto log = Must(EventLog::Open(std::make_unique<MemoryStorage>(), fuzz::FuzzSigner()));

  NewEvent plain;
  plain.event_id = EventId::Random();
  plain.stream = "registry";
  plain.type = "registry.initialised";
  plain.actor = {"system", "system"};
  plain.payload = R"({"origin":"vaxledger.fuzz/registry"})";
  NewEvent full;
  full.event_id = EventId::Random();
  full.stream = "patient-3f2a/vaccinations";
  full.type = "vaccination.registered";
  full.actor = {"person-9c1d", "staff"};
  full.on_behalf_of = {"person-77ab", "physician"};
  full.entity = "demo-linde";
  full.correlation_id = EventId::Random();
  full.causation_id = EventId::Random();
  full.payload = R"({"product":"EU/1/20/1528","lot":"FK5127","dose":1,"date":"2026-10-10"})";
  full.personal_data = R"({"insz":"60010110012","name":"A. Patient"})";
  full.data_subject = "patient-3f2a";
  Must(log->Append(AppendBatch{{plain}, {}}));
  Must(log->Append(AppendBatch{{full}, {}}));
  Seed seed{};
  seed.fill(42);
  Must(log->RotateKey(NoteSigner(fuzz::kFuzzOrigin, Ed25519Key::FromSeed(seed))));
  NewEvent after = plain;
  after.event_id = EventId::Random();
  after.stream = "entity-demo-linde";
  after.type = "entity.created";
  Must(log->Append(AppendBatch{{after}, {}}));

  auto events = Must(log->Read(0, 100));
  for (const RecordedEvent& e : events) {
    Write(dir + "/leaf/seed-" + std::to_string(e.position),
          std::string_view(reinterpret_cast<const char*>(e.leaf.data()), e.leaf.size()));
  }
  const LogHead head = log->Head();
  Write(dir + "/checkpoint/signed-latest", head.checkpoint);
  Checkpoint c{fuzz::kFuzzOrigin, head.size, {}};
  auto root = Must(log->RootAt(head.size));
  c.root = root;
  Write(dir + "/checkpoint/text-latest", CheckpointText(c));
  Write(dir + "/checkpoint/text-extension", CheckpointText(c) + "extension line\n");
  Checkpoint empty{fuzz::kFuzzOrigin, 0, Must(log->RootAt(0))};
  Write(dir + "/checkpoint/text-empty", CheckpointText(empty));
  Status s = WriteExport(log->storage(), dir + "/ledger_export/seed-export");
  if (!s.ok()) fuzz::Violated(s.ToString());
  WriteViewRecords(dir + "/view_records");
  std::printf("seeds written under %s\n", dir.c_str());
  return 0;
}
