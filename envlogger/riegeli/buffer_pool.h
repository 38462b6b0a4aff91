// Chunk-sized byte buffers kept from one writer to the next.
//
// A writer gathers a chunk's records and its encoded data in buffers of
// about the chunk size. Allocated afresh for every writer, their pages are
// faulted in (and zeroed by the kernel) again each time, which for the fast
// codecs costs as much as compressing a chunk; recycling them through this
// process-wide pool keeps their pages mapped. The pool is bounded
// (kMaxPooledBuffers, kMaxPooledBytes) and thread-safe.

#ifndef ENVLOGGER_RIEGELI_BUFFER_POOL_H_
#define ENVLOGGER_RIEGELI_BUFFER_POOL_H_

#include <cstddef>
#include <string>

namespace envlogger {
namespace riegeli {

// Buffers smaller than this are left to malloc.
constexpr size_t kMinPooledCapacity = size_t{4} << 10;
constexpr size_t kMaxPooledBuffers = 32;
constexpr size_t kMaxPooledBytes = size_t{64} << 20;

// Returns an empty string: the pooled buffer with the smallest capacity of at
// least `min_capacity` if there is one (it leaves the pool), else a new one.
std::string TakePooledBuffer(size_t min_capacity = 0);

// Offers `*buffer`'s memory to the pool and leaves `*buffer` empty. The pool
// keeps it unless its capacity is below kMinPooledCapacity or keeping it
// would exceed kMaxPooledBuffers or kMaxPooledBytes; then it is freed.
void RecyclePooledBuffer(std::string* buffer);

// What the pool holds now: buffer count and their total capacity.
size_t PooledBufferCount();
size_t PooledBufferBytes();

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_BUFFER_POOL_H_
