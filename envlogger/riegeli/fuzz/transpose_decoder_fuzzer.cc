// libFuzzer target: the transposed chunk decoder alone (built by
// scripts/fuzz_build.sh), with no file framing or hashes in front of it.
//
// Input: varint num_records, varint decoded_data_size, then the chunk data
// (as a 't' chunk holds it). Contract checked: malformed data is an error
// Status, never a crash, out-of-bounds access, undefined behaviour, hang or
// an allocation beyond what the data can justify (-malloc_limit_mb); decoded
// output has exactly num_records records whose limits increase up to
// decoded_data_size; DecodeChunk() on the same chunk agrees.
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
#include "envlogger/riegeli/transpose_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace envlogger;  // NOLINT: Status, varints.
  using namespace envlogger::riegeli;
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  uint64_t num_records = 0;
  uint64_t decoded_data_size = 0;
  if (!ReadVarint64(&input, &num_records) || !ReadVarint64(&input, &decoded_data_size)) return 0;
  std::string values;
  std::vector<uint64_t> limits;
  const Status status =
      DecodeTransposedChunk(input, num_records, decoded_data_size, &values, &limits);
  if (status.ok()) {
    if (limits.size() != num_records || values.size() != decoded_data_size) std::abort();
    uint64_t previous = 0;
    for (uint64_t limit : limits) {
      if (limit < previous) std::abort();
      previous = limit;
    }
    if (!limits.empty() && limits.back() != values.size()) std::abort();
  }
  Chunk chunk;
  chunk.header.chunk_type = ChunkType::kTransposed;
  chunk.header.num_records = num_records;
  chunk.header.decoded_data_size = decoded_data_size;
  chunk.header.data_size = input.size();
  chunk.data = std::string(input);
  std::string values2;
  std::vector<uint64_t> limits2;
  const Status status2 = DecodeChunk(chunk, &values2, &limits2);
  if (status.ok() != status2.ok()) std::abort();
  if (status.ok() && (values != values2 || limits != limits2)) std::abort();
  return 0;
}
