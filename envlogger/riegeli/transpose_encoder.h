// Transposed ('t') chunks (docs/format.md, "Transposed chunks"): records that
// parse as canonical protocol buffers are split into per-field columns,
// grouped into separately compressed buckets, and their field sequence is
// encoded as a state machine; other records are stored verbatim as non-proto
// records. The encoder follows the reference construction (§7.10) so that
// its output matches the reference writer's byte for byte.

#ifndef ENVLOGGER_RIEGELI_TRANSPOSE_ENCODER_H_
#define ENVLOGGER_RIEGELI_TRANSPOSE_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "envlogger/riegeli/chunk_encoder.h"
#include "envlogger/riegeli/compression.h"

namespace envlogger {
namespace riegeli {

class TransposeEncoder : public ChunkEncoder {
 public:
  // `bucket_size`: target uncompressed size of a bucket, i.e.
  // round(chunk_size * bucket_fraction), at least 1; pass UINT64_MAX for
  // "unlimited" (the reference's choice when uncompressed).
  TransposeEncoder(const CompressorOptions& options, uint64_t bucket_size);
  ~TransposeEncoder() override;

  void AddRecord(std::string_view record) override;
  uint64_t num_records() const override;
  uint64_t decoded_data_size() const override;
  ChunkType chunk_type() const override { return ChunkType::kTransposed; }
  Status Encode(std::string* data) override;
  void Reset() override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_TRANSPOSE_ENCODER_H_
