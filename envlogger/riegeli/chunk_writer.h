// Writes chunks to a ByteSink, interleaving block headers and padding as
// records_format.h describes. Knows nothing about records or compression.

#ifndef ENVLOGGER_RIEGELI_CHUNK_WRITER_H_
#define ENVLOGGER_RIEGELI_CHUNK_WRITER_H_

#include <cstdint>
#include <string_view>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/chunk.h"

namespace envlogger {
namespace riegeli {

class ChunkWriter {
 public:
  // Writes to `sink` (not owned), whose current end is `sink->pos()`: 0 for a
  // new file, the existing size when appending.
  explicit ChunkWriter(ByteSink* sink);

  // For a new file (pos() == 0): writes the 64-byte file signature.
  Status WriteSignature();

  // When appending to an existing file whose size is k*B+1..k*B+24 (a block
  // header was cut short), writes zeros up to the block boundary so that the
  // next chunk begins at a possible chunk boundary. A no-op otherwise.
  Status PrepareForAppend();

  // Writes one chunk at pos(): header fields data_size, data_hash and
  // header_hash are computed here. pos() then equals the chunk's end.
  Status WriteChunk(ChunkType type, uint64_t num_records, uint64_t decoded_data_size,
                    std::string_view data);

  // If padding > 1 and pos() is not a multiple of it, writes a padding ('p')
  // chunk so that the next chunk begins at a multiple of `padding` (or a
  // further multiple, if the gap would be smaller than a chunk header).
  Status WritePadding(uint64_t padding);

  // Where the next chunk will begin.
  uint64_t pos() const { return pos_; }

  // Forwarded to the sink.
  Status Flush(FlushType type);

 private:
  // Writes `data` as physical bytes of the chunk [chunk_begin, chunk_end),
  // inserting a block header before every byte at a multiple of kBlockSize.
  Status WritePhysical(uint64_t chunk_begin, uint64_t chunk_end, std::string_view data);

  ByteSink* sink_;
  uint64_t pos_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_CHUNK_WRITER_H_
