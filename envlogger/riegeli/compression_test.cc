#include "envlogger/riegeli/compression.h"

#include <zstd.h>

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/base/varint.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

std::string ReadFixture(const std::string& name) {
  return testing::ReadFile(testing::TestDataPath("riegeli-reference/" + name));
}

// The 100 records of the basic reference files, concatenated, and their
// sizes as varints.
std::string ReferenceValues() {
  std::string values;
  char buffer[32];
  for (int i = 0; i < 100; ++i) {
    snprintf(buffer, sizeof(buffer), "record_%06d", i);
    values += buffer;
  }
  return values;
}
std::string ReferenceSizes() { return std::string(100, '\x0d'); }

std::vector<std::string> SampleInputs() {
  std::mt19937 rng(7);
  std::string random(100000, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string repetitive;
  for (int i = 0; i < 20000; ++i) repetitive += "step " + std::to_string(i % 17) + ";";
  return {"", "a", ReferenceValues(), random, repetitive, std::string(3 << 20, 'z')};
}

CompressorOptions Options(CompressionType type, int level, int window_log = kAutoWindowLog) {
  CompressorOptions options;
  options.type = type;
  options.level = level;
  options.window_log = window_log;
  return options;
}

std::vector<CompressorOptions> AllCodecs() {
  return {Options(CompressionType::kNone, 0),
          Options(CompressionType::kBrotli, kDefaultBrotliLevel),
          Options(CompressionType::kZstd, kDefaultZstdLevel),
          Options(CompressionType::kSnappy, kDefaultSnappyLevel)};
}

TEST(CompressionTest, ValidTypes) {
  for (int byte = 0; byte < 256; ++byte) {
    const bool expected = byte == 0 || byte == 'b' || byte == 'z' || byte == 's';
    EXPECT_EQ(IsValidCompressionType(static_cast<uint8_t>(byte)), expected) << byte;
  }
}

TEST(CompressionTest, RoundTripEveryCodec) {
  for (const CompressorOptions& options : AllCodecs()) {
    for (const std::string& input : SampleInputs()) {
      std::string block = "prefix";  // CompressBlock appends.
      ASSERT_TRUE(CompressBlock(options, input, &block, input.size() % 2 == 0).ok());
      ASSERT_EQ(block.substr(0, 6), "prefix");
      std::string_view stored(block);
      stored.remove_prefix(6);
      uint64_t size = 0;
      ASSERT_TRUE(DecompressedSize(options.type, stored, &size).ok());
      EXPECT_EQ(size, input.size());
      std::string output = "x";
      ASSERT_TRUE(DecompressBlock(options.type, stored, &output).ok())
          << static_cast<int>(options.type) << " " << input.size();
      EXPECT_TRUE(output == "x" + input) << static_cast<int>(options.type);
    }
  }
}

TEST(CompressionTest, NoneIsRawBytes) {
  std::string block;
  ASSERT_TRUE(CompressBlock(Options(CompressionType::kNone, 0), "abc", &block).ok());
  EXPECT_EQ(block, "abc");
}

TEST(CompressionTest, CompressedBlocksStartWithDecompressedSizeVarint) {
  const std::string input = ReferenceValues();  // 1300 bytes: varint 94 0a.
  for (const CompressorOptions& options : AllCodecs()) {
    if (options.type == CompressionType::kNone) continue;
    std::string block;
    ASSERT_TRUE(CompressBlock(options, input, &block).ok());
    EXPECT_EQ(block.substr(0, 2), "\x94\x0a");
  }
  // Snappy is the raw block format, which itself starts with the length.
  std::string block;
  ASSERT_TRUE(CompressBlock(Options(CompressionType::kSnappy, 1), input, &block).ok());
  EXPECT_EQ(block.substr(2, 2), "\x94\x0a");
}

// simple_zstd.riegeli's chunk data: 'z', sizes_len, sizes block, values block.
TEST(CompressionTest, ZstdMatchesReferenceWriterBytes) {
  const std::string file = ReadFixture("simple_zstd.riegeli");
  ASSERT_EQ(file.size(), 243u);
  const std::string data = file.substr(104);
  const size_t sizes_len = static_cast<uint8_t>(data[1]);
  std::string sizes, values;
  ASSERT_TRUE(CompressBlock(Options(CompressionType::kZstd, 3), ReferenceSizes(), &sizes).ok());
  ASSERT_TRUE(CompressBlock(Options(CompressionType::kZstd, 3), ReferenceValues(), &values).ok());
  EXPECT_EQ(sizes, data.substr(2, sizes_len));
  EXPECT_EQ(values, data.substr(2 + sizes_len));
}

// A_q_boundary_plus_1.riegeli: 65473 empty records, so a 65473-byte sizes
// stream (streamed, no content size) and an empty values stream.
TEST(CompressionTest, ZstdUnpledgedLargeInputMatchesReferenceWriterBytes) {
  const std::string data = ReadFixture("A_q_boundary_plus_1.riegeli").substr(104, 34);
  const size_t sizes_len = static_cast<uint8_t>(data[1]);
  std::string sizes, values;
  ASSERT_TRUE(
      CompressBlock(Options(CompressionType::kZstd, 3), std::string(65473, '\0'), &sizes).ok());
  ASSERT_TRUE(CompressBlock(Options(CompressionType::kZstd, 3), "", &values).ok());
  EXPECT_EQ(sizes, data.substr(2, sizes_len));
  EXPECT_EQ(values, data.substr(2 + sizes_len));
}

// Frame header descriptor bit 5 (single segment) / bits 6-7 (content size
// field): pledged or small inputs record their size, large unpledged ones not.
TEST(CompressionTest, ZstdContentSizeFollowsPledge) {
  auto descriptor = [](size_t size, bool pledge) {
    std::string block;
    EXPECT_TRUE(
        CompressBlock(Options(CompressionType::kZstd, 3), std::string(size, 'a'), &block, pledge)
            .ok());
    std::string_view stream(block);
    uint64_t announced = 0;
    EXPECT_TRUE(ReadVarint64(&stream, &announced));
    EXPECT_EQ(stream.substr(0, 4), "\x28\xb5\x2f\xfd");
    return static_cast<uint8_t>(stream[4]);
  };
  auto has_content_size = [](uint8_t fhd) { return (fhd & 0xc0) != 0 || (fhd & 0x20) != 0; };
  EXPECT_TRUE(has_content_size(descriptor(kZstdUnpledgedBufferSize, false)));
  EXPECT_FALSE(has_content_size(descriptor(kZstdUnpledgedBufferSize + 1, false)));
  EXPECT_TRUE(has_content_size(descriptor(kZstdUnpledgedBufferSize + 1, true)));
  EXPECT_TRUE(has_content_size(descriptor(1 << 20, true)));
}

TEST(CompressionTest, DecodesReferenceBrotliAndZstdBlocks) {
  for (const auto& [name, type] :
       {std::pair<std::string, CompressionType>{"simple_brotli.riegeli", CompressionType::kBrotli},
        {"simple_zstd.riegeli", CompressionType::kZstd}}) {
    const std::string data = ReadFixture(name).substr(104);
    ASSERT_EQ(static_cast<CompressionType>(data[0]), type);
    const size_t sizes_len = static_cast<uint8_t>(data[1]);
    std::string sizes, values;
    ASSERT_TRUE(DecompressBlock(type, std::string_view(data).substr(2, sizes_len), &sizes).ok());
    ASSERT_TRUE(DecompressBlock(type, std::string_view(data).substr(2 + sizes_len), &values).ok());
    EXPECT_EQ(sizes, ReferenceSizes()) << name;
    EXPECT_EQ(values, ReferenceValues()) << name;
  }
}

TEST(CompressionTest, BrotliLargeWindowOnlyAbove24) {
  const std::string input = ReferenceValues();
  for (int window_log : {10, 22, 24, 25, 30}) {
    std::string block;
    ASSERT_TRUE(
        CompressBlock(Options(CompressionType::kBrotli, 6, window_log), input, &block).ok());
    // After the 2-byte size varint: large-window streams begin with the
    // 7-bit marker 0010001.
    const bool large = (static_cast<uint8_t>(block[2]) & 0x7f) == 0x11;
    EXPECT_EQ(large, window_log > 24) << window_log;
    std::string output;
    ASSERT_TRUE(DecompressBlock(CompressionType::kBrotli, block, &output).ok()) << window_log;
    EXPECT_EQ(output, input);
  }
}

TEST(CompressionTest, InvalidParametersAreErrors) {
  std::string block;
  EXPECT_EQ(CompressBlock(Options(CompressionType::kBrotli, 6, 31), "x", &block).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompressBlock(Options(CompressionType::kBrotli, 12), "x", &block).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompressBlock(Options(CompressionType::kZstd, 3, 5), "x", &block).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompressBlock(Options(CompressionType::kZstd, 23), "x", &block).code(),
            StatusCode::kInvalidArgument);
}

// An unpledged frame of `input` (no content size, window log 28): fed with
// "continue" first, so the frame does not record its size and keeps the
// declared window.
std::string UnpledgedZstdFrame(const std::string& input) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  EXPECT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 28)));
  std::string frame(ZSTD_compressBound(input.size()) + 64, '\0');
  ZSTD_outBuffer out = {&frame[0], frame.size(), 0};
  ZSTD_inBuffer in = {input.data(), input.size(), 0};
  EXPECT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue)));
  ZSTD_inBuffer empty = {nullptr, 0, 0};
  EXPECT_EQ(ZSTD_compressStream2(cctx, &out, &empty, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  frame.resize(out.pos);
  return frame;
}

// A compressed block as the chunk data holds it: the announced decompressed
// size (varint), then the codec's stream.
std::string CompressedBlock(uint64_t announced_size, std::string_view stream) {
  std::string block;
  AppendVarint64(announced_size, &block);
  block.append(stream.data(), stream.size());
  return block;
}

// A frame declaring a 2^28-byte window (above zstd's default decoder limit of
// 2^27) must be accepted: the reference reader allows window logs up to 31.
TEST(CompressionTest, ZstdDecoderAcceptsLargeWindowLog) {
  const std::string input = std::string(5000, 'q') + ReferenceValues();
  const std::string frame = UnpledgedZstdFrame(input);
  ASSERT_FALSE(::testing::Test::HasFailure());
  {
    // Precondition: zstd's default decoder limit rejects this frame.
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    std::string scratch(input.size(), '\0');
    ZSTD_outBuffer dout = {&scratch[0], scratch.size(), 0};
    ZSTD_inBuffer din = {frame.data(), frame.size(), 0};
    EXPECT_TRUE(ZSTD_isError(ZSTD_decompressStream(dctx, &dout, &din)));
    ZSTD_freeDCtx(dctx);
  }

  std::string output;
  ASSERT_TRUE(
      DecompressBlock(CompressionType::kZstd, CompressedBlock(input.size(), frame), &output).ok());
  EXPECT_EQ(output, input);
}

// A frame declaring a 2^31-byte window for 5 KB of content is decoded without
// allocating that window (the test runs under the fuzz build's 256 MB malloc
// limit too): the window is bounded by the announced size, same output.
TEST(CompressionTest, ZstdWindowAboveAnnouncedSizeIsBoundedAndDecodes) {
  const std::string input = std::string(5000, 'q') + ReferenceValues();
  std::string frame = UnpledgedZstdFrame(input);
  // Header: magic, descriptor byte 0x00 (no content size, not single
  // segment), window descriptor (exponent = window log - 10).
  ASSERT_EQ(frame[4], '\0');
  ASSERT_EQ(static_cast<uint8_t>(frame[5]), (28 - 10) << 3);
  frame[5] = static_cast<char>((31 - 10) << 3 | 7);  // 2^31 + 7/8 of it.
  std::string output;
  ASSERT_TRUE(
      DecompressBlock(CompressionType::kZstd, CompressedBlock(input.size(), frame), &output).ok());
  EXPECT_EQ(output, input);
}

TEST(CompressionTest, ZstdAnnouncedSizeBeyondTheFramesReachIsRefused) {
  const std::string frame = UnpledgedZstdFrame("abc");
  // 32768 bytes per compressed byte plus one 128 KiB block at most.
  const uint64_t too_big = 32768 * frame.size() + (1 << 17) + 1;
  std::string output = "kept";
  const Status status =
      DecompressBlock(CompressionType::kZstd, CompressedBlock(too_big, frame), &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("announced size " + std::to_string(too_big)), std::string::npos)
      << status.message();
  EXPECT_EQ(output, "kept");
}

TEST(CompressionTest, ZstdContentSizeOtherThanAnnouncedIsRefusedBeforeDecoding) {
  std::string block;
  ASSERT_TRUE(CompressBlock(Options(CompressionType::kZstd, 3), "hello", &block).ok());
  std::string_view stream(block);
  uint64_t size = 0;
  ASSERT_TRUE(ReadVarint64(&stream, &size));
  ASSERT_EQ(size, 5u);
  ASSERT_EQ(ZSTD_getFrameContentSize(stream.data(), stream.size()), 5u);  // Pledged.
  std::string wrong;
  AppendVarint64(4, &wrong);
  wrong += stream;
  std::string output;
  const Status status = DecompressBlock(CompressionType::kZstd, wrong, &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("frame declares 5 bytes, announced 4"), std::string::npos)
      << status.message();
}

class CorruptBlockTest : public ::testing::TestWithParam<CompressionType> {};

TEST_P(CorruptBlockTest, WrongAnnouncedSizeTrailingBytesAndTruncation) {
  const CompressionType type = GetParam();
  const std::string input = ReferenceValues();
  std::string good;
  ASSERT_TRUE(
      CompressBlock(Options(type, type == CompressionType::kZstd ? 3 : 6), input, &good).ok());
  std::string_view stream(good);
  uint64_t size = 0;
  ASSERT_TRUE(ReadVarint64(&stream, &size));
  std::string output;

  output.clear();
  Status status = DecompressBlock(type, CompressedBlock(size - 1, stream), &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_TRUE(output.empty());
  status = DecompressBlock(type, CompressedBlock(size + 1, stream), &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  // An absurd announced size fails without trying to allocate it.
  status = DecompressBlock(type, CompressedBlock(uint64_t{1} << 62, stream), &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  status = DecompressBlock(type, CompressedBlock(~uint64_t{0}, stream), &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  // Trailing garbage after a complete stream.
  status = DecompressBlock(type, good + "\x01", &output);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  // Every truncation.
  for (size_t length = 0; length < good.size(); ++length) {
    status = DecompressBlock(type, std::string_view(good).substr(0, length), &output);
    EXPECT_FALSE(status.ok()) << "length " << length;
  }
  // Every single-byte corruption either fails cleanly or yields the announced size.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x5a;
    output.clear();
    status = DecompressBlock(type, bad, &output);
    if (status.ok()) {
      uint64_t announced = 0;
      ASSERT_TRUE(DecompressedSize(type, bad, &announced).ok());
      EXPECT_EQ(output.size(), announced);
    } else {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(output.empty());
    }
  }
  // Errors name the codec.
  status = DecompressBlock(type, CompressedBlock(size + 1, stream), &output);
  const std::string codec = type == CompressionType::kBrotli ? "brotli"
                            : type == CompressionType::kZstd ? "zstd"
                                                             : "snappy";
  EXPECT_NE(status.message().find(codec), std::string::npos) << status.message();
}

INSTANTIATE_TEST_SUITE_P(Codecs, CorruptBlockTest,
                         ::testing::Values(CompressionType::kBrotli, CompressionType::kZstd,
                                           CompressionType::kSnappy));

TEST(CompressionTest, BadSizeVarintAndUnknownType) {
  std::string output;
  uint64_t size = 0;
  EXPECT_EQ(DecompressedSize(CompressionType::kZstd, "", &size).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecompressBlock(CompressionType::kBrotli, std::string(11, '\xff'), &output).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecompressBlock(static_cast<CompressionType>('x'), "abc", &output).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
