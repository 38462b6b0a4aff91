#include "envlogger/riegeli/chunk_decoder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/riegeli/chunk_reader.h"
#include "envlogger/riegeli/simple_encoder.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

Chunk MakeChunk(ChunkType type, uint64_t num_records, uint64_t decoded_data_size,
                std::string data) {
  Chunk chunk;
  chunk.header.chunk_type = type;
  chunk.header.num_records = num_records;
  chunk.header.decoded_data_size = decoded_data_size;
  chunk.header.data_size = data.size();
  chunk.data = std::move(data);
  return chunk;
}

Status Decode(const Chunk& chunk, std::string* values, std::vector<uint64_t>* limits) {
  return DecodeChunk(chunk, values, limits);
}

TEST(ChunkDecoderTest, ChunksWithoutRecords) {
  std::string values = "stale";
  std::vector<uint64_t> limits = {1};
  EXPECT_TRUE(Decode(MakeChunk(ChunkType::kFileSignature, 0, 0, ""), &values, &limits).ok());
  EXPECT_TRUE(values.empty());
  EXPECT_TRUE(limits.empty());
  EXPECT_TRUE(
      Decode(MakeChunk(ChunkType::kPadding, 0, 0, std::string(100, '\0')), &values, &limits).ok());
  // Metadata is not decoded on the record path; it has 0 records.
  EXPECT_TRUE(
      Decode(MakeChunk(ChunkType::kFileMetadata, 0, 17, "whatever"), &values, &limits).ok());
  EXPECT_TRUE(limits.empty());
  // Unknown chunk types without records are ignored.
  EXPECT_TRUE(Decode(MakeChunk(static_cast<ChunkType>('Q'), 0, 5, "abc"), &values, &limits).ok());
}

TEST(ChunkDecoderTest, InvalidChunksWithoutRecords) {
  std::string values;
  std::vector<uint64_t> limits;
  EXPECT_EQ(Decode(MakeChunk(ChunkType::kFileSignature, 1, 0, ""), &values, &limits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(MakeChunk(ChunkType::kFileSignature, 0, 0, "x"), &values, &limits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(MakeChunk(ChunkType::kFileSignature, 0, 3, ""), &values, &limits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(MakeChunk(ChunkType::kFileMetadata, 2, 0, ""), &values, &limits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(MakeChunk(ChunkType::kPadding, 1, 0, ""), &values, &limits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(MakeChunk(ChunkType::kPadding, 0, 1, ""), &values, &limits).code(),
            StatusCode::kInvalidArgument);
  const Status status = Decode(MakeChunk(static_cast<ChunkType>('Q'), 3, 0, ""), &values, &limits);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("Unknown chunk type"), std::string::npos);
}

TEST(ChunkDecoderTest, DispatchesSimpleChunks) {
  CompressorOptions options;
  options.type = CompressionType::kSnappy;
  SimpleEncoder encoder(options);
  encoder.AddRecord("one");
  encoder.AddRecord("three");
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  std::string values;
  std::vector<uint64_t> limits;
  ASSERT_TRUE(Decode(MakeChunk(ChunkType::kSimple, 2, 8, data), &values, &limits).ok());
  EXPECT_EQ(values, "onethree");
  EXPECT_EQ(limits, (std::vector<uint64_t>{3, 8}));
  EXPECT_FALSE(Decode(MakeChunk(ChunkType::kSimple, 3, 8, data), &values, &limits).ok());
}

TEST(ChunkDecoderTest, DispatchesTransposedChunks) {
  StringSource source(
      testing::ReadFile(testing::TestDataPath("riegeli-reference/transpose_none.riegeli")));
  ChunkReader reader(&source);
  Chunk chunk;
  uint64_t begin = 0;
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  ASSERT_EQ(chunk.header.chunk_type, ChunkType::kTransposed);
  std::string values;
  std::vector<uint64_t> limits;
  ASSERT_TRUE(Decode(chunk, &values, &limits).ok());
  ASSERT_EQ(limits.size(), 100u);
  EXPECT_EQ(values.substr(0, 13), "record_000000");
  EXPECT_EQ(values.substr(99 * 13), "record_000099");
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
