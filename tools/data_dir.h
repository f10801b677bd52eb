// The layout of a registry data directory, and opening the event log in it.
//
//   DIR/registry.key   the registry's signing key (eventstore/registry_key.h), mode 0600
//   DIR/log/           the RocksDB database of the event log (docs/storage.md)
//   DIR/idp-dev.key    the development identity provider's key, when one was created
//   DIR/pseudonym.key  the key of person and patient pseudonyms (core/pseudonym.h), 64 hex
//                      digits, mode 0600: losing it loses the link from an INSZ to its records
//   DIR/views/         the views' stores (projections/view_store.h)
//   DIR/outbox/        mails about access decisions, one file each (projections/mail_outbox.h)
//
// Thread-safety: functions; the returned log is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/pseudonym.h"
#include "core/status.h"
#include "eventstore/event_log.h"

namespace vaxledger::tools {

std::string KeyPath(const std::string& dir);
std::string LogPath(const std::string& dir);
// The development identity provider's signing key (only for demo and tests; off in production).
std::string DevIdpKeyPath(const std::string& dir);
std::string PseudonymKeyPath(const std::string& dir);
std::string ViewsPath(const std::string& dir);
std::string SessionsPath(const std::string& dir);  // the sessions store (http/sessions.h)

// The pseudonym key, refused when missing, too open or malformed.
Result<PseudonymKey> LoadPseudonymKey(const std::string& dir);

// Creates DIR (if needed), the registry key named `origin`, the pseudonym key, and the log with
// its first event, `registry.initialised`, which records the origin and the verifier key. With
// `first_administrator` (an INSZ) the same batch grants that person the administrator role.
// AlreadyExists when DIR already holds a key or a log; InvalidArgument for a bad INSZ.
Result<std::unique_ptr<eventstore::EventLog>> InitDataDir(
    const std::string& dir, const std::string& origin, const std::string& first_administrator = {});

// Loads the key (refusing a missing or too-open one) and opens the log for appending. Finishes a
// key rotation that a crash interrupted (see RotateRegistryKey).
Result<std::unique_ptr<eventstore::EventLog>> OpenDataDir(const std::string& dir,
                                                          eventstore::EventLogOptions options = {});

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
