// Fuzzes the view record decoders (core/view_records.h): the same bytes go to every Decode
// function. Each must refuse with DataLoss or accept; a record one accepts must encode to
// bytes that decode to the same record, and encoding that record again gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/view_records.h"
#include "tests/fuzz/fuzz_keys.h"

using namespace vaxledger;

namespace {

template <typename T>
void Check(std::string_view bytes, const char* what, Status (*decode)(std::string_view, T&),
           std::string (*encode)(const T&)) {
  T record;
  Status s = decode(bytes, record);
  if (!s.ok()) {
    if (s.code() != Code::kDataLoss) fuzz::Violated(std::string(what) + ": " + s.ToString());
    if (!(record == T{})) fuzz::Violated(std::string(what) + ": a refusal changed the output");
    return;
  }
  const std::string encoded = encode(record);
  T again;
  Status s2 = decode(encoded, again);
  if (!s2.ok()) fuzz::Violated(std::string(what) + ": a re-encoded record does not decode");
  if (!(again == record)) fuzz::Violated(std::string(what) + ": a re-encoded record differs");
  if (encode(again) != encoded) fuzz::Violated(std::string(what) + ": encoding is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The input as libFuzzer gives it (aligned, exactly sized: a read past it is caught), and a
  // copy of it at offset 1 in an exactly sized buffer, since records read from RocksDB need
  // not be aligned.
  auto shifted = std::make_unique<char[]>(size + 1);
  if (size > 0) std::memcpy(shifted.get() + 1, data, size);
  for (std::string_view bytes : {std::string_view(reinterpret_cast<const char*>(data), size),
                                 std::string_view(shifted.get() + 1, size)}) {
    Check<Entity>(bytes, "entity", DecodeEntity, EncodeEntity);
    Check<Person>(bytes, "person", DecodePerson, EncodePerson);
    Check<Request>(bytes, "request", DecodeRequest, EncodeRequest);
    Check<Patient>(bytes, "patient", DecodePatient, EncodePatient);
    Check<EntityStock>(bytes, "stock", DecodeEntityStock, EncodeEntityStock);
    Check<StockLot>(bytes, "stock lot", DecodeStockLot, EncodeStockLot);
  }
  return 0;
}
