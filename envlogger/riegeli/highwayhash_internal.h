// Internals of HighwayHash-64 shared by its two implementations (portable
// and AVX2) and by the test that compares them. Not part of the API:
// use HighwayHash64() / RiegeliHash() from highwayhash.h.

#ifndef ENVLOGGER_RIEGELI_HIGHWAYHASH_INTERNAL_H_
#define ENVLOGGER_RIEGELI_HIGHWAYHASH_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "envlogger/riegeli/highwayhash.h"

// The AVX2 implementation exists only where GCC/Clang x86 intrinsics do.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define ENVLOGGER_HIGHWAYHASH_HAVE_AVX2 1
#else
#define ENVLOGGER_HIGHWAYHASH_HAVE_AVX2 0
#endif

namespace envlogger {
namespace riegeli {
namespace highwayhash_internal {

constexpr size_t kPacketSize = 32;

constexpr uint64_t kInitMul0[4] = {0xdbe6d5d5fe4cce2full, 0xa4093822299f31d0ull,
                                   0x13198a2e03707344ull, 0x243f6a8885a308d3ull};
constexpr uint64_t kInitMul1[4] = {0x3bd39e10cb0ef593ull, 0xc0acf169b5f18a8cull,
                                   0xbe5466cf34e90c6cull, 0x452821e638d01377ull};

// Builds the packet that carries the final 1..31 input bytes (`size` of them
// at `bytes`): the whole 4-byte groups first, then either the last four input
// bytes at offset 28 (if size & 16) or, for 1..3 leftover bytes, the first,
// middle and last of them at offset 16. Everything else is zero.
inline void RemainderPacket(const char* bytes, size_t size, char packet[kPacketSize]) {
  const size_t size_mod4 = size & 3;
  const size_t aligned = size & ~size_t{3};
  const char* tail = bytes + aligned;
  std::memset(packet, 0, kPacketSize);
  std::memcpy(packet, bytes, aligned);
  if (size & 16) {
    // The last four input bytes (they may overlap the copied prefix).
    std::memcpy(packet + 28, tail + size_mod4 - 4, 4);
  } else if (size_mod4 != 0) {
    packet[16] = tail[0];
    packet[17] = tail[size_mod4 >> 1];
    packet[18] = tail[size_mod4 - 1];
  }
}

// The scalar implementation; runs anywhere.
uint64_t HighwayHash64Portable(const HighwayHashKey key, std::string_view data);

#if ENVLOGGER_HIGHWAYHASH_HAVE_AVX2
// True if the CPU (and the OS) support AVX2, so HighwayHash64Avx2() may run.
bool CpuHasAvx2();
// The AVX2 implementation; callable only if CpuHasAvx2(). Same results as
// HighwayHash64Portable().
uint64_t HighwayHash64Avx2(const HighwayHashKey key, std::string_view data);
#endif

}  // namespace highwayhash_internal
}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_HIGHWAYHASH_INTERNAL_H_
