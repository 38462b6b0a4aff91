#include "envlogger/riegeli/chunk_cache.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace envlogger {
namespace riegeli {
namespace {

// A chunk at `begin` with `num_records` records of `record_size` bytes.
std::shared_ptr<DecodedChunk> MakeChunk(uint64_t begin, uint64_t num_records, size_t record_size) {
  auto chunk = std::make_shared<DecodedChunk>();
  chunk->begin = begin;
  chunk->end = begin + 1000;
  for (uint64_t i = 0; i < num_records; ++i) {
    chunk->values.append(record_size, static_cast<char>('a' + i % 26));
    chunk->limits.push_back(chunk->values.size());
  }
  return chunk;
}

TEST(DecodedChunkTest, RecordsAndContains) {
  std::shared_ptr<DecodedChunk> chunk = MakeChunk(100, 3, 2);
  EXPECT_EQ(chunk->record(0), "aa");
  EXPECT_EQ(chunk->record(2), "cc");
  EXPECT_FALSE(chunk->Contains(99));
  EXPECT_TRUE(chunk->Contains(100));
  EXPECT_TRUE(chunk->Contains(102));
  EXPECT_FALSE(chunk->Contains(103));
  EXPECT_GE(chunk->MemoryUsage(), 6 + 3 * sizeof(uint64_t));
}

TEST(ChunkCacheTest, FindsTheChunkHoldingAPosition) {
  ChunkCache cache(1 << 20);
  cache.Insert(MakeChunk(64, 10, 1));
  cache.Insert(MakeChunk(2000, 5, 1));
  EXPECT_EQ(cache.Find(63), nullptr);
  ASSERT_NE(cache.Find(64), nullptr);
  EXPECT_EQ(cache.Find(64)->begin, 64u);
  EXPECT_EQ(cache.Find(73)->begin, 64u);  // Last record of the first chunk.
  EXPECT_EQ(cache.Find(74), nullptr);     // Between the chunks' records.
  EXPECT_EQ(cache.Find(1999), nullptr);
  EXPECT_EQ(cache.Find(2004)->begin, 2000u);
  EXPECT_EQ(cache.Find(2005), nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ChunkCacheTest, EvictsLeastRecentlyUsedByBytes) {
  const uint64_t one = MakeChunk(0, 10, 100)->MemoryUsage();
  ChunkCache cache(3 * one);  // Room for exactly three such chunks.
  cache.Insert(MakeChunk(1000, 10, 100));
  cache.Insert(MakeChunk(2000, 10, 100));
  cache.Insert(MakeChunk(3000, 10, 100));
  EXPECT_EQ(cache.bytes(), 3 * one);
  ASSERT_NE(cache.Find(1000), nullptr);    // 1000 is now the most recent.
  cache.Insert(MakeChunk(4000, 10, 100));  // Evicts 2000.
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find(2000), nullptr);
  EXPECT_NE(cache.Find(1000), nullptr);
  EXPECT_NE(cache.Find(3000), nullptr);
  EXPECT_NE(cache.Find(4000), nullptr);
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  // A chunk twice the size evicts the two least recently used (1000, 3000).
  cache.Insert(MakeChunk(5000, 20, 100));
  EXPECT_EQ(cache.Find(1000), nullptr);
  EXPECT_EQ(cache.Find(3000), nullptr);
  EXPECT_NE(cache.Find(4000), nullptr);
  EXPECT_NE(cache.Find(5000), nullptr);
  EXPECT_LE(cache.bytes(), cache.max_bytes());
}

TEST(ChunkCacheTest, ChunkLargerThanTheCacheIsNotKept) {
  ChunkCache cache(100);
  cache.Insert(MakeChunk(64, 10, 100));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.Find(64), nullptr);
  ChunkCache disabled(0);
  disabled.Insert(MakeChunk(64, 1, 1));
  EXPECT_EQ(disabled.Find(64), nullptr);
}

TEST(ChunkCacheTest, ReinsertingReplacesAndAccountsOnce) {
  ChunkCache cache(1 << 20);
  cache.Insert(MakeChunk(64, 10, 10));
  const uint64_t bytes = cache.bytes();
  cache.Insert(MakeChunk(64, 10, 10));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), bytes);
}

TEST(ChunkCacheTest, EvictedChunkStaysValidForItsHolder) {
  const uint64_t one = MakeChunk(0, 4, 50)->MemoryUsage();
  ChunkCache cache(one);
  cache.Insert(MakeChunk(64, 4, 50));
  std::shared_ptr<const DecodedChunk> held = cache.Find(64);
  cache.Insert(MakeChunk(1000, 4, 50));  // Evicts 64.
  EXPECT_EQ(cache.Find(64), nullptr);
  EXPECT_EQ(held->record(3), std::string(50, 'd'));
  // Held elsewhere, so its buffers are not handed out for reuse.
  std::shared_ptr<DecodedChunk> spare = cache.TakeSpare();
  EXPECT_NE(spare.get(), held.get());
}

TEST(ChunkCacheTest, EvictedUnheldChunkIsReusedAsSpare) {
  const uint64_t one = MakeChunk(0, 4, 50)->MemoryUsage();
  ChunkCache cache(one);
  std::shared_ptr<DecodedChunk> first = MakeChunk(64, 4, 50);
  const DecodedChunk* address = first.get();
  cache.Insert(std::move(first));
  cache.Insert(MakeChunk(1000, 4, 50));  // Evicts 64, held by nobody.
  EXPECT_EQ(cache.TakeSpare().get(), address);
  EXPECT_NE(cache.TakeSpare(), nullptr);  // Without a spare: a new chunk.
}

TEST(ChunkCacheTest, CountsHitsMissesAndEvictionsAndLowersItsBound) {
  const uint64_t one = MakeChunk(0, 4, 1000)->MemoryUsage();
  ChunkCache cache(2 * one);
  cache.Insert(MakeChunk(0, 4, 1000));
  cache.Insert(MakeChunk(5000, 4, 1000));
  EXPECT_NE(cache.Find(1), nullptr);       // Hit; chunk 0 is now the most recent.
  EXPECT_EQ(cache.Find(4000), nullptr);    // Miss.
  cache.Insert(MakeChunk(9000, 4, 1000));  // Evicts chunk 5000, the least recent.
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.Find(5000), nullptr);
  EXPECT_NE(cache.Find(9000), nullptr);
  cache.SetMaxBytes(one);  // Keeps only the most recent: 9000.
  EXPECT_EQ(cache.max_bytes(), one);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.evictions(), 2u);
  EXPECT_NE(cache.Find(9000), nullptr);
  EXPECT_EQ(cache.Find(0), nullptr);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
