#include "tools/data_dir.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"

namespace vaxledger::tools {

using eventstore::EventLog;

std::string KeyPath(const std::string& dir) { return dir + "/registry.key"; }
std::string LogPath(const std::string& dir) { return dir + "/log"; }

Result<std::unique_ptr<EventLog>> InitDataDir(const std::string& dir, const std::string& origin) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPrecondition("cannot create " + dir + ": " + ec.message());
  if (std::filesystem::exists(LogPath(dir))) {
    return Status(Code::kAlreadyExists, dir + " already holds an event log");
  }
  VX_ASSIGN_OR_RETURN(NoteSigner signer, eventstore::CreateRegistryKey(KeyPath(dir), origin));
  eventstore::RocksDbStorageOptions storage_options;
  storage_options.create_if_missing = true;
  VX_ASSIGN_OR_RETURN(auto storage, eventstore::OpenRocksDbStorage(LogPath(dir), storage_options));
  const std::string vkey = signer.verifier().ToText();
  VX_ASSIGN_OR_RETURN(auto log, EventLog::Open(std::move(storage), std::move(signer)));

  eventstore::NewEvent genesis;
  genesis.event_id = eventstore::EventId::Random();
  genesis.stream = "registry";
  genesis.type = "registry.initialised";
  genesis.actor = {"system", "system"};
  genesis.payload = nlohmann::json{{"origin", origin}, {"vkey", vkey}}.dump();
  eventstore::AppendBatch batch;
  batch.events.push_back(std::move(genesis));
  batch.expectations.push_back({"registry", eventstore::ExpectedVersion::NoStream()});
  VX_ASSIGN_OR_RETURN(auto appended, log->Append(batch));
  (void)appended;
  return log;
}

Result<std::unique_ptr<EventLog>> OpenDataDir(const std::string& dir,
                                              eventstore::EventLogOptions options) {
  VX_ASSIGN_OR_RETURN(NoteSigner signer, eventstore::LoadRegistryKey(KeyPath(dir)));
  VX_ASSIGN_OR_RETURN(auto storage, eventstore::OpenRocksDbStorage(LogPath(dir)));
  return EventLog::Open(std::move(storage), std::move(signer), std::move(options));
}

}  // namespace vaxledger::tools
