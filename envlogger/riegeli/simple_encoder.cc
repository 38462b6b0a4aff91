#include "envlogger/riegeli/simple_encoder.h"

#include "envlogger/riegeli/varint.h"

namespace envlogger {
namespace riegeli {

void SimpleEncoder::AddRecord(std::string_view record) {
  AppendVarint64(record.size(), &sizes_);
  values_.append(record.data(), record.size());
  ++num_records_;
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
