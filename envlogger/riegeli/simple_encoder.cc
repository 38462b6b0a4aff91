#include "envlogger/riegeli/simple_encoder.h"

#include "envlogger/riegeli/varint.h"

namespace envlogger {
namespace riegeli {

void SimpleEncoder::AddRecord(std::string_view record) {
  if (values_.capacity() < reserve_) values_.reserve(reserve_);
  char size[kMaxLengthVarint64];
  sizes_.insert(sizes_.end(), size, size + EncodeVarint64(record.size(), size));
  values_.insert(values_.end(), record.begin(), record.end());
  ++num_records_;
}

Status SimpleEncoder::Encode(std::string* data) {
  compressed_sizes_.clear();
  RETURN_IF_ERROR(
      CompressBlock(options_, std::string_view(sizes_.data(), sizes_.size()), &compressed_sizes_));
  data->clear();
  data->push_back(static_cast<char>(options_.type));
  AppendVarint64(compressed_sizes_.size(), data);
  data->append(compressed_sizes_);
  return CompressBlock(options_, std::string_view(values_.data(), values_.size()), data);
}

void SimpleEncoder::Reset() {
  num_records_ = 0;
  sizes_.clear();
  values_.clear();
}

}  // namespace riegeli
}  // namespace envlogger
