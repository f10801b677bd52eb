#include "eventstore/memory_storage.h"

#include <condition_variable>
#include <map>
#include <mutex>

namespace vaxledger::eventstore {
namespace {

// Up to `max` elements of `v` from index `from`, upwards, or from min(from, size-1) downwards.
template <typename T, typename Out>
std::vector<Out> Slice(const std::vector<T>& v, uint64_t from, size_t max, bool forward) {
  std::vector<Out> out;
  if (forward) {
    for (uint64_t i = from; i < v.size() && out.size() < max; ++i) out.push_back(v[i]);
  } else if (!v.empty()) {
    for (uint64_t i = std::min<uint64_t>(from, v.size() - 1); out.size() < max; --i) {
      out.push_back(v[i]);
      if (i == 0) break;
    }
  }
  return out;
}

}  // namespace

struct MemoryStorage::State {
  mutable std::mutex mu;
  mutable std::condition_variable cv;  // hold and commits_entered changes
  bool hold = false;
  int commits_entered = 0;
  std::vector<StoredRecord> records;  // index = position
  std::map<EventId, Position> event_ids;
  std::map<std::string, std::vector<Position>, std::less<>> streams;  // index = version
  std::map<std::pair<uint8_t, uint64_t>, Hash> tree;
  std::optional<std::string> checkpoint;
  std::map<uint64_t, std::string> checkpoints;
  std::optional<std::string> first_key;
  int fail_commits = 0;
  int refuse_commits = 0;
};

MemoryStorage::MemoryStorage() : state_(std::make_unique<State>()) {}
MemoryStorage::~MemoryStorage() = default;

void MemoryStorage::FailNextCommits(int count) {
  std::lock_guard lock(state_->mu);
  state_->fail_commits = count;
}

void MemoryStorage::RefuseNextCommits(int count) {
  std::lock_guard lock(state_->mu);
  state_->refuse_commits = count;
}

Status MemoryStorage::Writable() {
  std::lock_guard lock(state_->mu);
  if (state_->refuse_commits > 0) return ResourceExhausted("memory storage: injected full disk");
  return Status::Ok();
}

void MemoryStorage::HoldCommits(bool hold) {
  std::lock_guard lock(state_->mu);
  state_->hold = hold;
  state_->cv.notify_all();
}

int MemoryStorage::commits_entered() const {
  std::lock_guard lock(state_->mu);
  return state_->commits_entered;
}

void MemoryStorage::WaitForCommitsEntered(int n) const {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->commits_entered >= n; });
}

Status MemoryStorage::Commit(const CommitBatch& batch) {
  std::unique_lock lock(state_->mu);
  ++state_->commits_entered;
  state_->cv.notify_all();
  state_->cv.wait(lock, [&] { return !state_->hold; });
  if (state_->fail_commits > 0) {
    --state_->fail_commits;
    return Unavailable("memory storage: injected commit failure");
  }
  if (state_->refuse_commits > 0) {
    --state_->refuse_commits;
    return ResourceExhausted("memory storage: injected full disk");
  }
  for (size_t i = 0; i < batch.records.size(); ++i) {
    if (batch.records[i].position != state_->records.size() + i) {
      return Internal("memory storage: commit does not continue the log");
    }
  }
  for (const auto& e : batch.stream_entries) {
    auto& versions = state_->streams[e.stream];
    if (e.version != versions.size()) return Internal("memory storage: stream version gap");
    versions.push_back(e.position);
  }
  for (const auto& [id, pos] : batch.event_ids) state_->event_ids.emplace(id, pos);
  for (const auto& r : batch.records) state_->records.push_back(r);
  for (const auto& n : batch.tree_nodes) state_->tree[{n.level, n.index}] = n.hash;
  if (!batch.first_key.empty()) state_->first_key = batch.first_key;
  if (!batch.checkpoint.empty()) {
    state_->checkpoint = batch.checkpoint;
    state_->checkpoints[batch.checkpoint_size] = batch.checkpoint;
  }
  return Status::Ok();
}

Result<Position> MemoryStorage::RecordCount() {
  std::lock_guard lock(state_->mu);
  return Position{state_->records.size()};
}

Result<std::vector<StoredRecord>> MemoryStorage::ReadRecords(Position from, size_t max,
                                                             bool forward) {
  std::lock_guard lock(state_->mu);
  return Slice<StoredRecord, StoredRecord>(state_->records, from, max, forward);
}

Result<LogStorage::RawScan> MemoryStorage::ScanRecords(Position from, size_t max) {
  VX_ASSIGN_OR_RETURN(auto records, ReadRecords(from, max, /*forward=*/true));
  return RawScan{std::move(records), {}};
}

Result<std::optional<Position>> MemoryStorage::FindEventId(const EventId& id) {
  std::lock_guard lock(state_->mu);
  auto it = state_->event_ids.find(id);
  if (it == state_->event_ids.end()) return std::optional<Position>();
  return std::optional<Position>(it->second);
}

Result<std::optional<uint64_t>> MemoryStorage::StreamHeadVersion(std::string_view stream) {
  std::lock_guard lock(state_->mu);
  auto it = state_->streams.find(stream);
  if (it == state_->streams.end()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(it->second.size() - 1);
}

Result<Hash> MemoryStorage::ReadTreeNode(uint8_t level, uint64_t index) {
  std::lock_guard lock(state_->mu);
  auto it = state_->tree.find({level, index});
  if (it == state_->tree.end()) {
    return NotFound("tree node " + std::to_string(level) + "/" + std::to_string(index));
  }
  return it->second;
}

Result<std::optional<std::string>> MemoryStorage::ReadCheckpoint() {
  std::lock_guard lock(state_->mu);
  return state_->checkpoint;
}

Result<std::optional<std::string>> MemoryStorage::ReadFirstKey() {
  std::lock_guard lock(state_->mu);
  return state_->first_key;
}

Result<std::vector<std::pair<uint64_t, std::string>>> MemoryStorage::ReadCheckpoints(uint64_t from,
                                                                                     size_t max) {
  std::lock_guard lock(state_->mu);
  std::vector<std::pair<uint64_t, std::string>> out;
  for (auto it = state_->checkpoints.lower_bound(from);
       it != state_->checkpoints.end() && out.size() < max; ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

Result<std::vector<Position>> MemoryStorage::ReadStreamPositions(std::string_view stream,
                                                                 uint64_t from_version, size_t max,
                                                                 bool forward) {
  std::lock_guard lock(state_->mu);
  auto it = state_->streams.find(stream);
  if (it == state_->streams.end()) return std::vector<Position>();
  return Slice<Position, Position>(it->second, from_version, max, forward);
}

}  // namespace vaxledger::eventstore
