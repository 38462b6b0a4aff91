#include "envlogger/riegeli/transpose_encoder.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/compression.h"
#include "envlogger/riegeli/proto_wire.h"
#include "envlogger/riegeli/record_writer_options.h"
#include "envlogger/riegeli/transpose_decoder.h"
#include "envlogger/riegeli/transpose_test_fixtures.h"
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

// The encoder settings of RecordWriterOptions text.
WriterSettings SettingsFor(const std::string& writer_options) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(writer_options);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return {options->compression, options->bucket_size()};
}

std::string Encode(const std::vector<std::string>& records, const WriterSettings& settings) {
  TransposeEncoder encoder(settings.options, settings.bucket_size);
  for (const std::string& record : records) encoder.AddRecord(record);
  std::string data;
  const Status status = encoder.Encode(&data);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return data;
}

std::vector<std::string> DecodeOrDie(const std::string& data, uint64_t num_records,
                                     uint64_t decoded_size) {
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
  blocks[0] =
      std::to_string(num_buckets) + "/" + std::to_string(num_buffers) + ":" + std::string(header);
  blocks.emplace_back();
  EXPECT_TRUE(DecompressBlock(type, rest, &blocks.back()).ok());
  return blocks;
}

std::vector<std::string> HundredRecords() {
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) {
    char buffer[32];
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
    const std::vector<FixtureChunk> chunks = WalkChunks(
        ReadFileOrDie(envlogger::testing::TestDataPath(std::string("riegeli-reference/") + name)));
    ASSERT_EQ(chunks.size(), 2u);
    const uint64_t bucket_size =
        options.type == CompressionType::kNone ? kUnlimited : kDefaultChunkSize;
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
  for (const auto& [riegeli, expected, writer_options] : ReadManifest()) {
    const WriterSettings settings = SettingsFor(writer_options);
    for (const FixtureChunk& chunk :
         WalkChunks(ReadFileOrDie(envlogger::testing::TestDataPath(riegeli)))) {
      if (chunk.type != 't') continue;
      SCOPED_TRACE(riegeli + " chunk at " + std::to_string(chunk.begin));
      const std::vector<std::string> records =
          DecodeOrDie(chunk.data, chunk.num_records, chunk.decoded_data_size);
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
  printf("%zu of %zu chunks byte-identical; total size %llu vs reference %llu (ratio %.4f)\n",
         identical, num_chunks, static_cast<unsigned long long>(ours),
         static_cast<unsigned long long>(theirs),
         static_cast<double>(ours) / static_cast<double>(theirs));
  EXPECT_GT(num_chunks, 100u);
  EXPECT_LE(static_cast<double>(ours), static_cast<double>(theirs) * 1.001);
}

// The image dataset's steps: 7 chunks of about 1 MiB of decoded data each,
// many buckets' worth of buffers.
TEST(TransposeEncoderTest, ReproducesUpstreamImageChunks) {
  const std::string images = envlogger::testing::TestDataPath("upstream-1.3/images");
  std::string steps;
  for (const auto& entry : std::filesystem::directory_iterator(images)) {
    if (std::filesystem::exists(entry.path() / "steps.riegeli"))
      steps = (entry.path() / "steps.riegeli").string();
  }
  ASSERT_FALSE(steps.empty());
  size_t num_chunks = 0;
  for (const FixtureChunk& chunk : WalkChunks(ReadFileOrDie(steps))) {
    if (chunk.type != 't') continue;
    SCOPED_TRACE(chunk.begin);
    const std::vector<std::string> records =
        DecodeOrDie(chunk.data, chunk.num_records, chunk.decoded_data_size);
    // Written with the default options "transpose,brotli:6,chunk_size:1M".
    EXPECT_EQ(Encode(records, SettingsFor("transpose")), chunk.data);
    ++num_chunks;
  }
  EXPECT_EQ(num_chunks, 7u);
}

// The record writer keeps one encoder for all chunks of a file: an encoder
// reused after Reset() (its buffers and scratch recycled from the previous
// chunk) must produce exactly what a fresh one produces.
TEST(TransposeEncoderTest, ReusedEncoderReproducesUpstreamImageChunks) {
  const std::string images = envlogger::testing::TestDataPath("upstream-1.3/images");
  std::string steps;
  for (const auto& entry : std::filesystem::directory_iterator(images)) {
    if (std::filesystem::exists(entry.path() / "steps.riegeli"))
      steps = (entry.path() / "steps.riegeli").string();
  }
  ASSERT_FALSE(steps.empty());
  const WriterSettings settings = SettingsFor("transpose");
  TransposeEncoder encoder(settings.options, settings.bucket_size);
  size_t num_chunks = 0;
  // Twice over, so that every chunk is also encoded after a different one.
  for (int pass = 0; pass < 2; ++pass) {
    for (const FixtureChunk& chunk : WalkChunks(ReadFileOrDie(steps))) {
      if (chunk.type != 't') continue;
      SCOPED_TRACE(chunk.begin);
      for (const std::string& record :
           DecodeOrDie(chunk.data, chunk.num_records, chunk.decoded_data_size)) {
        encoder.AddRecord(record);
      }
      std::string data;
      ASSERT_TRUE(encoder.Encode(&data).ok());
      EXPECT_EQ(data, chunk.data);
      encoder.Reset();
      ++num_chunks;
    }
  }
  EXPECT_EQ(num_chunks, 14u);
}

// Random protocol buffer wire data, written with an independent serializer.
class RandomProto {
 public:
  explicit RandomProto(uint32_t seed) : rng_(seed) {}

  // A message with up to `max_fields` fields, nesting at most `depth` more
  // levels of submessages and groups.
  std::string Message(int depth, int max_fields) {
    std::string out;
    const int num_fields = Uniform(0, max_fields);
    for (int i = 0; i < num_fields; ++i) Field(depth, &out);
    return out;
  }

  uint32_t Uniform(uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
  }

  std::string Bytes(size_t max_length) {
    std::string out(Uniform(0, static_cast<uint32_t>(max_length)), '\0');
    for (char& c : out) c = static_cast<char>(Uniform(0, 255));
    return out;
  }

 private:
  uint32_t FieldNumber() {
    switch (Uniform(0, 3)) {
      case 0:
        return Uniform(1, 5);  // repeated often: private lists
      case 1:
        return Uniform(1, 150);  // many distinct tags: long lists, NoOp chains
      case 2:
        return Uniform(1, 20000);
      default:
        return Uniform(1, (1u << 29) - 1);  // 5-byte tags
    }
  }

  uint64_t VarintValue() {
    switch (Uniform(0, 3)) {
      case 0:
        return Uniform(0, 3);  // inline subtypes
      case 1:
        return Uniform(0, 127);
      case 2:
        return Uniform(0, UINT32_MAX);
      default:
        return std::uniform_int_distribution<uint64_t>()(rng_) >> Uniform(0, 63);
    }
  }

  static void Tag(uint32_t number, uint32_t wire_type, std::string* out) {
    AppendVarint64(uint64_t{number} << 3 | wire_type, out);
  }

  void Field(int depth, std::string* out) {
    const uint32_t number = FieldNumber();
    switch (Uniform(0, 7)) {
      case 0:
      case 1:
        Tag(number, 0, out);
        AppendVarint64(VarintValue(), out);
        break;
      case 2:
        Tag(number, 5, out);
        for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(Uniform(0, 255)));
        break;
      case 3:
        Tag(number, 1, out);
        for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(Uniform(0, 255)));
        break;
      case 4: {  // bytes: random, empty, or wire data that parses as a message
        Tag(number, 2, out);
        const std::string payload = Uniform(0, 1) ? Bytes(20) : Message(0, 3);
        AppendVarint64(payload.size(), out);
        out->append(payload);
        break;
      }
      case 5: {  // packed varints
        Tag(number, 2, out);
        std::string payload;
        for (uint32_t n = Uniform(0, 6); n > 0; --n) AppendVarint64(VarintValue(), &payload);
        AppendVarint64(payload.size(), out);
        out->append(payload);
        break;
      }
      case 6: {  // submessage
        if (depth == 0) return Field(depth, out);
        Tag(number, 2, out);
        const std::string payload = Message(depth - 1, 6);
        AppendVarint64(payload.size(), out);
        out->append(payload);
        break;
      }
      default:  // group
        if (depth == 0) return Field(depth, out);
        Tag(number, 3, out);
        out->append(Message(depth - 1, 4));
        Tag(number, 4, out);
        break;
    }
  }

  std::mt19937 rng_;
};

// Submessages nested `levels` deep around one varint field.
std::string Nested(int levels) {
  std::string message("\x08\x96\x01", 3);
  for (int i = 0; i < levels; ++i) {
    std::string outer("\x12", 1);
    AppendVarint64(message.size(), &outer);
    message = outer + message;
  }
  return message;
}

// The state tags in the header of uncompressed chunk data.
std::vector<uint32_t> StateTags(const std::string& data) {
  std::string_view rest = std::string_view(data).substr(1);
  uint64_t header_length = 0, ignored = 0;
  uint32_t num_buckets = 0, num_buffers = 0, num_states = 0;
  EXPECT_TRUE(ReadVarint64(&rest, &header_length));
  std::string_view header = rest.substr(0, header_length);
  EXPECT_TRUE(ReadVarint32(&header, &num_buckets) && ReadVarint32(&header, &num_buffers));
  for (uint32_t i = 0; i < num_buckets + num_buffers; ++i)
    EXPECT_TRUE(ReadVarint64(&header, &ignored));
  EXPECT_TRUE(ReadVarint32(&header, &num_states));
  std::vector<uint32_t> tags(num_states);
  for (uint32_t& tag : tags) EXPECT_TRUE(ReadVarint32(&header, &tag));
  return tags;
}

void ExpectRoundTrip(const std::vector<std::string>& records, const WriterSettings& settings) {
  TransposeEncoder encoder(settings.options, settings.bucket_size);
  uint64_t size = 0;
  for (const std::string& record : records) {
    encoder.AddRecord(record);
    size += record.size();
  }
  ASSERT_EQ(encoder.num_records(), records.size());
  ASSERT_EQ(encoder.decoded_data_size(), size);
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  EXPECT_EQ(DecodeOrDie(data, records.size(), size), records);
}

const WriterSettings kRoundTripSettings[] = {
    {Options(CompressionType::kNone, 0), kUnlimited},
    {Options(CompressionType::kBrotli, 6), 1},
    {Options(CompressionType::kBrotli, 1), 500},
    {Options(CompressionType::kZstd, 3), 2000},
    {Options(CompressionType::kZstd, -5), kDefaultChunkSize},
    {Options(CompressionType::kSnappy, 1), 64},
};

TEST(TransposeEncoderTest, RandomRecordsRoundTrip) {
  RandomProto random(12345);
  for (int chunk = 0; chunk < 60; ++chunk) {
    std::vector<std::string> records;
    const uint32_t num_records = random.Uniform(0, chunk % 10 == 0 ? 400 : 40);
    for (uint32_t i = 0; i < num_records; ++i) {
      switch (random.Uniform(0, 9)) {
        case 0:
          records.emplace_back();  // empty: an empty proto message
          break;
        case 1:
          records.push_back(random.Bytes(30));  // almost never a proto
          break;
        case 2: {  // non-canonical varint value: must be stored as non-proto
          std::string record = random.Message(2, 3);
          record += std::string("\x08\x81\x00", 3);
          records.push_back(record);
          break;
        }
        default:
          records.push_back(random.Message(3, 12));
      }
    }
    const WriterSettings& settings = kRoundTripSettings[chunk % std::size(kRoundTripSettings)];
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    ExpectRoundTrip(records, settings);
  }
}

TEST(TransposeEncoderTest, ReusedEncoderMatchesFreshEncoder) {
  // Chunks of random records with varying fields and sizes (so buffers
  // recycled from one chunk meet other fields, longer and shorter contents
  // in the next) through one encoder per setting.
  RandomProto random(777);
  for (const WriterSettings& settings : kRoundTripSettings) {
    TransposeEncoder reused(settings.options, settings.bucket_size);
    for (int chunk = 0; chunk < 12; ++chunk) {
      std::vector<std::string> records;
      const uint32_t num_records = random.Uniform(0, chunk % 4 == 0 ? 200 : 30);
      for (uint32_t i = 0; i < num_records; ++i) {
        records.push_back(random.Uniform(0, 5) == 0 ? random.Bytes(random.Uniform(0, 3000))
                                                    : random.Message(3, random.Uniform(1, 12)));
      }
      SCOPED_TRACE("chunk " + std::to_string(chunk));
      for (const std::string& record : records) reused.AddRecord(record);
      std::string data;
      ASSERT_TRUE(reused.Encode(&data).ok());
      EXPECT_EQ(data, Encode(records, settings));
      reused.Reset();
    }
  }
}

TEST(TransposeEncoderTest, ManyDistinctFieldsRoundTrip) {
  // 300 distinct tags in one message, repeated: lists longer than 64 states
  // need NoOp states and multi-byte transitions.
  std::string message;
  for (uint32_t field = 1; field <= 300; ++field) {
    AppendVarint64(uint64_t{field} << 3, &message);
    AppendVarint64(field * 7, &message);
  }
  std::vector<std::string> records(30, message);
  RandomProto random(7);
  for (int i = 0; i < 30; ++i) records.push_back(random.Message(1, 300));
  TransposeEncoder encoder(Options(CompressionType::kNone, 0), kUnlimited);
  for (const std::string& record : records) encoder.AddRecord(record);
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  const std::vector<uint32_t> tags = StateTags(data);
  EXPECT_GT(tags.size(), 300u);
  EXPECT_GT(std::count(tags.begin(), tags.end(), 0u), 5);  // NoOp states
  for (const WriterSettings& settings : kRoundTripSettings) ExpectRoundTrip(records, settings);
}

TEST(TransposeEncoderTest, NonCanonicalRecordsAreStoredVerbatim) {
  const std::string canonical("\x08\x01\x12\x02\x08\x05", 6);
  for (const std::string& record : {std::string("\x08\x81\x00", 3),          // varint value
                                    std::string("\x88\x00\x01", 3),          // tag
                                    std::string("\x12\x82\x00\x08\x05", 5),  // length
                                    std::string("\x0b\x08\x01", 3),          // unclosed group
                                    std::string("\x0b\x14", 2),              // mismatched group end
                                    std::string("\x07\x01", 2),              // field number 0
                                    std::string("\x0e\x01", 2)}) {           // wire type 6
    ASSERT_FALSE(IsCanonicalProtoMessage(record));
    TransposeEncoder encoder(Options(CompressionType::kNone, 0), kUnlimited);
    encoder.AddRecord(record);
    std::string data;
    ASSERT_TRUE(encoder.Encode(&data).ok());
    EXPECT_EQ(StateTags(data), std::vector<uint32_t>{1});
    EXPECT_EQ(DecodeOrDie(data, 1, record.size()), std::vector<std::string>{record});
  }
  ASSERT_TRUE(IsCanonicalProtoMessage(canonical));
  TransposeEncoder encoder(Options(CompressionType::kNone, 0), kUnlimited);
  encoder.AddRecord(canonical);
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  const std::vector<uint32_t> tags = StateTags(data);
  EXPECT_EQ(std::count(tags.begin(), tags.end(), 1u), 0);
  EXPECT_EQ(std::count(tags.begin(), tags.end(), 3u), 1);  // StartOfMessage
  EXPECT_EQ(std::count(tags.begin(), tags.end(), 2u), 1);  // StartOfSubmessage
  EXPECT_EQ(DecodeOrDie(data, 1, canonical.size()), std::vector<std::string>{canonical});
}

TEST(TransposeEncoderTest, DeepNestingStopsAt100Submessages) {
  const std::string record = Nested(150);
  TransposeEncoder encoder(Options(CompressionType::kNone, 0), kUnlimited);
  encoder.AddRecord(record);
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  const std::vector<uint32_t> tags = StateTags(data);
  EXPECT_EQ(std::count(tags.begin(), tags.end(), 2u), 100);
  EXPECT_EQ(DecodeOrDie(data, 1, record.size()), std::vector<std::string>{record});
  for (const WriterSettings& settings : kRoundTripSettings) {
    ExpectRoundTrip({record, Nested(99), Nested(100), Nested(101), record}, settings);
  }
}

TEST(TransposeEncoderTest, EmptyChunk) {
  TransposeEncoder encoder(Options(CompressionType::kNone, 0), kUnlimited);
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  // §7.10: one NoOp state with base 0, no buffers, no transitions.
  EXPECT_EQ(data, std::string("\x00\x06\x00\x00\x01\x00\x00\x00", 8));
  EXPECT_TRUE(DecodeOrDie(data, 0, 0).empty());
  for (const WriterSettings& settings : kRoundTripSettings) ExpectRoundTrip({}, settings);
}

TEST(TransposeEncoderTest, EncodeKeepsRecordsUntilReset) {
  TransposeEncoder encoder(Options(CompressionType::kZstd, 3), kDefaultChunkSize);
  for (const std::string& record : HundredRecords()) encoder.AddRecord(record);
  std::string first, second;
  ASSERT_TRUE(encoder.Encode(&first).ok());
  ASSERT_TRUE(encoder.Encode(&second).ok());
  EXPECT_EQ(first, second);
  encoder.Reset();
  EXPECT_EQ(encoder.num_records(), 0u);
  EXPECT_EQ(encoder.decoded_data_size(), 0u);
  const std::string record("\x08\x01", 2);
  encoder.AddRecord(record);
  ASSERT_TRUE(encoder.Encode(&first).ok());
  EXPECT_EQ(DecodeOrDie(first, 1, 2), std::vector<std::string>{record});
}

TEST(TransposeEncoderTest, InvalidCompressionLevelIsAnError) {
  TransposeEncoder encoder(Options(CompressionType::kBrotli, 99), kDefaultChunkSize);
  encoder.AddRecord("x");
  std::string data;
  EXPECT_EQ(encoder.Encode(&data).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
