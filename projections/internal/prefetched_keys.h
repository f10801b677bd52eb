// The data keys of many events looked up together (Subjects::Keys: one RocksDB MultiGet in the
// key store) and then answered from memory: what a rebuild does per chunk of the log, instead of
// one lookup per event. It holds the keys only as long as the chunk is being converted; the keys
// it answers are those the store had when Prefetch ran. Everything else goes to `base`, or is
// refused (it makes and erases nothing).
//
// Thread-safety: not thread-safe; one per converting thread.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/subjects.h"
#include "eventstore/event.h"

namespace vaxledger::projections::internal {

class PrefetchedKeys final : public Subjects {
 public:
  explicit PrefetchedKeys(const Subjects& base) : base_(base) {}

  // Looks up the keys of the subjects of `events` that carry personal data (replacing those of
  // an earlier call).
  Status Prefetch(const std::vector<eventstore::RecordedEvent>& events) {
    keys_.clear();
    std::vector<std::string> subjects;
    for (const auto& r : events) {
      if (!r.event.personal_data.empty() && !keys_.contains(r.event.data_subject)) {
        keys_.emplace(r.event.data_subject, std::nullopt);
        subjects.push_back(r.event.data_subject);
      }
    }
    VX_ASSIGN_OR_RETURN(auto found, base_.Keys(subjects));
    for (size_t i = 0; i < subjects.size(); ++i) keys_[subjects[i]] = found[i];
    return Status::Ok();
  }

  Result<std::optional<DataKey>> Key(std::string_view subject) const override {
    if (auto it = keys_.find(std::string(subject)); it != keys_.end()) return it->second;
    return base_.Key(subject);
  }
  Result<std::optional<std::string>> Find(std::string_view kind,
                                          std::string_view identifier) const override {
    return base_.Find(kind, identifier);
  }
  Result<std::map<std::string, std::string>> Erasing() const override { return base_.Erasing(); }
  Result<std::string> Pseudonym(std::string_view, std::string_view) override { return ReadOnly(); }
  Status Erase(std::string_view) override { return ReadOnly(); }
  Status MarkErasing(std::string_view, std::string_view) override { return ReadOnly(); }
  Status ClearErasing(std::string_view) override { return ReadOnly(); }

 private:
  static Status ReadOnly() { return FailedPrecondition("prefetched keys only read"); }
  const Subjects& base_;
  std::unordered_map<std::string, std::optional<DataKey>> keys_;
};

}  // namespace vaxledger::projections::internal
