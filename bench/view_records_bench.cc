// View record codec benchmark (issue 12): encode + decode of one patient record with five
// vaccinations, as FlatBuffers (core/view_records.h, what the stores hold) against the JSON
// records the views stored before (core/registry_json.h), measured in the same run.
//
//   view_records_bench [--seconds S]     (default 2 s per codec)
//
// The patient is built the way the registry builds it, by applying events: five registrations
// with consent, one correction and one consent change. JSON decoding is parse + get<Patient>
// (what loading a record cost before, without the index rebuild); FlatBuffers decoding is
// DecodePatient into a Patient. Both sides decode into the same struct, so the ratio is the
// codec's.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/bench_util.h"
#include "core/registry_json.h"
#include "core/registry_state.h"
#include "core/view_records.h"

namespace vaxledger::bench {
namespace {

DomainEvent PatientEvent(const std::string& patient, uint64_t version, const char* type,
                         nlohmann::json payload) {
  DomainEvent e;
  e.stream = PatientStream(patient);
  e.type = type;
  e.actor = "3f0c5d1e9a7b4c2d8e6f1a0b9c8d7e6f";
  e.actor_role = "physician";
  e.entity = "demo-linde";
  e.payload = std::move(payload);
  e.position = 1000 + version;
  e.stream_version = version;
  e.recorded_at_us = 1795521600LL * 1000000 + static_cast<int64_t>(version) * 1000;
  return e;
}

// A view holding one patient with five vaccinations.
VaccinationsView FivePatientVaccinations(const std::string& patient) {
  VaccinationsView view;
  const char* products[] = {"EU/1/20/1528", "EU/1/20/1507", "EU/1/20/1528", "EU/1/21/1529",
                            "EU/1/20/1528"};
  uint64_t version = 0;
  for (int i = 0; i < 5; ++i) {
    const std::string date = "2025-0" + std::to_string(i + 1) + "-15";
    DomainEvent e =
        PatientEvent(patient, version++, event_type::kVaccinationRegistered,
                     {{"vaccination_id", "0b6c7f2e9d1a4c3b8e5f7a6d" + std::to_string(1000 + i)},
                      {"patient", patient},
                      {"product", products[i]},
                      {"lot", "FK51" + std::to_string(20 + i)},
                      {"dose", i + 1},
                      {"date", date},
                      {"performer", "3f0c5d1e9a7b4c2d8e6f1a0b9c8d7e6f"},
                      {"consent", {{"decision", "given"}, {"date", date}, {"by", "patient"}}}});
    e.personal = {{"insz", "85073003328"}, {"name", "Jan Janssens"}, {"birth_date", "1985-07-30"}};
    e.data_subject = patient;
    view.Apply(e);
  }
  view.Apply(PatientEvent(
      patient, version++, event_type::kVaccinationCorrected,
      {{"vaccination_id", "0b6c7f2e9d1a4c3b8e5f7a6d1000"},
       {"reason", "wrong lot number"},
       {"was", {{"product", products[0]}, {"lot", "FK5120"}, {"dose", 1}, {"date", "2025-01-15"}}},
       {"now",
        {{"product", products[0]}, {"lot", "FK5199"}, {"dose", 1}, {"date", "2025-01-15"}}}}));
  view.Apply(PatientEvent(patient, version++, event_type::kConsentRecorded,
                          {{"vaccination_id", "0b6c7f2e9d1a4c3b8e5f7a6d1002"},
                           {"decision", "refused"},
                           {"date", "2025-03-16"},
                           {"by", "patient"}}));
  return view;
}

struct Rate {
  double per_second = 0;
  uint64_t n = 0;
};

template <typename F>
Rate Measure(double seconds, F&& round) {
  Rate r;
  const auto start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds) {
    for (int i = 0; i < 256; ++i) round();
    r.n += 256;
  }
  r.per_second = r.n / Seconds(Clock::now() - start);
  return r;
}

int Run(double seconds) {
  const std::string patient = "9d2f4e6a8b0c1d3e5f7a9b1c3d5e7f90";
  const VaccinationsView view = FivePatientVaccinations(patient);
  const Patient& record = *view.FindPatient(patient);
  if (record.vaccinations.size() != 5) return 1;

  // Both codecs must give back the record, or the figures mean nothing.
  // The JSON codec the views used before (core/registry_json.h): dump and parse + get.
  auto json_encode_record = [](const Patient& p) { return nlohmann::json(p).dump(); };
  auto json_decode_record = [](const std::string& text, Patient& out) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return false;
    out = j.get<Patient>();
    return true;
  };
  const std::string json = json_encode_record(record);
  {
    Patient loaded;
    if (!json_decode_record(json, loaded) || !(loaded == record)) {
      std::fprintf(stderr, "JSON round trip failed\n");
      return 1;
    }
  }
  const std::string flat = EncodePatient(record);
  Patient decoded;
  if (!DecodePatient(flat, decoded).ok() || !(decoded == record)) {
    std::fprintf(stderr, "FlatBuffers round trip failed\n");
    return 1;
  }

  uint64_t sink = 0;
  const Rate json_rate = Measure(seconds, [&] {
    std::string bytes = json_encode_record(record);
    Patient p;
    if (!json_decode_record(bytes, p)) std::abort();
    sink += p.vaccinations.size();
  });
  const Rate flat_rate = Measure(seconds, [&] {
    std::string bytes = EncodePatient(record);
    Patient p;
    if (!DecodePatient(bytes, p).ok()) std::abort();
    sink += p.vaccinations.size();
  });
  // Each half on its own.
  const Rate flat_encode = Measure(seconds / 2, [&] { sink += EncodePatient(record).size(); });
  const Rate flat_decode = Measure(seconds / 2, [&] {
    Patient p;
    if (!DecodePatient(flat, p).ok()) std::abort();
    sink += p.vaccinations.size();
  });
  const Rate json_encode = Measure(seconds / 2, [&] { sink += json_encode_record(record).size(); });
  const Rate json_decode = Measure(seconds / 2, [&] {
    Patient p;
    if (!json_decode_record(json, p)) std::abort();
    sink += p.vaccinations.size();
  });

  std::printf("patient record with 5 vaccinations (1 correction, 1 consent change)\n");
  std::printf("%-28s %10s %12s %12s %12s\n", "codec", "bytes", "enc+dec µs", "encode µs",
              "decode µs");
  std::printf("%-28s %10zu %12.2f %12.2f %12.2f\n", "JSON (nlohmann dump/parse)", json.size(),
              1e6 / json_rate.per_second, 1e6 / json_encode.per_second,
              1e6 / json_decode.per_second);
  std::printf("%-28s %10zu %12.2f %12.2f %12.2f\n", "FlatBuffers (view_records)", flat.size(),
              1e6 / flat_rate.per_second, 1e6 / flat_encode.per_second,
              1e6 / flat_decode.per_second);
  std::printf("FlatBuffers vs JSON: encode+decode %.1f x faster, %.2f x the bytes\n",
              flat_rate.per_second / json_rate.per_second,
              static_cast<double>(flat.size()) / static_cast<double>(json.size()));
  return sink == 0 ? 1 : 0;
}

}  // namespace
}  // namespace vaxledger::bench

int main(int argc, char** argv) {
  double seconds = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: view_records_bench [--seconds S]\n");
      return 2;
    }
  }
  return vaxledger::bench::Run(seconds);
}
