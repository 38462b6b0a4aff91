#include "envlogger/riegeli/chunk_cache.h"

#include <utility>

namespace envlogger {
namespace riegeli {

std::shared_ptr<DecodedChunk> ChunkCache::Find(uint64_t pos) {
  // The last chunk beginning at or before pos is the only candidate.
  auto it = entries_.upper_bound(pos);
  if (it == entries_.begin()) {
    ++misses_;
    return nullptr;
  }
  --it;
  if (!it->second.chunk->Contains(pos)) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.chunk;
}

void ChunkCache::Insert(std::shared_ptr<DecodedChunk> chunk) {
  const uint64_t begin = chunk->begin;
  const uint64_t bytes = chunk->MemoryUsage();
  if (auto it = entries_.find(begin); it != entries_.end()) Erase(it);
  if (bytes > max_bytes_) {
    GiveSpare(std::move(chunk));
    return;
  }
  while (bytes_ + bytes > max_bytes_) {
    Erase(entries_.find(lru_.back()));
    ++evictions_;
  }
  lru_.push_front(begin);
  entries_.emplace(begin, Entry{std::move(chunk), bytes, lru_.begin()});
  bytes_ += bytes;
}

std::shared_ptr<DecodedChunk> ChunkCache::TakeSpare() {
  if (spare_ == nullptr) return std::make_shared<DecodedChunk>();
  std::shared_ptr<DecodedChunk> chunk = std::move(spare_);
  spare_ = nullptr;
  return chunk;
}

void ChunkCache::GiveSpare(std::shared_ptr<DecodedChunk> chunk) {
  // use_count() == 1: only `chunk` itself refers to it.
  if (chunk != nullptr && chunk.use_count() == 1 && spare_ == nullptr) spare_ = std::move(chunk);
}

void ChunkCache::Erase(std::map<uint64_t, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  std::shared_ptr<DecodedChunk> chunk = std::move(it->second.chunk);
  entries_.erase(it);
  GiveSpare(std::move(chunk));
}

void ChunkCache::SetMaxBytes(uint64_t max_bytes) {
  max_bytes_ = max_bytes;
  while (bytes_ > max_bytes_) {
    Erase(entries_.find(lru_.back()));
    ++evictions_;
  }
}

void ChunkCache::Clear() {
  while (!entries_.empty()) Erase(entries_.begin());
}

}  // namespace riegeli
}  // namespace envlogger
