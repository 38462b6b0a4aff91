#include "envlogger/riegeli/chunk.h"

#include <cstring>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/highwayhash.h"

namespace envlogger {
namespace riegeli {

// Layout (records_format.h): header_hash(8) data_size(8) data_hash(8)
// chunk_type(1) num_records(7) decoded_data_size(8), header_hash covering
// bytes 8..39.

void ChunkHeader::Encode(char dest[kChunkHeaderSize]) const {
  EncodeFixed64(data_size, dest + 8);
  EncodeFixed64(data_hash, dest + 16);
  EncodeFixed64(static_cast<uint64_t>(chunk_type) | (num_records << 8), dest + 24);
  EncodeFixed64(decoded_data_size, dest + 32);
  EncodeFixed64(RiegeliHash(std::string_view(dest + 8, kChunkHeaderSize - 8)), dest);
}

bool ChunkHeader::Decode(const char src[kChunkHeaderSize]) {
  if (DecodeFixed64(src) != RiegeliHash(std::string_view(src + 8, kChunkHeaderSize - 8))) {
    return false;
  }
  data_size = DecodeFixed64(src + 8);
  data_hash = DecodeFixed64(src + 16);
  const uint64_t type_and_records = DecodeFixed64(src + 24);
  chunk_type = static_cast<ChunkType>(type_and_records & 0xff);
  num_records = type_and_records >> 8;
  decoded_data_size = DecodeFixed64(src + 32);
  return true;
}

}  // namespace riegeli
}  // namespace envlogger
