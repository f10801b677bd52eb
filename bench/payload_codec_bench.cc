// Payload decoding benchmark (issue 12, "Typed event payloads").
//
//   payload_codec_bench [--events N] [--rounds R] [--tables-only 1]
//
// Decides real commands on an in-memory registry (access requests and approvals, staff links,
// stock deliveries, vaccinations with corrections and retractions: the mix of bench/rebuild_bench)
// until N events were written, keeping each event's type, payload and personal data. Then, on
// one core, it decodes every payload and personal part R times in two ways and prints the rate
// of each (best round) and their ratio:
//   json     nlohmann::json::parse of the JSON text (log format vaxledger-log-2)
//   tables   projections::DecodePayload / DecodePersonalData of the FlatBuffers tables (log
//            format vaxledger-log-3): verification and building the same JSON objects
// It also prints the encoding rates, the average sizes, and the rate of merely copying the same
// objects (the floor of any decoder that builds nlohmann::json), and checks that both ways give
// the same objects.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/identifiers.h"
#include "core/registry_commands.h"
#include "projections/payload_codec.h"

namespace vaxledger::bench {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1795521600LL * 1000000;  // 2026-11-24T12:00:00Z
constexpr PseudonymKey kKey{9, 9, 9};

std::string Insz(uint32_t n) {
  const int year = 50 + static_cast<int>((n / 997 / 28 / 12) % 50);
  const int month = 1 + static_cast<int>((n / 997 / 28) % 12);
  const int day = 1 + static_cast<int>((n / 997) % 28);
  const int serial = 1 + static_cast<int>(n % 997);
  char first9[16];
  std::snprintf(first9, sizeof first9, "%02d%02d%02d%03d", year, month, day, serial);
  return InszWithCheckDigits(first9);
}

std::string Riziv(uint32_t n) {
  char first6[16];
  std::snprintf(first6, sizeof first6, "1%05u", n % 100000);
  return RizivWithCheckDigits(first6, "004");
}

int Arg(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return def;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

struct Sample {
  std::string type;
  json payload;
  json personal;  // null when the event has none
};

class Generator {
 public:
  Generator() : subjects_(kKey) {}
  bool Do(const Caller& caller, const Command& command) {
    Command resolved = command;
    Check(ResolveSubjects(subjects_, resolved), "resolve subjects");
    auto d = Decide(state_, caller, resolved);
    if (!d.ok()) return false;
    for (DomainEvent& e : d->events) Keep(e);
    return true;
  }
  void Keep(DomainEvent& e) {
    e.position = samples_.size();
    e.recorded_at_us = kNow;
    state_.Apply(e);
    samples_.push_back({e.type, e.payload, e.personal});
  }
  Caller As(const std::string& insz, const std::string& entity = {}) const {
    auto caller = CallerFor(subjects_, insz, entity, {}, kNow);
    Check(caller.status(), "caller");
    return *std::move(caller);
  }
  std::vector<Sample>& samples() { return samples_; }
  Subjects& subjects() const { return subjects_; }

 private:
  mutable MemorySubjects subjects_;  // the key store in memory: only pseudonyms are used here
  RegistryState state_;
  std::vector<Sample> samples_;
};

std::vector<Sample> Generate(size_t events) {
  Generator g;
  const std::string admin = Insz(0);
  auto grant = FirstAdministratorGrant(g.subjects(), admin);
  Check(grant.status(), "grant");
  g.Keep(*grant);
  std::mt19937 rng(42);
  uint32_t people = 1;
  const char* kinds[] = {"practice", "group_practice", "organisation"};
  const char* regions[] = {"flanders", "brussels", "wallonia", "german_speaking"};
  std::vector<std::pair<std::string, std::string>> actors;
  for (int e = 0; e < 300; ++e) {
    const std::string id = "ent" + std::to_string(e);
    const int physicians = e % 3 == 0 ? 1 : 2 + static_cast<int>(rng() % 3);
    for (int p = 0; p < physicians; ++p) {
      const std::string insz = Insz(people);
      RequestAccess a{"acc" + std::to_string(people),
                      "Dr " + std::to_string(people),
                      "dr" + std::to_string(people) + "@example.be",
                      Riziv(people),
                      "terms-1",
                      p == 0 ? "" : id,
                      std::nullopt};
      if (p == 0) a.new_entity = NewEntity{kinds[e % 3], "Entity " + id, "", regions[e % 4]};
      ++people;
      if (!g.Do(g.As(insz), a)) continue;
      if (!g.Do(g.As(admin), DecideRequest{a.request_id, true, "", id})) continue;
      actors.emplace_back(insz, id);
    }
    const std::string staff = Insz(people++);
    const std::string trainer = actors.back().first;
    if (g.Do(g.As(trainer, id),
             RequestLink{"lnk" + std::to_string(e), staff, "Staff", "s@example.be", false, ""})) {
      g.Do(g.As(admin), DecideRequest{"lnk" + std::to_string(e), true, "", ""});
    }
    g.Do(g.As(trainer, id),
         ReceiveStock{"EU/1/20/1528", "LOT" + std::to_string(e % 50), "2099-06-30", 500});
  }
  const char* products[] = {"EU/1/20/1528", "EU/1/20/1507", "EU/1/18/1326", "EU/1/06/337",
                            "EU/1/09/590"};
  uint64_t n = 0;
  while (g.samples().size() < events) {
    const auto& [insz, entity] = actors[rng() % actors.size()];
    RegisterVaccination v;
    v.vaccination_id = "v" + std::to_string(++n);
    v.patient.insz = Insz(1000000 + rng() % 300000);
    v.product = products[rng() % 5];
    v.lot = "LOT" + std::to_string(rng() % 50);
    v.dose = 1 + static_cast<int>(rng() % 3);
    v.date = "2026-" + std::to_string(10 + rng() % 2) + "-" + std::to_string(10 + rng() % 14);
    v.consent = {"given", "2026-10-01"};
    if (!g.Do(g.As(insz, entity), v)) continue;
    if (n % 50 == 0) {
      auto patient_id = PatientId(g.subjects(), v.patient);
      Check(patient_id.status(), "patient id");
      const std::string pid = *patient_id;
      if (n % 100 == 0) {
        g.Do(g.As(insz, entity), RetractVaccination{pid, v.vaccination_id, "wrong patient"});
      } else {
        g.Do(g.As(insz, entity),
             CorrectVaccination{pid, v.vaccination_id, std::nullopt, std::string("LOTX"),
                                std::nullopt, std::nullopt, "typo"});
      }
    }
  }
  return std::move(g.samples());
}

// The best of `rounds` runs of `decode` over every event, in events per second.
template <typename F>
double BestRate(int rounds, size_t events, F decode) {
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    decode();
    best = std::max(best, events / Seconds(Clock::now() - start));
  }
  return best;
}

int Main(int argc, char** argv) {
  const size_t events = static_cast<size_t>(Arg(argc, argv, "--events", 200000));
  const int rounds = Arg(argc, argv, "--rounds", 5);
  // --tables-only 1: decode the tables only (for a profiler).
  const bool only_tables = Arg(argc, argv, "--tables-only", 0) != 0;
  std::vector<Sample> samples = Generate(events);

  // Both encodings of every event, as the two log formats hold them.
  std::vector<std::pair<std::string, std::string>> text(samples.size()), tables(samples.size());
  size_t text_bytes = 0, table_bytes = 0;
  auto start = Clock::now();
  for (size_t i = 0; i < samples.size(); ++i) {
    text[i].first = samples[i].payload.dump();
    if (samples[i].personal.is_object()) text[i].second = samples[i].personal.dump();
  }
  const double dump_rate = samples.size() / Seconds(Clock::now() - start);
  start = Clock::now();
  for (size_t i = 0; i < samples.size(); ++i) {
    auto p = projections::EncodePayload(samples[i].type, samples[i].payload);
    Check(p.status(), "encode payload");
    tables[i].first = std::move(*p);
    if (samples[i].personal.is_object()) {
      auto d = projections::EncodePersonalData(samples[i].personal);
      Check(d.status(), "encode personal data");
      tables[i].second = std::move(*d);
    }
  }
  const double encode_rate = samples.size() / Seconds(Clock::now() - start);
  for (size_t i = 0; i < samples.size(); ++i) {
    text_bytes += text[i].first.size() + text[i].second.size();
    table_bytes += tables[i].first.size() + tables[i].second.size();
  }

  // The same objects either way.
  for (size_t i = 0; i < samples.size(); ++i) {
    auto a = json::parse(text[i].first);
    auto b = projections::DecodePayload(samples[i].type, AsBytes(tables[i].first));
    Check(b.status(), "decode");
    if (a != *b) {
      std::fprintf(stderr, "event %zu (%s) decodes differently\n", i, samples[i].type.c_str());
      return 1;
    }
  }

  size_t sink = 0;
  const double json_rate = BestRate(only_tables ? 0 : rounds, samples.size(), [&] {
    for (const auto& [payload, personal] : text) {
      json p = json::parse(payload, nullptr, false);
      sink += p.size();
      if (!personal.empty()) sink += json::parse(personal, nullptr, false).size();
    }
  });
  const double table_rate = BestRate(rounds, samples.size(), [&] {
    for (size_t i = 0; i < tables.size(); ++i) {
      auto p = projections::DecodePayload(samples[i].type, AsBytes(tables[i].first));
      sink += p->size();
      if (!tables[i].second.empty()) {
        sink += projections::DecodePersonalData(AsBytes(tables[i].second))->size();
      }
    }
  });
  // The floor of any decoder to nlohmann::json: building the same objects with no input to read
  // (a copy of each object).
  const double copy_rate = BestRate(rounds, samples.size(), [&] {
    for (const Sample& s : samples) {
      json p = s.payload;
      sink += p.size();
      if (s.personal.is_object()) sink += json(s.personal).size();
    }
  });
  std::printf("%zu registry events (payload and personal data), best of %d rounds, one core\n",
              samples.size(), rounds);
  std::printf("average size: JSON text %.1f bytes, tables %.1f bytes\n",
              double(text_bytes) / samples.size(), double(table_bytes) / samples.size());
  std::printf("encode: json dump %.0f events/s, tables %.0f events/s\n", dump_rate, encode_rate);
  std::printf("decode: json parse %.0f events/s, tables %.0f events/s\n", json_rate, table_rate);
  std::printf("ratio (tables / json parse): %.2f x\n", table_rate / json_rate);
  std::printf("floor: copying the objects %.0f events/s (tables decode at %.0f %% of it)\n",
              copy_rate, 100 * table_rate / copy_rate);
  return sink == 0 ? 1 : 0;
}

}  // namespace
}  // namespace vaxledger::bench

int main(int argc, char** argv) { return vaxledger::bench::Main(argc, argv); }
