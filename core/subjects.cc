#include "core/subjects.h"

#include "core/crypto.h"
#include "core/encoding.h"

namespace vaxledger {

Result<std::vector<std::optional<DataKey>>> Subjects::Keys(
    const std::vector<std::string>& subjects) const {
  std::vector<std::optional<DataKey>> out;
  out.reserve(subjects.size());
  for (const std::string& s : subjects) {
    VX_ASSIGN_OR_RETURN(auto key, Key(s));
    out.push_back(key);
  }
  return out;
}

std::string SubjectIndex(const Pseudonymizer& pseudonyms, std::string_view kind,
                         std::string_view identifier) {
  return pseudonyms.Pseudonym(kind, identifier);
}

std::string NewPseudonym() {
  uint8_t bytes[16];
  RandomBytes(bytes, sizeof bytes);
  return HexEncode(ByteView(bytes, sizeof bytes));
}

Result<std::string> MemorySubjects::Pseudonym(std::string_view kind, std::string_view identifier) {
  const std::string index = SubjectIndex(pseudonyms_, kind, identifier);
  std::lock_guard lock(mu_);
  if (auto it = index_.find(index); it != index_.end()) return it->second;
  std::string pseudonym = NewPseudonym();
  Entry entry;
  RandomBytes(entry.key.data(), entry.key.size());
  entry.index = index;
  index_.emplace(index, pseudonym);
  subjects_.emplace(pseudonym, entry);
  return pseudonym;
}

Result<std::optional<std::string>> MemorySubjects::Find(std::string_view kind,
                                                        std::string_view identifier) const {
  const std::string index = SubjectIndex(pseudonyms_, kind, identifier);
  std::lock_guard lock(mu_);
  if (auto it = index_.find(index); it != index_.end()) return std::optional(it->second);
  return std::optional<std::string>();
}

Result<std::optional<DataKey>> MemorySubjects::Key(std::string_view subject) const {
  std::lock_guard lock(mu_);
  if (auto it = subjects_.find(subject); it != subjects_.end()) {
    return std::optional(it->second.key);
  }
  return std::optional<DataKey>();
}

Status MemorySubjects::Erase(std::string_view subject) {
  std::lock_guard lock(mu_);
  if (auto it = subjects_.find(subject); it != subjects_.end()) {
    index_.erase(it->second.index);
    subjects_.erase(it);
  }
  if (auto it = erasing_.find(subject); it != erasing_.end()) erasing_.erase(it);
  return Status();
}

Status MemorySubjects::MarkErasing(std::string_view subject, std::string_view request_id) {
  std::lock_guard lock(mu_);
  erasing_[std::string(subject)] = std::string(request_id);
  return Status();
}

Status MemorySubjects::ClearErasing(std::string_view subject) {
  std::lock_guard lock(mu_);
  if (auto it = erasing_.find(subject); it != erasing_.end()) erasing_.erase(it);
  return Status();
}

Result<std::map<std::string, std::string>> MemorySubjects::Erasing() const {
  std::lock_guard lock(mu_);
  return std::map<std::string, std::string>(erasing_.begin(), erasing_.end());
}

}  // namespace vaxledger
