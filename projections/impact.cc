#include "projections/impact.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "core/encoding.h"
#include "core/identifiers.h"
#include "core/personal_cipher.h"
#include "core/registry_state.h"
#include "eventstore/leaf.h"
#include "eventstore/rocksdb_logger.h"
#include "eventstore/rocksdb_status.h"
#include "projections/payload_codec.h"

namespace vaxledger::projections {

using eventstore::FromRocks;
using eventstore::Position;
using impact::AgeBand;
using impact::DoseKind;
using impact::PatientFacts;

// ---- Keys (docs/impact.md, "Storage") -----------------------------------------------------

namespace {

constexpr std::string_view kPositionKey = "m:position";
constexpr std::string_view kPopulationKey = "m:population";
constexpr std::string_view kVersionKey = "m:version";
constexpr std::string_view kVersion = "1";

void PutBe32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetBe32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
// Days as unsigned big-endian so that byte order is day order.
uint32_t DayBits(int32_t day) { return static_cast<uint32_t>(day) ^ 0x80000000u; }
int32_t DayFromBits(uint32_t v) { return static_cast<int32_t>(v ^ 0x80000000u); }

std::string PatientKey(std::string_view patient) { return "P" + std::string(patient); }
std::string EntityKey(std::string_view entity) { return "E" + std::string(entity); }

// "D" day product 0x00 region 0x00 kind
std::string DosesKey(int32_t day, std::string_view product, std::string_view region, DoseKind k) {
  std::string key = "D";
  PutBe32(key, DayBits(day));
  key += product;
  key.push_back('\0');
  key += region;
  key.push_back('\0');
  key.push_back(static_cast<char>('0' + static_cast<int>(k)));
  return key;
}
std::string DosesPrefix(int32_t day) {
  std::string key = "D";
  PutBe32(key, DayBits(day));
  return key;
}
// "N" entity 0x00 day product 0x00 kind
std::string EntityDosesPrefix(std::string_view entity, int32_t day) {
  std::string key = "N" + std::string(entity);
  key.push_back('\0');
  PutBe32(key, DayBits(day));
  return key;
}
std::string EntityDosesKey(std::string_view entity, int32_t day, std::string_view product,
                           DoseKind k) {
  std::string key = EntityDosesPrefix(entity, day);
  key += product;
  key.push_back('\0');
  key.push_back(static_cast<char>('0' + static_cast<int>(k)));
  return key;
}
// "F" region 0x00 band+1 milestone index
std::string FenwickKey(std::string_view region, int band, int milestone, uint32_t index) {
  std::string key = "F" + std::string(region);
  key.push_back('\0');
  key.push_back(static_cast<char>(band + 1));
  key.push_back(static_cast<char>(milestone));
  PutBe32(key, index);
  return key;
}

std::string EncodeCount(int64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  return out;
}
int64_t DecodeCount(std::string_view s) {
  if (s.size() != 8) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<uint8_t>(s[i])) << (8 * i);
  return static_cast<int64_t>(v);
}

const std::vector<AgeBand>& DefaultBands() {
  static const std::vector<AgeBand> bands = {{0, std::nullopt}};
  return bands;
}

constexpr std::array<std::string_view, 4> kCoverageRegions = {"flanders", "brussels", "wallonia",
                                                              "unknown"};

using Deltas = std::unordered_map<std::string, int64_t>;

// What one patient adds to the counters: a dose counter per active dose and the coverage steps.
struct DoseItem {
  int32_t day;
  std::string_view product, region, entity;
  DoseKind kind;
  auto operator<=>(const DoseItem&) const = default;
};
struct Contribution {
  std::vector<DoseItem> doses;
  std::vector<impact::CoverageStep> steps;
};

bool StepLess(const impact::CoverageStep& a, const impact::CoverageStep& b) {
  return std::tie(a.region, a.band, a.milestone, a.day, a.delta) <
         std::tie(b.region, b.band, b.milestone, b.day, b.delta);
}

// Sorted, so that two contributions can be compared item by item. Views into `f`.
Contribution ContributionOf(const PatientFacts& f, const std::vector<AgeBand>& bands) {
  Contribution out;
  const impact::Classification c = impact::Classify(f);
  for (size_t i = 0; i < f.doses.size(); ++i) {
    const impact::ImpactDose& d = f.doses[i];
    if (d.active) out.doses.push_back({d.day, d.product, d.region, d.entity, c.kinds[i]});
  }
  out.steps = impact::CoverageSteps(f, c, bands);
  std::sort(out.doses.begin(), out.doses.end());
  std::sort(out.steps.begin(), out.steps.end(), StepLess);
  return out;
}

void AddDose(const DoseItem& d, int sign, Deltas& deltas) {
  deltas[DosesKey(d.day, d.product, d.region, d.kind)] += sign;
  deltas[EntityDosesKey(d.entity, d.day, d.product, d.kind)] += sign;
}

void AddStep(const impact::CoverageStep& s, int sign, Deltas& deltas) {
  impact::ForEachFenwickUpdate(impact::FenwickIndex(s.day), [&](uint32_t node) {
    deltas[FenwickKey(s.region, s.band, s.milestone, node)] += sign * s.delta;
  });
}

// Adds after - before to the counters: only the items that differ (a new booster changes one
// dose counter and, at most, the booster milestone's steps).
void AddDifference(const Contribution& before, const Contribution& after, Deltas& deltas) {
  auto diff = [&](const auto& a, const auto& b, auto less, auto add) {
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
      if (j == b.size() || (i < a.size() && less(a[i], b[j]))) {
        add(a[i++], -1);
      } else if (i == a.size() || less(b[j], a[i])) {
        add(b[j++], +1);
      } else {
        ++i;
        ++j;
      }
    }
  };
  diff(before.doses, after.doses, std::less<DoseItem>(),
       [&](const DoseItem& d, int sign) { AddDose(d, sign, deltas); });
  diff(before.steps, after.steps, StepLess,
       [&](const impact::CoverageStep& s, int sign) { AddStep(s, sign, deltas); });
}

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// ---- Storage --------------------------------------------------------------------------------

struct KvWrite {
  std::vector<std::pair<std::string, std::string>> delete_ranges;        // [begin, end), first
  std::vector<std::pair<std::string, std::optional<std::string>>> puts;  // nullopt: delete
};

using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

struct ImpactProjection::Kv {
  // A consistent view for one query.
  struct View {
    virtual ~View() = default;
    virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
    virtual Status Scan(std::string_view begin, std::string_view end, const ScanFn& fn) = 0;
    virtual Status MultiGet(const std::vector<std::string_view>& keys,
                            std::vector<std::optional<std::string>>* values) = 0;
  };
  virtual ~Kv() = default;
  // The latest state (for the applying thread).
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Status Scan(std::string_view begin, std::string_view end, const ScanFn& fn) = 0;
  // Every key's value (nullopt: none), in the order of `keys`.
  virtual Status MultiGet(const std::vector<std::string_view>& keys,
                          std::vector<std::optional<std::string>>* values) = 0;
  virtual Status Write(const KvWrite& w) = 0;
  virtual std::unique_ptr<View> Snapshot() = 0;
  // Leaves no older version of the keys in [begin, end] in the store's files (erasure).
  virtual Status Compact(const std::string&, const std::string&) { return Status::Ok(); }
};

namespace {

// The personal data of a registration, opened with its subject's key; null without a key store
// or for an erased subject. DataLoss when it does not open (as the views: projections/views.h).
Result<nlohmann::json> OpenedPersonal(const Subjects* subjects,
                                      const eventstore::RecordedEvent& r) {
  if (subjects == nullptr) return nlohmann::json();
  VX_ASSIGN_OR_RETURN(auto key, subjects->Key(r.event.data_subject));
  if (!key) return nlohmann::json();
  const ByteView id(r.event.event_id.bytes.data(), r.event.event_id.bytes.size());
  auto opened = OpenPersonal(*key, id, r.event.data_subject, AsBytes(r.event.personal_data));
  if (!opened.ok()) {
    return DataLoss("event at position " + std::to_string(r.position) + ": " +
                    opened.status().message());
  }
  auto personal = DecodePersonalData(AsBytes(*opened));
  if (!personal.ok()) {
    return DataLoss("event at position " + std::to_string(r.position) + ": " +
                    personal.status().message());
  }
  return std::move(*personal);
}

}  // namespace

namespace {

class MemoryKv final : public ImpactProjection::Kv {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = map_.find(key);
    if (it == map_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Scan(std::string_view begin, std::string_view end, const ScanFn& fn) override {
    for (auto it = map_.lower_bound(begin); it != map_.end() && it->first < end; ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return Status::Ok();
  }
  Status MultiGet(const std::vector<std::string_view>& keys,
                  std::vector<std::optional<std::string>>* values) override {
    values->clear();
    for (std::string_view k : keys) {
      auto it = map_.find(k);
      values->push_back(it == map_.end() ? std::nullopt : std::optional(it->second));
    }
    return Status::Ok();
  }
  Status Write(const KvWrite& w) override {
    std::unique_lock lock(mutex_);
    for (const auto& [b, e] : w.delete_ranges) {
      map_.erase(map_.lower_bound(b), map_.lower_bound(e));
    }
    for (const auto& [k, v] : w.puts) {
      if (v) {
        map_[k] = *v;
      } else {
        map_.erase(k);
      }
    }
    return Status::Ok();
  }
  struct LockedView final : View {
    MemoryKv& kv;
    std::shared_lock<std::shared_mutex> lock;
    explicit LockedView(MemoryKv& k) : kv(k), lock(k.mutex_) {}
    Result<std::optional<std::string>> Get(std::string_view key) override { return kv.Get(key); }
    Status Scan(std::string_view b, std::string_view e, const ScanFn& fn) override {
      return kv.Scan(b, e, fn);
    }
    Status MultiGet(const std::vector<std::string_view>& keys,
                    std::vector<std::optional<std::string>>* values) override {
      return kv.MultiGet(keys, values);
    }
  };
  std::unique_ptr<View> Snapshot() override { return std::make_unique<LockedView>(*this); }

 private:
  std::map<std::string, std::string, std::less<>> map_;
  std::shared_mutex mutex_;  // Write excludes views; the writer's own reads need no lock
};

class RocksKv final : public ImpactProjection::Kv {
 public:
  RocksKv(std::unique_ptr<rocksdb::DB> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}
  Result<std::optional<std::string>> Get(std::string_view key) override {
    return GetAt(rocksdb::ReadOptions(), key);
  }
  Status Scan(std::string_view begin, std::string_view end, const ScanFn& fn) override {
    return ScanAt(rocksdb::ReadOptions(), begin, end, fn);
  }
  Status MultiGet(const std::vector<std::string_view>& keys,
                  std::vector<std::optional<std::string>>* values) override {
    return MultiGetAt(rocksdb::ReadOptions(), keys, values);
  }
  Status Write(const KvWrite& w) override {
    rocksdb::WriteBatch batch;
    for (const auto& [b, e] : w.delete_ranges) {
      VX_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(b, e), "write " + path_));
    }
    for (const auto& [k, v] : w.puts) {
      VX_RETURN_IF_ERROR(FromRocks(v ? batch.Put(k, *v) : batch.Delete(k), "write " + path_));
    }
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "write " + path_);
  }
  Status Compact(const std::string& begin, const std::string& end) override {
    VX_RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions()), "flush " + path_));
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    const rocksdb::Slice b(begin), e(end);
    return FromRocks(db_->CompactRange(o, &b, &e), "compact " + path_);
  }
  struct SnapshotView final : View {
    RocksKv& kv;
    const rocksdb::Snapshot* snapshot;
    rocksdb::ReadOptions options;
    explicit SnapshotView(RocksKv& k) : kv(k), snapshot(k.db_->GetSnapshot()) {
      options.snapshot = snapshot;
    }
    ~SnapshotView() override { kv.db_->ReleaseSnapshot(snapshot); }
    Result<std::optional<std::string>> Get(std::string_view key) override {
      return kv.GetAt(options, key);
    }
    Status Scan(std::string_view b, std::string_view e, const ScanFn& fn) override {
      return kv.ScanAt(options, b, e, fn);
    }
    Status MultiGet(const std::vector<std::string_view>& keys,
                    std::vector<std::optional<std::string>>* values) override {
      return kv.MultiGetAt(options, keys, values);
    }
  };
  std::unique_ptr<View> Snapshot() override { return std::make_unique<SnapshotView>(*this); }

 private:
  Status MultiGetAt(const rocksdb::ReadOptions& options, const std::vector<std::string_view>& keys,
                    std::vector<std::optional<std::string>>* values) {
    values->assign(keys.size(), std::nullopt);
    if (keys.empty()) return Status::Ok();
    std::vector<rocksdb::Slice> slices;
    slices.reserve(keys.size());
    for (std::string_view k : keys) slices.emplace_back(k.data(), k.size());
    std::vector<rocksdb::PinnableSlice> found(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(options, db_->DefaultColumnFamily(), keys.size(), slices.data(), found.data(),
                  statuses.data());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      VX_RETURN_IF_ERROR(FromRocks(statuses[i], "read " + path_));
      (*values)[i] = found[i].ToString();
    }
    return Status::Ok();
  }
  Result<std::optional<std::string>> GetAt(const rocksdb::ReadOptions& options,
                                           std::string_view key) {
    std::string value;
    rocksdb::Status s = db_->Get(options, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    VX_RETURN_IF_ERROR(FromRocks(s, "read " + path_));
    return std::optional<std::string>(std::move(value));
  }
  Status ScanAt(rocksdb::ReadOptions options, std::string_view begin, std::string_view end,
                const ScanFn& fn) {
    const rocksdb::Slice upper(end.data(), end.size());
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
      if (!fn(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    return FromRocks(it->status(), "read " + path_);
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::string path_;
};

}  // namespace

// ---- The projection -------------------------------------------------------------------------

struct ImpactProjection::Batch {
  std::unordered_map<std::string, PatientFacts> patients;  // changed in this batch
  std::unordered_map<std::string, std::string> entities;   // entity -> region, new in this batch
  Deltas deltas;
  std::vector<std::string> erased;  // patients erased in this batch: their old facts compacted
};

ImpactProjection::ImpactProjection(std::unique_ptr<Kv> kv, ImpactOptions options)
    : kv_(std::move(kv)), options_(options) {}

ImpactProjection::~ImpactProjection() = default;

std::unique_ptr<ImpactProjection> ImpactProjection::InMemory(ImpactOptions options) {
  return std::unique_ptr<ImpactProjection>(
      new ImpactProjection(std::make_unique<MemoryKv>(), options));
}

Result<std::unique_ptr<ImpactProjection>> ImpactProjection::Open(const std::string& dir,
                                                                 ImpactOptions options,
                                                                 bool read_only) {
  rocksdb::Options o;
  o.info_log = eventstore::AsRocksLogger(eventstore::NewRocksDbLogger(dir));
  o.create_if_missing = !read_only;
  o.IncreaseParallelism(2);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_mb << 20);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (!read_only) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return FailedPrecondition("cannot create " + dir + ": " + ec.message());
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(o, dir, &raw) : rocksdb::DB::Open(o, dir, &raw);
  // Beside a writer, a read-only open can read a MANIFEST that names a table file the writer's
  // compaction has just deleted: reading the MANIFEST again sees the files that replaced it.
  for (int attempt = 0;
       read_only && attempt < 10 && !s.ok() &&
       (s.IsCorruption() || s.IsIOError() || s.IsPathNotFound()) && std::filesystem::exists(dir);
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10 << std::min(attempt, 4)));
    s = rocksdb::DB::OpenForReadOnly(o, dir, &raw);
  }
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Unavailable("the impact projection " + dir + " is in use by another process");
    }
    if (read_only && !std::filesystem::exists(dir)) {
      return FailedPrecondition("there is no impact projection in " + dir +
                                ": start `vaxledger serve` once to build it");
    }
    return FromRocks(s, "open " + dir);
  }
  std::unique_ptr<ImpactProjection> p(new ImpactProjection(
      std::make_unique<RocksKv>(std::unique_ptr<rocksdb::DB>(raw), dir), options));
  VX_ASSIGN_OR_RETURN(auto version, p->kv_->Get(kVersionKey));
  if (version && *version != kVersion) {
    return FailedPrecondition("the impact projection " + dir + " has format version " + *version +
                              " and this program reads " + std::string(kVersion) +
                              ": remove the directory, it is rebuilt from the log");
  }
  VX_ASSIGN_OR_RETURN(auto position, p->kv_->Get(kPositionKey));
  if (position) p->position_ = static_cast<Position>(DecodeCount(*position));
  VX_ASSIGN_OR_RETURN(auto population, p->kv_->Get(kPopulationKey));
  if (population) {
    auto json = nlohmann::json::parse(*population, nullptr, false);
    auto parsed = impact::PopulationFromPayload(json);
    if (!parsed.ok()) return DataLoss(dir + " holds a malformed population");
    p->population_ = std::move(parsed).value();
  }
  return p;
}

std::vector<AgeBand> ImpactProjection::Bands() const {
  return population_ ? population_->bands : DefaultBands();
}

Result<PatientFacts> ImpactProjection::Facts(Batch& batch, const std::string& patient,
                                             bool* found) {
  *found = true;
  if (auto it = batch.patients.find(patient); it != batch.patients.end()) return it->second;
  if (auto it = cache_.find(patient); it != cache_.end()) return it->second;
  ++reads_;
  VX_ASSIGN_OR_RETURN(auto bytes, kv_->Get(PatientKey(patient)));
  if (!bytes) {
    *found = false;
    return PatientFacts{};
  }
  return impact::DecodePatientFacts(*bytes);
}

Status ImpactProjection::ApplyOne(Batch& batch, const eventstore::RecordedEvent& r) {
  const std::string& type = r.event.type;
  const bool registered = type == "vaccination.registered";
  const bool corrected = type == "vaccination.corrected";
  const bool retracted = type == "vaccination.entered_in_error";
  const bool entity_created = type == "entity.created";
  const bool erased = type == event_type::kSubjectErased && r.event.stream.starts_with("patient:");
  if (!registered && !corrected && !retracted && !entity_created && !erased) return Status::Ok();
  auto decoded = DecodePayload(type, AsBytes(r.event.payload));
  if (!decoded.ok()) {
    return DataLoss("the payload of event " + std::to_string(r.position) +
                    " does not decode: " + decoded.status().message());
  }
  const nlohmann::json& payload = *decoded;
  if (entity_created) {
    std::string region = Str(payload, "region");
    batch.entities[Str(payload, "entity")] = region.empty() ? "unknown" : region;
    return Status::Ok();
  }
  if (!r.event.stream.starts_with("patient:")) {
    return DataLoss("vaccination event " + std::to_string(r.position) +
                    " is not in a patient stream");
  }
  const std::string patient = r.event.stream.substr(8);
  bool found = false;
  VX_ASSIGN_OR_RETURN(PatientFacts before, Facts(batch, patient, &found));
  PatientFacts after = before;
  const std::string id = Str(payload, "vaccination_id");
  if (erased) {
    // Issue 16: the birth date was personal data; the doses count in the unknown age band now,
    // as a rebuild without the patient's key counts them.
    if (!found) return Status::Ok();
    after.birth_day.reset();
    batch.erased.push_back(patient);
  } else if (registered) {
    if (!after.birth_day && !r.event.personal_data.empty()) {
      VX_ASSIGN_OR_RETURN(const nlohmann::json personal,
                          OpenedPersonal(options_.subjects.get(), r));
      if (auto insz = ParseInsz(Str(personal, "insz")); insz.ok() && insz->birth_date) {
        after.birth_day = impact::DayOf(*insz->birth_date);
      } else if (auto day = impact::DayOf(Str(personal, "birth_date"))) {
        after.birth_day = day;
      }
    }
    impact::ImpactDose d;
    d.id = id;
    d.product = Str(payload, "product");
    d.entity = r.event.entity;
    auto day = impact::DayOf(Str(payload, "date"));
    if (!day) return DataLoss("vaccination event " + std::to_string(r.position) + " has no date");
    d.day = *day;
    d.position = r.position;
    if (auto it = batch.entities.find(d.entity); it != batch.entities.end()) {
      d.region = it->second;
    } else {
      ++reads_;
      VX_ASSIGN_OR_RETURN(auto region, kv_->Get(EntityKey(d.entity)));
      d.region = region ? *region : "unknown";
    }
    after.doses.push_back(std::move(d));
  } else {
    auto it = std::find_if(after.doses.begin(), after.doses.end(),
                           [&](const impact::ImpactDose& d) { return d.id == id; });
    if (it == after.doses.end()) return Status::Ok();  // the decision refused nothing we know of
    if (retracted) {
      it->active = false;
    } else {
      const nlohmann::json& now = payload.contains("now") ? payload["now"] : payload;
      if (auto p = Str(now, "product"); !p.empty()) it->product = p;
      if (auto day = impact::DayOf(Str(now, "date"))) it->day = *day;
    }
  }
  const std::vector<AgeBand>& bands = population_ ? population_->bands : DefaultBands();
  AddDifference(found ? ContributionOf(before, bands) : Contribution{},
                ContributionOf(after, bands), batch.deltas);
  batch.patients[patient] = std::move(after);
  return Status::Ok();
}

Status ImpactProjection::Flush(Batch& batch, Position position) {
  if (position == position_.load() && batch.patients.empty() && batch.entities.empty()) {
    return Status::Ok();
  }
  KvWrite w;
  // In key order: RocksDB's memtable inserts and MultiGet are cheaper for sorted keys.
  std::vector<std::pair<std::string_view, int64_t>> sorted;
  sorted.reserve(batch.deltas.size());
  for (const auto& [key, delta] : batch.deltas) {
    if (delta != 0) sorted.emplace_back(key, delta);
  }
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string_view> keys;
  std::vector<int64_t> deltas;
  keys.reserve(sorted.size());
  deltas.reserve(sorted.size());
  for (const auto& [key, delta] : sorted) {
    keys.push_back(key);
    deltas.push_back(delta);
  }
  reads_ += keys.size();
  std::vector<std::optional<std::string>> current;
  VX_RETURN_IF_ERROR(kv_->MultiGet(keys, &current));
  for (size_t i = 0; i < keys.size(); ++i) {
    const int64_t sum = (current[i] ? DecodeCount(*current[i]) : 0) + deltas[i];
    w.puts.emplace_back(std::string(keys[i]),
                        sum == 0 ? std::nullopt : std::optional(EncodeCount(sum)));
  }
  for (const auto& [patient, facts] : batch.patients) {
    w.puts.emplace_back(PatientKey(patient), impact::EncodePatientFacts(facts));
  }
  for (const auto& [entity, region] : batch.entities) {
    w.puts.emplace_back(EntityKey(entity), region);
  }
  w.puts.emplace_back(std::string(kPositionKey), EncodeCount(static_cast<int64_t>(position)));
  w.puts.emplace_back(std::string(kVersionKey), std::string(kVersion));
  VX_RETURN_IF_ERROR(kv_->Write(w));
  // Issue 16: the erased patients' earlier facts (their birth day) leave the files.
  for (const std::string& patient : batch.erased) {
    VX_RETURN_IF_ERROR(kv_->Compact(PatientKey(patient), PatientKey(patient)));
  }
  if (cache_.size() + batch.patients.size() > options_.cache_records) cache_.clear();
  for (auto& [patient, facts] : batch.patients) {
    if (cache_.size() < options_.cache_records) cache_[patient] = std::move(facts);
  }
  position_ = position;
  batch = Batch{};
  return Status::Ok();
}

Status ImpactProjection::LoadPopulation(const impact::Population& population, Position position) {
  KvWrite w;
  if (Bands() != population.bands) {
    // The coverage counters follow the bands: recompute them from every patient record. Memory:
    // one counter per distinct Fenwick node (bounded by regions x bands x days x 18).
    Deltas nodes;
    Status failed;
    VX_RETURN_IF_ERROR(kv_->Scan("P", "Q", [&](std::string_view, std::string_view value) {
      ++reads_;
      auto facts = impact::DecodePatientFacts(value);
      if (!facts.ok()) {
        failed = facts.status();
        return false;
      }
      const impact::Classification c = impact::Classify(*facts);
      for (const impact::CoverageStep& s : impact::CoverageSteps(*facts, c, population.bands)) {
        impact::ForEachFenwickUpdate(impact::FenwickIndex(s.day), [&](uint32_t node) {
          nodes[FenwickKey(s.region, s.band, s.milestone, node)] += s.delta;
        });
      }
      return true;
    }));
    VX_RETURN_IF_ERROR(failed);
    w.delete_ranges.emplace_back("F", "G");
    for (const auto& [key, value] : nodes) {
      if (value != 0) w.puts.emplace_back(key, EncodeCount(value));
    }
  }
  w.puts.emplace_back(std::string(kPopulationKey), impact::PopulationPayload(population).dump());
  w.puts.emplace_back(std::string(kPositionKey), EncodeCount(static_cast<int64_t>(position)));
  w.puts.emplace_back(std::string(kVersionKey), std::string(kVersion));
  VX_RETURN_IF_ERROR(kv_->Write(w));
  population_ = population;
  position_ = position;
  return Status::Ok();
}

Status ImpactProjection::Apply(std::span<const eventstore::RecordedEvent> events) {
  Batch batch;
  Position next = position_.load();
  for (const eventstore::RecordedEvent& e : events) {
    if (e.position < next) continue;
    if (e.position != next) {
      return DataLoss("the impact projection expected event " + std::to_string(next) +
                      " and was given " + std::to_string(e.position));
    }
    if (e.event.type == impact::kPopulationLoaded) {
      VX_RETURN_IF_ERROR(Flush(batch, next));
      auto payload = DecodePayload(e.event.type, AsBytes(e.event.payload));
      auto population = payload.ok() ? impact::PopulationFromPayload(*payload)
                                     : Result<impact::Population>(payload.status());
      if (!population.ok()) {
        return DataLoss("population event " + std::to_string(e.position) +
                        " is malformed: " + population.status().message());
      }
      VX_RETURN_IF_ERROR(LoadPopulation(*population, next + 1));
    } else {
      VX_RETURN_IF_ERROR(ApplyOne(batch, e));
    }
    ++next;
  }
  return Flush(batch, next);
}

Result<Position> ImpactProjection::CatchUp(eventstore::LogStorage& log, const LogBound& bound) {
  while (true) {
    size_t max = options_.batch_events;
    if (bound.before) {
      if (position_.load() >= *bound.before) return position_.load();
      max = std::min<uint64_t>(max, *bound.before - position_.load());
    }
    VX_ASSIGN_OR_RETURN(auto records, log.ReadRecords(position_.load(), max, true));
    if (records.empty()) return position_.load();
    std::vector<eventstore::RecordedEvent> events;
    events.reserve(records.size());
    bool past = false;
    for (auto& record : records) {
      VX_ASSIGN_OR_RETURN(eventstore::RecordedEvent e, eventstore::DecodeLeaf(record.leaf));
      if (bound.time_us && e.recorded_at_us > *bound.time_us) {
        past = true;
        break;
      }
      events.push_back(std::move(e));
    }
    VX_RETURN_IF_ERROR(Apply(events));
    if (past) return position_.load();
  }
}

Result<std::optional<impact::Population>> ImpactProjection::LoadedPopulation() const {
  auto view = kv_->Snapshot();
  VX_ASSIGN_OR_RETURN(auto text, view->Get(kPopulationKey));
  if (!text) return std::optional<impact::Population>();
  auto parsed = impact::PopulationFromPayload(nlohmann::json::parse(*text, nullptr, false));
  if (!parsed.ok()) return DataLoss("the impact projection holds a malformed population");
  return std::optional<impact::Population>(std::move(parsed).value());
}

Result<std::optional<std::string>> ImpactProjection::EntityRegion(const std::string& entity) const {
  ++reads_;
  return kv_->Snapshot()->Get(EntityKey(entity));
}

Result<std::vector<DosesRow>> ImpactProjection::Doses(const DosesQuery& q) const {
  int32_t from = q.from, to = q.to;
  if (to < from) return InvalidArgument("to must not be before from", "to");
  if (q.by_week) {
    from = impact::WeekStart(from);
    to = impact::WeekStart(to) + 6;
  }
  if (to - from + 1 > options_.max_days) {
    return InvalidArgument(
        "a doses query covers at most " + std::to_string(options_.max_days) + " days", "to");
  }
  auto view = kv_->Snapshot();
  // Rows come out of a scan in (day, product, region, kind) order; weeks are summed.
  std::map<std::tuple<int32_t, std::string, std::string, int>, int64_t> weeks;
  std::vector<DosesRow> out;
  auto add = [&](int32_t day, std::string_view product, std::string_view region, int kind,
                 int64_t n) {
    if (!q.product.empty() && product != q.product) return;
    if (!q.region.empty() && region != q.region) return;
    if (n == 0) return;
    if (q.by_week) {
      weeks[{impact::WeekStart(day), std::string(product), std::string(region), kind}] += n;
    } else {
      out.push_back(
          {day, std::string(product), std::string(region), static_cast<DoseKind>(kind), n});
    }
  };
  Status bad;
  if (!q.entity.empty()) {
    ++reads_;
    VX_ASSIGN_OR_RETURN(auto region, view->Get(EntityKey(q.entity)));
    const std::string entity_region = region ? *region : "unknown";
    const size_t skip = 1 + q.entity.size() + 1;
    VX_RETURN_IF_ERROR(view->Scan(
        EntityDosesPrefix(q.entity, from), EntityDosesPrefix(q.entity, to + 1),
        [&](std::string_view key, std::string_view value) {
          ++reads_;
          std::string_view rest = key.substr(skip);  // day product 0x00 kind
          const size_t zero = rest.find('\0', 4);
          if (rest.size() < 6 || zero == std::string_view::npos || zero + 2 != rest.size()) {
            bad = DataLoss("a malformed doses counter in the impact projection");
            return false;
          }
          add(DayFromBits(GetBe32(rest)), rest.substr(4, zero - 4), entity_region,
              rest[zero + 1] - '0', DecodeCount(value));
          return true;
        }));
  } else {
    VX_RETURN_IF_ERROR(view->Scan(
        DosesPrefix(from), DosesPrefix(to + 1), [&](std::string_view key, std::string_view value) {
          ++reads_;
          std::string_view rest = key.substr(1);  // day product 0x00 region 0x00 kind
          const size_t z1 = rest.find('\0', 4);
          const size_t z2 = z1 == std::string_view::npos ? z1 : rest.find('\0', z1 + 1);
          if (z2 == std::string_view::npos || z2 + 2 != rest.size()) {
            bad = DataLoss("a malformed doses counter in the impact projection");
            return false;
          }
          add(DayFromBits(GetBe32(rest)), rest.substr(4, z1 - 4), rest.substr(z1 + 1, z2 - z1 - 1),
              rest[z2 + 1] - '0', DecodeCount(value));
          return true;
        }));
  }
  VX_RETURN_IF_ERROR(bad);
  for (auto& [key, n] : weeks) {
    auto& [day, product, region, kind] = key;
    out.push_back({day, product, region, static_cast<DoseKind>(kind), n});
  }
  return out;
}

Result<CoverageAnswer> ImpactProjection::Coverage(const CoverageQuery& q) const {
  auto view = kv_->Snapshot();
  CoverageAnswer answer;
  VX_ASSIGN_OR_RETURN(auto text, view->Get(kPopulationKey));
  if (text) {
    auto parsed = impact::PopulationFromPayload(nlohmann::json::parse(*text, nullptr, false));
    if (!parsed.ok()) return DataLoss("the impact projection holds a malformed population");
    answer.population = std::move(parsed).value();
  }
  const std::vector<AgeBand> bands = answer.population ? answer.population->bands : DefaultBands();
  const int nbands = static_cast<int>(bands.size());
  // people[region][band + 1][milestone]; band -1 (index 0): age unknown.
  std::vector<std::vector<std::array<int64_t, impact::kMilestones>>> people(
      kCoverageRegions.size(), std::vector<std::array<int64_t, impact::kMilestones>>(nbands + 1));
  std::vector<std::vector<int64_t>> population(kCoverageRegions.size(),
                                               std::vector<int64_t>(nbands + 1));
  if (answer.population) {
    for (const impact::PopulationRow& r : answer.population->rows) {
      const std::string region = impact::CoverageRegion(r.region);
      for (size_t i = 0; i < kCoverageRegions.size(); ++i) {
        if (kCoverageRegions[i] == region) population[i][r.band + 1] += r.population;
      }
    }
  }
  // Every cell's prefix sum (at most 17 nodes each), read in one MultiGet.
  const uint32_t index = impact::FenwickIndex(q.date);
  std::vector<std::string> keys;
  std::vector<int64_t*> cell_of;
  for (size_t ri = 0; ri < kCoverageRegions.size(); ++ri) {
    for (int b = -1; b < nbands; ++b) {
      for (int m = 0; m < impact::kMilestones; ++m) {
        impact::ForEachFenwickPrefix(index, [&](uint32_t node) {
          keys.push_back(FenwickKey(kCoverageRegions[ri], b, m, node));
          cell_of.push_back(&people[ri][b + 1][m]);
        });
      }
    }
  }
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::optional<std::string>> values;
  reads_ += keys.size();
  VX_RETURN_IF_ERROR(view->MultiGet(views, &values));
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i]) *cell_of[i] += DecodeCount(*values[i]);
  }
  auto nonzero = [](const CoverageRow& r) {
    return r.population != 0 || r.people[0] != 0 || r.people[1] != 0 || r.people[2] != 0;
  };
  // Rows of the "unknown" region and of unknown ages appear only when they hold someone.
  auto emit = [&](CoverageRow row, bool always) {
    if (always || nonzero(row)) answer.rows.push_back(std::move(row));
  };
  const size_t regions = kCoverageRegions.size();
  if (q.by_region) {
    for (size_t ri = 0; ri < regions; ++ri) {
      const bool known = kCoverageRegions[ri] != "unknown";
      if (q.by_age) {
        for (int b = 0; b <= nbands; ++b) {
          CoverageRow row;
          row.region = std::string(kCoverageRegions[ri]);
          if (b == 0) {
            row.age_unknown = true;
          } else {
            row.band = bands[b - 1];
          }
          row.population = population[ri][b];
          row.people = people[ri][b];
          emit(std::move(row), known && b > 0);
        }
      } else {
        CoverageRow row;
        row.region = std::string(kCoverageRegions[ri]);
        for (int b = 0; b <= nbands; ++b) {
          row.population += population[ri][b];
          for (int m = 0; m < impact::kMilestones; ++m) row.people[m] += people[ri][b][m];
        }
        emit(std::move(row), known);
      }
    }
  } else if (q.by_age) {
    for (int b = 1; b <= nbands; ++b) {
      CoverageRow row;
      row.band = bands[b - 1];
      for (size_t ri = 0; ri < regions; ++ri) {
        row.population += population[ri][b];
        for (int m = 0; m < impact::kMilestones; ++m) row.people[m] += people[ri][b][m];
      }
      emit(std::move(row), true);
    }
    CoverageRow unknown;
    unknown.age_unknown = true;
    for (size_t ri = 0; ri < regions; ++ri) {
      for (int m = 0; m < impact::kMilestones; ++m) unknown.people[m] += people[ri][0][m];
    }
    emit(std::move(unknown), false);
  } else {
    CoverageRow total;
    for (size_t ri = 0; ri < regions; ++ri) {
      for (int b = 0; b <= nbands; ++b) {
        total.population += population[ri][b];
        for (int m = 0; m < impact::kMilestones; ++m) total.people[m] += people[ri][b][m];
      }
    }
    emit(std::move(total), true);
  }
  return answer;
}

// ---- The follower ---------------------------------------------------------------------------

ImpactFollower::ImpactFollower(eventstore::EventLog& log, ImpactProjection& projection,
                               ImpactOptions options)
    : projection_(projection),
      options_(options),
      subscription_(log.Subscribe(projection.position())) {
  thread_ = std::thread([this] { Run(); });
}

Result<std::unique_ptr<ImpactFollower>> ImpactFollower::Start(eventstore::EventLog& log,
                                                              ImpactProjection& projection,
                                                              ImpactOptions options) {
  if (const Position size = log.Size(); projection.position() > size) {
    return DataLoss("the impact projection has applied " + std::to_string(projection.position()) +
                    " events but the log holds only " + std::to_string(size) +
                    ": remove DIR/impact, it is rebuilt from the log");
  }
  return std::unique_ptr<ImpactFollower>(new ImpactFollower(log, projection, options));
}

ImpactFollower::~ImpactFollower() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  subscription_->Cancel();
  thread_.join();
}

Status ImpactFollower::WaitFor(Position position, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const bool done = cv_.wait_for(
      lock, timeout, [&] { return projection_.position() >= position || !failed_.ok(); });
  if (!failed_.ok()) return Unavailable("the impact projection stopped: " + failed_.message());
  if (!done) return Unavailable("the impact projection did not catch up in time");
  return Status::Ok();
}

void ImpactFollower::Run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto events = subscription_->Next(options_.batch_events, std::chrono::milliseconds(500));
    Status s = events.status();
    if (s.ok() && !events->empty()) s = projection_.Apply(*events);
    std::lock_guard lock(mutex_);
    if (!s.ok()) {
      failed_ = s;
      cv_.notify_all();
      return;
    }
    cv_.notify_all();
  }
}

}  // namespace vaxledger::projections
