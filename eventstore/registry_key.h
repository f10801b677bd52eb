// The registry's signing key on disk: one line, the C2SP private key text
// ("PRIVATE+KEY+<name>+<keyid>+<base64(0x01||seed)>"), in a file of mode 0600.
//
// Thread-safety: functions touch only the named file.
#pragma once

#include <string>

#include "core/note_key.h"
#include "core/status.h"

namespace vaxledger::eventstore {

// Generates a key named `name` and writes it to `path`, created with mode 0600 and synced.
// AlreadyExists when `path` exists (a key is never overwritten).
Result<NoteSigner> CreateRegistryKey(const std::string& path, const std::string& name);

// Loads the key at `path`. FailedPrecondition, saying why, when the file is missing, unreadable,
// readable or writable by group or others, or not a valid private key.
Result<NoteSigner> LoadRegistryKey(const std::string& path);

// The same for any one-line secret (the pseudonym key): `what` names it in messages.
Status CreateSecretFile(const std::string& path, const std::string& what, const std::string& text);
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace vaxledger::eventstore
