#include "envlogger/riegeli/record_writer.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/record_reader.h"
#include "envlogger/riegeli/records_format.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

std::string Reference(const std::string& name) {
  return testing::ReadFile(testing::TestDataPath("riegeli-reference/" + name));
}

// Compares byte strings, reporting sizes and the first difference instead of
// printing whole files.
::testing::AssertionResult SameBytes(const std::string& actual, const std::string& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < actual.size() && i < expected.size() && actual[i] == expected[i]) ++i;
  return ::testing::AssertionFailure() << "sizes " << actual.size() << " vs " << expected.size()
                                       << ", first difference at offset " << i;
}

RecordWriterOptions Options(const std::string& text) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(text);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return *options;
}

// Writes `records` into `*dest` (appending if it is not empty) and closes.
std::vector<RecordPosition> WriteAll(std::string* dest, const std::string& options,
                                     const std::vector<std::string>& records,
                                     std::optional<std::string> metadata = std::nullopt) {
  StatusOr<std::unique_ptr<RecordWriter>> writer =
      RecordWriter::Create(std::make_unique<StringSink>(dest), Options(options), metadata);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<RecordPosition> positions;
  for (const std::string& record : records) {
    EXPECT_TRUE((*writer)->WriteRecord(record).ok()) << (*writer)->status().ToString();
    positions.push_back((*writer)->LastPos());
  }
  EXPECT_TRUE((*writer)->Close().ok()) << (*writer)->status().ToString();
  return positions;
}

std::vector<std::string> NumberedRecords() {
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) {
    char buffer[16];
    std::snprintf(buffer, sizeof(buffer), "record_%06d", i);
    records.push_back(buffer);
  }
  return records;
}

// The reference files were written with the default (auto) chunk size, which
// holds all 100 records (100 * (13 + 8) bytes) in one chunk.
TEST(RecordWriterTest, ReproducesSimpleNoneByteForByte) {
  std::string file;
  const std::vector<RecordPosition> positions = WriteAll(&file, "uncompressed", NumberedRecords());
  EXPECT_TRUE(SameBytes(file, Reference("simple_none.riegeli")));
  for (size_t i = 0; i < positions.size(); ++i) {
    EXPECT_EQ(positions[i], (RecordPosition{64, i}));
  }
}

TEST(RecordWriterTest, ReproducesSimpleZstdByteForByte) {
  std::string file;
  WriteAll(&file, "zstd", NumberedRecords());
  EXPECT_TRUE(SameBytes(file, Reference("simple_zstd.riegeli")));
}

TEST(RecordWriterTest, ReproducesTransposeNoneByteForByte) {
  std::string file;
  WriteAll(&file, "transpose,uncompressed", NumberedRecords());
  EXPECT_TRUE(SameBytes(file, Reference("transpose_none.riegeli")));
}

// 65473 empty records in one zstd chunk: the chunk must be padded past the
// block boundary at 65536 to 65561 (64 + 65473 rounded up to a possible chunk
// boundary); appending "tail" without compression then puts it at 65561.
TEST(RecordWriterTest, ReproducesBlockBoundaryFilesAndAppending) {
  struct Case {
    const char* name;
    uint64_t num_records;
  };
  for (const Case& c : {Case{"A_q_boundary_plus_1", 65473}, Case{"B_q_boundary_plus_24", 65496},
                        Case{"C_q_boundary_exact", 65472}}) {
    SCOPED_TRACE(c.name);
    std::string file;
    const std::vector<RecordPosition> positions =
        WriteAll(&file, "zstd", std::vector<std::string>(c.num_records));
    EXPECT_TRUE(SameBytes(file, Reference(std::string(c.name) + ".riegeli")));
    EXPECT_EQ(positions.back(), (RecordPosition{64, c.num_records - 1}));
    if (std::string(c.name) == "C_q_boundary_exact") continue;
    const std::vector<RecordPosition> tail = WriteAll(&file, "uncompressed", {"tail"});
    EXPECT_EQ(tail[0], (RecordPosition{65561, 0}));
    EXPECT_TRUE(SameBytes(file, Reference(std::string(c.name) + "_with_tail.riegeli")));
  }
}

// D = a file with one record and 64 KiB final padding, followed by a second,
// independent file: the padding chunk runs from 122 to exactly 65536.
TEST(RecordWriterTest, ReproducesPaddedFileThenConcatenatedFile) {
  std::string first;
  WriteAll(&first, "uncompressed,padding", {"file-one-record"});
  EXPECT_EQ(first.size(), 65536u);
  std::string second;
  WriteAll(&second, "uncompressed", {"boundary-coincident-file"});
  EXPECT_TRUE(SameBytes(first + second, Reference("D_chunk_starts_at_boundary.riegeli")));
}

// With chunk_size 35000, each 10000-byte record costs 10008: three fit
// (30024), a fourth does not. Chunk ends are computed independently from the
// simple chunk layout: 1 compression byte, varint(sizes length = 3 * 2),
// three varint(10000) sizes, 30000 value bytes.
TEST(RecordWriterTest, ChunkSizeAccountingClosesBeforeOverflow) {
  std::string file;
  const std::vector<RecordPosition> positions =
      WriteAll(&file, "uncompressed,chunk_size:35000",
               std::vector<std::string>(23, std::string(10000, 'x')));
  const uint64_t data_size = 1 + 1 + 3 * 2 + 30000;
  uint64_t chunk_begin = 64;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (i > 0 && i % 3 == 0) chunk_begin = ChunkEnd(chunk_begin, data_size, 3);
    EXPECT_EQ(positions[i], (RecordPosition{chunk_begin, i % 3})) << i;
  }
}

TEST(RecordWriterTest, OversizedRecordIsWrittenAtOnce) {
  std::string file;
  StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(
      std::make_unique<StringSink>(&file), Options("uncompressed,chunk_size:100"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteRecord("small").ok());
  EXPECT_EQ(file.size(), 64u);  // Still pending in the open chunk.
  EXPECT_EQ((*writer)->Pos(), (RecordPosition{64, 1}));
  ASSERT_TRUE((*writer)->WriteRecord(std::string(200, 'y')).ok());
  // "small" was closed into the chunk at 64 (1+1+1+5 data bytes), and the
  // big record, which leaves no room for more, was written right away.
  const uint64_t big_begin = ChunkEnd(64, 8, 1);
  EXPECT_EQ((*writer)->LastPos(), (RecordPosition{big_begin, 0}));
  EXPECT_EQ(file.size(), ChunkEnd(big_begin, 1 + 1 + 2 + 200, 1));
  EXPECT_EQ((*writer)->Pos(), (RecordPosition{file.size(), 0}));
  ASSERT_TRUE((*writer)->Close().ok());
}

TEST(RecordWriterTest, FlushEndsFileAtChunkBoundary) {
  std::string file;
  StatusOr<std::unique_ptr<RecordWriter>> writer =
      RecordWriter::Create(std::make_unique<StringSink>(&file), Options("zstd"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteRecord("one").ok());
  ASSERT_TRUE((*writer)->WriteRecord("two").ok());
  ASSERT_TRUE((*writer)->Flush(FlushType::kFromProcess).ok());
  EXPECT_EQ((*writer)->Pos(), (RecordPosition{file.size(), 0}));
  ASSERT_TRUE((*writer)->WriteRecord("three").ok());
  EXPECT_EQ((*writer)->LastPos(), (RecordPosition{file.size(), 0}));

  // The flushed prefix is a complete file with the first two records.
  RecordReader reader(std::make_unique<StringSource>(file));
  std::string_view record;
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "one");
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "two");
  EXPECT_FALSE(reader.ReadRecord(&record));
  EXPECT_TRUE(reader.Close().ok()) << reader.status().ToString();
  ASSERT_TRUE((*writer)->Close().ok());
}

TEST(RecordWriterTest, MetadataChunkOnlyInNewFiles) {
  const std::string metadata = std::string("\x0a\x05hello", 7);  // file_comment: "hello"
  std::string file;
  WriteAll(&file, "uncompressed", {"r0"}, metadata);
  // The chunk after the signature is a metadata chunk claiming no records.
  ASSERT_GT(file.size(), 64 + kChunkHeaderSize);
  EXPECT_EQ(file[64 + 24], static_cast<char>(ChunkType::kFileMetadata));
  EXPECT_EQ(DecodeFixed64(&file[64 + 24]) >> 8, 0u);
  EXPECT_EQ(DecodeFixed64(&file[64 + 32]), metadata.size());

  const size_t size_before_append = file.size();
  WriteAll(&file, "uncompressed", {"r1"}, metadata);
  // Appending writes neither a signature nor metadata: a simple chunk follows.
  EXPECT_EQ(file[size_before_append + 24], static_cast<char>(ChunkType::kSimple));

  RecordReader reader(std::make_unique<StringSource>(file));
  StatusOr<std::optional<std::string>> read_metadata = reader.ReadMetadata();
  ASSERT_TRUE(read_metadata.ok()) << read_metadata.status().ToString();
  ASSERT_TRUE(read_metadata->has_value());
  EXPECT_EQ(**read_metadata, metadata);
  std::string_view record;
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "r0");
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "r1");
  EXPECT_EQ(reader.LastPos(), (RecordPosition{size_before_append, 0}));
  EXPECT_FALSE(reader.ReadRecord(&record));
}

TEST(RecordWriterTest, AppendingCompletesCutBlockHeader) {
  // A file cut inside the block header at 65536 (65536 + 1..24 is not a
  // possible chunk boundary): appending fills zeros up to the next block
  // boundary, 131072, where the new chunk begins.
  std::string file;
  WriteAll(&file, "uncompressed,chunk_size:100K", {std::string(70000, 'a')});
  file.resize(65536 + 10);
  const std::vector<RecordPosition> positions = WriteAll(&file, "uncompressed", {"after"});
  EXPECT_EQ(positions[0], (RecordPosition{131072, 0}));
  ASSERT_GT(file.size(), 131072 + 64u);
  EXPECT_EQ(file.substr(65546, 131072 - 65546), std::string(131072 - 65546, '\0'));
  EXPECT_EQ(file[131072 + 24 + 24], static_cast<char>(ChunkType::kSimple));
}

TEST(RecordWriterTest, AppendingWithInitialPaddingStartsAtPaddingMultiple) {
  std::string file;
  WriteAll(&file, "uncompressed", {"first"});
  const size_t old_size = file.size();
  const std::vector<RecordPosition> positions =
      WriteAll(&file, "uncompressed,initial_padding:4K", {"second"});
  EXPECT_EQ(positions[0], (RecordPosition{4096, 0}));
  // A padding chunk fills the gap.
  EXPECT_EQ(file[old_size + 24], static_cast<char>(ChunkType::kPadding));
}

TEST(RecordWriterTest, WritesToFileAndFailsAfterClose) {
  const std::string path = ::testing::TempDir() + "/record_writer_test.riegeli";
  StatusOr<std::unique_ptr<RecordWriter>> writer =
      RecordWriter::Open(path, Options("uncompressed"));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (const std::string& record : NumberedRecords())
    ASSERT_TRUE((*writer)->WriteRecord(record).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_TRUE(SameBytes(testing::ReadFile(path), Reference("simple_none.riegeli")));
  const Status status = (*writer)->WriteRecord("late");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
  std::remove(path.c_str());
}

TEST(RecordWriterTest, OpenFailureNamesPath) {
  StatusOr<std::unique_ptr<RecordWriter>> writer =
      RecordWriter::Open("/nonexistent-dir/x.riegeli", Options(""));
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.status().message().find("/nonexistent-dir/x.riegeli"), std::string::npos)
      << writer.status().message();
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
