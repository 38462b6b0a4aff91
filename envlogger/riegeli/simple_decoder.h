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

#include "envlogger/riegeli/status.h"

namespace envlogger {
namespace riegeli {

Status DecodeSimpleChunk(std::string_view data, uint64_t num_records, uint64_t decoded_data_size,
                         std::string* values, std::vector<uint64_t>* limits);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_SIMPLE_DECODER_H_
