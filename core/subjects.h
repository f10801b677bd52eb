// Data subjects and their keys (SPEC §3, §2 point 10; docs/storage.md "Key store").
//
// Every person and patient the registry holds personal data about is a *subject*: a random
// pseudonym (32 lower-case hex digits, the id in stream names, views and the API) and a random
// 256-bit data key that encrypts the personal part of every event about them
// (core/personal_cipher.h). Both live in a key store beside the log, never in it. A subject is
// found by its identifier (an INSZ, or a name and birth date) through a keyed hash, so the store
// holds no identifier in clear:
//
//   index = hex( HMAC-SHA-256(pseudonym key, kind || 0x00 || identifier)[0..16] )
//
// Erasing a subject deletes its data key and its index entry durably: afterwards nothing links
// the pseudonym to the identifier (not even the pseudonym key), the personal data in the log no
// longer decrypts, and the same identifier seen again gets a new subject (a new pseudonym), so
// that nothing new attaches to the erased history.
//
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/pseudonym.h"
#include "core/status.h"

namespace vaxledger {

using DataKey = std::array<uint8_t, 32>;

class Subjects {
 public:
  virtual ~Subjects() = default;

  // The pseudonym of the subject `identifier` of `kind` ("person", "patient",
  // "patient-without-insz"): the existing one, or a new subject (random pseudonym and data key,
  // written durably before this returns) when the store has none.
  virtual Result<std::string> Pseudonym(std::string_view kind, std::string_view identifier) = 0;

  // The existing pseudonym, or nullopt: never makes a subject (for reads and searches).
  virtual Result<std::optional<std::string>> Find(std::string_view kind,
                                                  std::string_view identifier) const = 0;

  // The data key of `subject` (a pseudonym), or nullopt when it has none: erased, or never made
  // here.
  virtual Result<std::optional<DataKey>> Key(std::string_view subject) const = 0;

  // Key of each of `subjects`, in their order: for many events at once (a rebuild reads a chunk
  // of the log), which a store can look up together. By default one Key each.
  virtual Result<std::vector<std::optional<DataKey>>> Keys(
      const std::vector<std::string>& subjects) const;

  // Deletes the subject's data key and index entry durably (and physically: no copy of the key
  // stays in the store's files). Erasing a subject that has no key is not an error.
  virtual Status Erase(std::string_view subject) = 0;

  // An erasure in progress (docs/storage.md "Key store"): `MarkErasing` is written durably
  // before the erasure's events are appended, `Erase` clears it; at start-up the registry
  // finishes or forgets each subject still marked.
  virtual Status MarkErasing(std::string_view subject, std::string_view request_id) = 0;
  virtual Status ClearErasing(std::string_view subject) = 0;
  // subject -> request id of every erasure in progress.
  virtual Result<std::map<std::string, std::string>> Erasing() const = 0;
};

// The index of an identifier (above): 32 lower-case hex digits.
std::string SubjectIndex(const Pseudonymizer& pseudonyms, std::string_view kind,
                         std::string_view identifier);

// A random pseudonym: 32 lower-case hex digits.
std::string NewPseudonym();

// A key store in memory, for tests, benchmarks and tools that work without a data directory.
class MemorySubjects : public Subjects {
 public:
  explicit MemorySubjects(const PseudonymKey& key) : pseudonyms_(key) {}

  Result<std::string> Pseudonym(std::string_view kind, std::string_view identifier) override;
  Result<std::optional<std::string>> Find(std::string_view kind,
                                          std::string_view identifier) const override;
  Result<std::optional<DataKey>> Key(std::string_view subject) const override;
  Status Erase(std::string_view subject) override;
  Status MarkErasing(std::string_view subject, std::string_view request_id) override;
  Status ClearErasing(std::string_view subject) override;
  Result<std::map<std::string, std::string>> Erasing() const override;

 private:
  struct Entry {
    DataKey key;
    std::string index;
  };
  Pseudonymizer pseudonyms_;
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> index_;  // index -> pseudonym
  std::map<std::string, Entry, std::less<>> subjects_;     // pseudonym -> key
  std::map<std::string, std::string, std::less<>> erasing_;
};

}  // namespace vaxledger
