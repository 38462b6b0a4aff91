// Simple ('r') chunks (docs/format.md, "Simple chunks"):
//   compression_type(1) varint64(sizes_len) compressed_sizes compressed_values
// where sizes are the varint64 record lengths and values the concatenated
// records, each a compressed block (compression.h).

#ifndef ENVLOGGER_RIEGELI_SIMPLE_ENCODER_H_
#define ENVLOGGER_RIEGELI_SIMPLE_ENCODER_H_

#include <cstdint>
#include <string>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/chunk_encoder.h"
#include "envlogger/riegeli/compression.h"

namespace envlogger {
namespace riegeli {

// Final, so that a caller holding a SimpleEncoder* calls (and inlines)
// AddRecord() directly: it runs once per record.
class SimpleEncoder final : public ChunkEncoder {
 public:
  // `chunk_size_hint`: about how many record bytes a chunk will gather (its
  // buffer is taken from the buffer pool with that much room if there is
  // one, else reserved up to a limit); 0 if unknown.
  explicit SimpleEncoder(const CompressorOptions& options, uint64_t chunk_size_hint = 0);
  // Returns the buffers to the pool (buffer_pool.h).
  ~SimpleEncoder() override;

  SimpleEncoder(const SimpleEncoder&) = delete;
  SimpleEncoder& operator=(const SimpleEncoder&) = delete;

  void AddRecord(std::string_view record) override {
    if (record.size() < 0x80) {
      // Most records are short: their size is a one-byte varint.
      sizes_.push_back(static_cast<char>(record.size()));
    } else {
      AppendVarint64(record.size(), &sizes_);
    }
    values_.append(record.data(), record.size());
    ++num_records_;
  }
  uint64_t num_records() const override { return num_records_; }
  uint64_t decoded_data_size() const override { return values_.size(); }
  ChunkType chunk_type() const override { return ChunkType::kSimple; }
  Status Encode(std::string* data) override;
  void Reset() override;

 private:
  CompressorOptions options_;
  uint64_t num_records_ = 0;
  std::string sizes_;
  std::string values_;
  // Scratch for Encode(), kept to reuse its allocation.
  std::string compressed_sizes_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_SIMPLE_ENCODER_H_
