// libFuzzer target: DecodeChunk() on any chunk type, simple chunks mostly
// (built by scripts/fuzz_build.sh), with no file framing or hashes in front.
//
// Input: chunk type byte, varint num_records, varint decoded_data_size,
// then the chunk data. Contract checked: malformed data is an error Status,
// never a crash, out-of-bounds access, undefined behaviour, hang or an
// allocation the data cannot justify; decoded output has num_records records
// with increasing limits ending at decoded_data_size, the same whether the
// values are copied out or left in the data (values_in_data).
// fuzz-options: -max_len=16384

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/chunk.h"
#include "envlogger/riegeli/chunk_decoder.h"
#include "envlogger/riegeli/simple_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace envlogger;  // NOLINT: Status, varints.
  using namespace envlogger::riegeli;
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  if (input.empty()) return 0;
  Chunk chunk;
  chunk.header.chunk_type = static_cast<ChunkType>(input[0]);
  input.remove_prefix(1);
  if (!ReadVarint64(&input, &chunk.header.num_records) ||
      !ReadVarint64(&input, &chunk.header.decoded_data_size)) {
    return 0;
  }
  chunk.header.data_size = input.size();
  chunk.data = std::string(input);
  std::string values;
  std::vector<uint64_t> limits;
  const Status status = DecodeChunk(chunk, &values, &limits);
  size_t in_data = kValuesNotInData;
  std::string values2;
  std::vector<uint64_t> limits2;
  const Status status2 = DecodeChunk(chunk, &values2, &limits2, &in_data);
  if (status.ok() != status2.ok()) std::abort();
  if (!status.ok()) return 0;
  const bool has_records = chunk.header.chunk_type == ChunkType::kSimple ||
                           chunk.header.chunk_type == ChunkType::kTransposed;
  if (has_records && limits.size() != chunk.header.num_records) std::abort();
  uint64_t previous = 0;
  for (uint64_t limit : limits) {
    if (limit < previous) std::abort();
    previous = limit;
  }
  if (!limits.empty() && limits.back() != values.size()) std::abort();
  if (limits2 != limits) std::abort();
  const std::string_view values2_view =
      in_data == kValuesNotInData
          ? std::string_view(values2)
          : std::string_view(chunk.data).substr(in_data, limits.empty() ? 0 : limits.back());
  if (values2_view != values) std::abort();
  return 0;
}
