// Compressed blocks: the unit of compression inside Riegeli chunk data.
//
// A block of compression type kNone is the raw bytes. Any other type stores
// varint64(decompressed size) followed by one complete compressed stream:
//   kBrotli  a standard Brotli stream (quality = level, lgwin = window_log
//            or 22 if kAutoWindowLog, large-window mode iff window_log > 24;
//            the decoder always accepts large-window streams);
//   kZstd    a single zstd frame, no checksum (decoder window log up to 31);
//   kSnappy  raw Snappy block format (not the framed format).
// Decompression checks that the output has exactly the announced size and
// that the stream ends exactly at the end of the block. Memory grows with the
// output actually produced, never with the announced size alone, so a corrupt
// size prefix cannot cause a huge allocation.

#ifndef ENVLOGGER_RIEGELI_COMPRESSION_H_
#define ENVLOGGER_RIEGELI_COMPRESSION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "envlogger/base/status.h"

namespace envlogger {
namespace riegeli {

// The compression_type byte stored at the start of simple and transposed
// chunk data.
enum class CompressionType : uint8_t {
  kNone = 0,
  kBrotli = 'b',
  kZstd = 'z',
  kSnappy = 's',
};

constexpr int kDefaultBrotliLevel = 6;
constexpr int kDefaultZstdLevel = 3;
constexpr int kDefaultSnappyLevel = 1;
constexpr int kDefaultBrotliWindowLog = 22;
// window_log value meaning "let the library choose" (zstd) or the default
// (brotli: 22).
constexpr int kAutoWindowLog = -1;

struct CompressorOptions {
  CompressionType type = CompressionType::kBrotli;
  int level = kDefaultBrotliLevel;
  int window_log = kAutoWindowLog;
};

// Returns true if `byte` is one of the four known compression types.
bool IsValidCompressionType(uint8_t byte);

// The codec's name as writer options spell it: "uncompressed", "brotli",
// "zstd" or "snappy".
const char* CompressionName(CompressionType type);

// Appends the compressed block for `input` to `*dest` (for kNone: `input`
// itself). Fails with INVALID_ARGUMENT on a level or window_log the codec
// rejects. Snappy ignores `level` (the system library has a single level).
//
// `pledge_size` mirrors how the reference writer feeds zstd, so that zstd
// output is byte-identical to it (brotli and snappy ignore it):
//   true   the exact input size is announced up front: the frame records its
//          content size and zstd tunes its parameters to that size (the
//          reference does this for the transposed header and buckets);
//   false  the reference streams the data through a 4 KiB buffer: an input
//          of at most kZstdUnpledgedBufferSize bytes arrives in one final call
//          (content size recorded, parameters tuned to it); a larger one is
//          compressed as of unknown size (no content size, default window).
Status CompressBlock(const CompressorOptions& options, std::string_view input, std::string* dest,
                     bool pledge_size = false);

// See CompressBlock(): the reference writer's initial buffer size.
constexpr size_t kZstdUnpledgedBufferSize = size_t{4} << 10;

// Decompresses the block that occupies all of `block` and appends the result
// to `*dest`. Errors are INVALID_ARGUMENT with a message naming the codec.
Status DecompressBlock(CompressionType type, std::string_view block, std::string* dest);

// Reads the decompressed size announced by a block without decompressing it
// (for kNone: the block length).
Status DecompressedSize(CompressionType type, std::string_view block, uint64_t* size);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_COMPRESSION_H_
