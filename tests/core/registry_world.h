// A registry in memory for tests of the domain: decides commands on a RegistryState and applies
// the decisions' events as the log would (positions, stream versions, expectations checked).
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>

#include "core/identifiers.h"
#include "core/pseudonym.h"
#include "core/registry_commands.h"
#include "core/registry_state.h"
#include "core/subjects.h"

namespace vaxledger::testing {

// A valid INSZ born 1985-07-30 with serial `serial` (1..997).
inline std::string MakeInsz(int serial) {
  char first9[24];
  std::snprintf(first9, sizeof first9, "850730%03d", serial);
  return InszWithCheckDigits(first9);
}

// A valid RIZIV number 1-SSSSS-CC-QQQ.
inline std::string MakeRiziv(int seed, const std::string& qualification) {
  char first6[16];
  std::snprintf(first6, sizeof first6, "1%05d", seed);
  return RizivWithCheckDigits(first6, qualification);
}

class World {
 public:
  // 2026-11-24T12:00:00Z
  static constexpr int64_t kNow = 1795521600LL * 1000000;

  World() : subjects_(std::make_shared<MemorySubjects>(PseudonymKey{7})) {}

  const RegistryState& state() const { return state_; }
  // The key store (in memory): pseudonyms are made on first use, as in a registry.
  Subjects& subjects() const { return *subjects_; }
  uint64_t size() const { return position_; }
  std::string PersonIdOf(const std::string& insz) const {
    return vaxledger::PersonId(*subjects_, insz).value();
  }
  std::string PatientIdOf(const PatientRef& patient) const {
    return vaxledger::PatientId(*subjects_, patient).value();
  }

  Caller Person(const std::string& insz, const std::string& entity = {},
                const std::string& on_behalf_of = {}) const {
    return CallerFor(*subjects_, insz, entity, on_behalf_of, kNow).value();
  }

  // Resolves the command's subjects, decides and, when accepted, applies.
  Result<Decision> Do(const Caller& caller, const Command& command) {
    Command resolved = command;
    VX_RETURN_IF_ERROR(ResolveSubjects(*subjects_, resolved));
    auto d = Decide(state_, caller, resolved);
    if (!d.ok()) return d;
    for (const StreamExpectation& e : d->expectations) {
      auto it = versions_.find(e.stream);
      std::optional<uint64_t> current;
      if (it != versions_.end()) current = it->second;
      INFO("stream " << e.stream);
      REQUIRE(current == e.version);
    }
    for (DomainEvent e : d->events) {
      auto it = versions_.find(e.stream);
      e.stream_version = it == versions_.end() ? 0 : it->second + 1;
      versions_[e.stream] = e.stream_version;
      e.position = position_++;
      e.recorded_at_us = caller.now_us;
      state_.Apply(e);
      log_.push_back(e);
      // As the registry does once the erasure is appended (projections/registry.h).
      if (e.type == event_type::kSubjectErased) {
        REQUIRE(subjects_->Erase(e.payload.value("subject", "")).ok());
      }
    }
    return d;
  }

  // Grants the administrator role to `insz` as the genesis would.
  void Bootstrap(const std::string& admin_insz) {
    DomainEvent e = FirstAdministratorGrant(*subjects_, admin_insz).value();
    e.stream_version = 0;
    versions_[e.stream] = 0;
    e.position = position_++;
    state_.Apply(e);
    log_.push_back(e);
  }

  const std::vector<DomainEvent>& log() const { return log_; }

 private:
  RegistryState state_;
  std::shared_ptr<MemorySubjects> subjects_;
  std::map<std::string, uint64_t> versions_;
  std::vector<DomainEvent> log_;
  uint64_t position_ = 0;
};

}  // namespace vaxledger::testing
