#include "envlogger/riegeli/buffer_pool.h"

#include <mutex>
#include <utility>
#include <vector>

namespace envlogger {
namespace riegeli {
namespace {

struct Pool {
  std::mutex mutex;
  std::vector<std::string> buffers;
  size_t bytes = 0;
};

Pool& GlobalPool() {
  // Never destroyed, so that writers destroyed during static destruction
  // can still recycle.
  static Pool* const pool = new Pool;
  return *pool;
}

}  // namespace

std::string TakePooledBuffer(size_t min_capacity) {
  Pool& pool = GlobalPool();
  std::lock_guard<std::mutex> lock(pool.mutex);
  size_t best = pool.buffers.size();
  for (size_t i = 0; i < pool.buffers.size(); ++i) {
    const size_t capacity = pool.buffers[i].capacity();
    if (capacity >= min_capacity &&
        (best == pool.buffers.size() || capacity < pool.buffers[best].capacity())) {
      best = i;
    }
  }
  if (best == pool.buffers.size()) return std::string();
  std::string buffer = std::move(pool.buffers[best]);
  pool.buffers[best] = std::move(pool.buffers.back());
  pool.buffers.pop_back();
  pool.bytes -= buffer.capacity();
  return buffer;
}

void RecyclePooledBuffer(std::string* buffer) {
  buffer->clear();
  const size_t capacity = buffer->capacity();
  if (capacity >= kMinPooledCapacity) {
    Pool& pool = GlobalPool();
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (pool.buffers.size() < kMaxPooledBuffers && pool.bytes + capacity <= kMaxPooledBytes) {
      pool.bytes += capacity;
      pool.buffers.push_back(std::move(*buffer));
    }
  }
  // Frees the memory unless it moved into the pool.
  std::string().swap(*buffer);
}

size_t PooledBufferCount() {
  Pool& pool = GlobalPool();
  std::lock_guard<std::mutex> lock(pool.mutex);
  return pool.buffers.size();
}

size_t PooledBufferBytes() {
  Pool& pool = GlobalPool();
  std::lock_guard<std::mutex> lock(pool.mutex);
  return pool.bytes;
}

}  // namespace riegeli
}  // namespace envlogger
