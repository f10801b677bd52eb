// The layout of a registry data directory, and opening the event log in it.
//
//   DIR/registry.key   the registry's signing key (eventstore/registry_key.h), mode 0600
//   DIR/log/           the RocksDB database of the event log (docs/storage.md)
//   DIR/idp-dev.key    the development identity provider's key, when one was created
//   DIR/pseudonym.key  the key of person and patient pseudonyms (core/pseudonym.h), 64 hex
//                      digits, mode 0600: losing it loses the link from an INSZ to its records
//   DIR/keys/          the key store: every subject's pseudonym and data key (core/subjects.h,
//                      eventstore/key_store.h); back it up apart from the log (docs/storage.md)
//   DIR/views/         the views' stores (projections/view_store.h)
//   DIR/outbox/        mails about access decisions, one file each (projections/mail_outbox.h)
//   DIR/impact/        the impact figures' RocksDB (projections/impact.h, docs/impact.md)
//   DIR/checkpoint     the latest acknowledged checkpoint, outside the log's database
//                      (eventstore/checkpoint_file.h)
//   DIR/verified       the checkpoint up to which the log was last verified at start (same form)
//
// DIR is mode 0700 and everything in it is created 0600/0700 (the program runs with umask 077):
// the log and the views hold personal data. Opening refuses a DIR that group or others can
// enter.
//
// Thread-safety: functions; the returned log is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/pseudonym.h"
#include "core/status.h"
#include "core/subjects.h"
#include "eventstore/event_log.h"

namespace vaxledger::tools {

std::string KeyPath(const std::string& dir);
std::string LogPath(const std::string& dir);
// The development identity provider's signing key (only for demo and tests; off in production).
std::string DevIdpKeyPath(const std::string& dir);
std::string PseudonymKeyPath(const std::string& dir);
std::string KeyStorePath(const std::string& dir);
std::string ViewsPath(const std::string& dir);
std::string SessionsPath(const std::string& dir);  // the sessions store (http/sessions.h)
std::string ImpactPath(const std::string& dir);    // the impact projection (projections/impact.h)
std::string CheckpointFilePath(const std::string& dir);
std::string VerifiedFilePath(const std::string& dir);

// FailedPrecondition, saying how to fix it, when DIR is not a directory or its group or others
// have any permission on it.
Status CheckPrivateDataDir(const std::string& dir);

// The pseudonym key, refused when missing, too open or malformed.
Result<PseudonymKey> LoadPseudonymKey(const std::string& dir);

// The key store DIR/keys/ with the pseudonym key. FailedPrecondition when it is missing (it is
// never made again silently: without it every subject's personal data reads as erased) or in
// use by another process (`read_only` opens beside a running server).
Result<std::shared_ptr<Subjects>> OpenSubjects(const std::string& dir, bool read_only = false);

// Creates DIR (if needed, mode 0700; an existing empty DIR is set to 0700), the registry key
// named `origin`, the pseudonym key, and the log with
// its first event, `registry.initialised`, which records the origin and the verifier key. With
// `first_administrator` (an INSZ) the same batch grants that person the administrator role.
// AlreadyExists when DIR already holds a key or a log; InvalidArgument for a bad INSZ.
Result<std::unique_ptr<eventstore::EventLog>> InitDataDir(
    const std::string& dir, const std::string& origin, const std::string& first_administrator = {});

// Checks DIR (CheckPrivateDataDir), loads the key (refusing a missing or too-open one) and
// opens the log for appending, with DIR/checkpoint as its checkpoint file (so a log shorter than
// what it acknowledged is refused). Finishes a key rotation that a crash interrupted (see
// RotateRegistryKey).
//
// Before it opens the log it verifies the tail written since the last verification
// (eventstore::VerifyTail from the checkpoint in DIR/verified; the whole log when that file is
// missing), every leaf, link, signature and checkpoint of it, and refuses (DataLoss, naming the
// position or file) a log that fails; then it records the head in DIR/verified. The cost is
// that of the events written since the last start. `progress` reports (verified, total).
Result<std::unique_ptr<eventstore::EventLog>> OpenDataDir(
    const std::string& dir, eventstore::EventLogOptions options = {},
    const std::function<void(eventstore::Position, eventstore::Position)>& progress = {});

// For a clean stop (`serve` after SIGTERM), once nothing appends to `log` any more: verifies the
// tail appended since DIR/verified, read back from storage as OpenDataDir would at the next
// start, and records the head in DIR/verified. The run pays for what it wrote, and the next
// start has nothing to verify; after a crash (no clean stop) the next start verifies the tail.
// DataLoss as OpenDataDir.
Status VerifyTailAtStop(
    const std::string& dir, eventstore::EventLog& log,
    const std::function<void(eventstore::Position, eventstore::Position)>& progress = {});

struct Rotation {
  eventstore::Position position = 0;  // of the rotation event
  NoteVerifierKey key;                // the new key in force
};

// Replaces the registry key: writes the new key to DIR/registry.key.next (0600), appends the
// rotation event (signed by the old key), then renames the new key over DIR/registry.key. A crash
// in between is finished by the next OpenDataDir: the .next file becomes the key if the log
// committed the rotation, and is removed if it did not. Needs the log unopened elsewhere.
Result<Rotation> RotateRegistryKey(const std::string& dir);

}  // namespace vaxledger::tools
