#include "projections/rebuild.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "core/encoding.h"
#include "eventstore/leaf.h"
#include "projections/internal/prefetched_keys.h"
#include "projections/store_source.h"
#include "projections/view_store.h"
#include "projections/views.h"

namespace vaxledger::projections {

using eventstore::Position;

namespace {

constexpr size_t kReadChunk = 4096;

bool PastBound(const eventstore::RecordedEvent& e, const LogBound& bound) {
  if (bound.before && e.position >= *bound.before) return true;
  if (bound.time_us && e.recorded_at_us > *bound.time_us) return true;
  return false;
}

// Chunks of decoded events from the reader thread to the applier: an empty chunk ends the
// stream, a chunk with an error status stops it.
struct Chunk {
  std::shared_ptr<const std::vector<DomainEvent>> events;  // null: the end (or an error)
  Status status;
};

class ChunkQueue {
 public:
  static constexpr size_t kCapacity = 4;
  // False when the consumer closed the queue.
  bool Push(Chunk chunk) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return queue_.size() < kCapacity || closed_; });
    if (closed_) return false;
    queue_.push_back(std::move(chunk));
    cv_.notify_all();
    return true;
  }
  Chunk Pop() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty(); });
    Chunk chunk = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return chunk;
  }
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;
  bool closed_ = false;
};

// Reads [0, total) up to `bound` in chunks, decoded, into every queue; ends with an empty chunk
// or an error.
void ReadChunks(eventstore::LogStorage& log, const Subjects& subjects, Position total,
                const LogBound& bound, const std::vector<ChunkQueue*>& queues) {
  Position next = 0;
  auto push = [&](const Chunk& chunk) {
    bool open = false;
    for (ChunkQueue* q : queues) open |= q->Push(chunk);
    return open;
  };
  auto fail = [&](Status s) { push(Chunk{nullptr, std::move(s)}); };
  internal::PrefetchedKeys keys(subjects);
  while (next < total) {
    auto records = log.ReadRecords(next, std::min<size_t>(kReadChunk, total - next), true);
    if (!records.ok()) return fail(records.status());
    if (records->empty()) {
      return fail(DataLoss("the log has no event at position " + std::to_string(next)));
    }
    std::vector<eventstore::RecordedEvent> decoded;
    decoded.reserve(records->size());
    for (const auto& record : *records) {
      auto recorded = eventstore::DecodeLeaf(record.leaf);
      if (!recorded.ok()) return fail(recorded.status());
      if (PastBound(*recorded, bound)) {
        total = next + decoded.size();  // stop after this chunk
        break;
      }
      decoded.push_back(std::move(recorded).value());
    }
    // The chunk's data keys in one lookup of the key store, not one per event.
    if (Status s = keys.Prefetch(decoded); !s.ok()) return fail(s);
    auto events = std::make_shared<std::vector<DomainEvent>>();
    events->reserve(decoded.size());
    for (const auto& recorded : decoded) {
      auto e = ToDomainEvent(recorded, keys);
      if (!e.ok()) return fail(e.status());
      events->push_back(std::move(e).value());
      ++next;
    }
    if (!events->empty() && !push(Chunk{std::move(events), Status::Ok()})) return;
  }
  push(Chunk{});
}

// Applies the events of `stream` up to `bound` to a fresh view with `apply`; returns how many.
template <typename Apply>
Result<size_t> ReplayStream(eventstore::LogStorage& log, const Subjects& subjects,
                            const std::string& stream, const LogBound& bound, Apply apply) {
  size_t applied = 0;
  uint64_t version = 0;
  while (true) {
    VX_ASSIGN_OR_RETURN(auto positions, log.ReadStreamPositions(stream, version, 1024, true));
    if (positions.empty()) return applied;
    for (Position p : positions) {
      VX_ASSIGN_OR_RETURN(auto records, log.ReadRecords(p, 1, true));
      if (records.empty()) return DataLoss("the log has no event at position " + std::to_string(p));
      VX_ASSIGN_OR_RETURN(eventstore::RecordedEvent recorded,
                          eventstore::DecodeLeaf(records[0].leaf));
      if (PastBound(recorded, bound)) return applied;
      VX_ASSIGN_OR_RETURN(DomainEvent e, ToDomainEvent(recorded, subjects));
      apply(e);
      ++applied;
    }
    version += positions.size();
  }
}

}  // namespace

Result<LogBound> ParseLogBound(std::string_view text, std::string_view field) {
  LogBound bound;
  const std::string f(field);
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    VX_ASSIGN_OR_RETURN(uint64_t p, ParseDecimal(text, f));
    bound.before = p + 1;  // "until POSITION" includes that position
    return bound;
  }
  const std::string copy(text);
  std::tm tm{};
  const char* end = ::strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return InvalidArgument(f + " must be a position or a UTC time YYYY-MM-DDTHH:MM:SSZ", f);
  }
  bound.time_us = static_cast<int64_t>(::timegm(&tm)) * 1000000 + 999999;
  return bound;
}

Result<RebuildReport> RebuildViews(eventstore::LogStorage& log, const std::string& views_dir,
                                   const RebuildOptions& options) {
  if (options.subjects == nullptr) {
    return InvalidArgument("subjects (the key store) is required", "subjects");
  }
  std::vector<size_t> selected;
  for (const std::string& name : options.views) {
    auto index = ViewIndex(name);
    if (!index) {
      return InvalidArgument(
          "view " + name + " is unknown (membership, requests, vaccinations, stock)", "view");
    }
    if (std::find(selected.begin(), selected.end(), *index) == selected.end()) {
      selected.push_back(*index);
    }
  }
  if (selected.empty()) {
    for (size_t i = 0; i < kViewCount; ++i) selected.push_back(i);
  }
  VX_ASSIGN_OR_RETURN(Position total, log.RecordCount());
  if (options.until.before) total = std::min(total, *options.until.before);

  // A reader thread reads, decodes and parses chunks of events; one applier thread per group of
  // views (the vaccinations view, the others) applies them to a working set of its own whose
  // records are read from, and every `flush_events` events written to, the new stores. Memory
  // stays bounded by what `flush_events` events touch, whatever the log holds.
  std::vector<std::vector<size_t>> groups(2);
  for (size_t v : selected) groups[v == 2 ? 0 : 1].push_back(v);
  std::erase_if(groups, [](const auto& g) { return g.empty(); });
  std::array<std::unique_ptr<ViewStore>, kViewCount> stores;
  for (size_t v : selected) {
    VX_ASSIGN_OR_RETURN(stores[v], ViewStore::CreateNext(views_dir, std::string(kViewNames[v])));
  }
  std::mutex callback_mutex;
  std::vector<ChunkQueue> queues(groups.size());
  std::vector<Status> failures(groups.size());
  std::vector<uint64_t> applied(groups.size(), 0);
  auto apply_group = [&](size_t g) {
    const std::vector<size_t>& views = groups[g];
    std::array<std::unique_ptr<StoreSource>, kViewCount> sources;
    for (size_t v : views) sources[v] = std::make_unique<StoreSource>(*stores[v], nullptr);
    auto fresh = [&] {
      auto ws = std::make_unique<RegistryState>();
      SetSources(*ws, sources[0].get(), sources[1].get(), sources[2].get(), sources[3].get());
      return ws;
    };
    std::array<uint64_t, kViewCount> written{};
    auto flush = [&](RegistryState& ws) -> Status {
      for (size_t v : views) {
        std::vector<std::pair<std::string, std::optional<std::string>>> chunk;
        auto write = [&]() -> Status {
          VX_RETURN_IF_ERROR(stores[v]->Write(chunk, std::nullopt, 0));
          written[v] += chunk.size();
          chunk.clear();
          if (options.on_write) {
            std::lock_guard lock(callback_mutex);
            options.on_write(kViewNames[v], written[v]);
          }
          return Status::Ok();
        };
        for (const std::string& key : TakeDirty(ws, v)) {
          chunk.emplace_back(key, EncodeRecord(ws, v, key));
          if (chunk.size() >= std::max<size_t>(1, options.write_chunk)) {
            VX_RETURN_IF_ERROR(write());
          }
        }
        if (!chunk.empty()) VX_RETURN_IF_ERROR(write());
      }
      return ws.load_status();
    };
    auto ws = fresh();
    uint64_t since_flush = 0;
    while (true) {
      Chunk chunk = queues[g].Pop();
      if (!chunk.status.ok()) {
        failures[g] = chunk.status;
        break;
      }
      if (!chunk.events) break;  // the end
      for (const DomainEvent& e : *chunk.events) {
        for (size_t v : views) ApplyTo(*ws, v, e);
      }
      applied[g] += chunk.events->size();
      since_flush += chunk.events->size();
      if (since_flush >= std::max<size_t>(1, options.flush_events)) {
        if (Status s = flush(*ws); !s.ok()) {
          failures[g] = s;
          break;
        }
        ws = fresh();
        since_flush = 0;
      }
      if (g == 0 && options.progress) {
        std::lock_guard lock(callback_mutex);
        options.progress(applied[g], total);
      }
    }
    if (failures[g].ok()) failures[g] = flush(*ws);
    queues[g].Close();
  };
  std::vector<ChunkQueue*> queue_ptrs;
  for (ChunkQueue& q : queues) queue_ptrs.push_back(&q);
  std::thread reader([&] { ReadChunks(log, *options.subjects, total, options.until, queue_ptrs); });
  std::vector<std::thread> appliers;
  for (size_t g = 1; g < groups.size(); ++g) appliers.emplace_back(apply_group, g);
  if (!groups.empty()) apply_group(0);
  for (std::thread& t : appliers) t.join();
  reader.join();
  for (const Status& s : failures) VX_RETURN_IF_ERROR(s);
  const uint64_t next = applied.empty() ? 0 : applied[0];

  RebuildReport report;
  report.events = next;
  for (size_t v : selected) {
    VX_RETURN_IF_ERROR(stores[v]->Write({}, next, SchemaVersion(v)));
    VX_RETURN_IF_ERROR(stores[v]->Publish());
    report.generations.emplace_back(std::string(kViewNames[v]), stores[v]->generation());
  }
  return report;
}

Result<std::vector<ViewStatus>> ReadViewStatus(const std::string& views_dir) {
  std::vector<ViewStatus> out;
  for (size_t v = 0; v < kViewCount; ++v) {
    ViewStatus s;
    s.name = std::string(kViewNames[v]);
    s.expected_schema = SchemaVersion(v);
    VX_ASSIGN_OR_RETURN(s.generation, ViewStore::CurrentGeneration(views_dir, s.name));
    if (s.generation != 0) {
      VX_ASSIGN_OR_RETURN(auto store, ViewStore::Open(views_dir, s.name, /*read_only=*/true));
      s.position = store->position();
      s.schema = store->schema();
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<Entity> EntityAsOf(eventstore::LogStorage& log, const Subjects& subjects,
                          const std::string& entity_id, const LogBound& bound) {
  MembershipView view;
  VX_ASSIGN_OR_RETURN(size_t n, ReplayStream(log, subjects, EntityStream(entity_id), bound,
                                             [&](const DomainEvent& e) { view.Apply(e); }));
  const Entity* entity = view.FindEntity(entity_id);
  if (n == 0 || entity == nullptr) {
    return Status(Code::kNotFound, "entity " + entity_id + " did not exist then", "entity");
  }
  return *entity;
}

Result<Patient> PatientAsOf(eventstore::LogStorage& log, const Subjects& subjects,
                            const std::string& patient_id, const LogBound& bound) {
  VaccinationsView view;
  VX_ASSIGN_OR_RETURN(size_t n, ReplayStream(log, subjects, PatientStream(patient_id), bound,
                                             [&](const DomainEvent& e) { view.Apply(e); }));
  const Patient* patient = view.FindPatient(patient_id);
  if (n == 0 || patient == nullptr) {
    return Status(Code::kNotFound, "the patient had no registrations then", "patient");
  }
  return *patient;
}

}  // namespace vaxledger::projections
