// The binary form of registry events' payloads and personal data: each event type's payload is
// one FlatBuffers table of eventstore/payloads.fbs (file identifier "VXP1"), the personal part
// one `Personal` table (docs/storage.md "Payloads" gives the grammar and the table of each type).
//
// The domain works on nlohmann::json objects (DomainEvent::payload, ::personal); these functions
// turn such an object into the table's bytes and back, field by field: a table's field name is
// the JSON key, a string field a JSON string, an int or long field a JSON integer in its range,
// a [string] field an array of strings, a table field an object, a [table] field an array of
// objects. A key the object does not have is absent from the table, so Decode(Encode(x)) == x
// for every object Encode accepts.
//
// Encode refuses (InvalidArgument, naming the field as a path such as "consent.decision" or
// "reads[2].patient") a key that is not a field of the type's table, a value of the wrong JSON
// type, an integer out of the field's range and a string that is not UTF-8: nothing is dropped
// or changed silently. Decode runs the FlatBuffers verifier over the bytes and then builds the
// object from the table directly (no JSON text); bytes that are not a verified buffer of the
// type's table, or that hold a string that is not UTF-8, are DataLoss naming the type and the
// table. Decode copies misaligned input once; it never reads outside `bytes`.
//
// A payload is bounded by the leaf that holds it (EventLogOptions::max_leaf_bytes), which bounds
// the work of both directions; tables nest at most 64 deep in the verifier (the schema nests 2).
//
// Thread-safety: pure functions; safe to call from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/status.h"

namespace vaxledger::projections {

// The name of the table (in eventstore/payloads.fbs) that holds the payload of events of
// `type`, or nullopt when the type has none (events that are not the registry's).
std::optional<std::string_view> PayloadTable(std::string_view type);

// Every event type that has a payload table, in the order of docs/domain.md.
const std::vector<std::string_view>& PayloadTypes();

// The bytes of the `type` table holding `payload` (a JSON object). InvalidArgument naming the
// field when the object does not fit the table (see above), or when `type` has no table.
Result<std::string> EncodePayload(std::string_view type, const nlohmann::json& payload);

// The JSON object a payload of `type` encoded. DataLoss when `bytes` is not a verified buffer
// of the type's table or `type` has no table.
Result<nlohmann::json> DecodePayload(std::string_view type, ByteView bytes);

// The same for an event's personal data (table `Personal`).
Result<std::string> EncodePersonalData(const nlohmann::json& personal);
Result<nlohmann::json> DecodePersonalData(ByteView bytes);

}  // namespace vaxledger::projections
