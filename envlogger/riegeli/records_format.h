// The physical layout of a Riegeli/records file (docs/format.md, "Blocks" to "Signature
// and metadata"; the published format:
// https://github.com/google/riegeli/blob/master/doc/riegeli_records_file_format.md).
//
// A file is a sequence of chunks. Each chunk is a 40-byte chunk header, its
// data, then zero padding up to `ChunkEnd()`. At every file offset that is a
// multiple of kBlockSize (offset 0 included) a 24-byte block header is
// interleaved into whatever chunk spans it:
//
//   block header: header_hash(8) previous_chunk(8) next_chunk(8)
//     previous_chunk = block_begin - chunk_begin, next_chunk = chunk_end - block_begin
//   chunk header: header_hash(8) data_size(8) data_hash(8)
//                 chunk_type(1) num_records(7) decoded_data_size(8)
//
// All integers are little-endian. Hashes are HighwayHash-64 with the Riegeli
// key (highwayhash.h). The first chunk is always the 64-byte file signature.
// A record's numeric position is chunk_begin + index_in_chunk; chunks are
// padded to span at least num_records bytes so that positions are unique.

#ifndef ENVLOGGER_RIEGELI_RECORDS_FORMAT_H_
#define ENVLOGGER_RIEGELI_RECORDS_FORMAT_H_

#include <algorithm>
#include <cstdint>

namespace envlogger {
namespace riegeli {

constexpr uint64_t kBlockSize = uint64_t{1} << 16;
constexpr uint64_t kBlockHeaderSize = 24;
constexpr uint64_t kUsableBlockSize = kBlockSize - kBlockHeaderSize;
constexpr uint64_t kChunkHeaderSize = 40;
constexpr uint64_t kMaxNumRecords = (uint64_t{1} << 56) - 1;
// Size of the file signature chunk including the block header at offset 0.
constexpr uint64_t kSignatureSize = kBlockHeaderSize + kChunkHeaderSize;

enum class ChunkType : uint8_t {
  kFileSignature = 's',
  kFileMetadata = 'm',
  kPadding = 'p',
  kSimple = 'r',
  kTransposed = 't',
};

// A chunk may begin at `pos` only if pos % B == 0 or pos % B >= 25.
inline bool IsPossibleChunkBoundary(uint64_t pos) { return (-pos) % kBlockSize < kUsableBlockSize; }

// The smallest possible chunk boundary >= pos.
inline uint64_t RoundUpToPossibleChunkBoundary(uint64_t pos) {
  const uint64_t remaining = (-pos) % kBlockSize;
  return pos + (remaining >= kUsableBlockSize ? remaining - (kUsableBlockSize - 1) : 0);
}

// Physical end of `length` logical bytes starting at chunk boundary `begin`,
// counting the block headers crossed.
inline uint64_t AddWithOverhead(uint64_t begin, uint64_t length) {
  const uint64_t num_overheads =
      (length + (begin + kUsableBlockSize - 1) % kBlockSize) / kUsableBlockSize;
  return begin + length + num_overheads * kBlockHeaderSize;
}

// Logical bytes between physical positions a <= b, block headers excluded.
inline uint64_t DistanceWithoutOverhead(uint64_t a, uint64_t b) {
  return (b - std::min(b % kBlockSize, kBlockHeaderSize)) -
         (a - std::min(a % kBlockSize, kBlockHeaderSize)) -
         (b / kBlockSize - a / kBlockSize) * kBlockHeaderSize;
}

// Where a chunk beginning at `chunk_begin` ends (the next chunk's begin).
inline uint64_t ChunkEnd(uint64_t chunk_begin, uint64_t data_size, uint64_t num_records) {
  return std::max(AddWithOverhead(chunk_begin, kChunkHeaderSize + data_size),
                  RoundUpToPossibleChunkBoundary(chunk_begin + num_records));
}

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_RECORDS_FORMAT_H_
