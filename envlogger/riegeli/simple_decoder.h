// Decodes simple ('r') chunk data; see simple_encoder.h for the layout and
// chunk_decoder.h for the output convention. Checks that the sizes stream
// holds exactly num_records varints, that they sum to decoded_data_size and
// that the values stream has exactly that length.

#ifndef ENVLOGGER_RIEGELI_SIMPLE_DECODER_H_
#define ENVLOGGER_RIEGELI_SIMPLE_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"

namespace envlogger {
namespace riegeli {

// Value of *values_in_data when the values were written to *values.
constexpr size_t kValuesNotInData = ~size_t{0};

// With `values_in_data` given, an uncompressed chunk's values are not
// copied: *values is left untouched and *values_in_data is set to the offset
// in `data` where they begin (record i then spans data[*values_in_data +
// limits[i-1], *values_in_data + limits[i])). Otherwise, and for compressed
// chunks, *values_in_data is kValuesNotInData.
Status DecodeSimpleChunk(std::string_view data, uint64_t num_records, uint64_t decoded_data_size,
                         std::string* values, std::vector<uint64_t>* limits,
                         size_t* values_in_data = nullptr);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_SIMPLE_DECODER_H_
