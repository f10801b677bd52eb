// An in-memory LogStorage: for tests (it runs the same conformance suite as RocksDB) and for
// fault injection (FailNextCommits). Nothing survives the object.
// Thread-safe.
#pragma once

#include <memory>

#include "eventstore/log_storage.h"

namespace vaxledger::eventstore {

class MemoryStorage : public LogStorage {
 public:
  MemoryStorage();
  ~MemoryStorage() override;

  // The next `count` commits fail with Unavailable and change nothing.
  void FailNextCommits(int count);
  // The next `count` commits are refused with ResourceExhausted (as a full disk is: nothing
  // written, the storage stays usable); Writable() says so until they have been.
  void RefuseNextCommits(int count);

  // While held, Commit blocks (after counting itself in commits_entered) until released.
  void HoldCommits(bool hold);
  // How many Commit calls have begun; WaitForCommitsEntered blocks until at least `n` have.
  int commits_entered() const;
  void WaitForCommitsEntered(int n) const;

  Status Commit(const CommitBatch& batch) override;
  Status Writable() override;
  Result<Position> RecordCount() override;
  Result<std::vector<StoredRecord>> ReadRecords(Position from, size_t max, bool forward) override;
  Result<RawScan> ScanRecords(Position from, size_t max) override;
  Result<std::optional<Position>> FindEventId(const EventId& id) override;
  Result<std::optional<uint64_t>> StreamHeadVersion(std::string_view stream) override;
  Result<Hash> ReadTreeNode(uint8_t level, uint64_t index) override;
  Result<std::optional<std::string>> ReadCheckpoint() override;
  Result<std::optional<std::string>> ReadFirstKey() override;
  Result<std::vector<std::pair<uint64_t, std::string>>> ReadCheckpoints(uint64_t from,
                                                                        size_t max) override;
  Result<std::vector<Position>> ReadStreamPositions(std::string_view stream, uint64_t from_version,
                                                    size_t max, bool forward) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vaxledger::eventstore
