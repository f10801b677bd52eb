#include "eventstore/log_verifier.h"

#include <algorithm>
#include <map>

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
  std::optional<Failure> failure;
};

void Fail(ChunkResult& r, Position p, std::string reason) {
  if (!r.failure || p < r.failure->position) r.failure = Failure{p, std::move(reason)};
}

void VerifyChunk(const LogStorage::RawScan& scan, const std::map<KeyId, PublicKey>& keys,
                 ChunkResult& r) {
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
    auto key = keys.find(rec.key_id);
    if (key == keys.end()) {
      Fail(r, p, "signed by unknown key id " + HexEncode(ByteView(rec.key_id.data(), 4)));
      return;
    }
    if (!Ed25519Verify(key->second, EventSignedMessage(h), rec.signature)) {
      Fail(r, p, "signature does not verify");
      return;
    }
    prev = h;
    prev_time = header->recorded_at_us;
    ++expected;
  }
  if (expected != r.end) Fail(r, expected, "record is missing");
  r.last_hash = prev;
  r.last_time = prev_time;
}

}  // namespace

Result<VerifyReport> VerifyLog(LogStorage& storage, const std::vector<NoteVerifierKey>& keys,
                               const VerifyOptions& options) {
  std::map<KeyId, PublicKey> key_map;
  for (const auto& k : keys) key_map[k.key_id] = k.public_key;

  VerifyReport report;
  VX_ASSIGN_OR_RETURN(report.size, storage.RecordCount());
  internal::WorkerPool pool(options.threads);
  const size_t chunk = std::max<size_t>(1, options.chunk_records);
  const size_t chunks_per_round = pool.threads() * 4;

  Hash prev_hash{};  // leaf hash before the next chunk; zero before position 0
  int64_t prev_time = 0;
  Position next = 0;
  while (next < report.size) {
    // Read a round of chunks, then verify them in parallel.
    std::vector<LogStorage::RawScan> scans;
    std::vector<ChunkResult> results;
    for (size_t c = 0; c < chunks_per_round && next < report.size; ++c) {
      size_t n = std::min<Position>(chunk, report.size - next);
      VX_ASSIGN_OR_RETURN(auto scan, storage.ScanRecords(next, n));
      scans.push_back(std::move(scan));
      ChunkResult r;
      r.first = next;
      r.end = next + n;
      results.push_back(r);
      next += n;
    }
    pool.ParallelFor(scans.size(), [&](size_t i) { VerifyChunk(scans[i], key_map, results[i]); });
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
      if (failure) {
        report.verified = failure->position;
        report.first_failure = failure->position;
        report.reason = failure->reason;
        return report;
      }
      prev_hash = r.last_hash;
      prev_time = r.last_time;
      report.verified = r.end;
    }
    if (options.progress) options.progress(report.verified, report.size);
  }
  return report;
}

}  // namespace vaxledger::eventstore
