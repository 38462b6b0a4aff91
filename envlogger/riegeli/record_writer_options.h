// How a RecordWriter encodes records, and the text syntax Riegeli uses to
// describe it (docs/format.md, "Writer options"), e.g.
// "transpose,brotli:6,chunk_size:1M".
//
// Grammar: comma-separated items, each `key` or `key:value` (split at the
// first ':'); empty items are ignored, so "" means all defaults. `default`
// may only come first. A key may appear once; at most one of uncompressed,
// brotli, zstd and snappy may appear. Unknown keys, bad values, duplicates
// and conflicts are INVALID_ARGUMENT errors whose message quotes the bad
// item and says what is allowed.
//
// Defaults: simple (not transposed) chunks, Brotli level 6, chunk size 1 MiB
// (4 KiB when uncompressed), bucket_fraction 1, no padding, parallelism 0.

#ifndef ENVLOGGER_RIEGELI_RECORD_WRITER_OPTIONS_H_
#define ENVLOGGER_RIEGELI_RECORD_WRITER_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/compression.h"

namespace envlogger {
namespace riegeli {

// Which Brotli encoder the options ask for. Only the C library exists here,
// so every value encodes with it; the value is kept so that ToString()
// round-trips.
enum class BrotliEncoder { kRBrotliOrCBrotli, kCBrotli, kRBrotli };

struct RecordWriterOptions {
  // Transposed ('t') chunks instead of simple ('r') chunks.
  bool transpose = false;
  // Codec, level and window_log (kAutoWindowLog = the codec's default).
  CompressorOptions compression;
  BrotliEncoder brotli_encoder = BrotliEncoder::kRBrotliOrCBrotli;
  // Desired uncompressed bytes per chunk; nullopt = automatic (see
  // effective_chunk_size()).
  std::optional<uint64_t> chunk_size;
  // Transposed bucket size as a fraction of the chunk size, in [0, 1].
  double bucket_fraction = 1.0;
  // Padding (a 'p' chunk) so that the next chunk starts at a multiple of
  // this many bytes: initial_padding when starting to append to an existing
  // file, final_padding at every flush and at close. 1 = no padding.
  uint64_t initial_padding = 1;
  uint64_t final_padding = 1;
  // Accepted for compatibility. Chunks are always encoded on the writing
  // thread; the bytes written are identical to Riegeli's for any value.
  int parallelism = 0;

  // Parses the text syntax described above.
  static StatusOr<RecordWriterOptions> FromString(std::string_view text);

  // A text form that FromString() parses back to equal options.
  std::string ToString() const;

  // The desired chunk size after resolving "auto": 1 MiB when compressed,
  // 4 KiB when uncompressed.
  uint64_t effective_chunk_size() const;

  // Target uncompressed size of a transposed bucket:
  // round(effective_chunk_size() * bucket_fraction), at least 1, or
  // UINT64_MAX ("unlimited") when uncompressed.
  uint64_t bucket_size() const;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_RECORD_WRITER_OPTIONS_H_
