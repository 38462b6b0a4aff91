#include "envlogger/riegeli/highwayhash.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "envlogger/riegeli/highwayhash_internal.h"

namespace envlogger {
namespace riegeli {
namespace {

// The published HighwayHash-64 test table: key bytes 0..31, input bytes
// 0..n-1 for n = 0..64 (google/highwayhash, kExpected64).
constexpr uint64_t kExpected64[65] = {
    0x907A56DE22C26E53ull, 0x7EAB43AAC7CDDD78ull, 0xB8D0569AB0B53D62ull, 0x5C6BEFAB8A463D80ull,
    0xF205A46893007EDAull, 0x2B8A1668E4A94541ull, 0xBD4CCC325BEFCA6Full, 0x4D02AE1738F59482ull,
    0xE1205108E55F3171ull, 0x32D2644EC77A1584ull, 0xF6E10ACDB103A90Bull, 0xC3BBF4615B415C15ull,
    0x243CC2040063FA9Cull, 0xA89A58CE65E641FFull, 0x24B031A348455A23ull, 0x40793F86A449F33Bull,
    0xCFAB3489F97EB832ull, 0x19FE67D2C8C5C0E2ull, 0x04DD90A69C565CC2ull, 0x75D9518E2371C504ull,
    0x38AD9B1141D3DD16ull, 0x0264432CCD8A70E0ull, 0xA9DB5A6288683390ull, 0xD7B05492003F028Cull,
    0x205F615AEA59E51Eull, 0xEEE0C89621052884ull, 0x1BFC1A93A7284F4Full, 0x512175B5B70DA91Dull,
    0xF71F8976A0A2C639ull, 0xAE093FEF1F84E3E7ull, 0x22CA92B01161860Full, 0x9FC7007CCF035A68ull,
    0xA0C964D9ECD580FCull, 0x2C90F73CA03181FCull, 0x185CF84E5691EB9Eull, 0x4FC1F5EF2752AA9Bull,
    0xF5B7391A5E0A33EBull, 0xB9B84B83B4E96C9Cull, 0x5E42FE712A5CD9B4ull, 0xA150F2F90C3F97DCull,
    0x7FA522D75E2D637Dull, 0x181AD0CC0DFFD32Bull, 0x3889ED981E854028ull, 0xFB4297E8C586EE2Dull,
    0x6D064A45BB28059Cull, 0x90563609B3EC860Cull, 0x7AA4FCE94097C666ull, 0x1326BAC06B911E08ull,
    0xB926168D2B154F34ull, 0x9919848945B1948Dull, 0xA2A98FC534825EBEull, 0xE9809095213EF0B6ull,
    0x582E5483707BC0E9ull, 0x086E9414A88A6AF5ull, 0xEE86B98D20F6743Dull, 0xF89B7FF609B1C0A7ull,
    0x4C7D9CC19E22C3E8ull, 0x9A97005024562A6Full, 0x5DD41CF423E6EBEFull, 0xDF13609C0468E227ull,
    0x6E0DA4F64188155Aull, 0xB755BA4B50D7D4A1ull, 0x887A3484647479BDull, 0xAB8EEBE9BF2139A0ull,
    0x75542C5D4CD2A6FFull,
};

std::string Iota(size_t n, int first) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(first + i));
  return s;
}

TEST(HighwayHashTest, OfficialTableAllLengths0To64) {
  const HighwayHashKey key = {0x0706050403020100ull, 0x0F0E0D0C0B0A0908ull, 0x1716151413121110ull,
                              0x1F1E1D1C1B1A1918ull};
  for (size_t n = 0; n <= 64; ++n) {
    EXPECT_EQ(HighwayHash64(key, Iota(n, 0)), kExpected64[n]) << "length " << n;
  }
}

// Both implementations, called directly (HighwayHash64() uses only one of
// them on a given machine), against the published table.
TEST(HighwayHashTest, EachImplementationMatchesOfficialTable) {
  const HighwayHashKey key = {0x0706050403020100ull, 0x0F0E0D0C0B0A0908ull, 0x1716151413121110ull,
                              0x1F1E1D1C1B1A1918ull};
  for (size_t n = 0; n <= 64; ++n) {
    EXPECT_EQ(highwayhash_internal::HighwayHash64Portable(key, Iota(n, 0)), kExpected64[n])
        << "portable, length " << n;
  }
#if ENVLOGGER_HIGHWAYHASH_HAVE_AVX2
  if (!highwayhash_internal::CpuHasAvx2()) GTEST_SKIP() << "this CPU has no AVX2";
  for (size_t n = 0; n <= 64; ++n) {
    EXPECT_EQ(highwayhash_internal::HighwayHash64Avx2(key, Iota(n, 0)), kExpected64[n])
        << "AVX2, length " << n;
  }
#else
  GTEST_SKIP() << "no AVX2 implementation on this architecture";
#endif
}

// The two implementations agree on random keys and data of every length up
// to 300 (all remainder sizes, several packets) and on a few large inputs,
// including ones that start at an unaligned address.
TEST(HighwayHashTest, Avx2AgreesWithPortableOnRandomInputs) {
#if ENVLOGGER_HIGHWAYHASH_HAVE_AVX2
  if (!highwayhash_internal::CpuHasAvx2()) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937_64 random(20261128);
  std::string buffer(size_t{3} << 20, '\0');
  for (char& c : buffer) c = static_cast<char>(random());
  for (size_t n = 0; n <= 300; ++n) {
    const HighwayHashKey key = {random(), random(), random(), random()};
    const std::string_view data(buffer.data() + n % 7, n);
    ASSERT_EQ(highwayhash_internal::HighwayHash64Avx2(key, data),
              highwayhash_internal::HighwayHash64Portable(key, data))
        << "length " << n;
  }
  for (size_t n : {size_t{4096}, size_t{65536 + 13}, size_t{1} << 20, buffer.size() - 5}) {
    const HighwayHashKey key = {random(), random(), random(), random()};
    const std::string_view data(buffer.data() + 5, n);
    ASSERT_EQ(highwayhash_internal::HighwayHash64Avx2(key, data),
              highwayhash_internal::HighwayHash64Portable(key, data))
        << "length " << n;
  }
#else
  GTEST_SKIP() << "no AVX2 implementation on this architecture";
#endif
}

TEST(HighwayHashTest, OfficialKey1234Vectors) {
  const HighwayHashKey key = {1, 2, 3, 4};
  EXPECT_EQ(HighwayHash64(key, Iota(33, 128)), 0x53c516cce478cad7ull);
  EXPECT_EQ(HighwayHash64(key, std::string(1, '\xff')), 0x7858f24d2d79b2b2ull);
}

TEST(HighwayHashTest, RiegeliKeyVectorsFromSpec) {
  EXPECT_EQ(RiegeliHash(""), 0x72c3b1e9c0139fe1ull);
  EXPECT_EQ(RiegeliHash("Riegeli"), 0x07179813ca01243cull);
  EXPECT_EQ(RiegeliHash(Iota(100, 0)), 0xe809487465a44f74ull);
  // Block header body: previous_chunk = 0, next_chunk = 64.
  EXPECT_EQ(RiegeliHash(std::string("\0\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0", 16)),
            0x3f4a880dd170af83ull);
  // Signature chunk header bytes 8..39: data_size 0, data_hash H(""), 's', 0.
  const std::string tail(
      "\0\0\0\0\0\0\0\0"
      "\xe1\x9f\x13\xc0\xe9\xb1\xc3\x72"
      "\x73\0\0\0\0\0\0\0"
      "\0\0\0\0\0\0\0\0",
      32);
  EXPECT_EQ(RiegeliHash(tail), 0xa9e187923cc2ba91ull);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
