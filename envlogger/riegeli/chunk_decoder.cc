#include "envlogger/riegeli/chunk_decoder.h"

#include "envlogger/riegeli/simple_decoder.h"
#include "envlogger/riegeli/transpose_decoder.h"

namespace envlogger {
namespace riegeli {

Status DecodeChunk(const Chunk& chunk, std::string* values, std::vector<uint64_t>* limits,
                   size_t* values_in_data) {
  const ChunkHeader& header = chunk.header;
  if (header.chunk_type == ChunkType::kSimple) {
    return DecodeSimpleChunk(chunk.data, header.num_records, header.decoded_data_size, values,
                             limits, values_in_data);
  }
  if (values_in_data != nullptr) *values_in_data = kValuesNotInData;
  values->clear();
  limits->clear();
  switch (header.chunk_type) {
    case ChunkType::kFileSignature:
      if (header.num_records != 0 || chunk.data.size() != 0 || header.decoded_data_size != 0) {
        return InvalidArgumentError("file signature chunk must have no records and no data, has " +
                                    std::to_string(header.num_records) + " records and " +
                                    std::to_string(chunk.data.size()) + " bytes of data");
      }
      return OkStatus();
    case ChunkType::kFileMetadata:
      if (header.num_records != 0) {
        return InvalidArgumentError("file metadata chunk must have 0 records, has " +
                                    std::to_string(header.num_records));
      }
      return OkStatus();
    case ChunkType::kPadding:
      if (header.num_records != 0 || header.decoded_data_size != 0) {
        return InvalidArgumentError("padding chunk must have no records and decode to nothing");
      }
      return OkStatus();
    case ChunkType::kSimple:
      break;  // Handled above.
    case ChunkType::kTransposed:
      return DecodeTransposedChunk(chunk.data, header.num_records, header.decoded_data_size, values,
                                   limits);
  }
  if (header.num_records == 0) return OkStatus();
  return UnimplementedError(
      "Unknown chunk type: " + std::to_string(static_cast<int>(header.chunk_type)) + " with " +
      std::to_string(header.num_records) + " records");
}

}  // namespace riegeli
}  // namespace envlogger
