// What tests/projections/erasure_test.cc and its child process share: the data directory's
// layout, the keys, and opening the registry on it (a log, a key store, views).
#pragma once

#include <memory>
#include <string>

#include "core/crypto.h"
#include "core/note_key.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/registry.h"

namespace vaxledger::testing {

inline constexpr PseudonymKey kErasurePseudonymKey{4, 2};

inline const NoteSigner& ErasureSigner() {
  static const NoteSigner signer("erasure.test/log", Ed25519Key::FromSeed(Seed{9, 9}));
  return signer;
}

struct ErasureDir {
  std::unique_ptr<eventstore::EventLog> log;
  std::shared_ptr<eventstore::KeyStore> keys;
  std::unique_ptr<projections::Registry> registry;
};

// Opens DIR/log (created when `create`), DIR/keys and DIR/views; `step` as
// RegistryOptions::erasure_step.
inline Result<ErasureDir> OpenErasureDir(const std::string& dir, bool create,
                                         std::function<void(std::string_view)> step = {}) {
  ErasureDir d;
  eventstore::RocksDbStorageOptions o;
  o.create_if_missing = create;
  VX_ASSIGN_OR_RETURN(auto storage, eventstore::OpenRocksDbStorage(dir + "/log", o));
  VX_ASSIGN_OR_RETURN(d.log, eventstore::EventLog::Open(std::move(storage), ErasureSigner()));
  VX_ASSIGN_OR_RETURN(auto keys, eventstore::KeyStore::Open(dir + "/keys", kErasurePseudonymKey));
  d.keys = std::move(keys);
  projections::RegistryOptions options;
  options.views_dir = dir + "/views";
  options.subjects = d.keys;
  options.erasure_step = std::move(step);
  VX_ASSIGN_OR_RETURN(d.registry, projections::Registry::Open(*d.log, options));
  return d;
}

}  // namespace vaxledger::testing
