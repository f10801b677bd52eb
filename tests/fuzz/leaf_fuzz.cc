// Fuzzes the leaf decoder (eventstore/leaf.h): ReadLeafHeader, ReadKeyRotation and DecodeLeaf on
// any bytes; a leaf that decodes and whose event BuildLeaf accepts must, rebuilt and stamped with
// the same header, decode to the same event.
#include <cstddef>
#include <cstdint>

#include "eventstore/leaf.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;
using namespace vaxledger::eventstore;

namespace {

bool SameEvent(const NewEvent& a, const NewEvent& b) {
  return a.event_id == b.event_id && a.stream == b.stream && a.type == b.type &&
         a.actor == b.actor && a.on_behalf_of == b.on_behalf_of && a.entity == b.entity &&
         a.correlation_id == b.correlation_id && a.causation_id == b.causation_id &&
         a.payload == b.payload && a.personal_data == b.personal_data &&
         a.data_subject == b.data_subject;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes leaf(data, size);  // an aligned copy, as the log hands leaves over
  auto header = ReadLeafHeader(leaf);
  auto rotation = ReadKeyRotation(leaf);
  auto decoded = DecodeLeaf(leaf);
  if (header.ok() != rotation.ok()) fuzz::Violated("ReadLeafHeader and ReadKeyRotation disagree");
  if (decoded.ok() && !header.ok()) fuzz::Violated("a leaf decodes without a header");
  if (!decoded.ok()) return 0;
  if (decoded->position != header->position || decoded->stream_version != header->stream_version ||
      decoded->recorded_at_us != header->recorded_at_us ||
      decoded->prev_leaf_hash != header->prev_leaf_hash) {
    fuzz::Violated("DecodeLeaf and ReadLeafHeader disagree");
  }
  if (decoded->leaf_hash != LeafHash(leaf)) fuzz::Violated("the leaf hash is not of the leaf");

  auto rebuilt = BuildLeaf(decoded->event, 1 << 24);
  if (!rebuilt.ok()) return 0;  // a leaf the writer would not have written
  StampLeaf(*rebuilt, header->position, header->stream_version, header->recorded_at_us,
            header->prev_leaf_hash);
  auto again = DecodeLeaf(*rebuilt);
  if (!again.ok()) fuzz::Violated("a rebuilt leaf does not decode: " + again.status().ToString());
  if (!SameEvent(again->event, decoded->event) || again->position != decoded->position ||
      again->stream_version != decoded->stream_version ||
      again->recorded_at_us != decoded->recorded_at_us ||
      again->prev_leaf_hash != decoded->prev_leaf_hash) {
    fuzz::Violated("a rebuilt leaf decodes to another event");
  }
  return 0;
}
