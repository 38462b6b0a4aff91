// The index records of a Riegeli dataset: envlogger.Datum messages holding
// int64 arrays, encoded and decoded by hand (the C++ core has no protobuf
// runtime).
//
// Wire layout written (identical to upstream's C++ protobuf serialization):
//
//   Datum   = shape(1, LEN){ dim(2, LEN){ size(1, VARINT) } ... }
//             values(2, LEN){ int64_values(4, LEN) packed varints }
//
// step_offsets.riegeli holds 1-D arrays of record positions, shape [n];
// episode_index.riegeli holds 2-D arrays, shape [k, 2], row-major.
//
// The decoder accepts any valid Datum serialization: fields in any order,
// unknown fields skipped, repeated int64_values packed or not. It does not
// check the shape against the value count; callers that need a shape do.

#ifndef ENVLOGGER_BACKENDS_CC_INT64_DATUM_CODEC_H_
#define ENVLOGGER_BACKENDS_CC_INT64_DATUM_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"

namespace envlogger {

struct Int64Datum {
  std::vector<int64_t> shape;   // Datum.shape.dim[*].size, outermost first.
  std::vector<int64_t> values;  // Datum.values.int64_values, row-major.
  // True if Datum.values holds a field other than int64_values, i.e. the
  // Datum is an array of another element type.
  bool has_other_values = false;
};

// Serializes a Datum with the given shape and int64 values.
std::string EncodeInt64Datum(const std::vector<int64_t>& shape, const std::vector<int64_t>& values);

// Parses a serialized Datum. Returns INVALID_ARGUMENT naming the problem and
// its byte offset if `serialized` is not valid protobuf wire format for Datum.
envlogger::StatusOr<Int64Datum> DecodeInt64Datum(std::string_view serialized);

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_INT64_DATUM_CODEC_H_
