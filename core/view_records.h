// The views' records as compact binary values: one FlatBuffers table per record type
// (schema core/view_records.fbs, format in docs/storage.md, "Views").
//
// Encode* writes every field of the struct; Decode*(Encode*(x)) == x for every x, with these
// limits of the format (the views never produce records beyond them):
//   - Entity::members is keyed by Member::person and EntityStock::lots by "<product>|<lot>":
//     a key that differs from what its value says is not kept (the decoded key is the value's);
//   - Request::new_entity keeps an object's string members kind, name, kbo and region; any
//     other JSON (another member, a non-string value, an array, a number) is not kept, and a
//     non-object is read back as null.
//
// Decode* verifies the bytes (flatbuffers::Verifier, then the file identifier of the record
// kind and the uniqueness of keyed collections) before reading anything: bytes that are not a
// well-formed record of that kind give DataLoss naming the record type, and `out` is left as
// it was. No input makes a decoder crash or read outside `bytes`. Decoding does not go through
// JSON. `bytes` need not be aligned.
//
// Thread-safety: free functions without shared state; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/registry_state.h"
#include "core/status.h"

namespace vaxledger {

// membership view, keys "e/<entity>" and "p/<person>"
std::string EncodeEntity(const Entity& entity);
Status DecodeEntity(std::string_view bytes, Entity& out);
std::string EncodePerson(const Person& person);
Status DecodePerson(std::string_view bytes, Person& out);

// requests view, key "r/<request>"
std::string EncodeRequest(const Request& request);
Status DecodeRequest(std::string_view bytes, Request& out);

// vaccinations view, key "v/<patient>": the patient with vaccinations (and their history),
// care declarations and certificates.
std::string EncodePatient(const Patient& patient);
Status DecodePatient(std::string_view bytes, Patient& out);

// stock view, keys "s/<entity>" (encode an EntityStock whose lots are empty: each lot is its
// own record) and "l/<entity>/<product>|<lot>".
std::string EncodeEntityStock(const EntityStock& stock);
Status DecodeEntityStock(std::string_view bytes, EntityStock& out);
std::string EncodeStockLot(const StockLot& lot);
Status DecodeStockLot(std::string_view bytes, StockLot& out);

}  // namespace vaxledger
