// SimpleEncoder and DecodeSimpleChunk: round trips, the reference layout, and
// every validity check of the decoder.

#include "envlogger/riegeli/simple_decoder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/simple_encoder.h"

namespace envlogger {
namespace riegeli {
namespace {

CompressorOptions Compression(CompressionType type) {
  CompressorOptions options;
  options.type = type;
  options.level = type == CompressionType::kBrotli ? 6 : type == CompressionType::kZstd ? 3 : 1;
  return options;
}

std::vector<std::string> Split(const std::string& values, const std::vector<uint64_t>& limits) {
  std::vector<std::string> records;
  uint64_t start = 0;
  for (uint64_t limit : limits) {
    records.push_back(values.substr(start, limit - start));
    start = limit;
  }
  return records;
}

TEST(SimpleChunkTest, RoundTripEveryCodec) {
  const std::vector<std::vector<std::string>> batches = {
      {},
      {""},
      {"", "", ""},
      {"a", "", std::string(300, 'b'), std::string(70000, 'c')},
  };
  for (CompressionType type : {CompressionType::kNone, CompressionType::kBrotli,
                               CompressionType::kZstd, CompressionType::kSnappy}) {
    SimpleEncoder encoder(Compression(type));
    for (const auto& records : batches) {
      encoder.Reset();
      uint64_t total = 0;
      for (const std::string& record : records) {
        encoder.AddRecord(record);
        total += record.size();
      }
      EXPECT_EQ(encoder.num_records(), records.size());
      EXPECT_EQ(encoder.decoded_data_size(), total);
      EXPECT_EQ(encoder.chunk_type(), ChunkType::kSimple);
      std::string data;
      ASSERT_TRUE(encoder.Encode(&data).ok());
      EXPECT_EQ(static_cast<uint8_t>(data[0]), static_cast<uint8_t>(type));
      std::string values = "stale";
      std::vector<uint64_t> limits = {99};
      ASSERT_TRUE(DecodeSimpleChunk(data, records.size(), total, &values, &limits).ok());
      EXPECT_EQ(Split(values, limits), records);
    }
  }
}

TEST(SimpleChunkTest, UncompressedValuesCanStayInTheChunkData) {
  const std::vector<std::string> records = {"a", "", std::string(300, 'b'), "cd"};
  for (CompressionType type : {CompressionType::kNone, CompressionType::kZstd}) {
    SimpleEncoder encoder(Compression(type));
    for (const std::string& record : records) encoder.AddRecord(record);
    std::string data;
    ASSERT_TRUE(encoder.Encode(&data).ok());
    std::string values = "stale";
    std::vector<uint64_t> limits;
    size_t values_in_data = 7;
    ASSERT_TRUE(
        DecodeSimpleChunk(data, records.size(), 303, &values, &limits, &values_in_data).ok());
    if (type == CompressionType::kNone) {
      // Not copied: `values` untouched, the records at the end of `data`.
      EXPECT_EQ(values, "stale");
      ASSERT_EQ(values_in_data, data.size() - 303);
      EXPECT_EQ(Split(data.substr(values_in_data), limits), records);
    } else {
      EXPECT_EQ(values_in_data, kValuesNotInData);
      EXPECT_EQ(Split(values, limits), records);
    }
  }
  // A malformed chunk fails the same way with or without the option.
  SimpleEncoder encoder(Compression(CompressionType::kNone));
  encoder.AddRecord("abc");
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  std::string values;
  std::vector<uint64_t> limits;
  size_t values_in_data = 0;
  EXPECT_FALSE(DecodeSimpleChunk(data, 1, 4, &values, &limits, &values_in_data).ok());
  EXPECT_TRUE(limits.empty());
  EXPECT_FALSE(
      DecodeSimpleChunk(data.substr(0, data.size() - 1), 1, 3, &values, &limits, &values_in_data)
          .ok());
  EXPECT_TRUE(limits.empty());
}

// Spec §6 worked example: 00, sizes_len 100, 100 x 0d, then the records.
TEST(SimpleChunkTest, UncompressedLayout) {
  SimpleEncoder encoder(Compression(CompressionType::kNone));
  std::string expected_values;
  for (int i = 0; i < 100; ++i) {
    char buffer[32];
    snprintf(buffer, sizeof(buffer), "record_%06d", i);
    encoder.AddRecord(buffer);
    expected_values += buffer;
  }
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  EXPECT_EQ(data.size(), 1402u);
  EXPECT_EQ(data.substr(0, 2), std::string("\x00\x64", 2));
  EXPECT_EQ(data.substr(2, 100), std::string(100, '\x0d'));
  EXPECT_EQ(data.substr(102), expected_values);
}

// Builds uncompressed chunk data from raw parts.
std::string Raw(const std::string& sizes, const std::string& values) {
  std::string data(1, '\0');
  AppendVarint64(sizes.size(), &data);
  return data + sizes + values;
}

TEST(SimpleChunkTest, RejectsInconsistentData) {
  std::string values;
  std::vector<uint64_t> limits;
  auto decode = [&](const std::string& data, uint64_t num_records, uint64_t decoded_size) {
    const Status status = DecodeSimpleChunk(data, num_records, decoded_size, &values, &limits);
    if (!status.ok()) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(limits.empty());
    }
    return status;
  };
  ASSERT_TRUE(decode(Raw("\x02\x03", "abcde"), 2, 5).ok());
  EXPECT_EQ(Split(values, limits), (std::vector<std::string>{"ab", "cde"}));

  EXPECT_FALSE(decode("", 0, 0).ok());                                // No type byte.
  EXPECT_FALSE(decode(std::string("x\x00", 2), 0, 0).ok());           // Unknown type.
  EXPECT_FALSE(decode(std::string("\x00", 1), 0, 0).ok());            // No sizes length.
  EXPECT_FALSE(decode(std::string("\x00\x05\x01", 3), 1, 1).ok());    // Sizes beyond data.
  EXPECT_FALSE(decode(Raw("\x02\x03", "abcde"), 1, 5).ok());          // Extra sizes.
  EXPECT_FALSE(decode(Raw("\x02\x03", "abcde"), 3, 5).ok());          // Too few sizes.
  EXPECT_FALSE(decode(Raw("\x02\x03", "abcde"), 2, 6).ok());          // Sum != decoded size.
  EXPECT_FALSE(decode(Raw("\x02\x03", "abcdef"), 2, 5).ok());         // Trailing values.
  EXPECT_FALSE(decode(Raw("\x02\x03", "abcd"), 2, 5).ok());           // Short values.
  EXPECT_FALSE(decode(Raw("\x02\x83", "abcde"), 2, 5).ok());          // Truncated varint.
  EXPECT_FALSE(decode(Raw(std::string(11, '\xff'), ""), 1, 0).ok());  // Overlong varint.
  // Sizes that overflow when summed.
  std::string huge;
  AppendVarint64(~uint64_t{0}, &huge);
  AppendVarint64(2, &huge);
  EXPECT_FALSE(decode(Raw(huge, "ab"), 2, 1).ok());
  // A corrupt record count is caught before anything is allocated for it.
  EXPECT_FALSE(decode(Raw("\x02\x03", "abcde"), kMaxNumRecords, 5).ok());
  // A compressed values block announcing a size other than decoded_data_size.
  SimpleEncoder encoder(Compression(CompressionType::kZstd));
  encoder.AddRecord("hello");
  std::string data;
  ASSERT_TRUE(encoder.Encode(&data).ok());
  EXPECT_TRUE(decode(data, 1, 5).ok());
  EXPECT_FALSE(decode(data, 1, 4).ok());
  const Status status = decode(data, 1, 6);
  EXPECT_NE(status.message().find("simple chunk"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
