// HighwayHash-64 with AVX2: each of the four state vectors (v0, v1, mul0,
// mul1) is one 256-bit register of four 64-bit lanes, so a 32-byte packet is
// one vector load, two 32x32->64 multiplies, and two in-lane byte shuffles
// (the "zipper merge"). Same algorithm and results as the portable code in
// highwayhash.cc; compiled for AVX2 per function, so the rest of the library
// keeps the baseline instruction set, and only called when CpuHasAvx2().

#include "envlogger/riegeli/highwayhash_internal.h"

#if ENVLOGGER_HIGHWAYHASH_HAVE_AVX2

#include <immintrin.h>

#define ENVLOGGER_AVX2 __attribute__((target("avx2")))

namespace envlogger {
namespace riegeli {
namespace highwayhash_internal {
namespace {

struct Avx2State {
  __m256i v0, v1, mul0, mul1;
};

// Within each 128-bit half (two lanes), output byte i takes input byte
// mask[i]; derived from the published zipper merge (see
// ZipperMergeAndAdd() in highwayhash.cc for the same shuffle with shifts).
ENVLOGGER_AVX2 inline __m256i ZipperMerge(__m256i v) {
  const __m256i mask = _mm256_set_epi64x(0x070806090D0A040Bll, 0x000F010E05020C03ll,
                                         0x070806090D0A040Bll, 0x000F010E05020C03ll);
  return _mm256_shuffle_epi8(v, mask);
}

ENVLOGGER_AVX2 inline void Update(Avx2State* s, __m256i packet) {
  s->v1 = _mm256_add_epi64(s->v1, _mm256_add_epi64(s->mul0, packet));
  // _mm256_mul_epu32 multiplies the low 32 bits of each 64-bit lane.
  s->mul0 = _mm256_xor_si256(s->mul0, _mm256_mul_epu32(s->v1, _mm256_srli_epi64(s->v0, 32)));
  s->v0 = _mm256_add_epi64(s->v0, s->mul1);
  s->mul1 = _mm256_xor_si256(s->mul1, _mm256_mul_epu32(s->v0, _mm256_srli_epi64(s->v1, 32)));
  s->v0 = _mm256_add_epi64(s->v0, ZipperMerge(s->v1));
  s->v1 = _mm256_add_epi64(s->v1, ZipperMerge(s->v0));
}

ENVLOGGER_AVX2 inline __m256i LoadPacket(const char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

}  // namespace

bool CpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

ENVLOGGER_AVX2 uint64_t HighwayHash64Avx2(const HighwayHashKey key, std::string_view data) {
  const __m256i k = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(key));
  Avx2State s;
  s.mul0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kInitMul0));
  s.mul1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kInitMul1));
  s.v0 = _mm256_xor_si256(s.mul0, k);
  // Swapping the 32-bit halves of each lane.
  s.v1 = _mm256_xor_si256(s.mul1, _mm256_shuffle_epi32(k, _MM_SHUFFLE(2, 3, 0, 1)));

  const char* p = data.data();
  const size_t full = data.size() - data.size() % kPacketSize;
  for (const char* end = p + full; p != end; p += kPacketSize) Update(&s, LoadPacket(p));

  const size_t remainder = data.size() - full;
  if (remainder != 0) {
    const __m256i size = _mm256_set1_epi32(static_cast<int>(remainder));
    s.v0 = _mm256_add_epi64(s.v0, size);  // (size << 32) + size in each lane.
    // Each 32-bit half of v1 rotated left by `remainder` (1..31).
    const __m128i left = _mm_cvtsi32_si128(static_cast<int>(remainder));
    const __m128i right = _mm_cvtsi32_si128(static_cast<int>(32 - remainder));
    s.v1 = _mm256_or_si256(_mm256_sll_epi32(s.v1, left), _mm256_srl_epi32(s.v1, right));
    alignas(32) char packet[kPacketSize];
    RemainderPacket(p, remainder, packet);
    Update(&s, _mm256_load_si256(reinterpret_cast<const __m256i*>(packet)));
  }

  for (int round = 0; round < 4; ++round) {
    // Lanes {2, 3, 0, 1} of v0, each with its 32-bit halves swapped.
    const __m256i permuted = _mm256_shuffle_epi32(
        _mm256_permute4x64_epi64(s.v0, _MM_SHUFFLE(1, 0, 3, 2)), _MM_SHUFFLE(2, 3, 0, 1));
    Update(&s, permuted);
  }
  const __m256i sum =
      _mm256_add_epi64(_mm256_add_epi64(s.v0, s.v1), _mm256_add_epi64(s.mul0, s.mul1));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm256_castsi256_si128(sum)));
}

}  // namespace highwayhash_internal
}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_HIGHWAYHASH_HAVE_AVX2
