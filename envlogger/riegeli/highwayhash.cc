// HighwayHash-64, portable scalar implementation written from the published
// description of the algorithm (four 4-lane 64-bit state vectors, 32-byte
// packets, a length-dependent remainder packet and four permute rounds).

#include "envlogger/riegeli/highwayhash.h"

#include <cstring>

#include "envlogger/riegeli/varint.h"

namespace envlogger {
namespace riegeli {
namespace {

constexpr uint64_t kInitMul0[4] = {0xdbe6d5d5fe4cce2full, 0xa4093822299f31d0ull,
                                   0x13198a2e03707344ull, 0x243f6a8885a308d3ull};
constexpr uint64_t kInitMul1[4] = {0x3bd39e10cb0ef593ull, 0xc0acf169b5f18a8cull,
                                   0xbe5466cf34e90c6cull, 0x452821e638d01377ull};

constexpr size_t kPacketSize = 32;

inline uint64_t SwapHalves(uint64_t x) { return (x >> 32) | (x << 32); }

inline uint32_t RotateLeft32(uint32_t x, unsigned count) {
  // count is in 1..31 (only remainders 1..31 are rotated).
  return (x << count) | (x >> (32 - count));
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
    uint64_t lanes[4];
    for (int i = 0; i < 4; ++i) lanes[i] = DecodeFixed64(packet + 8 * i);
    Update(lanes);
  }

  // Mixes in the final 1..31 bytes (`size` of them at `bytes`).
  void UpdateRemainder(const char* bytes, size_t size) {
    const size_t size_mod4 = size & 3;
    const size_t aligned = size & ~size_t{3};
    const char* tail = bytes + aligned;
    for (int i = 0; i < 4; ++i) v0_[i] += (uint64_t{size} << 32) + size;
    for (int i = 0; i < 4; ++i) {
      const uint32_t lo = RotateLeft32(static_cast<uint32_t>(v1_[i]), static_cast<unsigned>(size));
      const uint32_t hi = RotateLeft32(static_cast<uint32_t>(v1_[i] >> 32), static_cast<unsigned>(size));
      v1_[i] = uint64_t{lo} | (uint64_t{hi} << 32);
    }
    char packet[kPacketSize] = {};
    std::memcpy(packet, bytes, aligned);
    if (size & 16) {
      // The last four input bytes (they may overlap the copied prefix).
      std::memcpy(packet + 28, tail + size_mod4 - 4, 4);
    } else if (size_mod4 != 0) {
      packet[16] = tail[0];
      packet[17] = tail[size_mod4 >> 1];
      packet[18] = tail[size_mod4 - 1];
    }
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
             (((v0 & 0xff0000000000ull) | (v1 & 0xff000000000000ull)) >> 16) |
             (v0 & 0xff0000ull) | ((v0 & 0xff00ull) << 32) |
             ((v1 & 0xff00000000000000ull) >> 8) | (v0 << 56);
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

}  // namespace

uint64_t HighwayHash64(const HighwayHashKey key, std::string_view data) {
  HighwayHashState state(key);
  const size_t full = data.size() - data.size() % kPacketSize;
  for (size_t i = 0; i < full; i += kPacketSize) state.UpdatePacket(data.data() + i);
  if (full != data.size()) state.UpdateRemainder(data.data() + full, data.size() - full);
  return state.Finalize64();
}

uint64_t RiegeliHash(std::string_view data) {
  static constexpr HighwayHashKey kRiegeliKey = {0x2f696c6567656952ull, 0x0a7364726f636572ull,
                                                 0x2f696c6567656952ull, 0x0a7364726f636572ull};
  return HighwayHash64(kRiegeliKey, data);
}

}  // namespace riegeli
}  // namespace envlogger
