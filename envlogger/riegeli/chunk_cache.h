// Decoded chunks of one Riegeli/records file, kept for random access.
//
// Contract:
// * A DecodedChunk holds the records of the chunk [begin, end): record i is
//   values[limits[i-1] or 0, limits[i]) and has numeric position begin + i.
//   It is not modified once cached or shared; holders keep it alive with a shared_ptr, so
//   eviction never invalidates a record someone is reading.
// * ChunkCache maps chunk_begin -> chunk, bounded by the bytes its chunks
//   occupy (MemoryUsage()). Insert() evicts least recently used chunks until
//   the total is within max_bytes; a chunk larger than max_bytes alone is not
//   kept (max_bytes 0 disables caching). Find() is an ordered-map lookup, no
//   I/O.
// * Counters (hits, misses, evictions) count Find() results and chunks
//   evicted to keep within max_bytes (SetMaxBytes() lowers the bound and
//   evicts at once).
// * To spare allocations, the buffers of an evicted chunk that nobody else
//   holds are handed out again by TakeSpare().

#ifndef ENVLOGGER_RIEGELI_CHUNK_CACHE_H_
#define ENVLOGGER_RIEGELI_CHUNK_CACHE_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace envlogger {
namespace riegeli {

struct DecodedChunk {
  uint64_t begin = 0;  // Chunk boundary where the chunk starts.
  uint64_t end = 0;    // Chunk boundary after it (its padding included).
  std::string values;
  // Where the records begin in `values` (an uncompressed chunk keeps its
  // chunk data there, records after the sizes).
  size_t values_begin = 0;
  std::vector<uint64_t> limits;

  uint64_t num_records() const { return limits.size(); }
  // Whether numeric position `pos` is one of this chunk's records.
  bool Contains(uint64_t pos) const { return pos >= begin && pos - begin < limits.size(); }
  // Record `index` (< num_records()).
  std::string_view record(uint64_t index) const {
    const uint64_t start = index == 0 ? 0 : limits[index - 1];
    return std::string_view(values.data() + values_begin + start, limits[index] - start);
  }
  // Bytes of memory the chunk holds (buffer capacities and bookkeeping).
  uint64_t MemoryUsage() const {
    return sizeof(*this) + values.capacity() + limits.capacity() * sizeof(uint64_t);
  }
};

class ChunkCache {
 public:
  explicit ChunkCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  // The cached chunk that holds the record at numeric position `pos`, now
  // the most recently used; nullptr if no cached chunk holds it.
  std::shared_ptr<DecodedChunk> Find(uint64_t pos);

  // Caches `chunk` as the most recently used (replacing a chunk with the same
  // begin), then evicts as described above.
  void Insert(std::shared_ptr<DecodedChunk> chunk);

  // An empty chunk to decode into: reuses the buffers of an evicted chunk if
  // one is free, else allocates.
  std::shared_ptr<DecodedChunk> TakeSpare();
  // Offers a chunk that will not be cached for reuse by TakeSpare(); ignored
  // if others still hold it.
  void GiveSpare(std::shared_ptr<DecodedChunk> chunk);

  // Forgets all chunks.
  void Clear();

  // Changes the bound, evicting least recently used chunks to meet it.
  void SetMaxBytes(uint64_t max_bytes);

  uint64_t max_bytes() const { return max_bytes_; }
  uint64_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::shared_ptr<DecodedChunk> chunk;
    uint64_t bytes = 0;
    std::list<uint64_t>::iterator lru;  // Position in lru_.
  };

  // Removes the entry at `it`, keeping its chunk as the spare if possible.
  void Erase(std::map<uint64_t, Entry>::iterator it);

  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
  std::map<uint64_t, Entry> entries_;  // By chunk begin.
  std::list<uint64_t> lru_;            // Chunk begins, most recently used first.
  std::shared_ptr<DecodedChunk> spare_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_CHUNK_CACHE_H_
