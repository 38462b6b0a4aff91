// ChunkHeader serialization and the framing formulas of records_format.h,
// against the worked examples of the format specification.

#include "envlogger/riegeli/chunk.h"

#include <string>

#include <gtest/gtest.h>

#include "envlogger/riegeli/records_format.h"

namespace envlogger {
namespace riegeli {
namespace {

// The fixed first 64 bytes of every Riegeli/records file (spec §4.1).
const std::string kSignature(
    "\x83\xaf\x70\xd1\x0d\x88\x4a\x3f\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x40\x00\x00\x00\x00\x00\x00\x00\x91\xba\xc2\x3c\x92\x87\xe1\xa9"
    "\x00\x00\x00\x00\x00\x00\x00\x00\xe1\x9f\x13\xc0\xe9\xb1\xc3\x72"
    "\x73\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    64);

TEST(ChunkHeaderTest, EncodesSignatureHeader) {
  ChunkHeader header;
  header.data_size = 0;
  header.data_hash = 0x72c3b1e9c0139fe1ull;  // H("")
  header.chunk_type = ChunkType::kFileSignature;
  header.num_records = 0;
  header.decoded_data_size = 0;
  char bytes[kChunkHeaderSize];
  header.Encode(bytes);
  EXPECT_EQ(std::string(bytes, kChunkHeaderSize), kSignature.substr(24));
}

TEST(ChunkHeaderTest, DecodesAndRejectsCorruption) {
  ChunkHeader header;
  header.data_size = 1402;
  header.data_hash = 0x0123456789abcdefull;
  header.chunk_type = ChunkType::kSimple;
  header.num_records = kMaxNumRecords;
  header.decoded_data_size = 1300;
  char bytes[kChunkHeaderSize];
  header.Encode(bytes);
  // num_records occupies the 7 bytes after the type byte.
  EXPECT_EQ(bytes[24], 'r');
  EXPECT_EQ(std::string(bytes + 25, 7), std::string(7, '\xff'));
  ChunkHeader decoded;
  ASSERT_TRUE(decoded.Decode(bytes));
  EXPECT_EQ(decoded.data_size, 1402u);
  EXPECT_EQ(decoded.data_hash, 0x0123456789abcdefull);
  EXPECT_EQ(decoded.chunk_type, ChunkType::kSimple);
  EXPECT_EQ(decoded.num_records, kMaxNumRecords);
  EXPECT_EQ(decoded.decoded_data_size, 1300u);
  for (size_t i = 0; i < kChunkHeaderSize; ++i) {
    char bad[kChunkHeaderSize];
    std::copy(bytes, bytes + kChunkHeaderSize, bad);
    bad[i] ^= 1;
    EXPECT_FALSE(decoded.Decode(bad)) << "flipped byte " << i;
  }
  ASSERT_TRUE(decoded.Decode(kSignature.data() + 24));
  EXPECT_EQ(decoded.chunk_type, ChunkType::kFileSignature);
}

TEST(FramingTest, PossibleChunkBoundaries) {
  EXPECT_TRUE(IsPossibleChunkBoundary(0));
  for (uint64_t i = 1; i <= 24; ++i) {
    EXPECT_FALSE(IsPossibleChunkBoundary(i));
    EXPECT_FALSE(IsPossibleChunkBoundary(3 * kBlockSize + i));
  }
  EXPECT_TRUE(IsPossibleChunkBoundary(25));
  EXPECT_TRUE(IsPossibleChunkBoundary(kBlockSize - 1));
  EXPECT_TRUE(IsPossibleChunkBoundary(kBlockSize));
  EXPECT_TRUE(IsPossibleChunkBoundary(kBlockSize + 25));
}

TEST(FramingTest, RoundUpToPossibleChunkBoundary) {
  for (uint64_t i = 1; i <= 25; ++i) {
    EXPECT_EQ(RoundUpToPossibleChunkBoundary(kBlockSize + i), kBlockSize + 25) << i;
  }
  EXPECT_EQ(RoundUpToPossibleChunkBoundary(kBlockSize), kBlockSize);
  EXPECT_EQ(RoundUpToPossibleChunkBoundary(kBlockSize + 26), kBlockSize + 26);
  EXPECT_EQ(RoundUpToPossibleChunkBoundary(64), 64u);
}

// Worked examples of spec §2.3, §6 and the reference-file README.
TEST(FramingTest, ChunkEndExamples) {
  EXPECT_EQ(ChunkEnd(0, 0, 0), 64u);               // Signature.
  EXPECT_EQ(ChunkEnd(64, 1402, 100), 1506u);       // simple_none.
  EXPECT_EQ(ChunkEnd(64, 34, 65473), 65561u);      // A: 65537 rounds up.
  EXPECT_EQ(ChunkEnd(64, 34, 65496), 65561u);      // B: 65560 rounds up.
  EXPECT_EQ(ChunkEnd(64, 34, 65472), 65536u);      // C: ends at the boundary.
  EXPECT_EQ(ChunkEnd(122, 65374, 0), 65536u);      // D's padding chunk.
  EXPECT_EQ(ChunkEnd(65536, 0, 0), 65536u + 64u);  // D's second signature.
  // A header straddling a block boundary pays for the block header.
  EXPECT_EQ(ChunkEnd(kBlockSize - 20, 100, 0), kBlockSize - 20 + 140 + 24);
}

TEST(FramingTest, OverheadHelpers) {
  EXPECT_EQ(AddWithOverhead(0, 40), 64u);
  EXPECT_EQ(AddWithOverhead(64, kBlockSize - 64), kBlockSize);  // Ends on the boundary.
  EXPECT_EQ(AddWithOverhead(64, kBlockSize - 63), kBlockSize + 25);
  EXPECT_EQ(DistanceWithoutOverhead(122, 65536), 65374u + 40u);
  EXPECT_EQ(DistanceWithoutOverhead(0, 64), 40u);
  EXPECT_EQ(DistanceWithoutOverhead(kBlockSize - 20, kBlockSize + 25), 21u);
  // Inverse of AddWithOverhead from any possible boundary.
  for (uint64_t begin : {uint64_t{0}, uint64_t{64}, kBlockSize - 1, kBlockSize, kBlockSize + 25}) {
    for (uint64_t length : {uint64_t{1}, uint64_t{40}, kUsableBlockSize, 3 * kBlockSize + 7}) {
      EXPECT_EQ(DistanceWithoutOverhead(begin, AddWithOverhead(begin, length)), length)
          << begin << " " << length;
    }
  }
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
