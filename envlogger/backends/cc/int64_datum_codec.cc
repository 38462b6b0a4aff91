#include "envlogger/backends/cc/int64_datum_codec.h"

#include <string>
#include <utility>

#include "envlogger/converters/data_wire.h"

namespace envlogger {

std::string EncodeInt64Datum(const std::vector<int64_t>& shape,
                             const std::vector<int64_t>& values) {
  std::string datum;
  WireWriter writer(&datum);
  const size_t shape_token = writer.BeginMessage(wire::kDatumShape);
  for (const int64_t size : shape) {
    const size_t dim = writer.BeginMessage(wire::kShapeDim);
    if (size != 0) {  // proto3 omits a scalar field holding its default.
      writer.Tag(wire::kDimSize, wire::kVarint);
      writer.Varint(static_cast<uint64_t>(size));
    }
    writer.EndMessage(dim);
  }
  writer.EndMessage(shape_token);
  const size_t values_token = writer.BeginMessage(wire::kDatumValues);
  writer.PackedVarints(wire::kInt64Values, values.data(), values.size(),
                       [](int64_t v) { return static_cast<uint64_t>(v); });
  writer.EndMessage(values_token);
  return datum;
}

StatusOr<Int64Datum> DecodeInt64Datum(std::string_view serialized) {
  DatumWire wire;
  RETURN_IF_ERROR(ParseDatum(MessageParts(serialized), serialized.data(), &wire));
  Int64Datum datum;
  datum.shape = std::move(wire.shape);
  datum.values.resize(CountVarints(wire.int64_values));
  DecodeVarints(wire.int64_values, datum.values.data());
  for (const DatumWire::Runs* runs :
       {&wire.float_values, &wire.double_values, &wire.int32_values, &wire.uint32_values,
        &wire.uint64_values, &wire.bool_values, &wire.string_values, &wire.bytes_values,
        &wire.bigint_values}) {
    datum.has_other_values |= !runs->empty();
  }
  for (const std::string_view bytes : {wire.float_values_buffer, wire.int8_values,
                                       wire.int16_values, wire.uint8_values, wire.uint16_values}) {
    datum.has_other_values |= !bytes.empty();
  }
  return datum;
}

}  // namespace envlogger
