#include "envlogger/riegeli/chunk_writer.h"

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/chunk_reader.h"
#include "envlogger/riegeli/highwayhash.h"
#include "envlogger/riegeli/simple_encoder.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

std::string ReadFixture(const std::string& name) {
  return testing::ReadFile(testing::TestDataPath("riegeli-reference/" + name));
}

const std::string kSignature(
    "\x83\xaf\x70\xd1\x0d\x88\x4a\x3f\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x40\x00\x00\x00\x00\x00\x00\x00\x91\xba\xc2\x3c\x92\x87\xe1\xa9"
    "\x00\x00\x00\x00\x00\x00\x00\x00\xe1\x9f\x13\xc0\xe9\xb1\xc3\x72"
    "\x73\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    64);

// Compares byte strings without dumping megabytes on failure.
::testing::AssertionResult SameBytes(const std::string& actual, const std::string& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < actual.size() && i < expected.size() && actual[i] == expected[i]) ++i;
  return ::testing::AssertionFailure() << "sizes " << actual.size() << " vs " << expected.size()
                                       << ", first difference at offset " << i;
}

CompressorOptions Compression(CompressionType type, int level = 0) {
  CompressorOptions options;
  options.type = type;
  options.level = level;
  return options;
}

// Writes one simple chunk holding `records`.
void WriteSimpleChunk(ChunkWriter* writer, const CompressorOptions& options,
                      const std::vector<std::string>& records) {
  SimpleEncoder encoder(options);
  for (const std::string& record : records) encoder.AddRecord(record);
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  ASSERT_TRUE(
      writer
          ->WriteChunk(ChunkType::kSimple, encoder.num_records(), encoder.decoded_data_size(), data)
          .ok());
}

std::vector<std::string> BasicRecords() {
  std::vector<std::string> records;
  char buffer[32];
  for (int i = 0; i < 100; ++i) {
    snprintf(buffer, sizeof(buffer), "record_%06d", i);
    records.push_back(buffer);
  }
  return records;
}

// A new file: signature, then one simple chunk per entry of `chunks`.
std::string WriteFile(const CompressorOptions& options,
                      const std::vector<std::vector<std::string>>& chunks) {
  std::string file;
  StringSink sink(&file);
  ChunkWriter writer(&sink);
  EXPECT_TRUE(writer.WriteSignature().ok());
  for (const auto& records : chunks) WriteSimpleChunk(&writer, options, records);
  EXPECT_EQ(writer.pos(), file.size());
  return file;
}

TEST(ChunkWriterTest, SignatureIsTheSpecBytes) {
  std::string file;
  StringSink sink(&file);
  ChunkWriter writer(&sink);
  ASSERT_TRUE(writer.WriteSignature().ok());
  EXPECT_EQ(file, kSignature);
  EXPECT_EQ(writer.pos(), 64u);
  EXPECT_EQ(writer.WriteSignature().code(), StatusCode::kFailedPrecondition);
}

TEST(ChunkWriterTest, ReproducesSimpleNoneAndZstdReferenceFiles) {
  EXPECT_TRUE(SameBytes(WriteFile(Compression(CompressionType::kNone), {BasicRecords()}),
                        ReadFixture("simple_none.riegeli")));
  EXPECT_TRUE(SameBytes(WriteFile(Compression(CompressionType::kZstd, 3), {BasicRecords()}),
                        ReadFixture("simple_zstd.riegeli")));
}

// The block-boundary files: many empty records in one zstd chunk, so the
// chunk's padding (not its data) decides where it ends.
TEST(ChunkWriterTest, ReproducesBlockBoundaryReferenceFiles) {
  const CompressorOptions zstd = Compression(CompressionType::kZstd, 3);
  const CompressorOptions none = Compression(CompressionType::kNone);
  struct Case {
    std::string name;
    size_t num_empty;
    bool tail;
  };
  for (const Case& c : {Case{"A_q_boundary_plus_1.riegeli", 65473, false},
                        Case{"A_q_boundary_plus_1_with_tail.riegeli", 65473, true},
                        Case{"B_q_boundary_plus_24.riegeli", 65496, false},
                        Case{"B_q_boundary_plus_24_with_tail.riegeli", 65496, true},
                        Case{"C_q_boundary_exact.riegeli", 65472, false}}) {
    std::string file;
    StringSink sink(&file);
    ChunkWriter writer(&sink);
    ASSERT_TRUE(writer.WriteSignature().ok());
    WriteSimpleChunk(&writer, zstd, std::vector<std::string>(c.num_empty));
    if (c.tail) {
      EXPECT_EQ(writer.pos(), 65561u);
      WriteSimpleChunk(&writer, none, {"tail"});
    }
    EXPECT_TRUE(SameBytes(file, ReadFixture(c.name))) << c.name;
  }
}

// D is two files concatenated: file one padded to 64 KiB, then file two.
TEST(ChunkWriterTest, ReproducesConcatenatedFilesWithPadding) {
  const CompressorOptions none = Compression(CompressionType::kNone);
  std::string first;
  StringSink first_sink(&first);
  ChunkWriter first_writer(&first_sink);
  ASSERT_TRUE(first_writer.WriteSignature().ok());
  WriteSimpleChunk(&first_writer, none, {"file-one-record"});
  EXPECT_EQ(first_writer.pos(), 122u);
  ASSERT_TRUE(first_writer.WritePadding(kBlockSize).ok());
  EXPECT_EQ(first_writer.pos(), kBlockSize);
  ASSERT_TRUE(first_writer.WritePadding(kBlockSize).ok());  // Already aligned: no-op.
  EXPECT_EQ(first.size(), kBlockSize);

  const std::string second = WriteFile(none, {{"boundary-coincident-file"}});
  EXPECT_TRUE(SameBytes(first + second, ReadFixture("D_chunk_starts_at_boundary.riegeli")));
}

TEST(ChunkWriterTest, ChunkHeaderStraddlingBlockBoundary) {
  std::string file;
  StringSink sink(&file);
  ChunkWriter writer(&sink);
  ASSERT_TRUE(writer.WriteSignature().ok());
  // A padding chunk whose end puts the next chunk 20 bytes before the block.
  ASSERT_TRUE(
      writer.WriteChunk(ChunkType::kPadding, 0, 0, std::string(kBlockSize - 20 - 64 - 40, '\0'))
          .ok());
  ASSERT_EQ(writer.pos(), kBlockSize - 20);
  const std::string data(100, 'd');
  ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, 7, 0, data).ok());
  const uint64_t chunk_end = kBlockSize - 20 + 140 + 24;
  EXPECT_EQ(writer.pos(), chunk_end);
  ASSERT_EQ(file.size(), chunk_end);
  // The block header at the boundary, computed independently.
  std::string body;
  AppendFixed64(20, &body);                      // previous_chunk
  AppendFixed64(chunk_end - kBlockSize, &body);  // next_chunk
  std::string expected;
  AppendFixed64(RiegeliHash(body), &expected);
  expected += body;
  EXPECT_EQ(file.substr(kBlockSize, 24), expected);
  // Logical chunk header = 20 bytes before the block header + 20 after.
  ChunkHeader header;
  const std::string header_bytes =
      file.substr(kBlockSize - 20, 20) + file.substr(kBlockSize + 24, 20);
  ASSERT_TRUE(header.Decode(header_bytes.data()));
  EXPECT_EQ(header.data_size, 100u);
  EXPECT_EQ(header.num_records, 7u);
  EXPECT_EQ(file.substr(kBlockSize + 44), data);
}

TEST(ChunkWriterTest, LargeChunkCrossesManyBlocksAndReadsBack) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 7 + i / 1000));
  std::string file;
  StringSink sink(&file);
  ChunkWriter writer(&sink);
  ASSERT_TRUE(writer.WriteSignature().ok());
  ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, 3, 12, data).ok());
  ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, 1, 5, "after").ok());
  EXPECT_EQ(file.size(), writer.pos());
  // Every block boundary inside the file holds a block header.
  EXPECT_EQ(file.size(), AddWithOverhead(AddWithOverhead(0, 40 + 40 + 300000), 45));

  StringSource source(file);
  ChunkReader reader(&source);
  Chunk chunk;
  uint64_t begin = 0;
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(begin, 0u);
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(begin, 64u);
  EXPECT_TRUE(SameBytes(chunk.data, data));
  EXPECT_EQ(chunk.header.num_records, 3u);
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(chunk.data, "after");
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_TRUE(reader.status().ok());
  EXPECT_FALSE(reader.truncated());
}

TEST(ChunkWriterTest, PrepareForAppendFillsCutBlockHeader) {
  for (uint64_t offset : {uint64_t{1}, uint64_t{10}, uint64_t{24}}) {
    std::string file(kBlockSize + offset, 'x');
    StringSink sink(&file);
    ChunkWriter writer(&sink);
    EXPECT_EQ(writer.pos(), kBlockSize + offset);
    EXPECT_EQ(writer.WriteChunk(ChunkType::kSimple, 0, 0, "").code(),
              StatusCode::kFailedPrecondition);
    ASSERT_TRUE(writer.PrepareForAppend().ok());
    EXPECT_EQ(writer.pos(), 2 * kBlockSize);
    EXPECT_EQ(file.size(), 2 * kBlockSize);
    EXPECT_EQ(file.substr(kBlockSize + offset), std::string(kBlockSize - offset, '\0'));
  }
  for (uint64_t size : {uint64_t{0}, uint64_t{64}, kBlockSize, kBlockSize + 25}) {
    std::string file(size, 'x');
    StringSink sink(&file);
    ChunkWriter writer(&sink);
    ASSERT_TRUE(writer.PrepareForAppend().ok());
    EXPECT_EQ(writer.pos(), size);
    EXPECT_EQ(file.size(), size);
  }
}

TEST(ChunkWriterTest, PaddingTargets) {
  struct Case {
    uint64_t start;
    uint64_t padding;
    uint64_t expected_end;
  };
  for (const Case& c : {
           Case{122, kBlockSize, kBlockSize},
           // Too close to the boundary for a chunk header: one more period.
           Case{kBlockSize - 30, kBlockSize, 2 * kBlockSize},
           Case{kBlockSize - 40, kBlockSize, kBlockSize},
           Case{100, 1000, 1000},
           Case{990, 1000, 2000},
           // 65513 leaves 13 bytes; 65562 is 62 bytes away but only 38 of
           // them are outside the block header: not enough for a chunk header.
           Case{65500, 49, 65611},
       }) {
    std::string file(c.start, '\0');
    StringSink sink(&file);
    ChunkWriter writer(&sink);
    ASSERT_TRUE(writer.WritePadding(c.padding).ok());
    EXPECT_EQ(writer.pos(), c.expected_end) << c.start << " " << c.padding;
    EXPECT_EQ(file.size(), c.expected_end);
    EXPECT_TRUE(IsPossibleChunkBoundary(writer.pos()));
  }
  std::string file(123, '\0');
  StringSink sink(&file);
  ChunkWriter writer(&sink);
  ASSERT_TRUE(writer.WritePadding(0).ok());
  ASSERT_TRUE(writer.WritePadding(1).ok());
  EXPECT_EQ(file.size(), 123u);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
