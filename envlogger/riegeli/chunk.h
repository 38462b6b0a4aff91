// A chunk as the chunk layer hands it to the record layer: its header fields
// and its logical data (block headers removed).

#ifndef ENVLOGGER_RIEGELI_CHUNK_H_
#define ENVLOGGER_RIEGELI_CHUNK_H_

#include <cstdint>
#include <string>

#include "envlogger/riegeli/records_format.h"

namespace envlogger {
namespace riegeli {

struct ChunkHeader {
  uint64_t data_size = 0;
  uint64_t data_hash = 0;
  ChunkType chunk_type = ChunkType::kPadding;
  uint64_t num_records = 0;
  uint64_t decoded_data_size = 0;

  // Serializes the 40 header bytes (computing header_hash) into `dest`.
  void Encode(char dest[kChunkHeaderSize]) const;
  // Parses 40 header bytes. Returns false if header_hash does not match.
  bool Decode(const char src[kChunkHeaderSize]);
};

struct Chunk {
  ChunkHeader header;
  std::string data;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_CHUNK_H_
