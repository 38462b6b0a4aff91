// Decodes transposed ('t') chunk data; see transpose_encoder.h and
// chunk_decoder.h for the output convention. Reconstruction is byte-exact.
// Hostile input (bad state machines, implicit loops, truncated buffers,
// oversized lengths) yields INVALID_ARGUMENT, never a crash or a hang.

#ifndef ENVLOGGER_RIEGELI_TRANSPOSE_DECODER_H_
#define ENVLOGGER_RIEGELI_TRANSPOSE_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"

namespace envlogger {
namespace riegeli {

Status DecodeTransposedChunk(std::string_view data, uint64_t num_records,
                             uint64_t decoded_data_size, std::string* values,
                             std::vector<uint64_t>* limits);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_TRANSPOSE_DECODER_H_
