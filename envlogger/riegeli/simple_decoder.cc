#include "envlogger/riegeli/simple_decoder.h"

#include <algorithm>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/compression.h"

namespace envlogger {
namespace riegeli {

Status DecodeSimpleChunk(std::string_view data, uint64_t num_records, uint64_t decoded_data_size,
                         std::string* values, std::vector<uint64_t>* limits,
                         size_t* values_in_data) {
  const char* const data_begin = data.data();
  if (values_in_data != nullptr) {
    *values_in_data = kValuesNotInData;
  } else {
    values->clear();
  }
  limits->clear();
  if (data.empty()) return InvalidArgumentError("simple chunk: no compression type byte");
  const uint8_t type_byte = static_cast<uint8_t>(data[0]);
  if (!IsValidCompressionType(type_byte)) {
    return InvalidArgumentError("simple chunk: unknown compression type " +
                                std::to_string(type_byte));
  }
  const CompressionType type = static_cast<CompressionType>(type_byte);
  const bool in_place = values_in_data != nullptr && type == CompressionType::kNone;
  if (!in_place && values_in_data != nullptr) values->clear();
  data.remove_prefix(1);
  uint64_t sizes_length = 0;
  if (!ReadVarint64(&data, &sizes_length)) {
    return InvalidArgumentError("simple chunk: invalid length of the sizes block");
  }
  if (sizes_length > data.size()) {
    return InvalidArgumentError("simple chunk: sizes block of " + std::to_string(sizes_length) +
                                " bytes exceeds the " + std::to_string(data.size()) +
                                " bytes left");
  }
  // Uncompressed sizes are read in place.
  std::string decompressed_sizes;
  std::string_view sizes = data.substr(0, sizes_length);
  if (type != CompressionType::kNone) {
    RETURN_IF_ERROR(
        DecompressBlock(type, sizes, &decompressed_sizes).WithContext("simple chunk sizes"));
    sizes = decompressed_sizes;
  }
  data.remove_prefix(sizes_length);

  // Each size takes at least one byte, so the sizes block bounds the count
  // before anything is allocated for it.
  if (num_records > sizes.size()) {
    return InvalidArgumentError("simple chunk: " + std::to_string(num_records) +
                                " records announced but the sizes block has only " +
                                std::to_string(sizes.size()) + " bytes");
  }
  limits->reserve(num_records);
  std::string_view sizes_view = sizes;
  uint64_t end = 0;
  for (uint64_t i = 0; i < num_records; ++i) {
    uint64_t size = 0;
    if (!ReadVarint64(&sizes_view, &size)) {
      limits->clear();
      return InvalidArgumentError("simple chunk: invalid size of record " + std::to_string(i));
    }
    if (size > decoded_data_size - end) {
      limits->clear();
      return InvalidArgumentError("simple chunk: record sizes exceed decoded_data_size " +
                                  std::to_string(decoded_data_size));
    }
    end += size;
    limits->push_back(end);
  }
  if (!sizes_view.empty()) {
    limits->clear();
    return InvalidArgumentError("simple chunk: sizes block has data beyond " +
                                std::to_string(num_records) + " record sizes");
  }
  if (end != decoded_data_size) {
    limits->clear();
    return InvalidArgumentError("simple chunk: record sizes sum to " + std::to_string(end) +
                                ", decoded_data_size is " + std::to_string(decoded_data_size));
  }
  uint64_t values_size = 0;
  Status status = DecompressedSize(type, data, &values_size);
  if (status.ok() && values_size != decoded_data_size) {
    status =
        InvalidArgumentError("values block holds " + std::to_string(values_size) +
                             " bytes, decoded_data_size is " + std::to_string(decoded_data_size));
  }
  if (status.ok() && in_place) {
    *values_in_data = static_cast<size_t>(data.data() - data_begin);
    return OkStatus();
  }
  if (status.ok()) status = DecompressBlock(type, data, values);
  if (!status.ok()) {
    limits->clear();
    if (!in_place) values->clear();
    return status.WithContext("simple chunk values");
  }
  return OkStatus();
}

}  // namespace riegeli
}  // namespace envlogger
