// Memory for brotli decoders, recycled within a thread.
//
// A brotli decoder allocates its tables and its ring buffer (up to the
// stream's window, megabytes) when a stream begins and frees them when it
// ends, and every compressed chunk is a stream of its own. Allocated afresh,
// large blocks are mapped, faulted in and unmapped chunk after chunk. A
// decoder created with these functions takes its blocks from a small cache of
// blocks this thread's decoders freed before (the smallest that fits), and
// gives them back to it; the cache is bounded (kMaxCachedBrotliBlocks,
// kMaxCachedBrotliBytes) and freed when the thread ends. (Not buffer_pool.h,
// which pools std::string buffers: brotli frees a block by its address alone.)
//
//   BrotliDecoderCreateInstance(AllocateBrotliBlock, FreeBrotliBlock, nullptr)

#ifndef ENVLOGGER_RIEGELI_BROTLI_BLOCK_CACHE_H_
#define ENVLOGGER_RIEGELI_BROTLI_BLOCK_CACHE_H_

#include <cstddef>

namespace envlogger {
namespace riegeli {

constexpr size_t kMaxCachedBrotliBlocks = 16;
constexpr size_t kMaxCachedBrotliBytes = size_t{64} << 20;

// brotli_alloc_func: `size` bytes aligned like malloc's, or nullptr.
void* AllocateBrotliBlock(void* opaque, size_t size);
// brotli_free_func: releases what AllocateBrotliBlock returned (or nullptr).
void FreeBrotliBlock(void* opaque, void* address);

// What this thread's cache holds now: block count and their total capacity.
size_t CachedBrotliBlocks();
size_t CachedBrotliBytes();

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_BROTLI_BLOCK_CACHE_H_
