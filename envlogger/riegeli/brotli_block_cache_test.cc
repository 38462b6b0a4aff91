#include "envlogger/riegeli/brotli_block_cache.h"

#include <brotli/decode.h>
#include <brotli/encode.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace envlogger {
namespace riegeli {
namespace {

// Each test runs on a thread of its own, so it starts from an empty cache.
template <typename Body>
void OnFreshThread(Body body) {
  std::thread thread(body);
  thread.join();
}

TEST(BrotliBlockCacheTest, FreedBlockIsReusedForASizeItFits) {
  OnFreshThread([] {
    void* const block = AllocateBrotliBlock(nullptr, 100000);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % alignof(std::max_align_t), 0u);
    EXPECT_EQ(CachedBrotliBlocks(), 0u);
    FreeBrotliBlock(nullptr, block);
    EXPECT_EQ(CachedBrotliBlocks(), 1u);
    EXPECT_EQ(CachedBrotliBytes(), 100000u);
    void* const again = AllocateBrotliBlock(nullptr, 90000);
    EXPECT_EQ(again, block);
    EXPECT_EQ(CachedBrotliBlocks(), 0u);
    EXPECT_EQ(CachedBrotliBytes(), 0u);
    FreeBrotliBlock(nullptr, again);
  });
}

TEST(BrotliBlockCacheTest, TakesTheSmallestThatFitsAndNeverATooSmallOne) {
  OnFreshThread([] {
    void* const small = AllocateBrotliBlock(nullptr, 1000);
    void* const large = AllocateBrotliBlock(nullptr, 1 << 20);
    void* const medium = AllocateBrotliBlock(nullptr, 50000);
    FreeBrotliBlock(nullptr, small);
    FreeBrotliBlock(nullptr, large);
    FreeBrotliBlock(nullptr, medium);
    void* const fits_medium = AllocateBrotliBlock(nullptr, 40000);
    EXPECT_EQ(fits_medium, medium);
    void* const fits_none = AllocateBrotliBlock(nullptr, 2 << 20);
    EXPECT_NE(fits_none, small);
    EXPECT_NE(fits_none, large);
    EXPECT_EQ(CachedBrotliBlocks(), 2u);
    EXPECT_EQ(CachedBrotliBytes(), 1000u + (1 << 20));
    // The whole block is usable (ASan would report writing past it).
    static_cast<char*>(fits_none)[(2 << 20) - 1] = 1;
    FreeBrotliBlock(nullptr, fits_medium);
    FreeBrotliBlock(nullptr, fits_none);
  });
}

TEST(BrotliBlockCacheTest, CacheIsBounded) {
  OnFreshThread([] {
    std::vector<void*> blocks;
    for (size_t i = 0; i < kMaxCachedBrotliBlocks + 3; ++i) {
      blocks.push_back(AllocateBrotliBlock(nullptr, 4096));
    }
    for (void* block : blocks) FreeBrotliBlock(nullptr, block);
    EXPECT_EQ(CachedBrotliBlocks(), kMaxCachedBrotliBlocks);
    void* const huge = AllocateBrotliBlock(nullptr, kMaxCachedBrotliBytes);
    ASSERT_NE(huge, nullptr);
    FreeBrotliBlock(nullptr, huge);  // Would exceed kMaxCachedBrotliBytes: freed.
    EXPECT_EQ(CachedBrotliBlocks(), kMaxCachedBrotliBlocks);
    EXPECT_EQ(CachedBrotliBytes(), kMaxCachedBrotliBlocks * 4096);
    FreeBrotliBlock(nullptr, nullptr);  // Like free(nullptr): nothing happens.
    EXPECT_EQ(CachedBrotliBlocks(), kMaxCachedBrotliBlocks);
  });
}

TEST(BrotliBlockCacheTest, DecodersUsingTheCacheDecodeStreamAfterStream) {
  OnFreshThread([] {
    for (int round = 0; round < 3; ++round) {
      std::string input;
      for (int i = 0; i < 20000; ++i) input += std::to_string(i * (round + 7));
      std::string compressed(BrotliEncoderMaxCompressedSize(input.size()), '\0');
      size_t compressed_size = compressed.size();
      ASSERT_TRUE(BrotliEncoderCompress(
          5, 22, BROTLI_MODE_GENERIC, input.size(), reinterpret_cast<const uint8_t*>(input.data()),
          &compressed_size, reinterpret_cast<uint8_t*>(&compressed[0])));
      BrotliDecoderState* decoder =
          BrotliDecoderCreateInstance(AllocateBrotliBlock, FreeBrotliBlock, nullptr);
      ASSERT_NE(decoder, nullptr);
      std::string output(input.size(), '\0');
      size_t available_in = compressed_size;
      const uint8_t* next_in = reinterpret_cast<const uint8_t*>(compressed.data());
      size_t available_out = output.size();
      uint8_t* next_out = reinterpret_cast<uint8_t*>(&output[0]);
      EXPECT_EQ(BrotliDecoderDecompressStream(decoder, &available_in, &next_in, &available_out,
                                              &next_out, nullptr),
                BROTLI_DECODER_RESULT_SUCCESS);
      BrotliDecoderDestroyInstance(decoder);
      EXPECT_EQ(available_out, 0u);
      EXPECT_EQ(output, input);
      EXPECT_GT(CachedBrotliBlocks(), 0u);  // The decoder's blocks came back.
    }
  });
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
