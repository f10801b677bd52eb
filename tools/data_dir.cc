#include "tools/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
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
#include "eventstore/checkpoint.h"
#include "eventstore/checkpoint_file.h"
#include "eventstore/key_store.h"
#include "eventstore/log_verifier.h"
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
std::string ImpactPath(const std::string& dir) { return dir + "/impact"; }
std::string CheckpointFilePath(const std::string& dir) { return dir + "/checkpoint"; }
std::string VerifiedFilePath(const std::string& dir) { return dir + "/verified"; }

Status CheckPrivateDataDir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return FailedPrecondition("data directory " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return FailedPrecondition("data directory " + dir + " is not a directory");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition("data directory " + dir + " has mode " + mode +
                              ": group or others can enter it, and it holds personal data; run "
                              "`chmod 700 " +
                              dir +
                              "` (and keep it owned by the user that runs "
                              "vaxledger)");
  }
  return Status::Ok();
}

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

std::string KeyStorePath(const std::string& dir) { return dir + "/keys"; }

Result<std::shared_ptr<Subjects>> OpenSubjects(const std::string& dir, bool read_only) {
  VX_ASSIGN_OR_RETURN(PseudonymKey key, LoadPseudonymKey(dir));
  std::error_code ec;
  if (!std::filesystem::exists(KeyStorePath(dir), ec)) {
    return FailedPrecondition("the key store " + KeyStorePath(dir) +
                              " is missing: restore it from its backup (without it every "
                              "person's and patient's personal data reads as erased)");
  }
  eventstore::KeyStoreOptions options;
  options.read_only = read_only;
  VX_ASSIGN_OR_RETURN(auto store, eventstore::KeyStore::Open(KeyStorePath(dir), key, options));
  return std::shared_ptr<Subjects>(std::move(store));
}

Result<std::unique_ptr<EventLog>> InitDataDir(const std::string& dir, const std::string& origin,
                                              const std::string& first_administrator) {
  std::optional<Insz> admin;
  if (!first_administrator.empty()) {
    VX_ASSIGN_OR_RETURN(admin, ParseInsz(first_administrator));
  }
  // The origin is the registry key's name: refused before anything is created.
  if (Status name = ValidateKeyName(origin); !name.ok()) {
    return InvalidArgument("--origin: " + name.message(), "origin");
  }
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return FailedPrecondition("cannot create " + parent.string() + ": " + ec.message());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return FailedPrecondition("cannot create " + dir + ": " + std::strerror(errno));
  }
  if (std::filesystem::exists(LogPath(dir))) {
    return Status(Code::kAlreadyExists, dir + " already holds an event log");
  }
  if (std::filesystem::is_empty(dir, ec) && ::chmod(dir.c_str(), 0700) != 0) {
    return FailedPrecondition("cannot chmod " + dir + ": " + std::strerror(errno));
  }
  VX_RETURN_IF_ERROR(CheckPrivateDataDir(dir));
  VX_ASSIGN_OR_RETURN(NoteSigner signer, eventstore::CreateRegistryKey(KeyPath(dir), origin));
  const PseudonymKey pseudonym_key = Pseudonymizer::GenerateKey();
  VX_RETURN_IF_ERROR(eventstore::CreateSecretFile(
      PseudonymKeyPath(dir), "pseudonym key",
      HexEncode(ByteView(pseudonym_key.data(), pseudonym_key.size()))));
  eventstore::RocksDbStorageOptions storage_options;
  storage_options.create_if_missing = true;
  VX_ASSIGN_OR_RETURN(auto storage, eventstore::OpenRocksDbStorage(LogPath(dir), storage_options));
  const std::string vkey = signer.verifier().ToText();
  eventstore::EventLogOptions log_options;
  log_options.checkpoint_file = CheckpointFilePath(dir);
  VX_ASSIGN_OR_RETURN(auto log, EventLog::Open(std::move(storage), std::move(signer), log_options));

  eventstore::NewEvent genesis;
  genesis.event_id = eventstore::EventId::Random();
  genesis.stream = "registry";
  genesis.type = "registry.initialised";
  genesis.actor = {"system", "system"};
  genesis.payload = nlohmann::json{{"origin", origin}, {"vkey", vkey}}.dump();
  eventstore::AppendBatch batch;
  batch.events.push_back(std::move(genesis));
  batch.expectations.push_back({"registry", eventstore::ExpectedVersion::NoStream()});
  VX_ASSIGN_OR_RETURN(auto subjects, eventstore::KeyStore::Open(KeyStorePath(dir), pseudonym_key));
  if (admin) {
    VX_ASSIGN_OR_RETURN(DomainEvent first, FirstAdministratorGrant(*subjects, admin->digits));
    VX_ASSIGN_OR_RETURN(eventstore::NewEvent grant,
                        projections::ToNewEvent(first, eventstore::EventId::Random(),
                                                eventstore::EventId(), *subjects));
    batch.events.push_back(std::move(grant));
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

// The start-up check of OpenDataDir: the tail since the last verification.
Status VerifyAtStart(
    const std::string& dir, eventstore::LogStorage& storage,
    const std::function<void(eventstore::Position, eventstore::Position)>& progress) {
  VX_ASSIGN_OR_RETURN(auto schedule, eventstore::ReadKeySchedule(storage));
  if (schedule.empty()) return Status::Ok();  // an empty log
  std::vector<NoteVerifierKey> keys;
  for (const auto& [from, key] : schedule) keys.push_back(key);
  eventstore::VerifyOptions options;
  options.progress = progress;
  VX_ASSIGN_OR_RETURN(options.acknowledged_checkpoint,
                      eventstore::CheckpointFile::ReadLatest(CheckpointFilePath(dir)));
  VX_ASSIGN_OR_RETURN(auto verified_note,
                      eventstore::CheckpointFile::ReadLatest(VerifiedFilePath(dir)));
  eventstore::Checkpoint verified;  // size 0: verify everything
  if (verified_note) {
    auto opened = eventstore::OpenCheckpoint(*verified_note, keys);
    if (!opened.ok()) {
      return DataLoss("the checkpoint in " + VerifiedFilePath(dir) +
                      " does not open under the log's keys: " + opened.status().message());
    }
    verified = *opened;
  }
  VX_ASSIGN_OR_RETURN(auto report,
                      eventstore::VerifyTail(storage, verified, {keys.front()}, options));
  const std::string how = "; `vaxledger ledger verify --data " + dir + "` checks the whole log";
  if (report.first_failure) {
    return DataLoss("the event log does not verify at position " +
                    std::to_string(*report.first_failure) + ": " + report.reason + how);
  }
  if (!report.checkpoint_problem.empty()) {
    return DataLoss("the event log does not verify: " + report.checkpoint_problem + how);
  }
  return Status::Ok();
}

Result<std::unique_ptr<EventLog>> OpenDataDir(
    const std::string& dir, eventstore::EventLogOptions options,
    const std::function<void(eventstore::Position, eventstore::Position)>& progress) {
  VX_RETURN_IF_ERROR(CheckPrivateDataDir(dir));
  if (options.checkpoint_file.empty()) options.checkpoint_file = CheckpointFilePath(dir);
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
  VX_RETURN_IF_ERROR(VerifyAtStart(dir, *storage, progress));
  VX_ASSIGN_OR_RETURN(auto log,
                      EventLog::Open(std::move(storage), std::move(signer), std::move(options)));
  if (const eventstore::LogHead head = log->Head(); head.size > 0) {
    VX_ASSIGN_OR_RETURN(auto verified,
                        eventstore::CheckpointFile::Open(VerifiedFilePath(dir), /*create=*/true));
    VX_RETURN_IF_ERROR(verified->Write(head.checkpoint));
  }
  return log;
}

Status VerifyTailAtStop(
    const std::string& dir, EventLog& log,
    const std::function<void(eventstore::Position, eventstore::Position)>& progress) {
  VX_RETURN_IF_ERROR(VerifyAtStart(dir, log.storage(), progress));
  if (const eventstore::LogHead head = log.Head(); head.size > 0) {
    VX_ASSIGN_OR_RETURN(auto verified,
                        eventstore::CheckpointFile::Open(VerifiedFilePath(dir), /*create=*/true));
    VX_RETURN_IF_ERROR(verified->Write(head.checkpoint));
  }
  return Status::Ok();
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
