// HighwayHash-64, portable scalar implementation written from the published
// description of the algorithm (four 4-lane 64-bit state vectors, 32-byte
// packets, a length-dependent remainder packet and four permute rounds), and
// the choice between it and the AVX2 implementation (highwayhash_avx2.cc).

#include "envlogger/riegeli/highwayhash.h"

#include <cstring>

#include "envlogger/riegeli/highwayhash_internal.h"

namespace envlogger {
namespace riegeli {
namespace highwayhash_internal {
namespace {

inline uint64_t SwapHalves(uint64_t x) { return (x >> 32) | (x << 32); }

inline uint32_t RotateLeft32(uint32_t x, unsigned count) {
  // count is in 1..31 (only remainders 1..31 are rotated).
  return (x << count) | (x >> (32 - count));
}

// A little-endian 64-bit load.
inline uint64_t Load64(const char* p) {
  uint64_t value;
  std::memcpy(&value, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  value = __builtin_bswap64(value);
#endif
  return value;
}

class HighwayHashState {
 public:
  explicit HighwayHashState(const HighwayHashKey key) {
    for (int i = 0; i < 4; ++i) {
      mul0_[i] = kInitMul0[i];
      mul1_[i] = kInitMul1[i];
      v0_[i] = mul0_[i] ^ key[i];
      v1_[i] = mul1_[i] ^ SwapHalves(key[i]);
    }
  }

  void UpdatePacket(const char* packet) {
    const uint64_t lanes[4] = {Load64(packet), Load64(packet + 8), Load64(packet + 16),
                               Load64(packet + 24)};
    Update(lanes);
  }

  // Mixes in the final 1..31 bytes (`size` of them at `bytes`).
  void UpdateRemainder(const char* bytes, size_t size) {
    for (int i = 0; i < 4; ++i) v0_[i] += (uint64_t{size} << 32) + size;
    for (int i = 0; i < 4; ++i) {
      const uint32_t lo = RotateLeft32(static_cast<uint32_t>(v1_[i]), static_cast<unsigned>(size));
      const uint32_t hi =
          RotateLeft32(static_cast<uint32_t>(v1_[i] >> 32), static_cast<unsigned>(size));
      v1_[i] = uint64_t{lo} | (uint64_t{hi} << 32);
    }
    char packet[kPacketSize];
    RemainderPacket(bytes, size, packet);
    UpdatePacket(packet);
  }

  uint64_t Finalize64() {
    for (int round = 0; round < 4; ++round) {
      const uint64_t permuted[4] = {SwapHalves(v0_[2]), SwapHalves(v0_[3]), SwapHalves(v0_[0]),
                                    SwapHalves(v0_[1])};
      Update(permuted);
    }
    return v0_[0] + v1_[0] + mul0_[0] + mul1_[0];
  }

 private:
  // Adds a byte shuffle of the 128-bit value (v1:v0) into (add1:add0).
  static void ZipperMergeAndAdd(uint64_t v1, uint64_t v0, uint64_t* add1, uint64_t* add0) {
    *add0 += (((v0 & 0xff000000ull) | (v1 & 0xff00000000ull)) >> 24) |
             (((v0 & 0xff0000000000ull) | (v1 & 0xff000000000000ull)) >> 16) | (v0 & 0xff0000ull) |
             ((v0 & 0xff00ull) << 32) | ((v1 & 0xff00000000000000ull) >> 8) | (v0 << 56);
    *add1 += (((v1 & 0xff000000ull) | (v0 & 0xff00000000ull)) >> 24) | (v1 & 0xff0000ull) |
             ((v1 & 0xff0000000000ull) >> 16) | ((v1 & 0xff00ull) << 24) |
             ((v0 & 0xff000000000000ull) >> 8) | ((v1 & 0xffull) << 48) |
             (v0 & 0xff00000000000000ull);
  }

  void Update(const uint64_t lanes[4]) {
    for (int i = 0; i < 4; ++i) {
      v1_[i] += mul0_[i] + lanes[i];
      mul0_[i] ^= (v1_[i] & 0xffffffffull) * (v0_[i] >> 32);
      v0_[i] += mul1_[i];
      mul1_[i] ^= (v0_[i] & 0xffffffffull) * (v1_[i] >> 32);
    }
    ZipperMergeAndAdd(v1_[1], v1_[0], &v0_[1], &v0_[0]);
    ZipperMergeAndAdd(v1_[3], v1_[2], &v0_[3], &v0_[2]);
    ZipperMergeAndAdd(v0_[1], v0_[0], &v1_[1], &v1_[0]);
    ZipperMergeAndAdd(v0_[3], v0_[2], &v1_[3], &v1_[2]);
  }

  uint64_t v0_[4];
  uint64_t v1_[4];
  uint64_t mul0_[4];
  uint64_t mul1_[4];
};

using HashFunction = uint64_t (*)(const HighwayHashKey, std::string_view);

HashFunction ChooseImplementation() {
#if ENVLOGGER_HIGHWAYHASH_HAVE_AVX2
  if (CpuHasAvx2()) return HighwayHash64Avx2;
#endif
  return HighwayHash64Portable;
}

}  // namespace

uint64_t HighwayHash64Portable(const HighwayHashKey key, std::string_view data) {
  HighwayHashState state(key);
  const size_t full = data.size() - data.size() % kPacketSize;
  for (size_t i = 0; i < full; i += kPacketSize) state.UpdatePacket(data.data() + i);
  if (full != data.size()) state.UpdateRemainder(data.data() + full, data.size() - full);
  return state.Finalize64();
}

}  // namespace highwayhash_internal

uint64_t HighwayHash64(const HighwayHashKey key, std::string_view data) {
  static const highwayhash_internal::HashFunction implementation =
      highwayhash_internal::ChooseImplementation();
  return implementation(key, data);
}

uint64_t RiegeliHash(std::string_view data) {
  static constexpr HighwayHashKey kRiegeliKey = {0x2f696c6567656952ull, 0x0a7364726f636572ull,
                                                 0x2f696c6567656952ull, 0x0a7364726f636572ull};
  return HighwayHash64(kRiegeliKey, data);
}

}  // namespace riegeli
}  // namespace envlogger
