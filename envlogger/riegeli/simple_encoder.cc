#include "envlogger/riegeli/simple_encoder.h"

#include <algorithm>

#include "envlogger/riegeli/buffer_pool.h"

namespace envlogger {
namespace riegeli {
namespace {

// Reserving more than this up front for a chunk size hint would hold memory
// that a file of few records never uses.
constexpr uint64_t kMaxReservedValues = uint64_t{16} << 20;

}  // namespace

SimpleEncoder::SimpleEncoder(const CompressorOptions& options, uint64_t chunk_size_hint)
    : options_(options) {
  const size_t reserved = static_cast<size_t>(std::min(chunk_size_hint, kMaxReservedValues));
  values_ = TakePooledBuffer(reserved);
  // Without a pooled buffer this large, one allocation rather than a series
  // of doublings, each copying what was gathered so far.
  values_.reserve(reserved);
  sizes_ = TakePooledBuffer();
}

SimpleEncoder::~SimpleEncoder() {
  RecyclePooledBuffer(&values_);
  RecyclePooledBuffer(&sizes_);
}

Status SimpleEncoder::Encode(std::string* data) {
  compressed_sizes_.clear();
  RETURN_IF_ERROR(CompressBlock(options_, sizes_, &compressed_sizes_));
  data->clear();
  data->push_back(static_cast<char>(options_.type));
  AppendVarint64(compressed_sizes_.size(), data);
  data->append(compressed_sizes_);
  return CompressBlock(options_, values_, data);
}

void SimpleEncoder::Reset() {
  num_records_ = 0;
  sizes_.clear();
  values_.clear();
}

}  // namespace riegeli
}  // namespace envlogger
