// RecordReader's cache of decoded chunks (RecordReaderOptions::
// chunk_cache_bytes): random access served without I/O, eviction, and
// correctness for any cache size.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/record_reader.h"
#include "envlogger/riegeli/record_writer.h"

namespace envlogger {
namespace riegeli {
namespace {

// A source over a string that counts ReadAt() calls.
class CountingSource : public ByteSource {
 public:
  CountingSource(std::string data, int* reads) : source_(std::move(data)), reads_(reads) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    ++*reads_;
    return source_.ReadAt(offset, length, dest);
  }
  StatusOr<uint64_t> Size() override { return source_.Size(); }
  const std::string& name() const override { return source_.name(); }

 private:
  StringSource source_;
  int* reads_;
};

struct TestFile {
  std::string bytes;
  std::vector<std::string> records;
  std::vector<uint64_t> positions;       // Numeric position of each record.
  std::vector<uint64_t> first_of_chunk;  // Index of each chunk's first record.
};

// 600 records of 100..299 bytes in uncompressed chunks of about 4 KiB.
TestFile MakeFile(const std::string& options = "uncompressed,chunk_size:4096") {
  TestFile file;
  StatusOr<RecordWriterOptions> writer_options = RecordWriterOptions::FromString(options);
  EXPECT_TRUE(writer_options.ok());
  StatusOr<std::unique_ptr<RecordWriter>> writer =
      RecordWriter::Create(std::make_unique<StringSink>(&file.bytes), *writer_options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  std::mt19937 random(7);
  uint64_t last_chunk = ~uint64_t{0};
  for (int i = 0; i < 600; ++i) {
    std::string record = "record " + std::to_string(i) + " ";
    record.resize(100 + random() % 200, static_cast<char>('a' + i % 26));
    EXPECT_TRUE((*writer)->WriteRecord(record).ok());
    const RecordPosition pos = (*writer)->LastPos();
    if (pos.chunk_begin != last_chunk) file.first_of_chunk.push_back(file.records.size());
    last_chunk = pos.chunk_begin;
    file.positions.push_back(pos.numeric());
    file.records.push_back(std::move(record));
  }
  EXPECT_TRUE((*writer)->Close().ok());
  return file;
}

std::unique_ptr<RecordReader> OpenCounting(const TestFile& file, uint64_t cache_bytes, int* reads) {
  RecordReaderOptions options;
  options.chunk_cache_bytes = cache_bytes;
  return std::make_unique<RecordReader>(std::make_unique<CountingSource>(file.bytes, reads),
                                        std::move(options));
}

TEST(RecordReaderCacheTest, FileHasManyChunks) {
  const TestFile file = MakeFile();
  EXPECT_GT(file.first_of_chunk.size(), 20u);
}

TEST(RecordReaderCacheTest, CachedChunksAreServedWithoutIo) {
  const TestFile file = MakeFile();
  int reads = 0;
  std::unique_ptr<RecordReader> reader = OpenCounting(file, uint64_t{64} << 20, &reads);
  std::string_view record;
  // Last chunk first: reading chunks in file order would be sequential
  // reading, which does not fill the cache.
  for (auto first = file.first_of_chunk.rbegin(); first != file.first_of_chunk.rend(); ++first) {
    ASSERT_TRUE(reader->ReadRecordAt(file.positions[*first], &record));
  }
  const int reads_after_loading = reads;
  EXPECT_GT(reads_after_loading, 0);
  std::mt19937 random(1);
  for (int i = 0; i < 3000; ++i) {
    const size_t index = random() % file.records.size();
    ASSERT_TRUE(reader->ReadRecordAt(file.positions[index], &record)) << index;
    ASSERT_EQ(record, file.records[index]) << index;
    EXPECT_EQ(reader->LastPos().numeric(), file.positions[index]);
  }
  EXPECT_EQ(reads, reads_after_loading);
  // SeekNumeric() uses the cache too, and sequential reading continues from
  // the cached chunk into the next one.
  ASSERT_TRUE(reader->SeekNumeric(file.positions[0]));
  for (size_t i = 0; i < file.records.size(); ++i) {
    ASSERT_TRUE(reader->ReadRecord(&record)) << i;
    ASSERT_EQ(record, file.records[i]) << i;
  }
  EXPECT_EQ(reads, reads_after_loading);
  EXPECT_FALSE(reader->ReadRecord(&record));
  EXPECT_TRUE(reader->ok());
}

TEST(RecordReaderCacheTest, LeastRecentlyUsedChunkIsEvictedByBytes) {
  const TestFile file = MakeFile();
  // About 4 KiB of records per chunk: 10 KiB holds two chunks, not three.
  int reads = 0;
  std::unique_ptr<RecordReader> reader = OpenCounting(file, 10 << 10, &reads);
  std::string_view record;
  // Chunks 0, 5 and 10: none follows another, so every read is random
  // access (whose chunks are cached).
  auto read_chunk = [&](size_t chunk) {
    const size_t index = file.first_of_chunk[5 * chunk];
    const int before = reads;
    EXPECT_TRUE(reader->ReadRecordAt(file.positions[index], &record));
    EXPECT_EQ(record, file.records[index]);
    return reads != before;  // Whether it needed I/O.
  };
  EXPECT_TRUE(read_chunk(0));
  EXPECT_TRUE(read_chunk(1));
  EXPECT_TRUE(read_chunk(2));   // Evicts 0.
  EXPECT_FALSE(read_chunk(1));  // Cached; now 2 is the least recently used.
  EXPECT_TRUE(read_chunk(0));   // Evicted before; evicts 2.
  EXPECT_FALSE(read_chunk(1));
  EXPECT_FALSE(read_chunk(0));
  EXPECT_TRUE(read_chunk(2));
}

// ReadRecordAt() in file order reads like ReadRecord() and leaves the cache
// alone (so sequential reading keeps reusing one buffer); the same chunks
// read out of order are cached.
TEST(RecordReaderCacheTest, SequentialReadRecordAtDoesNotFillTheCache) {
  const TestFile file = MakeFile();
  int reads = 0;
  std::unique_ptr<RecordReader> reader = OpenCounting(file, uint64_t{64} << 20, &reads);
  std::string_view record;
  for (size_t i = 0; i < file.records.size(); ++i) {
    ASSERT_TRUE(reader->ReadRecordAt(file.positions[i], &record)) << i;
    ASSERT_EQ(record, file.records[i]) << i;
  }
  // Only the first chunk was read as random access (nothing was current).
  const size_t second = file.first_of_chunk[1];
  const size_t third = file.first_of_chunk[2];
  int before = reads;
  ASSERT_TRUE(reader->ReadRecordAt(file.positions[third], &record));
  EXPECT_EQ(record, file.records[third]);
  EXPECT_GT(reads, before);  // Not cached: read again, now cached.
  before = reads;
  ASSERT_TRUE(reader->ReadRecordAt(file.positions[0], &record));
  EXPECT_EQ(record, file.records[0]);
  EXPECT_EQ(reads, before);  // Cached by the first read.
  ASSERT_TRUE(reader->ReadRecordAt(file.positions[third], &record));
  EXPECT_EQ(reads, before);  // Cached by its random read above.
  ASSERT_TRUE(reader->ReadRecordAt(file.positions[second], &record));
  EXPECT_GT(reads, before);  // Read sequentially before, so not cached.
}

// Every cache size, including none and one smaller than a chunk, gives the
// same records, at chunk edges too, interleaved with sequential reads.
TEST(RecordReaderCacheTest, AnyCacheSizeReadsCorrectly) {
  const TestFile file = MakeFile("zstd:3,chunk_size:4096");
  for (uint64_t cache_bytes :
       {uint64_t{0}, uint64_t{1000}, uint64_t{12} << 10, uint64_t{64} << 20}) {
    SCOPED_TRACE("cache_bytes " + std::to_string(cache_bytes));
    int reads = 0;
    std::unique_ptr<RecordReader> reader = OpenCounting(file, cache_bytes, &reads);
    std::vector<size_t> indices;
    for (size_t first : file.first_of_chunk) {
      indices.push_back(first);
      if (first > 0) indices.push_back(first - 1);  // The last record of a chunk.
    }
    std::mt19937 random(static_cast<unsigned>(cache_bytes));
    for (int i = 0; i < 500; ++i) indices.push_back(random() % file.records.size());
    std::shuffle(indices.begin(), indices.end(), random);
    std::string_view record;
    for (size_t index : indices) {
      ASSERT_TRUE(reader->ReadRecordAt(file.positions[index], &record)) << index;
      ASSERT_EQ(record, file.records[index]) << index;
      // The next record follows, across a chunk boundary too.
      if (index + 1 < file.records.size()) {
        ASSERT_TRUE(reader->ReadRecord(&record)) << index;
        ASSERT_EQ(record, file.records[index + 1]) << index;
        EXPECT_EQ(reader->LastPos().numeric(), file.positions[index + 1]);
      }
    }
    // A position between two chunks' records means the next record.
    const size_t second = file.first_of_chunk[1];
    ASSERT_TRUE(reader->ReadRecordAt(file.positions[second - 1] + 1, &record));
    EXPECT_EQ(record, file.records[second]);
    EXPECT_TRUE(reader->Close().ok());
  }
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
