#include "envlogger/riegeli/transpose_decoder.h"

#include <cstdio>
#include <string>
#include <vector>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/transpose_test_fixtures.h"
#include "envlogger/testing/testdata.h"
#include "gtest/gtest.h"

namespace envlogger {
namespace riegeli {
namespace {

using transpose_testing::FixtureChunk;
using transpose_testing::ReadExpectedRecords;
using transpose_testing::ReadFileOrDie;
using transpose_testing::ReadManifest;
using transpose_testing::SplitRecords;
using transpose_testing::WalkChunks;

std::vector<std::string> HundredRecords() {
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) {
    char buffer[32];
    snprintf(buffer, sizeof(buffer), "record_%06d", i);
    records.push_back(buffer);
  }
  return records;
}

FixtureChunk ReferenceChunk(const std::string& name) {
  const std::vector<FixtureChunk> chunks =
      WalkChunks(ReadFileOrDie(envlogger::testing::TestDataPath("riegeli-reference/" + name)));
  EXPECT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].begin, 64u);
  EXPECT_EQ(chunks[1].type, 't');
  return chunks[1];
}

Status Decode(const FixtureChunk& chunk, std::vector<std::string>* records) {
  std::string values;
  std::vector<uint64_t> limits;
  Status status = DecodeTransposedChunk(chunk.data, chunk.num_records, chunk.decoded_data_size,
                                        &values, &limits);
  if (status.ok()) *records = SplitRecords(values, limits);
  return status;
}

TEST(TransposeDecoderTest, ReferenceNonProtoChunks) {
  for (const char* name :
       {"transpose_none.riegeli", "transpose_zstd.riegeli", "transpose_brotli.riegeli"}) {
    SCOPED_TRACE(name);
    const FixtureChunk chunk = ReferenceChunk(name);
    std::vector<std::string> records;
    ASSERT_TRUE(Decode(chunk, &records).ok()) << Decode(chunk, &records).ToString();
    EXPECT_EQ(records, HundredRecords());
  }
}

TEST(TransposeDecoderTest, WorkedExampleLayout) {
  // Spec §7.8: the uncompressed chunk is 1440 bytes with a 13-byte header.
  const FixtureChunk chunk = ReferenceChunk("transpose_none.riegeli");
  ASSERT_EQ(chunk.data.size(), 1440u);
  EXPECT_EQ(chunk.data.substr(0, 15),
            std::string("\x00\x0d\x02\x02\x94\x0a\x64\x94\x0a\x64\x01\x01\x00\x00\x00", 15));
}

// Every transposed chunk written by upstream envlogger 1.3 decodes to the
// records upstream's reader returned.
TEST(TransposeDecoderTest, UpstreamFixtures) {
  const auto manifest = ReadManifest();
  ASSERT_GT(manifest.size(), 60u);
  size_t num_chunks = 0;
  for (const auto& [riegeli, expected_path, options] : manifest) {
    SCOPED_TRACE(riegeli);
    const std::vector<std::string> expected =
        ReadExpectedRecords(envlogger::testing::TestDataPath(expected_path));
    std::vector<std::string> decoded;
    for (const FixtureChunk& chunk :
         WalkChunks(ReadFileOrDie(envlogger::testing::TestDataPath(riegeli)))) {
      if (chunk.type != 't') continue;
      SCOPED_TRACE(chunk.begin);
      std::vector<std::string> records;
      const Status status = Decode(chunk, &records);
      ASSERT_TRUE(status.ok()) << status.ToString();
      ASSERT_EQ(records.size(), chunk.num_records);
      decoded.insert(decoded.end(), records.begin(), records.end());
      ++num_chunks;
    }
    EXPECT_EQ(decoded, expected);
  }
  EXPECT_GT(num_chunks, 100u);
}

// Builds uncompressed chunk data from header fields.
std::string Chunk(const std::string& header, const std::string& buckets,
                  const std::string& transitions) {
  std::string data(1, '\0');
  AppendVarint64(header.size(), &data);
  return data + header + buckets + transitions;
}

Status DecodeData(const std::string& data, uint64_t num_records, uint64_t decoded_size,
                  std::vector<std::string>* records = nullptr) {
  std::string values;
  std::vector<uint64_t> limits;
  Status status = DecodeTransposedChunk(data, num_records, decoded_size, &values, &limits);
  if (status.ok() && records != nullptr) *records = SplitRecords(values, limits);
  return status;
}

void ExpectError(const Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.ToString();
}

TEST(TransposeDecoderTest, EmptyChunk) {
  // 0 buckets, 0 buffers, one NoOp state with base 0, first state 0.
  const std::string data = Chunk(std::string("\x00\x00\x01\x00\x00\x00", 6), "", "");
  std::vector<std::string> records;
  ASSERT_TRUE(DecodeData(data, 0, 0, &records).ok());
  EXPECT_TRUE(records.empty());
  ExpectError(DecodeData(data, 1, 0), "too few records");
}

// One StartOfMessage state (tag 3) looping on itself: n empty proto records.
std::string EmptyMessages(int n) {
  std::string transitions;
  int remaining = n - 1;
  while (remaining > 0) {
    const int repeat = std::min(remaining, 4) - 1;
    transitions.push_back(static_cast<char>(repeat));
    remaining -= repeat + 1;
  }
  return Chunk(std::string("\x00\x00\x01\x03\x00\x00", 6), "", transitions);
}

TEST(TransposeDecoderTest, EmptyProtoRecords) {
  std::vector<std::string> records;
  ASSERT_TRUE(DecodeData(EmptyMessages(7), 7, 0, &records).ok());
  EXPECT_EQ(records, std::vector<std::string>(7));
  ExpectError(DecodeData(EmptyMessages(7), 6, 0), "more than the declared 6 records");
  ExpectError(DecodeData(EmptyMessages(7), 8, 0), "too few records");
  ExpectError(DecodeData(EmptyMessages(7), 7, 1), "decoded 0 bytes instead of the declared 1");
}

TEST(TransposeDecoderTest, FieldsAndSubmessage) {
  // Record: field 1 = submessage { field 2 varint 300 (buffered), field 3
  // varint 1 (inline) }, then field 4 fixed32. Decoding runs backwards:
  // fixed32, end of submessage 1, varint 3, varint 2, start of submessage,
  // start of message.
  // States: 0 fixed32 tag 0x25, 1 end-of-submessage tag 0x0a+4, 2 varint tag
  // 0x18 inline 1, 3 varint tag 0x10 2 bytes, 4 StartOfSubmessage, 5
  // StartOfMessage. Every state is implicit to its successor except the last.
  std::string header;
  header += '\x01';  // 1 bucket
  header += '\x02';  // 2 buffers
  header += '\x06';  // bucket length 6
  header += '\x04';  // buffer 0: fixed32
  header += '\x02';  // buffer 1: varint
  header += '\x06';  // 6 states
  header += std::string("\x25\x0e\x18\x10\x02\x03", 6);
  header += std::string("\x07\x08\x09\x0a\x0b\x00", 6);  // implicit i -> i+1; state 5 explicit
  header += '\x0b';                                      // subtype of state 2: inline value 1
  header += '\x01';  // subtype of state 3: 2 bytes in the buffer
  header += '\x00';  // buffer of state 0
  header += '\x01';  // buffer of state 3
  header += '\x00';  // first state
  const std::string buckets = std::string("\x78\x56\x34\x12", 4) + std::string("\x2c\x02", 2);
  const std::string expected = std::string("\x0a\x05\x10\xac\x02\x18\x01\x25\x78\x56\x34\x12", 12);
  std::vector<std::string> records;
  const Status status = DecodeData(Chunk(header, buckets, ""), 1, expected.size(), &records);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(records, std::vector<std::string>{expected});
}

TEST(TransposeDecoderTest, RejectsImplicitLoop) {
  // Two NoOp states implicit to each other.
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x02\x00\x00\x03\x02\x00", 8), "", ""), 0, 0),
              "implicit loop");
}

TEST(TransposeDecoderTest, ImplicitNoOpChains) {
  // State 0: NoOp, implicit to 1; state 1: StartOfMessage, explicit base 0.
  // Entering 0 falls through to 1 without consuming a transition byte.
  const std::string data =
      Chunk(std::string("\x00\x00\x02\x00\x03\x03\x00\x00", 8), "", std::string(1, '\0'));
  std::vector<std::string> records;
  const Status status = DecodeData(data, 2, 0, &records);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(records, std::vector<std::string>(2));
}

TEST(TransposeDecoderTest, RejectsMoreOpenSubmessagesThanFit) {
  // One EndOfSubmessage state (field 1) looping on itself: each pass opens a
  // submessage that would need at least 2 bytes to close.
  const std::string data =
      Chunk(std::string("\x00\x00\x01\x0e\x00\x00", 6), "", std::string(1000, '\x03'));
  ExpectError(DecodeData(data, 0, 4), "more open submessages than the declared size allows");
}

TEST(TransposeDecoderTest, RejectsBadHeaders) {
  // Invalid tag 4 (kRoot) and tag 0x0f (field 1, wire type 7).
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x04\x00\x00", 6), "", ""), 0, 0),
              "invalid tag 4");
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x0f\x00\x00", 6), "", ""), 0, 0),
              "invalid tag 15");
  // Trailing header byte.
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x00\x00\x00\x00", 7), "", ""), 0, 0),
              "unexpected bytes at the end of the header");
  // First state out of range.
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x00\x00\x01", 6), "", ""), 0, 0),
              "first state 1");
  // Implicit base out of range (next = 2 with 1 state).
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x00\x02\x00", 6), "", ""), 0, 0),
              "out of range");
  // Buffers without buckets.
  ExpectError(DecodeData(Chunk(std::string("\x00\x01\x00\x01\x00\x00\x00", 7), "", ""), 0, 0),
              "buffers without buckets");
  // NonProto state whose buffer index is out of range.
  ExpectError(
      DecodeData(Chunk(std::string("\x01\x01\x00\x00\x01\x01\x00\x01\x00", 9), "", ""), 0, 0),
      "buffer index 1");
  // Varint subtype 138 is invalid.
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x08\x00\x8a\x00", 7), "", ""), 0, 0),
              "invalid varint subtype 138");
  // Unknown compression type.
  ExpectError(DecodeData(std::string("x\x00", 2), 0, 0), "unknown compression type");
  ExpectError(DecodeData("", 0, 0), "missing compression type");
}

TEST(TransposeDecoderTest, RejectsBucketMismatch) {
  // One bucket of 3 bytes, one buffer of 2 bytes: a byte is left over.
  const std::string header("\x01\x01\x03\x02\x01\x01\x00\x00\x00", 9);
  ExpectError(DecodeData(Chunk(header, "abc", ""), 0, 0), "unused bytes");
  // Bucket longer than the data.
  ExpectError(DecodeData(Chunk(header, "ab", ""), 0, 0), "exceeds the 2 remaining bytes");
}

TEST(TransposeDecoderTest, RejectsTransitionOutOfRange) {
  // StartOfMessage with base 0 and transition offset 1 (only 1 state).
  ExpectError(DecodeData(Chunk(std::string("\x00\x00\x01\x03\x00\x00", 6), "", "\x04"), 2, 0),
              "transition to state 1 out of range");
}

TEST(TransposeDecoderTest, RejectsOutputBeyondDeclaredSize) {
  const FixtureChunk chunk = ReferenceChunk("transpose_none.riegeli");
  ExpectError(DecodeData(chunk.data, 100, 1299), "exceeds the declared decoded_data_size");
  ExpectError(DecodeData(chunk.data, 100, 1301), "decoded 1300 bytes");
}

// Chunks to mutate: the reference non-proto chunks and upstream proto chunks
// of each compression.
std::vector<FixtureChunk> HostileInputSeeds() {
  std::vector<FixtureChunk> seeds;
  for (const char* name :
       {"transpose_none.riegeli", "transpose_zstd.riegeli", "transpose_brotli.riegeli"}) {
    seeds.push_back(ReferenceChunk(name));
  }
  for (const char* path :
       {"upstream-1.3/catch_options_transpose_uncompressed", "upstream-1.3/catch_default",
        "upstream-1.3/catch_options_transpose_snappy_chunk16k",
        "upstream-1.3/catch_options_transpose_zstd3"}) {
    for (const auto& [riegeli, expected, options] : ReadManifest()) {
      if (riegeli.rfind(std::string(path) + "/", 0) != 0 ||
          riegeli.find("steps.riegeli") == std::string::npos) {
        continue;
      }
      for (const FixtureChunk& chunk :
           WalkChunks(ReadFileOrDie(envlogger::testing::TestDataPath(riegeli)))) {
        if (chunk.type == 't' && chunk.data.size() < 20000) {
          seeds.push_back(chunk);
          break;
        }
      }
    }
  }
  return seeds;
}

TEST(TransposeDecoderTest, TruncationsNeverCrash) {
  for (const FixtureChunk& chunk : HostileInputSeeds()) {
    for (size_t length = 0; length < chunk.data.size(); ++length) {
      std::string values;
      std::vector<uint64_t> limits;
      const Status status =
          DecodeTransposedChunk(std::string_view(chunk.data).substr(0, length), chunk.num_records,
                                chunk.decoded_data_size, &values, &limits);
      if (!status.ok()) {
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
      }
    }
  }
}

TEST(TransposeDecoderTest, ByteFlipsNeverCrash) {
  size_t failures = 0, attempts = 0;
  for (const FixtureChunk& chunk : HostileInputSeeds()) {
    std::string data = chunk.data;
    for (size_t pos = 0; pos < data.size(); ++pos) {
      for (uint8_t flip : {0x01, 0x80, 0xff}) {
        data[pos] = static_cast<char>(data[pos] ^ flip);
        std::string values;
        std::vector<uint64_t> limits;
        const Status status = DecodeTransposedChunk(data, chunk.num_records,
                                                    chunk.decoded_data_size, &values, &limits);
        data[pos] = static_cast<char>(data[pos] ^ flip);
        ++attempts;
        if (!status.ok()) {
          ++failures;
          EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        } else {
          EXPECT_EQ(limits.size(), chunk.num_records);
          EXPECT_EQ(values.size(), chunk.decoded_data_size);
        }
      }
    }
  }
  // Most corruptions are detected (the rest change record contents).
  EXPECT_GT(failures, attempts / 4);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
