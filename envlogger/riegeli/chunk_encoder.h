// Turns a batch of records into the data of one chunk. Implementations:
// SimpleEncoder ('r' chunks, simple_encoder.h) and TransposeEncoder ('t'
// chunks, transpose_encoder.h).

#ifndef ENVLOGGER_RIEGELI_CHUNK_ENCODER_H_
#define ENVLOGGER_RIEGELI_CHUNK_ENCODER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/records_format.h"

namespace envlogger {
namespace riegeli {

class ChunkEncoder {
 public:
  virtual ~ChunkEncoder() = default;

  // Adds one record (any bytes, possibly empty) to the pending chunk.
  virtual void AddRecord(std::string_view record) = 0;

  // Records added since construction or the last Reset().
  virtual uint64_t num_records() const = 0;
  // Sum of their sizes (the chunk header's decoded_data_size).
  virtual uint64_t decoded_data_size() const = 0;

  // The chunk type the encoded data is for.
  virtual ChunkType chunk_type() const = 0;

  // Replaces `*data` with the chunk data encoding the pending records. The
  // pending records stay until Reset().
  virtual Status Encode(std::string* data) = 0;

  // Forgets the pending records.
  virtual void Reset() = 0;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_CHUNK_ENCODER_H_
