#include "eventstore/log_verifier.h"

#include <algorithm>
#include <future>
#include <map>

#include "core/merkle.h"
#include "eventstore/checkpoint.h"
#include "eventstore/internal/worker_pool.h"
#include "eventstore/leaf.h"

namespace vaxledger::eventstore {
namespace {

struct Failure {
  Position position = 0;
  std::string reason;
};

// The outcome of one chunk, checked on its own; the link to the chunk before it is checked after.
struct ChunkResult {
  Position first = 0;  // first position of the chunk
  Position end = 0;    // one past the last position the chunk should hold
  Hash first_prev{};   // prev_leaf_hash of the first record
  Hash last_hash{};    // leaf hash of the last record
  int64_t first_time = 0;
  int64_t last_time = 0;
  std::vector<Hash> hashes;  // leaf hashes of the records that verified
  std::optional<Failure> failure;
};

// A checkpoint of the history whose signature is checked in parallel with the chunks.
struct PendingCheckpoint {
  uint64_t size = 0;
  std::string note;
  Result<Checkpoint> opened = Internal("not opened");
  bool outside = false;  // the acknowledged checkpoint (VerifyOptions), not one of the source's
};

// Which key is in force from which position: the first key from 0, then each key a rotation
// event names from the position after it. Built by the reading thread for one round; read by the
// workers.
struct KeySchedule {
  std::vector<std::pair<Position, std::optional<NoteVerifierKey>>> from;  // sorted by position
  const std::optional<NoteVerifierKey>& At(Position p) const {
    auto it = std::upper_bound(from.begin(), from.end(), p,
                               [](Position q, const auto& e) { return q < e.first; });
    return std::prev(it)->second;
  }
};

// What is read and verified at once: a few chunks per thread, and the checkpoints among them.
struct Round {
  KeySchedule keys;
  std::vector<LogStorage::RawScan> scans;
  std::vector<ChunkResult> results;
  std::vector<PendingCheckpoint> checkpoints;
};

void Fail(ChunkResult& r, Position p, std::string reason) {
  if (!r.failure || p < r.failure->position) r.failure = Failure{p, std::move(reason)};
}

void VerifyChunk(const LogStorage::RawScan& scan, const KeySchedule& keys, ChunkResult& r) {
  Position expected = r.first;
  Hash prev{};
  int64_t prev_time = 0;
  std::vector<Position> malformed = scan.malformed;
  std::sort(malformed.begin(), malformed.end());
  for (const StoredRecord& rec : scan.records) {
    if (rec.position != expected) {
      Fail(r, expected, "record is missing");
      return;
    }
    const Position p = rec.position;
    if (std::binary_search(malformed.begin(), malformed.end(), p)) {
      Fail(r, p, "stored record is malformed");
      return;
    }
    auto header = ReadLeafHeader(rec.leaf);
    if (!header.ok()) {
      Fail(r, p, header.status().message());
      return;
    }
    if (header->position != p) {
      Fail(r, p, "leaf names position " + std::to_string(header->position));
      return;
    }
    Hash h = LeafHash(rec.leaf);
    if (p == r.first) {
      r.first_prev = header->prev_leaf_hash;
      r.first_time = header->recorded_at_us;
    } else {
      if (header->prev_leaf_hash != prev) {
        Fail(r, p,
             "prev_leaf_hash does not match the leaf hash of position " + std::to_string(p - 1));
        return;
      }
      if (header->recorded_at_us < prev_time) {
        Fail(r, p, "recorded time is earlier than at position " + std::to_string(p - 1));
        return;
      }
    }
    const std::optional<NoteVerifierKey>& key = keys.At(p);
    const std::string id = HexEncode(ByteView(rec.key_id.data(), 4));
    if (!key) {
      Fail(r, p, "signed by key id " + id + ", which is not a trusted first key");
      return;
    }
    if (key->key_id != rec.key_id) {
      Fail(r, p, "signed by key id " + id + " while the key in force is " + key->ToText());
      return;
    }
    if (!Ed25519Verify(key->public_key, EventSignedMessage(h), rec.signature)) {
      Fail(r, p, "signature does not verify");
      return;
    }
    prev = h;
    prev_time = header->recorded_at_us;
    r.hashes.push_back(h);
    ++expected;
  }
  if (expected != r.end) Fail(r, expected, "record is missing");
  r.last_hash = prev;
  r.last_time = prev_time;
}

}  // namespace

namespace {

class StorageSource : public LedgerSource {
 public:
  explicit StorageSource(LogStorage& storage) : storage_(storage) {}
  Result<std::optional<std::string>> LatestCheckpoint() override {
    return storage_.ReadCheckpoint();
  }
  Result<Position> RecordCount() override { return storage_.RecordCount(); }
  Result<LogStorage::RawScan> ScanRecords(Position from, size_t max) override {
    return storage_.ScanRecords(from, max);
  }
  Result<std::vector<std::pair<uint64_t, std::string>>> CheckpointsBetween(uint64_t from,
                                                                           uint64_t to) override {
    std::vector<std::pair<uint64_t, std::string>> out;
    while (from <= to) {
      VX_ASSIGN_OR_RETURN(auto page, storage_.ReadCheckpoints(from, 1024));
      for (auto& entry : page) {
        if (entry.first > to) return out;
        out.push_back(std::move(entry));
      }
      if (page.size() < 1024) break;
      from = out.back().first + 1;
    }
    return out;
  }

 private:
  LogStorage& storage_;
};

// What a verification that starts past 0 takes as established below its start.
struct Start {
  Position from = 0;
  Hash prev_hash{};  // leaf hash at from-1
  int64_t prev_time = 0;
  std::optional<NoteVerifierKey> in_force;  // the key in force at `from`
  merkle::CompactRange range;               // the tree's edge at `from`
};

Result<VerifyReport> VerifyFrom(LedgerSource& storage, const std::vector<NoteVerifierKey>& keys,
                                const VerifyOptions& options, Start start);

}  // namespace

Result<VerifyReport> VerifyLog(LogStorage& storage, const std::vector<NoteVerifierKey>& keys,
                               const VerifyOptions& options) {
  StorageSource source(storage);
  return VerifyLedger(source, keys, options);
}

Result<VerifyReport> VerifyLedger(LedgerSource& storage, const std::vector<NoteVerifierKey>& keys,
                                  const VerifyOptions& options) {
  return VerifyFrom(storage, keys, options, Start{});
}

Result<VerifyReport> VerifyTail(LogStorage& storage, const Checkpoint& verified,
                                const std::vector<NoteVerifierKey>& keys,
                                const VerifyOptions& options) {
  if (verified.size == 0) return VerifyLog(storage, keys, options);
  const Position from = verified.size;
  VerifyReport report;
  auto fail = [&](Position at, std::string reason) {
    report.first_failure = at;
    report.reason = std::move(reason);
    report.verified = at;
    return report;
  };
  VX_ASSIGN_OR_RETURN(report.size, storage.RecordCount());
  if (report.size < from) {
    return fail(report.size, "the log holds " + std::to_string(report.size) +
                                 " events, fewer than the " + std::to_string(from) +
                                 " verified before: positions " + std::to_string(report.size) +
                                 ".." + std::to_string(from - 1) + " are missing");
  }
  Start start;
  start.from = from;
  auto range = merkle::CompactRange::Load(from, TreeNodeReader(storage));
  if (!range.ok() || range->Root() != verified.root) {
    return fail(from, "the stored tree at size " + std::to_string(from) +
                          " is not the one verified before" +
                          (range.ok() ? std::string() : ": " + range.status().message()));
  }
  start.range = std::move(range).value();
  auto last = storage.ReadRecords(from - 1, 1, /*forward=*/true);
  if (!last.ok() || last->size() != 1) {
    return fail(from - 1,
                "cannot be read" + (last.ok() ? std::string() : ": " + last.status().message()));
  }
  auto header = ReadLeafHeader(last->front().leaf);
  if (!header.ok()) return fail(from - 1, header.status().message());
  start.prev_hash = LeafHash(last->front().leaf);
  start.prev_time = header->recorded_at_us;
  // A leaf at from-1 other than the verified one breaks the chain at `from` (its
  // prev_leaf_hash was verified against the original).
  VX_ASSIGN_OR_RETURN(auto schedule, ReadKeySchedule(storage));
  bool trusted = false;
  for (const auto& k : keys)
    trusted |= !schedule.empty() && k.ToText() == schedule[0].second.ToText();
  if (!trusted) return fail(0, "the log's first key is not a trusted first key");
  for (const auto& [at, key] : schedule) {
    if (at <= from) start.in_force = key;
  }
  StorageSource source(storage);
  return VerifyFrom(source, keys, options, std::move(start));
}

namespace {

Result<VerifyReport> VerifyFrom(LedgerSource& storage, const std::vector<NoteVerifierKey>& keys,
                                const VerifyOptions& options, Start start) {
  VerifyReport report;
  // The latest checkpoint before the count: a writer commits both at once, so the count read
  // after it is at least the checkpoint's size.
  VX_ASSIGN_OR_RETURN(auto latest, storage.LatestCheckpoint());
  VX_ASSIGN_OR_RETURN(report.size, storage.RecordCount());
  internal::WorkerPool pool(options.threads);
  const size_t chunk = std::max<size_t>(1, options.chunk_records);
  const size_t chunks_per_round = pool.threads() * 4;

  // The size the outside checkpoint claims, read from its text (its signature is checked with
  // the others, once the key in force at that size is known).
  std::optional<uint64_t> acknowledged_size;
  if (options.acknowledged_checkpoint) {
    auto claimed = ParseCheckpointSize(*options.acknowledged_checkpoint);
    if (!claimed.ok()) {
      report.checkpoint_problem = "the checkpoint file: " + claimed.status().message();
    } else {
      acknowledged_size = *claimed;
    }
  }
  Hash prev_hash = start.prev_hash;  // leaf hash before the next chunk; zero before position 0
  int64_t prev_time = start.prev_time;
  merkle::CompactRange range = std::move(start.range);
  report.verified = start.from;
  // Reads the next round of chunks and the checkpoints that fall in it.
  Position next = start.from;
  // The key in force at `next`. Position 0 chooses among the trusted keys by its key id; a
  // rotation event that fails its own checks is caught by the workers before anything after it
  // counts.
  std::optional<NoteVerifierKey> in_force = start.in_force;
  auto read_round = [&]() -> Result<Round> {
    Round round;
    const Position round_start = next;
    round.keys.from.emplace_back(round_start, in_force);
    for (size_t c = 0; c < chunks_per_round && next < report.size; ++c) {
      size_t n = std::min<Position>(chunk, report.size - next);
      ChunkResult r;
      r.first = next;
      r.end = next + n;
      auto scanned = storage.ScanRecords(next, n);
      if (!scanned.ok() && scanned.status().code() == Code::kDataLoss) {
        // Damage the storage itself noticed (a block checksum): find the first position that
        // cannot be read, so that the report names it; the records before it are verified.
        LogStorage::RawScan partial;
        for (Position p = next; p < next + n; ++p) {
          auto one = storage.ScanRecords(p, 1);
          if (!one.ok()) {
            Fail(r, p, "cannot be read: " + one.status().message());
            break;
          }
          for (auto& rec : one->records) partial.records.push_back(std::move(rec));
          for (Position m : one->malformed) partial.malformed.push_back(m);
        }
        if (!r.failure) return scanned.status();  // not reproducible record by record
        scanned = std::move(partial);
      }
      VX_RETURN_IF_ERROR(scanned.status());
      auto scan = std::move(scanned).value();
      for (const StoredRecord& rec : scan.records) {
        if (rec.position == 0) {
          in_force.reset();
          for (const auto& k : keys) {
            if (k.key_id == rec.key_id) in_force = k;
          }
          round.keys.from.back().second = in_force;
        }
        auto rotation = ReadKeyRotation(rec.leaf);
        if (rotation.ok() && *rotation) {
          auto next_key = NoteVerifierKey::Parse(**rotation);
          // A rotation to an unreadable key leaves no key in force: what follows fails.
          in_force = next_key.ok() ? std::optional<NoteVerifierKey>(*next_key) : std::nullopt;
          round.keys.from.emplace_back(rec.position + 1, in_force);
        }
      }
      round.scans.push_back(std::move(scan));
      round.results.push_back(std::move(r));
      next += n;
    }
    if (next > round_start) {
      VX_ASSIGN_OR_RETURN(auto notes, storage.CheckpointsBetween(round_start + 1, next));
      for (auto& [size, note] : notes) round.checkpoints.push_back({size, std::move(note)});
      if (acknowledged_size && *acknowledged_size > round_start && *acknowledged_size <= next) {
        PendingCheckpoint c{*acknowledged_size, *options.acknowledged_checkpoint};
        c.outside = true;
        auto at =
            std::upper_bound(round.checkpoints.begin(), round.checkpoints.end(), c.size,
                             [](uint64_t s, const PendingCheckpoint& p) { return s < p.size; });
        round.checkpoints.insert(at, std::move(c));
      }
    }
    return round;
  };
  // Verifies a round on the pool, in the background.
  auto verify_async = [&](Round& r) {
    return std::async(std::launch::async, [&pool, &r] {
      pool.ParallelFor(r.scans.size() + r.checkpoints.size(), [&](size_t i) {
        if (i < r.scans.size()) {
          VerifyChunk(r.scans[i], r.keys, r.results[i]);
        } else {
          PendingCheckpoint& c = r.checkpoints[i - r.scans.size()];
          // A checkpoint of size S is signed by the key in force after leaf S-1.
          const auto& key = r.keys.At(c.size);
          c.opened = key ? OpenCheckpoint(c.note, {*key})
                         : Result<Checkpoint>(InvalidArgument("no trusted key is in force"));
        }
      });
    });
  };
  // Three things overlap: the pool verifies round k+1 while this thread checks the links,
  // tree and checkpoints of round k, then reads round k+2.
  VX_ASSIGN_OR_RETURN(Round first, read_round());
  auto round = std::make_unique<Round>(std::move(first));
  std::future<void> verified = verify_async(*round);
  while (!round->results.empty()) {
    Result<Round> next_read = read_round();
    verified.get();
    VX_RETURN_IF_ERROR(next_read.status());
    auto next_round = std::make_unique<Round>(std::move(next_read).value());
    // Declared after next_round: destroyed (waited for) first on every return below.
    std::future<void> next_verified = verify_async(*next_round);
    std::vector<ChunkResult>& results = round->results;
    std::vector<PendingCheckpoint>& checkpoints = round->checkpoints;
    size_t cp = 0;
    for (auto& r : results) {
      // The chunk's own failure and its link to the chunk before: whichever position is first.
      std::optional<Failure> failure = r.failure;
      bool first_checked = !failure || failure->position > r.first;
      if (first_checked) {
        if (r.first_prev != prev_hash) {
          failure = Failure{r.first, r.first == 0 ? "prev_leaf_hash of position 0 is not zero"
                                                  : "prev_leaf_hash does not match the leaf hash "
                                                    "of position " +
                                                        std::to_string(r.first - 1)};
        } else if (r.first_time < prev_time) {
          failure = Failure{
              r.first, "recorded time is earlier than at position " + std::to_string(r.first - 1)};
        }
      }
      // Extend the tree over the records before the failure, checking each checkpoint reached.
      for (const Hash& h : r.hashes) {
        if (failure && range.size() >= failure->position) break;
        range.Append(h);
        for (; cp < checkpoints.size() && checkpoints[cp].size <= range.size(); ++cp) {
          const PendingCheckpoint& c = checkpoints[cp];
          if (!report.checkpoint_problem.empty()) continue;
          const std::string which =
              (c.outside ? "the checkpoint file's checkpoint at size " : "checkpoint at size ") +
              std::to_string(c.size);
          if (!c.opened.ok()) {
            report.checkpoint_problem = which + ": " + c.opened.status().message();
          } else if (c.opened->size != c.size || c.opened->root != range.Root()) {
            report.checkpoint_problem = which + ": its root is not the Merkle root of the leaves";
          } else if (!c.outside) {
            ++report.checkpoints_verified;
          }
        }
      }
      if (failure) {
        report.verified = failure->position;
        report.first_failure = failure->position;
        report.reason = failure->reason;
        report.root = range.Root();
        return report;
      }
      prev_hash = r.last_hash;
      prev_time = r.last_time;
      report.verified = r.end;
    }
    if (options.progress) options.progress(report.verified, report.size);
    round = std::move(next_round);
    verified = std::move(next_verified);
  }
  report.root = range.Root();
  report.final_key = in_force;
  if (report.checkpoint_problem.empty() && acknowledged_size && *acknowledged_size > report.size) {
    report.checkpoint_problem = "the log holds " + std::to_string(report.size) +
                                " events, but the checkpoint file says " +
                                std::to_string(*acknowledged_size) +
                                " were acknowledged: positions " + std::to_string(report.size) +
                                ".." + std::to_string(*acknowledged_size - 1) + " are missing";
  }
  if (report.checkpoint_problem.empty() && report.size > 0) {
    if (!latest) {
      report.checkpoint_problem = "the log has no checkpoint";
    } else {
      auto opened = in_force ? OpenCheckpoint(*latest, {*in_force})
                             : Result<Checkpoint>(InvalidArgument("no trusted key is in force"));
      if (!opened.ok()) {
        report.checkpoint_problem = "latest checkpoint: " + opened.status().message();
      } else if (opened->size != report.size || opened->root != report.root) {
        report.checkpoint_problem = "latest checkpoint covers " + std::to_string(opened->size) +
                                    " events, the log holds " + std::to_string(report.size) +
                                    (opened->size == report.size ? " but its root differs" : "");
      }
    }
  }
  return report;
}

}  // namespace
}  // namespace vaxledger::eventstore
