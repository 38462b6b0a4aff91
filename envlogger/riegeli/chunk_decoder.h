// Turns the data of a chunk back into records, whatever the chunk type.
//
// Records come back concatenated in `*values`, with `(*limits)[i]` the end
// offset of record i in `*values` (record i spans
// [limits[i-1] or 0, limits[i])). Chunks without records (signature,
// metadata, padding, unknown types with num_records == 0) decode to nothing.
// An unknown chunk type that claims records is UNIMPLEMENTED; malformed data
// is INVALID_ARGUMENT with a message saying what is wrong.

#ifndef ENVLOGGER_RIEGELI_CHUNK_DECODER_H_
#define ENVLOGGER_RIEGELI_CHUNK_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/chunk.h"
#include "envlogger/riegeli/simple_decoder.h"

namespace envlogger {
namespace riegeli {

// `values_in_data`: see DecodeSimpleChunk() (uncompressed simple chunks can
// leave their values in chunk.data instead of copying them to *values).
Status DecodeChunk(const Chunk& chunk, std::string* values, std::vector<uint64_t>* limits,
                   size_t* values_in_data = nullptr);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_CHUNK_DECODER_H_
