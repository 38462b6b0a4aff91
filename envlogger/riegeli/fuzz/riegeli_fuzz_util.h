// Helpers shared by the libFuzzer targets (header-only: scripts/fuzz.sh
// compiles each *_fuzzer.cc alone against the library objects).
//
// FixRiegeliHashes() makes mutated bytes pass the HighwayHash checks of
// chunk_reader.cc: it walks the file as records_format.h lays it out and
// rewrites, for every chunk whose header lies in the buffer, the data hash
// (when its data lie in the buffer too) and the header hash, and for every
// block header inside a chunk its previous_chunk / next_chunk fields and its
// hash. The mutated header fields (type, sizes, record count) and data stay
// as mutated, so the chunk decoders see malformed contents behind valid
// hashes. RiegeliMutate() is a LLVMFuzzerCustomMutator body built on it.
// ViewSource serves the input to readers without copying it.

#ifndef ENVLOGGER_RIEGELI_FUZZ_RIEGELI_FUZZ_UTIL_H_
#define ENVLOGGER_RIEGELI_FUZZ_RIEGELI_FUZZ_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/highwayhash.h"
#include "envlogger/riegeli/records_format.h"
#include "envlogger/testing/view_source.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace envlogger {
namespace riegeli {
namespace fuzz {

// The fuzz input served to readers without copying it.
class ViewSource : public testing::ViewSource {
 public:
  explicit ViewSource(std::string_view data) : testing::ViewSource(data, "<fuzz input>") {}
};

// Physical offsets of `length` logical bytes starting at `pos`, skipping the
// block headers met (a block header at `pos` itself comes first). Stops early
// at the end of the buffer.
inline void LogicalOffsets(uint64_t pos, uint64_t length, uint64_t size,
                           std::vector<uint64_t>* offsets) {
  offsets->clear();
  while (offsets->size() < length && pos < size) {
    if (pos % kBlockSize == 0) {
      pos += kBlockHeaderSize;
      continue;
    }
    offsets->push_back(pos++);
  }
}

inline void Gather(const uint8_t* data, const std::vector<uint64_t>& offsets, size_t begin,
                   size_t end, std::string* dest) {
  dest->clear();
  for (size_t i = begin; i < end; ++i) dest->push_back(static_cast<char>(data[offsets[i]]));
}

// Copies the `length` logical bytes starting at physical `pos` into *dest, a
// block header at a block boundary skipped (as LogicalOffsets, but a span at
// a time). False if the buffer ends first.
inline bool GatherLogical(const uint8_t* data, uint64_t pos, uint64_t length, uint64_t size,
                          std::string* dest) {
  dest->clear();
  while (dest->size() < length) {
    if (pos % kBlockSize == 0) pos += kBlockHeaderSize;
    if (pos >= size) return false;
    const uint64_t span =
        std::min({length - dest->size(), kBlockSize - pos % kBlockSize, size - pos});
    dest->append(reinterpret_cast<const char*>(data + pos), static_cast<size_t>(span));
    pos += span;
  }
  return true;
}

inline void ScatterFixed64(uint64_t value, uint8_t* data, const std::vector<uint64_t>& offsets,
                           size_t begin) {
  char bytes[8];
  EncodeFixed64(value, bytes);
  for (size_t i = 0; i < 8; ++i) data[offsets[begin + i]] = static_cast<uint8_t>(bytes[i]);
}

inline void FixRiegeliHashes(uint8_t* data, size_t size) {
  std::vector<uint64_t> header_offsets;
  std::string bytes;
  uint64_t chunk_begin = 0;
  while (chunk_begin < size && IsPossibleChunkBoundary(chunk_begin)) {
    LogicalOffsets(chunk_begin, kChunkHeaderSize, size, &header_offsets);
    if (header_offsets.size() < kChunkHeaderSize) break;
    Gather(data, header_offsets, 8, 16, &bytes);
    const uint64_t data_size = DecodeFixed64(bytes.data());
    Gather(data, header_offsets, 24, 32, &bytes);
    const uint64_t num_records = DecodeFixed64(bytes.data()) >> 8;
    if (data_size <= size &&
        GatherLogical(data, header_offsets.back() + 1, data_size, size, &bytes)) {
      ScatterFixed64(RiegeliHash(bytes), data, header_offsets, 16);
    }
    Gather(data, header_offsets, 8, kChunkHeaderSize, &bytes);
    ScatterFixed64(RiegeliHash(bytes), data, header_offsets, 0);
    const uint64_t chunk_end =
        data_size <= size ? ChunkEnd(chunk_begin, data_size, num_records) : ~uint64_t{0};
    // Block headers inside the chunk, its first one included.
    for (uint64_t block = (chunk_begin + kBlockSize - 1) / kBlockSize * kBlockSize;
         block < chunk_end && block + kBlockHeaderSize <= size; block += kBlockSize) {
      char header[kBlockHeaderSize];
      EncodeFixed64(block - chunk_begin, header + 8);
      EncodeFixed64(chunk_end - block, header + 16);
      EncodeFixed64(RiegeliHash(std::string_view(header + 8, 16)), header);
      for (size_t i = 0; i < kBlockHeaderSize; ++i)
        data[block + i] = static_cast<uint8_t>(header[i]);
    }
    if (chunk_end <= chunk_begin || chunk_end > size) break;
    chunk_begin = chunk_end;
  }
}

// Mutates with libFuzzer's own mutator, then (except for one mutation in
// `raw_one_in`, which keeps exercising the hash checks and recovery) fixes
// the hashes of the result.
inline size_t RiegeliMutate(uint8_t* data, size_t size, size_t max_size, unsigned seed,
                            unsigned raw_one_in = 8) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed % raw_one_in != 0) FixRiegeliHashes(data, size);
  return size;
}

// What separates the parts (files) of a multi-part fuzz input; the seed
// corpus script (scripts/make_fuzz_corpus.py, MARKER) writes the same bytes.
constexpr std::string_view kPartMarker(
    "\xff"
    "EL\n",
    4);

// The parts of `input` separated by `marker` (at most `max_parts`; the last
// part keeps any further markers).
inline std::vector<std::string_view> SplitParts(std::string_view input, std::string_view marker,
                                                size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t end = input.find(marker);
    if (end == std::string_view::npos) break;
    parts.push_back(input.substr(0, end));
    input.remove_prefix(end + marker.size());
  }
  parts.push_back(input);
  return parts;
}

}  // namespace fuzz
}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_FUZZ_RIEGELI_FUZZ_UTIL_H_
