#include "envlogger/riegeli/brotli_block_cache.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace envlogger {
namespace riegeli {
namespace {

// Every block begins with a header holding its capacity (brotli frees by
// address alone); the header keeps the address after it aligned like malloc's.
struct alignas(alignof(std::max_align_t)) BlockHeader {
  size_t capacity;
};

// Headers of this thread's free blocks.
class BlockCache {
 public:
  ~BlockCache() {
    for (BlockHeader* block : blocks_) std::free(block);
  }

  // The smallest cached block of at least `size` bytes (it leaves the
  // cache), or nullptr.
  BlockHeader* Take(size_t size) {
    size_t best = blocks_.size();
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i]->capacity >= size &&
          (best == blocks_.size() || blocks_[i]->capacity < blocks_[best]->capacity)) {
        best = i;
      }
    }
    if (best == blocks_.size()) return nullptr;
    BlockHeader* block = blocks_[best];
    blocks_[best] = blocks_.back();
    blocks_.pop_back();
    bytes_ -= block->capacity;
    return block;
  }

  // Keeps `block` unless the cache is full; then frees it.
  void Give(BlockHeader* block) {
    if (blocks_.size() >= kMaxCachedBrotliBlocks ||
        block->capacity > kMaxCachedBrotliBytes - bytes_) {
      std::free(block);
      return;
    }
    blocks_.push_back(block);
    bytes_ += block->capacity;
  }

  size_t count() const { return blocks_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<BlockHeader*> blocks_;
  size_t bytes_ = 0;
};

BlockCache& ThreadCache() {
  thread_local BlockCache cache;
  return cache;
}

}  // namespace

void* AllocateBrotliBlock(void* /*opaque*/, size_t size) {
  BlockHeader* block = ThreadCache().Take(size);
  if (block == nullptr) {
    if (size > SIZE_MAX - sizeof(BlockHeader)) return nullptr;
    block = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + size));
    if (block == nullptr) return nullptr;
    block->capacity = size;
  }
  return block + 1;
}

void FreeBrotliBlock(void* /*opaque*/, void* address) {
  if (address == nullptr) return;
  ThreadCache().Give(static_cast<BlockHeader*>(address) - 1);
}

size_t CachedBrotliBlocks() { return ThreadCache().count(); }
size_t CachedBrotliBytes() { return ThreadCache().bytes(); }

}  // namespace riegeli
}  // namespace envlogger
