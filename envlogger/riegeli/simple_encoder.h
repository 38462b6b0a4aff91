// Simple ('r') chunks (../shared/spec/riegeli-format.md §6):
//   compression_type(1) varint64(sizes_len) compressed_sizes compressed_values
// where sizes are the varint64 record lengths and values the concatenated
// records, each a compressed block (compression.h).

#ifndef ENVLOGGER_RIEGELI_SIMPLE_ENCODER_H_
#define ENVLOGGER_RIEGELI_SIMPLE_ENCODER_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "envlogger/riegeli/chunk_encoder.h"
#include "envlogger/riegeli/compression.h"

namespace envlogger {
namespace riegeli {

class SimpleEncoder : public ChunkEncoder {
 public:
  // `expected_chunk_size`: the record bytes a chunk is expected to gather
  // (the writer's desired chunk size); the first record reserves that much
  // (up to kMaxReserve) so that records are appended without reallocating.
  explicit SimpleEncoder(const CompressorOptions& options, uint64_t expected_chunk_size = 0)
      : options_(options),
        reserve_(static_cast<size_t>(std::min(expected_chunk_size, kMaxReserve))) {}

  void AddRecord(std::string_view record) override;
  uint64_t num_records() const override { return num_records_; }
  uint64_t decoded_data_size() const override { return values_.size(); }
  ChunkType chunk_type() const override { return ChunkType::kSimple; }
  Status Encode(std::string* data) override;
  void Reset() override;

 private:
  static constexpr uint64_t kMaxReserve = uint64_t{64} << 20;

  CompressorOptions options_;
  size_t reserve_;
  uint64_t num_records_ = 0;
  // Vectors rather than strings: appending to them inlines (std::string's
  // append is an out-of-line library call), which matters per record.
  std::vector<char> sizes_;
  std::vector<char> values_;
  // Scratch for Encode(), kept to reuse its allocation.
  std::string compressed_sizes_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_SIMPLE_ENCODER_H_
