#include "tools/data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/encoding.h"
#include "core/identifiers.h"
#include "core/registry_commands.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "projections/views.h"

namespace vaxledger::tools {

using eventstore::EventLog;

std::string KeyPath(const std::string& dir) { return dir + "/registry.key"; }
std::string LogPath(const std::string& dir) { return dir + "/log"; }
std::string DevIdpKeyPath(const std::string& dir) { return dir + "/idp-dev.key"; }
std::string PseudonymKeyPath(const std::string& dir) { return dir + "/pseudonym.key"; }
std::string ViewsPath(const std::string& dir) { return dir + "/views"; }
std::string SessionsPath(const std::string& dir) { return dir + "/sessions"; }

Result<PseudonymKey> LoadPseudonymKey(const std::string& dir) {
  VX_ASSIGN_OR_RETURN(std::string text,
                      eventstore::ReadSecretFile(PseudonymKeyPath(dir), "pseudonym key"));
  auto bytes = HexDecode(text);
  PseudonymKey key{};
  if (!bytes.ok() || bytes->size() != key.size()) {
    return FailedPrecondition("pseudonym key " + PseudonymKeyPath(dir) +
                              " is not 64 lower-case hex digits");
  }
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

Result<std::unique_ptr<EventLog>> InitDataDir(const std::string& dir, const std::string& origin,
                                              const std::string& first_administrator) {
  std::optional<Insz> admin;
  if (!first_administrator.empty()) {
    VX_ASSIGN_OR_RETURN(admin, ParseInsz(first_administrator));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPrecondition("cannot create " + dir + ": " + ec.message());
  if (std::filesystem::exists(LogPath(dir))) {
    return Status(Code::kAlreadyExists, dir + " already holds an event log");
  }
  VX_ASSIGN_OR_RETURN(NoteSigner signer, eventstore::CreateRegistryKey(KeyPath(dir), origin));
  const PseudonymKey pseudonym_key = Pseudonymizer::GenerateKey();
  VX_RETURN_IF_ERROR(eventstore::CreateSecretFile(
      PseudonymKeyPath(dir), "pseudonym key",
      HexEncode(ByteView(pseudonym_key.data(), pseudonym_key.size()))));
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
  if (admin) {
    batch.events.push_back(projections::ToNewEvent(
        FirstAdministratorGrant(Pseudonymizer(pseudonym_key), admin->digits),
        eventstore::EventId::Random(), eventstore::EventId()));
  }
  VX_ASSIGN_OR_RETURN(auto appended, log->Append(batch));
  (void)appended;
  return log;
}

namespace {

std::string NextKeyPath(const std::string& dir) { return KeyPath(dir) + ".next"; }

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable("cannot sync " + dir + ": " + std::strerror(errno));
  return Status::Ok();
}

Status InstallNextKey(const std::string& dir) {
  if (std::rename(NextKeyPath(dir).c_str(), KeyPath(dir).c_str()) != 0) {
    return Unavailable("cannot rename " + NextKeyPath(dir) + ": " + std::strerror(errno));
  }
  return SyncDir(dir);
}

}  // namespace

Result<std::unique_ptr<EventLog>> OpenDataDir(const std::string& dir,
                                              eventstore::EventLogOptions options) {
  VX_ASSIGN_OR_RETURN(NoteSigner signer, eventstore::LoadRegistryKey(KeyPath(dir)));
  VX_ASSIGN_OR_RETURN(auto storage, eventstore::OpenRocksDbStorage(LogPath(dir)));
  if (std::filesystem::exists(NextKeyPath(dir))) {
    // An interrupted rotation: the log says which key is in force.
    VX_ASSIGN_OR_RETURN(NoteSigner next, eventstore::LoadRegistryKey(NextKeyPath(dir)));
    VX_ASSIGN_OR_RETURN(auto schedule, eventstore::ReadKeySchedule(*storage));
    if (!schedule.empty() && schedule.back().second.ToText() == next.verifier().ToText()) {
      VX_RETURN_IF_ERROR(InstallNextKey(dir));
      signer = std::move(next);
    } else if (std::remove(NextKeyPath(dir).c_str()) != 0) {
      return Unavailable("cannot remove " + NextKeyPath(dir) + ": " + std::strerror(errno));
    }
  }
  return EventLog::Open(std::move(storage), std::move(signer), std::move(options));
}

Result<Rotation> RotateRegistryKey(const std::string& dir) {
  VX_ASSIGN_OR_RETURN(auto log, OpenDataDir(dir));
  const NoteVerifierKey current = log->Head().key;
  VX_ASSIGN_OR_RETURN(NoteSigner next,
                      eventstore::CreateRegistryKey(NextKeyPath(dir), current.name));
  VX_RETURN_IF_ERROR(SyncDir(dir));
  const NoteVerifierKey next_key = next.verifier();
  VX_ASSIGN_OR_RETURN(eventstore::Position position, log->RotateKey(std::move(next)));
  log.reset();  // flush and close before the key file changes
  VX_RETURN_IF_ERROR(InstallNextKey(dir));
  return Rotation{position, next_key};
}

}  // namespace vaxledger::tools
