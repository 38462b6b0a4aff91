#include "envlogger/riegeli/record_writer_options.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace envlogger {
namespace riegeli {
namespace {

RecordWriterOptions Parse(const std::string& text) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(text);
  EXPECT_TRUE(options.ok()) << text << ": " << options.status().ToString();
  return options.ok() ? *options : RecordWriterOptions();
}

// Expects `text` to be rejected with a message that contains each of `parts`.
void ExpectError(const std::string& text, std::initializer_list<std::string> parts) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(text);
  ASSERT_FALSE(options.ok()) << "accepted: " << text;
  EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument);
  for (const std::string& part : parts) {
    EXPECT_NE(options.status().message().find(part), std::string::npos)
        << "message for \"" << text << "\" lacks \"" << part
        << "\": " << options.status().message();
  }
}

TEST(RecordWriterOptionsTest, EmptyMeansDefaults) {
  for (const std::string text : {"", "default", ",", "default,,"}) {
    const RecordWriterOptions options = Parse(text);
    EXPECT_FALSE(options.transpose) << text;
    EXPECT_EQ(options.compression.type, CompressionType::kBrotli) << text;
    EXPECT_EQ(options.compression.level, 6) << text;
    EXPECT_EQ(options.compression.window_log, kAutoWindowLog) << text;
    EXPECT_FALSE(options.chunk_size.has_value()) << text;
    EXPECT_EQ(options.effective_chunk_size(), uint64_t{1} << 20) << text;
    EXPECT_EQ(options.bucket_fraction, 1.0) << text;
    EXPECT_EQ(options.bucket_size(), uint64_t{1} << 20) << text;
    EXPECT_EQ(options.initial_padding, 1u) << text;
    EXPECT_EQ(options.final_padding, 1u) << text;
    EXPECT_EQ(options.parallelism, 0) << text;
  }
}

TEST(RecordWriterOptionsTest, Transpose) {
  EXPECT_TRUE(Parse("transpose").transpose);
  EXPECT_TRUE(Parse("transpose:true").transpose);
  EXPECT_FALSE(Parse("transpose:false").transpose);
  ExpectError("transpose:yes", {"transpose:yes", "transpose:false"});
}

TEST(RecordWriterOptionsTest, Codecs) {
  RecordWriterOptions options = Parse("uncompressed");
  EXPECT_EQ(options.compression.type, CompressionType::kNone);
  EXPECT_EQ(options.effective_chunk_size(), 4096u);
  EXPECT_EQ(options.bucket_size(), std::numeric_limits<uint64_t>::max());

  options = Parse("brotli");
  EXPECT_EQ(options.compression.type, CompressionType::kBrotli);
  EXPECT_EQ(options.compression.level, 6);
  EXPECT_EQ(Parse("brotli:0").compression.level, 0);
  EXPECT_EQ(Parse("brotli:11").compression.level, 11);

  options = Parse("zstd");
  EXPECT_EQ(options.compression.type, CompressionType::kZstd);
  EXPECT_EQ(options.compression.level, 3);
  EXPECT_EQ(Parse("zstd:22").compression.level, 22);
  EXPECT_EQ(Parse("zstd:-131072").compression.level, -131072);
  EXPECT_EQ(Parse("zstd:0").compression.level, 0);
  EXPECT_EQ(options.effective_chunk_size(), uint64_t{1} << 20);

  options = Parse("snappy");
  EXPECT_EQ(options.compression.type, CompressionType::kSnappy);
  EXPECT_EQ(options.compression.level, 1);
  EXPECT_EQ(Parse("snappy:2").compression.level, 2);
}

TEST(RecordWriterOptionsTest, CodecLevelsOutOfRange) {
  ExpectError("brotli:12", {"brotli:12", "0..11"});
  ExpectError("brotli:-1", {"brotli:-1", "0..11"});
  ExpectError("brotli:six", {"brotli:six", "0..11"});
  ExpectError("zstd:23", {"zstd:23", "-131072..22"});
  ExpectError("zstd:-131073", {"zstd:-131073", "-131072..22"});
  ExpectError("snappy:0", {"snappy:0", "1..2"});
  ExpectError("snappy:3", {"snappy:3", "1..2"});
  ExpectError("uncompressed:1", {"uncompressed:1", "no value"});
}

TEST(RecordWriterOptionsTest, ConflictingCodecs) {
  ExpectError("brotli,zstd", {"\"zstd\"", "brotli", "at most one"});
  ExpectError("uncompressed,snappy:2", {"snappy:2", "uncompressed"});
}

TEST(RecordWriterOptionsTest, WindowLog) {
  EXPECT_EQ(Parse("zstd,window_log:20").compression.window_log, 20);
  EXPECT_EQ(Parse("window_log:31,zstd").compression.window_log, 31);
  EXPECT_EQ(Parse("zstd,window_log:10").compression.window_log, 10);
  EXPECT_EQ(Parse("brotli,window_log:30").compression.window_log, 30);
  EXPECT_EQ(Parse("window_log:24").compression.window_log, 24);  // Default codec: brotli.
  EXPECT_EQ(Parse("zstd,window_log:auto").compression.window_log, kAutoWindowLog);
  ExpectError("brotli,window_log:31", {"window_log:31", "10..30"});
  ExpectError("zstd,window_log:9", {"window_log:9", "10..31"});
  ExpectError("zstd,window_log:32", {"window_log:32"});
  ExpectError("uncompressed,window_log:20", {"window_log:20", "uncompressed"});
  ExpectError("snappy,window_log:auto", {"window_log:auto", "snappy"});
}

TEST(RecordWriterOptionsTest, BrotliEncoder) {
  EXPECT_EQ(Parse("brotli_encoder:cbrotli").brotli_encoder, BrotliEncoder::kCBrotli);
  EXPECT_EQ(Parse("brotli_encoder:rbrotli").brotli_encoder, BrotliEncoder::kRBrotli);
  EXPECT_EQ(Parse("brotli_encoder:rbrotli_or_cbrotli").brotli_encoder,
            BrotliEncoder::kRBrotliOrCBrotli);
  ExpectError("brotli_encoder:fast", {"brotli_encoder:fast", "cbrotli"});
}

TEST(RecordWriterOptionsTest, ChunkSizeWithSuffixes) {
  EXPECT_EQ(*Parse("chunk_size:1").chunk_size, 1u);
  EXPECT_EQ(*Parse("chunk_size:35000").chunk_size, 35000u);
  EXPECT_EQ(*Parse("chunk_size:100B").chunk_size, 100u);
  EXPECT_EQ(*Parse("chunk_size:4k").chunk_size, 4096u);
  EXPECT_EQ(*Parse("chunk_size:4K").chunk_size, 4096u);
  EXPECT_EQ(*Parse("chunk_size:1.5k").chunk_size, 1536u);
  EXPECT_EQ(*Parse("chunk_size:1M").chunk_size, uint64_t{1} << 20);
  EXPECT_EQ(*Parse("chunk_size:2G").chunk_size, uint64_t{2} << 30);
  EXPECT_EQ(*Parse("chunk_size:1T").chunk_size, uint64_t{1} << 40);
  EXPECT_EQ(*Parse("chunk_size:1P").chunk_size, uint64_t{1} << 50);
  EXPECT_EQ(*Parse("chunk_size:1E").chunk_size, uint64_t{1} << 60);
  EXPECT_EQ(*Parse("chunk_size:2.4").chunk_size, 2u);  // Rounded.
  EXPECT_EQ(*Parse("chunk_size:2.5").chunk_size, 3u);
  EXPECT_FALSE(Parse("chunk_size:auto").chunk_size.has_value());
  EXPECT_EQ(Parse("uncompressed,chunk_size:16K").effective_chunk_size(), 16384u);
  ExpectError("chunk_size:0", {"chunk_size:0", "at least 1"});
  ExpectError("chunk_size:0.4", {"chunk_size:0.4"});
  ExpectError("chunk_size:-5", {"chunk_size:-5"});
  ExpectError("chunk_size:1X", {"chunk_size:1X"});
  ExpectError("chunk_size:", {"chunk_size:"});
  ExpectError("chunk_size:16E", {"chunk_size:16E"});  // 2^64 does not fit.
}

TEST(RecordWriterOptionsTest, BucketFraction) {
  RecordWriterOptions options = Parse("transpose,zstd:3,bucket_fraction:0.25");
  EXPECT_EQ(options.bucket_fraction, 0.25);
  EXPECT_EQ(options.bucket_size(), uint64_t{1} << 18);
  EXPECT_EQ(Parse("chunk_size:10,bucket_fraction:0.25").bucket_size(), 3u);  // round(2.5) = 3.
  EXPECT_EQ(Parse("chunk_size:10,bucket_fraction:0").bucket_size(), 1u);     // At least 1.
  EXPECT_EQ(Parse("bucket_fraction:1").bucket_fraction, 1.0);
  // Unlimited when uncompressed, whatever the fraction.
  EXPECT_EQ(Parse("uncompressed,bucket_fraction:0.5").bucket_size(),
            std::numeric_limits<uint64_t>::max());
  ExpectError("bucket_fraction:1.5", {"bucket_fraction:1.5", "0..1"});
  ExpectError("bucket_fraction:-0.5", {"bucket_fraction:-0.5", "0..1"});
  ExpectError("bucket_fraction:", {"bucket_fraction:"});
}

TEST(RecordWriterOptionsTest, Padding) {
  RecordWriterOptions options = Parse("padding");
  EXPECT_EQ(options.initial_padding, 65536u);
  EXPECT_EQ(options.final_padding, 65536u);
  options = Parse("padding:4K");
  EXPECT_EQ(options.initial_padding, 4096u);
  EXPECT_EQ(options.final_padding, 4096u);
  options = Parse("initial_padding");
  EXPECT_EQ(options.initial_padding, 65536u);
  EXPECT_EQ(options.final_padding, 1u);
  options = Parse("final_padding:100");
  EXPECT_EQ(options.initial_padding, 1u);
  EXPECT_EQ(options.final_padding, 100u);
  options = Parse("padding,final_padding:1");
  EXPECT_EQ(options.initial_padding, 65536u);
  EXPECT_EQ(options.final_padding, 1u);
  ExpectError("padding:0", {"padding:0", "at least 1"});
  ExpectError("final_padding:x", {"final_padding:x"});
}

TEST(RecordWriterOptionsTest, PadToBlockBoundaryAlias) {
  RecordWriterOptions options = Parse("pad_to_block_boundary");
  EXPECT_EQ(options.initial_padding, 65536u);
  EXPECT_EQ(options.final_padding, 65536u);
  options = Parse("pad_to_block_boundary:true");
  EXPECT_EQ(options.initial_padding, 65536u);
  EXPECT_EQ(options.final_padding, 65536u);
  options = Parse("pad_to_block_boundary:initially");
  EXPECT_EQ(options.initial_padding, 65536u);
  EXPECT_EQ(options.final_padding, 1u);
  options = Parse("pad_to_block_boundary:false");
  EXPECT_EQ(options.initial_padding, 1u);
  EXPECT_EQ(options.final_padding, 1u);
  ExpectError("pad_to_block_boundary:sometimes", {"pad_to_block_boundary:sometimes", "initially"});
  ExpectError("padding,pad_to_block_boundary", {"pad_to_block_boundary", "conflicts", "padding"});
  ExpectError("pad_to_block_boundary,final_padding:4K", {"final_padding:4K", "conflicts"});
}

TEST(RecordWriterOptionsTest, Parallelism) {
  EXPECT_EQ(Parse("parallelism:0").parallelism, 0);
  EXPECT_EQ(Parse("parallelism:10").parallelism, 10);
  ExpectError("parallelism:-1", {"parallelism:-1", "non-negative"});
  ExpectError("parallelism", {"parallelism"});
}

TEST(RecordWriterOptionsTest, StructuralErrors) {
  ExpectError("zstd,default", {"default", "first"});
  ExpectError("default:1", {"default:1"});
  ExpectError("transpose,transpose", {"transpose", "twice"});
  ExpectError("chunk_size:1K,chunk_size:2K", {"chunk_size:2K", "twice"});
  ExpectError("compression:zstd", {"compression:zstd", "unknown option", "allowed", "chunk_size"});
  ExpectError("Transpose", {"Transpose", "unknown option"});
}

TEST(RecordWriterOptionsTest, ToStringRoundTrips) {
  for (const std::string text :
       {"", "transpose,brotli:6,chunk_size:1M", "uncompressed", "zstd:3", "zstd,window_log:20",
        "transpose,zstd:3,bucket_fraction:0.25", "padding", "snappy:2,initial_padding:100",
        "brotli:9,window_log:25,brotli_encoder:cbrotli,parallelism:4", "zstd:-5,final_padding:7",
        "bucket_fraction:0.1"}) {
    const RecordWriterOptions options = Parse(text);
    const std::string printed = options.ToString();
    const RecordWriterOptions reparsed = Parse(printed);
    EXPECT_EQ(reparsed.transpose, options.transpose) << text << " -> " << printed;
    EXPECT_EQ(reparsed.compression.type, options.compression.type) << text << " -> " << printed;
    EXPECT_EQ(reparsed.compression.level, options.compression.level) << text << " -> " << printed;
    EXPECT_EQ(reparsed.compression.window_log, options.compression.window_log) << printed;
    EXPECT_EQ(reparsed.brotli_encoder, options.brotli_encoder) << printed;
    EXPECT_EQ(reparsed.chunk_size, options.chunk_size) << printed;
    EXPECT_EQ(reparsed.bucket_fraction, options.bucket_fraction) << printed;
    EXPECT_EQ(reparsed.initial_padding, options.initial_padding) << printed;
    EXPECT_EQ(reparsed.final_padding, options.final_padding) << printed;
    EXPECT_EQ(reparsed.parallelism, options.parallelism) << printed;
  }
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
