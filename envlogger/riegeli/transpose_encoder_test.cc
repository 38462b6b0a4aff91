#include "envlogger/riegeli/transpose_encoder.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "envlogger/riegeli/compression.h"
#include "envlogger/riegeli/proto_wire.h"
#include "envlogger/riegeli/transpose_decoder.h"
#include "envlogger/riegeli/transpose_test_fixtures.h"
#include "envlogger/riegeli/varint.h"
#include "envlogger/testing/testdata.h"
#include "gtest/gtest.h"

namespace envlogger {
namespace riegeli {
namespace {

using transpose_testing::FixtureChunk;
using transpose_testing::ReadFileOrDie;
using transpose_testing::ReadManifest;
using transpose_testing::SplitRecords;
using transpose_testing::WalkChunks;

constexpr uint64_t kUnlimited = UINT64_MAX;
constexpr uint64_t kDefaultChunkSize = uint64_t{1} << 20;

CompressorOptions Options(CompressionType type, int level) {
  CompressorOptions options;
  options.type = type;
  options.level = level;
  return options;
}

struct WriterSettings {
  CompressorOptions options;
  uint64_t bucket_size;
};

// The writer options each fixture was written with (upstream-1.3/README.md,
// riegeli_raw/index.json, generation.json): bucket size =
// chunk_size * bucket_fraction.
WriterSettings SettingsFor(const std::string& path) {
  auto has = [&](const char* fragment) { return path.find(fragment) != std::string::npos; };
  const WriterSettings brotli{Options(CompressionType::kBrotli, 6), kDefaultChunkSize};
  if (has("/metadata.riegeli")) return brotli;
  if (has("transpose_uncompressed") || has("transpose_padding")) {
    return {Options(CompressionType::kNone, 0), kUnlimited};
  }
  if (has("transpose_brotli_buckets")) return {Options(CompressionType::kBrotli, 6), kDefaultChunkSize / 4};
  if (has("transpose_zstd")) return {Options(CompressionType::kZstd, 3), kDefaultChunkSize};
  if (has("transpose_snappy_chunk16k")) return {Options(CompressionType::kSnappy, 1), 16 << 10};
  if (has("transpose_snappy")) return {Options(CompressionType::kSnappy, 1), kDefaultChunkSize};
  return brotli;
}

std::string Encode(const std::vector<std::string>& records, const WriterSettings& settings) {
  TransposeEncoder encoder(settings.options, settings.bucket_size);
  for (const std::string& record : records) encoder.AddRecord(record);
  std::string data;
  const Status status = encoder.Encode(&data);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return data;
}

std::vector<std::string> DecodeOrDie(const std::string& data, uint64_t num_records, uint64_t decoded_size) {
  std::string values;
  std::vector<uint64_t> limits;
  const Status status = DecodeTransposedChunk(data, num_records, decoded_size, &values, &limits);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return SplitRecords(values, limits);
}

// The decompressed blocks of transposed chunk data: header (without the
// compressed bucket lengths), buckets, transitions. Equal blocks mean equal
// chunks up to the compressor's choices.
std::vector<std::string> DecompressedBlocks(const std::string& data) {
  const auto type = static_cast<CompressionType>(data[0]);
  std::string_view rest = std::string_view(data).substr(1);
  std::vector<std::string> blocks(1);
  uint64_t length = 0;
  EXPECT_TRUE(ReadVarint64(&rest, &length));
  EXPECT_TRUE(DecompressBlock(type, rest.substr(0, length), &blocks[0]).ok());
  rest.remove_prefix(length);
  std::string_view header = blocks[0];
  uint32_t num_buckets = 0, num_buffers = 0;
  EXPECT_TRUE(ReadVarint32(&header, &num_buckets) && ReadVarint32(&header, &num_buffers));
  for (uint32_t i = 0; i < num_buckets; ++i) {
    EXPECT_TRUE(ReadVarint64(&header, &length));
    blocks.emplace_back();
    EXPECT_TRUE(DecompressBlock(type, rest.substr(0, length), &blocks.back()).ok());
    rest.remove_prefix(length);
  }
  blocks[0] = std::to_string(num_buckets) + "/" + std::to_string(num_buffers) + ":" + std::string(header);
  blocks.emplace_back();
  EXPECT_TRUE(DecompressBlock(type, rest, &blocks.back()).ok());
  return blocks;
}

std::vector<std::string> HundredRecords() {
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) {
    char buffer[16];
    snprintf(buffer, sizeof(buffer), "record_%06d", i);
    records.push_back(buffer);
  }
  return records;
}

// The reference files' transposed chunks (non-proto records), reproduced.
TEST(TransposeEncoderTest, ReproducesReferenceChunks) {
  const std::pair<const char*, CompressorOptions> cases[] = {
      {"transpose_none.riegeli", Options(CompressionType::kNone, 0)},
      {"transpose_zstd.riegeli", Options(CompressionType::kZstd, 3)},
      {"transpose_brotli.riegeli", Options(CompressionType::kBrotli, 6)},
  };
  for (const auto& [name, options] : cases) {
    SCOPED_TRACE(name);
    const std::vector<FixtureChunk> chunks =
        WalkChunks(ReadFileOrDie(envlogger::testing::TestDataPath(std::string("riegeli-reference/") + name)));
    ASSERT_EQ(chunks.size(), 2u);
    const uint64_t bucket_size = options.type == CompressionType::kNone ? kUnlimited : kDefaultChunkSize;
    TransposeEncoder encoder(options, bucket_size);
    for (const std::string& record : HundredRecords()) encoder.AddRecord(record);
    EXPECT_EQ(encoder.num_records(), chunks[1].num_records);
    EXPECT_EQ(encoder.decoded_data_size(), chunks[1].decoded_data_size);
    EXPECT_EQ(encoder.chunk_type(), ChunkType::kTransposed);
    std::string data;
    ASSERT_TRUE(encoder.Encode(&data).ok());
    EXPECT_EQ(data, chunks[1].data);
  }
}

// Re-encodes the records of every transposed chunk written by upstream
// envlogger 1.3 (proto records: Data, Datum, descriptors, a test message
// with every field kind) with the same options, and compares with the
// original chunk data.
TEST(TransposeEncoderTest, ReproducesUpstreamChunks) {
  size_t num_chunks = 0, identical = 0;
  uint64_t ours = 0, theirs = 0;
  std::map<int, std::pair<size_t, size_t>> by_type;  // type -> (identical, total)
  for (const auto& [riegeli, expected] : ReadManifest()) {
    const WriterSettings settings = SettingsFor(riegeli);
    for (const FixtureChunk& chunk : WalkChunks(ReadFileOrDie(envlogger::testing::TestDataPath(riegeli)))) {
      if (chunk.type != 't') continue;
      SCOPED_TRACE(riegeli + " chunk at " + std::to_string(chunk.begin));
      const std::vector<std::string> records = DecodeOrDie(chunk.data, chunk.num_records, chunk.decoded_data_size);
      const std::string data = Encode(records, settings);
      // Whatever the bytes, they decode to the same records.
      EXPECT_EQ(DecodeOrDie(data, chunk.num_records, chunk.decoded_data_size), records);
      ++num_chunks;
      ours += data.size();
      theirs += chunk.data.size();
      auto& counts = by_type[static_cast<int>(settings.options.type)];
      ++counts.second;
      if (data == chunk.data) {
        ++identical;
        ++counts.first;
      } else {
        printf("differs: %s chunk at %llu: %zu bytes vs reference %zu\n", riegeli.c_str(),
               static_cast<unsigned long long>(chunk.begin), data.size(), chunk.data.size());
      }
      // The system Snappy may pick other matches than the reference's
      // bundled one; every other codec reproduces the reference exactly.
      if (settings.options.type == CompressionType::kSnappy) {
        EXPECT_EQ(DecompressedBlocks(data), DecompressedBlocks(chunk.data));
      } else {
        EXPECT_EQ(data, chunk.data);
      }
    }
  }
  for (const auto& [type, counts] : by_type) {
    printf("compression %d: %zu of %zu chunks byte-identical\n", type, counts.first, counts.second);
  }
  printf("%zu of %zu chunks byte-identical; total size %llu vs reference %llu (ratio %.4f)\n", identical,
         num_chunks, static_cast<unsigned long long>(ours), static_cast<unsigned long long>(theirs),
         static_cast<double>(ours) / static_cast<double>(theirs));
  EXPECT_GT(num_chunks, 100u);
  EXPECT_LE(static_cast<double>(ours), static_cast<double>(theirs) * 1.001);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
