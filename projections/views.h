// The registry's four views (core/registry_state.h) as the stores, the live registry and a
// rebuild see them: by name, with a schema version, and the conversion between the log's events
// and the domain's.
//
// Thread-safety: pure functions over the state they are given.
#pragma once

#include <array>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/registry_state.h"
#include "core/status.h"
#include "core/subjects.h"
#include "eventstore/event.h"

namespace vaxledger::projections {

inline constexpr std::array<std::string_view, 4> kViewNames = {"membership", "requests",
                                                               "vaccinations", "stock"};
inline constexpr size_t kViewCount = kViewNames.size();

// The schema version of each view's records. Changing how a view is built or stored means
// raising its version: the registry then rebuilds that view from the log when it opens.
int SchemaVersion(size_t view);

// The index of the view called `name`, or nullopt.
std::optional<size_t> ViewIndex(std::string_view name);

void ApplyTo(RegistryState& state, size_t view, const DomainEvent& event);
std::set<std::string> TakeDirty(RegistryState& state, size_t view);
std::optional<std::string> EncodeRecord(const RegistryState& state, size_t view,
                                        const std::string& key);

// The domain's view of a stored event. Payloads and personal data of registry events are tables
// of eventstore/payloads.fbs, decoded to JSON objects (projections/payload_codec.h); other events
// (the genesis, key rotations) get a null payload. The personal data is opened with its
// subject's data key from `subjects` (core/personal_cipher.h); a subject that has no key any
// more (erased) gives {"erased": true} instead. DataLoss, naming the position, when a registry
// event's payload is not a valid table of its type, or its personal data does not open with the
// subject's key (tampered, or another key) or is not a valid table.
Result<DomainEvent> ToDomainEvent(const eventstore::RecordedEvent& recorded,
                                  const Subjects& subjects);

// The event to append for `event`, with the given ids, its payload and personal data encoded
// as their tables. InvalidArgument naming the field when the payload or personal data has a
// field its table does not (payload_codec.h): a decision's event that does not fit its table is
// not appended. The personal data is sealed with the data subject's key (core/personal_cipher.h);
// FailedPrecondition naming `data_subject` when the subject has no key (erased).
Result<eventstore::NewEvent> ToNewEvent(const DomainEvent& event, const eventstore::EventId& id,
                                        const eventstore::EventId& correlation,
                                        const Subjects& subjects);

}  // namespace vaxledger::projections
