// The records of one view store as a working set reads them (core/registry_state.h
// RecordSource): at a snapshot, or at the latest state when there is none (the follower, the
// only writer, and a rebuild read their own writes).
//
// Thread-safety: as the store; a working set uses it from one thread.
#pragma once

#include <memory>
#include <string>

#include "core/registry_state.h"
#include "projections/view_store.h"

namespace vaxledger::projections {

class StoreSource : public RecordSource {
 public:
  StoreSource(const ViewStore& store, std::shared_ptr<const ViewStore::Snapshot> snapshot)
      : store_(store), snapshot_(std::move(snapshot)) {}
  Result<std::optional<std::string>> Get(const std::string& key) const override {
    return store_.Get(key, snapshot_.get());
  }
  Status Scan(const std::string& prefix, const std::string& start,
              const std::function<bool(const std::string&, const std::string&)>& f) const override {
    return store_.Scan(prefix, start, f, snapshot_.get());
  }

 private:
  const ViewStore& store_;
  std::shared_ptr<const ViewStore::Snapshot> snapshot_;
};

// Points each view of `state` at its source (kViewNames order).
inline void SetSources(RegistryState& state, const RecordSource* membership,
                       const RecordSource* requests, const RecordSource* vaccinations,
                       const RecordSource* stock) {
  state.membership.set_source(membership);
  state.requests.set_source(requests);
  state.vaccinations.set_source(vaccinations);
  state.stock.set_source(stock);
}

}  // namespace vaxledger::projections
