// Fuzzes the payload decoder (projections/payload_codec.h) on any bytes, for every event type's
// table and for the personal part: the first input byte chooses the table (modulo the number of
// types + 1, the last being Personal), the rest are the buffer. A decode either fails with
// DataLoss or gives an object that encodes again and decodes to the same object.
#include <cstddef>
#include <cstdint>

#include "projections/payload_codec.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;
using namespace vaxledger::projections;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& types = PayloadTypes();
  const size_t choice = data[0] % (types.size() + 1);
  const bool personal = choice == types.size();
  const std::string_view type = personal ? std::string_view() : types[choice];
  // The rest at an odd address, as a leaf may hold it (the decoder copies it to align it).
  const ByteView bytes(data + 1, size - 1);
  auto decoded = personal ? DecodePersonalData(bytes) : DecodePayload(type, bytes);
  if (!decoded.ok()) {
    if (decoded.status().code() != Code::kDataLoss) {
      fuzz::Violated("a refused payload is not DataLoss: " + decoded.status().ToString());
    }
    return 0;
  }
  if (!decoded->is_object()) fuzz::Violated("a payload decodes to something else than an object");
  auto encoded = personal ? EncodePersonalData(*decoded) : EncodePayload(type, *decoded);
  if (!encoded.ok()) {
    fuzz::Violated("a decoded payload does not encode: " + encoded.status().ToString());
  }
  auto again =
      personal ? DecodePersonalData(AsBytes(*encoded)) : DecodePayload(type, AsBytes(*encoded));
  if (!again.ok())
    fuzz::Violated("an encoded payload does not decode: " + again.status().ToString());
  if (*again != *decoded) fuzz::Violated("a payload re-encoded decodes to another object");
  return 0;
}
