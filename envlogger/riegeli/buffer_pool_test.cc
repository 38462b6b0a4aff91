#include "envlogger/riegeli/buffer_pool.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace envlogger {
namespace riegeli {
namespace {

// Empties the process-wide pool, so that each test starts from nothing.
void DrainPool() {
  while (PooledBufferCount() > 0) TakePooledBuffer();
  ASSERT_EQ(PooledBufferBytes(), 0u);
}

std::string BufferWithCapacity(size_t capacity) {
  std::string buffer;
  buffer.reserve(capacity);
  buffer.assign(10, 'x');
  return buffer;
}

TEST(BufferPoolTest, RecycledMemoryComesBackEmpty) {
  DrainPool();
  std::string buffer = BufferWithCapacity(1 << 20);
  const char* const memory = buffer.data();
  RecyclePooledBuffer(&buffer);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(PooledBufferCount(), 1u);
  EXPECT_GE(PooledBufferBytes(), size_t{1} << 20);
  const std::string taken = TakePooledBuffer(1 << 20);
  EXPECT_TRUE(taken.empty());
  EXPECT_EQ(taken.data(), memory);
  EXPECT_GE(taken.capacity(), size_t{1} << 20);
  EXPECT_EQ(PooledBufferCount(), 0u);
  EXPECT_EQ(PooledBufferBytes(), 0u);
}

TEST(BufferPoolTest, EmptyPoolGivesNewBuffer) {
  DrainPool();
  const std::string taken = TakePooledBuffer(1 << 20);
  EXPECT_TRUE(taken.empty());
  EXPECT_LT(taken.capacity(), size_t{1} << 20);
}

TEST(BufferPoolTest, TakesTheSmallestLargeEnough) {
  DrainPool();
  std::string small = BufferWithCapacity(64 << 10);
  std::string large = BufferWithCapacity(4 << 20);
  std::string medium = BufferWithCapacity(1 << 20);
  const char* const small_memory = small.data();
  const char* const medium_memory = medium.data();
  const char* const large_memory = large.data();
  RecyclePooledBuffer(&small);
  RecyclePooledBuffer(&large);
  RecyclePooledBuffer(&medium);
  EXPECT_EQ(TakePooledBuffer(100 << 10).data(), medium_memory);
  EXPECT_LT(TakePooledBuffer(8 << 20).capacity(), size_t{8} << 20);  // None fits: a new one.
  EXPECT_EQ(PooledBufferCount(), 2u);
  EXPECT_EQ(TakePooledBuffer().data(), small_memory);
  EXPECT_EQ(TakePooledBuffer().data(), large_memory);
  EXPECT_EQ(PooledBufferCount(), 0u);
}

TEST(BufferPoolTest, SmallBuffersAreNotKept) {
  DrainPool();
  std::string buffer = BufferWithCapacity(kMinPooledCapacity / 2);
  RecyclePooledBuffer(&buffer);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(PooledBufferCount(), 0u);
}

TEST(BufferPoolTest, BoundedInCountAndBytes) {
  DrainPool();
  for (size_t i = 0; i < kMaxPooledBuffers + 5; ++i) {
    std::string buffer = BufferWithCapacity(kMinPooledCapacity);
    RecyclePooledBuffer(&buffer);
  }
  EXPECT_EQ(PooledBufferCount(), kMaxPooledBuffers);
  DrainPool();
  const size_t large = kMaxPooledBytes / 2 + 1;
  std::string first = BufferWithCapacity(large);
  std::string second = BufferWithCapacity(large);
  RecyclePooledBuffer(&first);
  RecyclePooledBuffer(&second);  // Would exceed kMaxPooledBytes: freed.
  EXPECT_TRUE(second.empty());
  EXPECT_EQ(second.capacity(), std::string().capacity());
  EXPECT_EQ(PooledBufferCount(), 1u);
  EXPECT_LE(PooledBufferBytes(), kMaxPooledBytes);
  DrainPool();
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
