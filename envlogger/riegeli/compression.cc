// Compressed blocks (compression.h) over the system brotli, zstd and snappy
// libraries.
//
// Decompression never trusts the announced size for allocation: output grows
// in bounded steps as the codec produces it, and producing more than announced
// is an error, so a corrupt size varint cannot make us allocate absurd amounts.

#include "envlogger/riegeli/compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <snappy-sinksource.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <new>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/brotli_block_cache.h"

namespace envlogger {
namespace riegeli {
namespace {

// Output is produced in steps of at most this many bytes.
constexpr size_t kOutputStep = size_t{1} << 20;

// Largest output a snappy stream can produce per input byte (a 3-byte copy
// element yields at most 64 bytes), with slack for the stream's own header.
constexpr uint64_t kSnappyMaxRatio = 32;

// Largest output a zstd frame can produce per compressed byte: an RLE block
// (3-byte header and 1 byte) yields at most one 128 KiB block. kZstdMaxBlock
// is that block, allowed on top.
constexpr uint64_t kZstdMaxRatio = 32768;
constexpr uint64_t kZstdMaxBlock = uint64_t{1} << 17;
// zstd's own default limit on a frame's window (ZSTD_WINDOWLOG_LIMIT_DEFAULT).
constexpr uint64_t kZstdDefaultMaxWindow = uint64_t{1} << 27;

// How much room to offer the decoder next: the rest of the announced size
// plus one byte (so that overlong output is detected rather than left inside
// the decoder), in steps of at most kOutputStep.
size_t NextOutputStep(uint64_t size, uint64_t produced) {
  const uint64_t remaining = size - produced;
  return remaining >= kOutputStep ? kOutputStep : static_cast<size_t>(remaining + 1);
}

// zstd contexts are costly to create (they allocate their tables), so each
// thread keeps one of each and resets it, parameters included, before every
// use; a reset context behaves exactly like a new one.
struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};

// zstd compresses into room for its worst case (about the input size).
// Making that room in the destination string would zero-fill it, and in a
// fresh destination fault in its pages, on every call, while the output is
// usually far smaller: it compresses into this per-thread buffer instead,
// whose pages stay mapped from call to call, and only the output is copied.
// Room beyond kMaxKeptScratch is allocated for the one call only.
constexpr size_t kMaxKeptScratch = size_t{32} << 20;

// Room for `size` bytes, valid until the next call on this thread or until
// `*temporary` goes away; nullptr if it cannot be allocated.
char* CompressionScratch(size_t size, std::unique_ptr<char[]>* temporary) {
  if (size > kMaxKeptScratch) {
    temporary->reset(new (std::nothrow) char[size]);
    return temporary->get();
  }
  thread_local std::unique_ptr<char[]> kept;
  thread_local size_t kept_size = 0;
  if (size > kept_size) {
    // Growing at least twofold, so that slowly growing inputs do not
    // reallocate on every call.
    const size_t new_size = std::max(size, std::min(kMaxKeptScratch, 2 * kept_size));
    kept.reset();
    kept_size = 0;
    kept.reset(new (std::nothrow) char[new_size]);
    if (kept == nullptr) return nullptr;
    kept_size = new_size;
  }
  return kept.get();
}

ZSTD_CCtx* ThreadZstdCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> cctx(ZSTD_createCCtx());
  if (cctx != nullptr) ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  return cctx.get();
}

ZSTD_DCtx* ThreadZstdDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> dctx(ZSTD_createDCtx());
  if (dctx != nullptr) ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_and_parameters);
  return dctx.get();
}

Status CompressBrotli(const CompressorOptions& options, std::string_view input, std::string* dest) {
  const int window_log =
      options.window_log == kAutoWindowLog ? kDefaultBrotliWindowLog : options.window_log;
  if (options.level < BROTLI_MIN_QUALITY || options.level > BROTLI_MAX_QUALITY ||
      window_log < BROTLI_MIN_WINDOW_BITS || window_log > BROTLI_LARGE_MAX_WINDOW_BITS) {
    return InvalidArgumentError("brotli: level must be in 0..11 and window_log in 10..30, got " +
                                std::to_string(options.level) + " and " +
                                std::to_string(window_log));
  }
  std::unique_ptr<BrotliEncoderState, decltype(&BrotliEncoderDestroyInstance)> encoder(
      BrotliEncoderCreateInstance(nullptr, nullptr, nullptr), BrotliEncoderDestroyInstance);
  if (encoder == nullptr) return ResourceExhaustedError("brotli: cannot create encoder");
  if (!BrotliEncoderSetParameter(encoder.get(), BROTLI_PARAM_QUALITY,
                                 static_cast<uint32_t>(options.level)) ||
      !BrotliEncoderSetParameter(encoder.get(), BROTLI_PARAM_LARGE_WINDOW,
                                 window_log > BROTLI_MAX_WINDOW_BITS ? 1 : 0) ||
      !BrotliEncoderSetParameter(encoder.get(), BROTLI_PARAM_LGWIN,
                                 static_cast<uint32_t>(window_log))) {
    return InvalidArgumentError("brotli: invalid level " + std::to_string(options.level) +
                                " or window_log " + std::to_string(window_log));
  }
  size_t available_in = input.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(input.data());
  for (;;) {
    size_t available_out = 0;
    if (!BrotliEncoderCompressStream(encoder.get(), BROTLI_OPERATION_FINISH, &available_in,
                                     &next_in, &available_out, nullptr, nullptr)) {
      return InternalError("brotli: compression failed");
    }
    size_t length = 0;
    const uint8_t* output = BrotliEncoderTakeOutput(encoder.get(), &length);
    dest->append(reinterpret_cast<const char*>(output), length);
    if (BrotliEncoderIsFinished(encoder.get())) return OkStatus();
  }
}

Status CompressZstd(const CompressorOptions& options, std::string_view input, bool pledge_size,
                    std::string* dest) {
  if (options.level < ZSTD_minCLevel() || options.level > ZSTD_maxCLevel()) {
    return InvalidArgumentError("zstd: level must be in " + std::to_string(ZSTD_minCLevel()) +
                                ".." + std::to_string(ZSTD_maxCLevel()) + ", got " +
                                std::to_string(options.level));
  }
  ZSTD_CCtx* const cctx = ThreadZstdCCtx();
  if (cctx == nullptr) return ResourceExhaustedError("zstd: cannot create compressor");
  size_t result = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, options.level);
  if (!ZSTD_isError(result) && options.window_log != kAutoWindowLog) {
    result = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, options.window_log);
  }
  if (ZSTD_isError(result)) {
    return InvalidArgumentError(std::string("zstd: invalid level or window_log: ") +
                                ZSTD_getErrorName(result));
  }
  const size_t room = ZSTD_compressBound(input.size()) + 32;
  std::unique_ptr<char[]> temporary;
  char* const scratch = CompressionScratch(room, &temporary);
  if (scratch == nullptr) {
    return ResourceExhaustedError("zstd: cannot allocate " + std::to_string(room) +
                                  " bytes of output room");
  }
  ZSTD_outBuffer out = {scratch, room, 0};
  ZSTD_inBuffer in = {input.data(), input.size(), 0};
  if (!pledge_size && input.size() > kZstdUnpledgedBufferSize) {
    // Hand over the input before ending the frame, so that zstd treats its
    // size as unknown.
    result = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue);
  }
  // Ending the frame in the first call (whole input present) records the
  // content size and tunes the parameters to it.
  if (!ZSTD_isError(result)) {
    // The output room (compressBound plus slack) always suffices to finish.
    result = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
    if (!ZSTD_isError(result) && result != 0) {
      return InternalError("zstd: frame did not fit in its compression bound");
    }
  }
  if (ZSTD_isError(result)) {
    return InternalError(std::string("zstd: compression failed: ") + ZSTD_getErrorName(result));
  }
  dest->append(scratch, out.pos);
  return OkStatus();
}

class StringAppendSink : public snappy::Sink {
 public:
  explicit StringAppendSink(std::string* dest) : dest_(dest) {}
  void Append(const char* bytes, size_t n) override { dest_->append(bytes, n); }

 private:
  std::string* dest_;
};

Status CompressSnappy(std::string_view input, std::string* dest) {
  if (input.size() > uint64_t{0xffffffff}) {
    return ResourceExhaustedError("snappy: cannot compress 4 GiB or more at once");
  }
  // Snappy compresses 64 KiB fragments, each into its own small scratch
  // buffer (which stays in cache) when the sink offers no room, and the
  // sink appends it to `dest`: no room for the whole output is made up
  // front. The same bytes RawCompress() produces.
  snappy::ByteArraySource source(input.data(), input.size());
  StringAppendSink sink(dest);
  snappy::Compress(&source, &sink);
  return OkStatus();
}

Status DecompressBrotli(std::string_view stream, uint64_t size, std::string* dest) {
  std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> decoder(
      BrotliDecoderCreateInstance(AllocateBrotliBlock, FreeBrotliBlock, nullptr),
      BrotliDecoderDestroyInstance);
  if (decoder == nullptr) return ResourceExhaustedError("brotli: cannot create decoder");
  BrotliDecoderSetParameter(decoder.get(), BROTLI_DECODER_PARAM_LARGE_WINDOW, 1);
  size_t available_in = stream.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(stream.data());
  const size_t start = dest->size();
  // The decoder keeps its output in its own window and hands it over with
  // BrotliDecoderTakeOutput(): `dest` grows by what was produced, never by
  // room offered in advance (which a hostile stream would leave unused).
  const auto fail = [dest, start](std::string message) {
    dest->resize(start);
    return InvalidArgumentError("brotli: " + std::move(message));
  };
  for (;;) {
    size_t available_out = 0;
    const BrotliDecoderResult result = BrotliDecoderDecompressStream(
        decoder.get(), &available_in, &next_in, &available_out, nullptr, nullptr);
    while (BrotliDecoderHasMoreOutput(decoder.get())) {
      size_t length = 0;
      const char* output =
          reinterpret_cast<const char*>(BrotliDecoderTakeOutput(decoder.get(), &length));
      if (length > size - (dest->size() - start)) {
        return fail("decompressed data exceed the announced size " + std::to_string(size));
      }
      dest->append(output, length);
    }
    const uint64_t produced = dest->size() - start;
    switch (result) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        if (available_in != 0) {
          return fail(std::to_string(available_in) + " trailing bytes after the compressed stream");
        }
        if (produced != size) {
          return fail("decompressed " + std::to_string(produced) + " bytes, announced " +
                      std::to_string(size));
        }
        return OkStatus();
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        continue;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        return fail("truncated compressed stream");
      case BROTLI_DECODER_RESULT_ERROR:
      default:
        return fail(std::string("corrupt compressed stream: ") +
                    BrotliDecoderErrorString(BrotliDecoderGetErrorCode(decoder.get())));
    }
  }
}

// zstd allocates its window (as large as the frame header declares, up to
// 2^31 bytes) before producing any output. A frame cannot make use of a window
// larger than all its output, so before decompressing: a frame declaring a
// content size other than the announced one is refused; a window larger than
// both the announced size and zstd's default limit (2^27) is lowered, in a
// copy of the frame, to the smallest power of two covering the announced size
// (the same output for every valid frame); and the announced size itself must
// be within what the compressed bytes can expand to (kZstdMaxRatio).
// `*stream` is left unchanged or pointed at `*storage`.
Status BoundZstdWindow(uint64_t size, std::string_view* stream, std::string* storage) {
  const unsigned long long content_size = ZSTD_getFrameContentSize(stream->data(), stream->size());
  if (content_size != ZSTD_CONTENTSIZE_UNKNOWN && content_size != ZSTD_CONTENTSIZE_ERROR &&
      content_size != size) {
    return InvalidArgumentError("zstd: frame declares " + std::to_string(content_size) +
                                " bytes, announced " + std::to_string(size));
  }
  if (size > kZstdMaxRatio * stream->size() + kZstdMaxBlock) {
    return InvalidArgumentError("zstd: announced size " + std::to_string(size) + " exceeds what " +
                                std::to_string(stream->size()) + " compressed bytes can hold");
  }
  // Frame header (RFC 8878 3.1.1): magic, descriptor byte, then the window
  // descriptor unless the single-segment flag (bit 5) is set.
  constexpr char kMagic[] = {'\x28', '\xb5', '\x2f', '\xfd'};
  if (content_size != ZSTD_CONTENTSIZE_UNKNOWN || stream->size() < 6 ||
      stream->substr(0, 4) != std::string_view(kMagic, 4) || ((*stream)[4] & 0x20) != 0) {
    return OkStatus();
  }
  const uint8_t descriptor = static_cast<uint8_t>((*stream)[5]);
  const int window_log = 10 + (descriptor >> 3);
  const uint64_t window =
      (uint64_t{1} << window_log) + (uint64_t{1} << window_log) / 8 * (descriptor & 7);
  if (window <= kZstdDefaultMaxWindow || window <= size) return OkStatus();
  int needed_log = 10;
  while (needed_log < 31 && (uint64_t{1} << needed_log) < size) ++needed_log;
  storage->assign(stream->data(), stream->size());
  (*storage)[5] = static_cast<char>((needed_log - 10) << 3);
  *stream = *storage;
  return OkStatus();
}

Status DecompressZstd(std::string_view stream, uint64_t size, std::string* dest) {
  std::string patched;
  RETURN_IF_ERROR(BoundZstdWindow(size, &stream, &patched));
  ZSTD_DCtx* const dctx = ThreadZstdDCtx();
  if (dctx == nullptr) return ResourceExhaustedError("zstd: cannot create decompressor");
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 31);
  ZSTD_inBuffer in = {stream.data(), stream.size(), 0};
  const size_t start = dest->size();
  uint64_t produced = 0;
  for (;;) {
    const size_t step = NextOutputStep(size, produced);
    dest->resize(start + produced + step);
    ZSTD_outBuffer out = {&(*dest)[start + produced], step, 0};
    const size_t result = ZSTD_decompressStream(dctx, &out, &in);
    produced += out.pos;
    dest->resize(start + produced);
    if (ZSTD_isError(result)) {
      dest->resize(start);
      return InvalidArgumentError(std::string("zstd: corrupt compressed stream: ") +
                                  ZSTD_getErrorName(result));
    }
    if (produced > size) {
      dest->resize(start);
      return InvalidArgumentError("zstd: decompressed data exceed the announced size " +
                                  std::to_string(size));
    }
    if (result == 0) {  // The frame is complete.
      if (in.pos != in.size) {
        dest->resize(start);
        return InvalidArgumentError("zstd: " + std::to_string(in.size - in.pos) +
                                    " trailing bytes after the compressed frame");
      }
      if (produced != size) {
        dest->resize(start);
        return InvalidArgumentError("zstd: decompressed " + std::to_string(produced) +
                                    " bytes, announced " + std::to_string(size));
      }
      return OkStatus();
    }
    if (in.pos == in.size && out.pos < out.size) {
      // All input consumed, room left, frame not finished: truncated.
      dest->resize(start);
      return InvalidArgumentError("zstd: truncated compressed frame");
    }
  }
}

Status DecompressSnappy(std::string_view stream, uint64_t size, std::string* dest) {
  size_t stream_size = 0;
  if (!snappy::GetUncompressedLength(stream.data(), stream.size(), &stream_size)) {
    return InvalidArgumentError("snappy: corrupt compressed stream (bad length prefix)");
  }
  if (stream_size != size) {
    return InvalidArgumentError("snappy: stream announces " + std::to_string(stream_size) +
                                " bytes, block announces " + std::to_string(size));
  }
  if (size > uint64_t{stream.size()} * kSnappyMaxRatio + 64) {
    return InvalidArgumentError("snappy: announced size " + std::to_string(size) +
                                " is impossible for " + std::to_string(stream.size()) +
                                " compressed bytes");
  }
  const size_t start = dest->size();
  dest->resize(start + size);
  if (!snappy::RawUncompress(stream.data(), stream.size(), &(*dest)[start])) {
    dest->resize(start);
    return InvalidArgumentError("snappy: corrupt compressed stream");
  }
  return OkStatus();
}

}  // namespace

const char* CompressionName(CompressionType type) {
  switch (type) {
    case CompressionType::kNone:
      return "uncompressed";
    case CompressionType::kBrotli:
      return "brotli";
    case CompressionType::kZstd:
      return "zstd";
    case CompressionType::kSnappy:
      return "snappy";
  }
  return "unknown";
}

bool IsValidCompressionType(uint8_t byte) {
  switch (static_cast<CompressionType>(byte)) {
    case CompressionType::kNone:
    case CompressionType::kBrotli:
    case CompressionType::kZstd:
    case CompressionType::kSnappy:
      return true;
  }
  return false;
}

Status CompressBlock(const CompressorOptions& options, std::string_view input, std::string* dest,
                     bool pledge_size) {
  if (options.type == CompressionType::kNone) {
    dest->append(input.data(), input.size());
    return OkStatus();
  }
  AppendVarint64(input.size(), dest);
  switch (options.type) {
    case CompressionType::kBrotli:
      return CompressBrotli(options, input, dest);
    case CompressionType::kZstd:
      return CompressZstd(options, input, pledge_size, dest);
    case CompressionType::kSnappy:
      return CompressSnappy(input, dest);
    case CompressionType::kNone:
      break;
  }
  return InvalidArgumentError("unknown compression type " +
                              std::to_string(static_cast<int>(options.type)));
}

Status DecompressedSize(CompressionType type, std::string_view block, uint64_t* size) {
  if (type == CompressionType::kNone) {
    *size = block.size();
    return OkStatus();
  }
  if (!IsValidCompressionType(static_cast<uint8_t>(type))) {
    return InvalidArgumentError("unknown compression type " +
                                std::to_string(static_cast<int>(type)));
  }
  if (!ReadVarint64(&block, size)) {
    return InvalidArgumentError(std::string(CompressionName(type)) +
                                ": invalid decompressed size varint at the start of the block");
  }
  return OkStatus();
}

Status DecompressBlock(CompressionType type, std::string_view block, std::string* dest) {
  if (type == CompressionType::kNone) {
    dest->append(block.data(), block.size());
    return OkStatus();
  }
  uint64_t size = 0;
  RETURN_IF_ERROR(DecompressedSize(type, block, &size));
  ReadVarint64(&block, &size);
  switch (type) {
    case CompressionType::kBrotli:
      return DecompressBrotli(block, size, dest);
    case CompressionType::kZstd:
      return DecompressZstd(block, size, dest);
    case CompressionType::kSnappy:
      return DecompressSnappy(block, size, dest);
    case CompressionType::kNone:
      break;
  }
  return InvalidArgumentError("unknown compression type");
}

}  // namespace riegeli
}  // namespace envlogger
