#include "envlogger/riegeli/chunk_reader.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/riegeli/chunk_decoder.h"
#include "envlogger/riegeli/chunk_writer.h"
#include "envlogger/riegeli/fd_io.h"
#include "envlogger/riegeli/simple_encoder.h"
#include "envlogger/riegeli/varint.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

std::string ReadFixture(const std::string& name) {
  return testing::ReadFile(testing::TestDataPath("riegeli-reference/" + name));
}

struct ReadChunkInfo {
  uint64_t begin;
  uint64_t end;
  Chunk chunk;
};

struct ReadResult {
  std::vector<ReadChunkInfo> chunks;
  std::vector<SkippedRegion> regions;
  bool terminated = false;
  bool clean_end = false;  // Last ReadChunk(): OK status, not truncated.
  bool truncated = false;
};

// Reads every chunk; with `recover`, calls Recover() after each failure.
ReadResult ReadAll(ByteSource* source, bool recover) {
  ReadResult result;
  ChunkReader reader(source);
  for (int iteration = 0; iteration < 100000; ++iteration) {
    ReadChunkInfo info;
    if (reader.ReadChunk(&info.chunk, &info.begin)) {
      info.end = reader.pos();
      result.chunks.push_back(std::move(info));
      continue;
    }
    result.clean_end = reader.status().ok() && !reader.truncated();
    result.truncated = reader.truncated();
    if (result.clean_end || !recover) {
      result.terminated = true;
      return result;
    }
    SkippedRegion region;
    if (!reader.Recover(&region)) {
      result.terminated = true;
      return result;
    }
    result.regions.push_back(region);
  }
  return result;  // Did not terminate.
}

struct ExpectedChunk {
  uint64_t begin;
  ChunkType type;
  uint64_t num_records;
};

std::vector<std::string> DecodeRecords(const Chunk& chunk) {
  std::string values;
  std::vector<uint64_t> limits;
  const Status status = DecodeChunk(chunk, &values, &limits);
  EXPECT_TRUE(status.ok()) << status.ToString();
  std::vector<std::string> records;
  uint64_t start = 0;
  for (uint64_t limit : limits) {
    records.push_back(values.substr(start, limit - start));
    start = limit;
  }
  return records;
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

// All 13 reference files at the chunk level (README of the fixtures).
TEST(ChunkReaderTest, ReadsReferenceFiles) {
  const ChunkType s = ChunkType::kFileSignature, r = ChunkType::kSimple,
                  t = ChunkType::kTransposed, p = ChunkType::kPadding;
  struct Case {
    std::string name;
    std::vector<ExpectedChunk> chunks;
    std::vector<std::string> records;
  };
  const std::vector<Case> cases = {
      {"simple_none.riegeli", {{0, s, 0}, {64, r, 100}}, BasicRecords()},
      {"simple_zstd.riegeli", {{0, s, 0}, {64, r, 100}}, BasicRecords()},
      {"simple_brotli.riegeli", {{0, s, 0}, {64, r, 100}}, BasicRecords()},
      {"transpose_none.riegeli", {{0, s, 0}, {64, t, 100}}, BasicRecords()},
      {"transpose_zstd.riegeli", {{0, s, 0}, {64, t, 100}}, BasicRecords()},
      {"transpose_brotli.riegeli", {{0, s, 0}, {64, t, 100}}, BasicRecords()},
      {"A_q_boundary_plus_1.riegeli", {{0, s, 0}, {64, r, 65473}},
       std::vector<std::string>(65473)},
      {"A_q_boundary_plus_1_with_tail.riegeli", {{0, s, 0}, {64, r, 65473}, {65561, r, 1}}, {}},
      {"B_q_boundary_plus_24.riegeli", {{0, s, 0}, {64, r, 65496}},
       std::vector<std::string>(65496)},
      {"B_q_boundary_plus_24_with_tail.riegeli", {{0, s, 0}, {64, r, 65496}, {65561, r, 1}}, {}},
      {"C_q_boundary_exact.riegeli", {{0, s, 0}, {64, r, 65472}},
       std::vector<std::string>(65472)},
      {"D_chunk_starts_at_boundary.riegeli",
       {{0, s, 0}, {64, r, 1}, {122, p, 0}, {65536, s, 0}, {65600, r, 1}},
       {"file-one-record", "boundary-coincident-file"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = ReadFixture(c.name);
    StringSource source(file);
    const ReadResult result = ReadAll(&source, /*recover=*/false);
    ASSERT_TRUE(result.terminated);
    EXPECT_TRUE(result.clean_end);
    ASSERT_EQ(result.chunks.size(), c.chunks.size());
    std::vector<std::string> records;
    for (size_t i = 0; i < c.chunks.size(); ++i) {
      EXPECT_EQ(result.chunks[i].begin, c.chunks[i].begin) << i;
      EXPECT_EQ(result.chunks[i].chunk.header.chunk_type, c.chunks[i].type) << i;
      EXPECT_EQ(result.chunks[i].chunk.header.num_records, c.chunks[i].num_records) << i;
      for (std::string& record : DecodeRecords(result.chunks[i].chunk)) {
        records.push_back(std::move(record));
      }
    }
    EXPECT_EQ(result.chunks.back().end, file.size());
    if (c.name.find("with_tail") != std::string::npos) {
      EXPECT_EQ(records.size(), c.chunks[1].num_records + 1);
      EXPECT_EQ(records.back(), "tail");
      records.pop_back();
      EXPECT_EQ(records, std::vector<std::string>(c.chunks[1].num_records));
    } else {
      EXPECT_EQ(records, c.records);
    }
  }
}

TEST(ChunkReaderTest, RecoveryRegionsAliasTerminatesWithMonotonicRegions) {
  const std::string file = ReadFixture("recovery_regions_alias.riegeli");
  StringSource source(file);
  {
    ChunkReader reader(&source);
    Chunk chunk;
    uint64_t begin = 0;
    EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
    EXPECT_FALSE(reader.status().ok());
    EXPECT_NE(reader.status().message().find("position 0"), std::string::npos)
        << reader.status().message();
  }
  const ReadResult result = ReadAll(&source, /*recover=*/true);
  ASSERT_TRUE(result.terminated);
  ASSERT_FALSE(result.regions.empty());
  uint64_t previous_end = 0;
  for (const SkippedRegion& region : result.regions) {
    EXPECT_LT(region.begin, region.end) << region.message;
    EXPECT_GE(region.begin, previous_end);
    EXPECT_FALSE(region.message.empty());
    previous_end = region.end;
  }
  EXPECT_LE(previous_end, file.size());
}

// The chunks of an intact file, keyed by begin.
std::map<uint64_t, ReadChunkInfo> Originals(const std::string& file) {
  StringSource source(file);
  ReadResult result = ReadAll(&source, false);
  EXPECT_TRUE(result.clean_end);
  std::map<uint64_t, ReadChunkInfo> chunks;
  for (ReadChunkInfo& info : result.chunks) chunks[info.begin] = std::move(info);
  return chunks;
}

void CheckTruncatedAt(const std::string& file, const std::map<uint64_t, ReadChunkInfo>& originals,
                      uint64_t length) {
  SCOPED_TRACE("length " + std::to_string(length));
  StringSource source(file.substr(0, length));
  ReadResult result = ReadAll(&source, /*recover=*/false);
  ASSERT_TRUE(result.terminated);
  // Exactly the chunks that end within the prefix, in order.
  std::vector<uint64_t> expected;
  bool at_boundary = length == 0;
  for (const auto& [begin, info] : originals) {
    if (info.end <= length) expected.push_back(begin);
    if (info.end == length) at_boundary = true;
  }
  ASSERT_EQ(result.chunks.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result.chunks[i].begin, expected[i]);
    EXPECT_EQ(result.chunks[i].chunk.data, originals.at(expected[i]).chunk.data);
  }
  EXPECT_EQ(result.clean_end, at_boundary);
  EXPECT_EQ(result.truncated, !at_boundary);
  if (!at_boundary) {
    // Recovery skips the incomplete tail, then reading ends cleanly.
    ReadResult recovered = ReadAll(&source, /*recover=*/true);
    ASSERT_TRUE(recovered.terminated);
    ASSERT_EQ(recovered.regions.size(), 1u);
    const uint64_t last_end = expected.empty() ? 0 : originals.at(expected.back()).end;
    EXPECT_EQ(recovered.regions[0].begin, last_end);
    EXPECT_EQ(recovered.regions[0].end, length);
    EXPECT_TRUE(recovered.clean_end);
  }
}

TEST(ChunkReaderTest, TruncationAtEveryLengthOfSmallFiles) {
  for (const char* name : {"simple_none.riegeli", "transpose_zstd.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    for (uint64_t length = 0; length <= file.size(); ++length) {
      CheckTruncatedAt(file, originals, length);
    }
  }
}

TEST(ChunkReaderTest, TruncationOfMultiBlockFiles) {
  for (const char* name : {"D_chunk_starts_at_boundary.riegeli",
                           "A_q_boundary_plus_1_with_tail.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    std::vector<uint64_t> lengths;
    for (uint64_t length = 0; length <= file.size(); length += 509) lengths.push_back(length);
    // Every length near chunk ends and block boundaries.
    std::vector<uint64_t> marks = {0, kBlockSize, file.size()};
    for (const auto& entry : originals) marks.push_back(entry.second.end);
    for (uint64_t mark : marks) {
      for (uint64_t length = mark > 70 ? mark - 70 : 0; length <= mark + 70 && length <= file.size();
           ++length) {
        lengths.push_back(length);
      }
    }
    for (uint64_t length : lengths) CheckTruncatedAt(file, originals, length);
  }
}

// Where a byte lies within the chunk that contains it.
enum class Part { kHeaderOrBlockHeader, kData, kPadding };

// Block headers inside the padding are not verified (spec §2.5 step 7).
Part Classify(uint64_t begin, const ChunkHeader& header, uint64_t offset) {
  if (offset >= AddWithOverhead(begin, kChunkHeaderSize + header.data_size)) return Part::kPadding;
  if (offset % kBlockSize < kBlockHeaderSize) return Part::kHeaderOrBlockHeader;
  if (offset < AddWithOverhead(begin, kChunkHeaderSize)) return Part::kHeaderOrBlockHeader;
  return Part::kData;
}

void CheckFlippedByte(const std::string& file, const std::map<uint64_t, ReadChunkInfo>& originals,
                      uint64_t offset) {
  SCOPED_TRACE("flipped byte " + std::to_string(offset));
  std::string corrupt = file;
  corrupt[offset] ^= 0x41;
  StringSource source(corrupt);
  const ReadResult result = ReadAll(&source, /*recover=*/true);
  ASSERT_TRUE(result.terminated);
  // Every delivered chunk is an intact original.
  std::vector<uint64_t> delivered;
  for (const ReadChunkInfo& info : result.chunks) {
    const auto it = originals.find(info.begin);
    ASSERT_NE(it, originals.end()) << "chunk at " << info.begin;
    EXPECT_EQ(info.chunk.data, it->second.chunk.data);
    EXPECT_EQ(info.end, it->second.end);
    delivered.push_back(info.begin);
  }
  // Regions are non-empty, ordered and disjoint.
  uint64_t previous_end = 0;
  for (const SkippedRegion& region : result.regions) {
    EXPECT_LT(region.begin, region.end);
    EXPECT_GE(region.begin, previous_end);
    previous_end = region.end;
  }
  // The damaged chunk and what must survive.
  auto damaged = originals.upper_bound(offset);
  --damaged;
  const Part part = Classify(damaged->first, damaged->second.chunk.header, offset);
  std::vector<uint64_t> must_survive;
  for (const auto& [begin, info] : originals) {
    if (begin < damaged->first || part == Part::kPadding ||
        (part == Part::kData && begin != damaged->first)) {
      must_survive.push_back(begin);
    }
  }
  for (uint64_t begin : must_survive) {
    EXPECT_NE(std::find(delivered.begin(), delivered.end(), begin), delivered.end())
        << "lost intact chunk at " << begin;
  }
  if (part != Part::kPadding) {
    EXPECT_EQ(std::find(delivered.begin(), delivered.end(), damaged->first), delivered.end())
        << "delivered the damaged chunk";
    EXPECT_FALSE(result.regions.empty());
  }
}

TEST(ChunkReaderTest, FlipEveryByteOfSmallFiles) {
  for (const char* name : {"simple_none.riegeli", "simple_zstd.riegeli", "transpose_brotli.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    for (uint64_t offset = 0; offset < file.size(); ++offset) {
      CheckFlippedByte(file, originals, offset);
    }
  }
}

TEST(ChunkReaderTest, FlipSampledBytesOfMultiBlockFiles) {
  for (const char* name : {"D_chunk_starts_at_boundary.riegeli",
                           "A_q_boundary_plus_1_with_tail.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    for (uint64_t offset = 0; offset < file.size(); ++offset) {
      const bool near_boundary = offset < 200 || (offset >= kBlockSize - 100 && offset < kBlockSize + 200);
      if (near_boundary || offset % 331 == 0) CheckFlippedByte(file, originals, offset);
    }
  }
}

// 23 records of 10000 bytes, 3 per chunk (spec §9.3): damage to the header of
// the chunk holding records 9..11 loses it and the next chunk (12..14), which
// straddles the block boundary whose header points past it to record 15.
TEST(ChunkReaderTest, RecoveryFromDamagedChunkHeaderResumesAtNextBlock) {
  std::string file;
  StringSink sink(&file);
  ChunkWriter writer(&sink);
  ASSERT_TRUE(writer.WriteSignature().ok());
  CompressorOptions none;
  none.type = CompressionType::kNone;
  std::vector<uint64_t> chunk_begins;
  for (int first = 0; first < 23; first += 3) {
    SimpleEncoder encoder(none);
    for (int i = first; i < std::min(first + 3, 23); ++i) {
      encoder.AddRecord(std::string(10000, static_cast<char>('a' + i)));
    }
    std::string data;
    ASSERT_TRUE(encoder.Encode(&data).ok());
    chunk_begins.push_back(writer.pos());
    ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, encoder.num_records(),
                                  encoder.decoded_data_size(), data)
                    .ok());
  }
  // Chunk 3 lies within the second block; chunk 4 (records 12..14) crosses
  // into the third.
  ASSERT_GT(chunk_begins[3], kBlockSize);
  ASSERT_LT(chunk_begins[4], 2 * kBlockSize);
  ASSERT_GT(chunk_begins[5], 2 * kBlockSize);
  file[chunk_begins[3] + 20] ^= 1;
  StringSource source(file);
  const ReadResult result = ReadAll(&source, /*recover=*/true);
  ASSERT_TRUE(result.terminated);
  EXPECT_TRUE(result.clean_end);
  std::vector<uint64_t> delivered;
  for (const ReadChunkInfo& info : result.chunks) delivered.push_back(info.begin);
  EXPECT_EQ(delivered, (std::vector<uint64_t>{0, chunk_begins[0], chunk_begins[1], chunk_begins[2],
                                              chunk_begins[5], chunk_begins[6], chunk_begins[7]}));
  ASSERT_EQ(result.regions.size(), 1u);
  EXPECT_EQ(result.regions[0].begin, chunk_begins[3]);
  EXPECT_EQ(result.regions[0].end, chunk_begins[5]);
}

TEST(ChunkReaderTest, DataHashMismatchSkipsOnlyThatChunk) {
  const std::string file = ReadFixture("A_q_boundary_plus_1_with_tail.riegeli");
  std::string corrupt = file;
  corrupt[104 + 5] ^= 0x10;  // Inside the data of the chunk at 64.
  StringSource source(corrupt);
  ChunkReader reader(&source);
  Chunk chunk;
  uint64_t begin = 0;
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(reader.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(reader.status().message().find("position 64"), std::string::npos);
  SkippedRegion region;
  ASSERT_TRUE(reader.Recover(&region));
  EXPECT_EQ(region.begin, 64u);
  EXPECT_EQ(region.end, 65561u);
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(begin, 65561u);
  EXPECT_FALSE(reader.Recover(&region));  // Nothing to recover from.
}

// A header with a valid hash but absurd sizes must not make the reader
// allocate or read them: the chunk is reported as truncated.
TEST(ChunkReaderTest, AbsurdSizesInGenuineHeaderAreTruncationNotAllocation) {
  for (const auto& [data_size, num_records] :
       {std::pair<uint64_t, uint64_t>{uint64_t{1} << 62, 0}, {~uint64_t{0}, 0},
        {10, kMaxNumRecords}}) {
    std::string file;
    StringSink sink(&file);
    ChunkWriter writer(&sink);
    ASSERT_TRUE(writer.WriteSignature().ok());
    ChunkHeader header;
    header.data_size = data_size;
    header.chunk_type = ChunkType::kSimple;
    header.num_records = num_records;
    char bytes[kChunkHeaderSize];
    header.Encode(bytes);
    file.append(bytes, kChunkHeaderSize);
    file.append(100, 'x');
    StringSource source(file);
    const ReadResult result = ReadAll(&source, /*recover=*/true);
    ASSERT_TRUE(result.terminated);
    EXPECT_EQ(result.chunks.size(), 1u);
    ASSERT_EQ(result.regions.size(), 1u);
    EXPECT_EQ(result.regions[0].begin, 64u);
    EXPECT_EQ(result.regions[0].end, file.size());
  }
}

TEST(ChunkReaderTest, GrowingFileIsReadAsItIsWritten) {
  char tmpl[] = "/tmp/chunk_reader_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/growing.riegeli";

  std::string full;
  StringSink memory(&full);
  ChunkWriter writer(&memory);
  ASSERT_TRUE(writer.WriteSignature().ok());
  ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, 1, 0, "first").ok());
  const uint64_t second_begin = writer.pos();
  ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, 1, 0, std::string(150000, 's')).ok());
  ASSERT_TRUE(writer.WriteChunk(ChunkType::kSimple, 1, 0, "third").ok());
  const size_t half = second_begin + 70000;  // Inside the big chunk, past a block header.

  auto sink = OpenFdSink(path, /*append=*/false);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(std::string_view(full).substr(0, half)).ok());
  ASSERT_TRUE((*sink)->Flush(FlushType::kFromProcess).ok());

  auto source = OpenFdSource(path);
  ASSERT_TRUE(source.ok());
  ChunkReader reader(source->get());
  Chunk chunk;
  uint64_t begin = 0;
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(chunk.data, "first");
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_TRUE(reader.status().ok());
  EXPECT_TRUE(reader.truncated());
  EXPECT_EQ(reader.pos(), second_begin);

  ASSERT_TRUE((*sink)->Write(std::string_view(full).substr(half)).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(begin, second_begin);
  EXPECT_EQ(chunk.data, std::string(150000, 's'));
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(chunk.data, "third");
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_TRUE(reader.status().ok());
  EXPECT_FALSE(reader.truncated());
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

// SeekToChunkContaining / SeekToChunkBefore for every position, against the
// answer computed from a sequential read.
TEST(ChunkReaderTest, SeekToEveryPosition) {
  for (const char* name : {"simple_none.riegeli", "A_q_boundary_plus_1_with_tail.riegeli",
                           "B_q_boundary_plus_24.riegeli", "C_q_boundary_exact.riegeli",
                           "D_chunk_starts_at_boundary.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    StringSource source(file);
    ChunkReader reader(&source);
    for (uint64_t pos = 0; pos <= file.size(); ++pos) {
      uint64_t containing = file.size();
      for (const auto& [begin, info] : originals) {
        if ((begin <= pos && pos < begin + info.chunk.header.num_records) || begin >= pos) {
          containing = begin;
          break;
        }
      }
      ASSERT_TRUE(reader.SeekToChunkContaining(pos)) << pos << " " << reader.status().ToString();
      ASSERT_EQ(reader.pos(), containing) << pos;
      uint64_t before = 0;
      for (const auto& entry : originals) {
        if (entry.first < pos) before = entry.first;
      }
      ASSERT_TRUE(reader.SeekToChunkBefore(pos)) << pos << " " << reader.status().ToString();
      ASSERT_EQ(reader.pos(), before) << pos;
    }
    EXPECT_FALSE(reader.SeekToChunkContaining(file.size() + 1));
    EXPECT_EQ(reader.status().code(), StatusCode::kOutOfRange);
    // After a seek, reading continues from the chunk found.
    ASSERT_TRUE(reader.SeekToChunkContaining(64));
    Chunk chunk;
    uint64_t begin = 0;
    ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
    EXPECT_EQ(begin, 64u);
  }
}

TEST(ChunkReaderTest, SeekAndPeek) {
  const std::string file = ReadFixture("D_chunk_starts_at_boundary.riegeli");
  StringSource source(file);
  ChunkReader reader(&source);
  ASSERT_TRUE(reader.Seek(65536));
  ChunkHeader header;
  ASSERT_TRUE(reader.PeekChunkHeader(&header));
  EXPECT_EQ(header.chunk_type, ChunkType::kFileSignature);
  EXPECT_EQ(reader.pos(), 65536u);
  Chunk chunk;
  uint64_t begin = 0;
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(begin, 65536u);

  EXPECT_FALSE(reader.Seek(kBlockSize + 10));  // Inside a block header.
  EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
  SkippedRegion region;
  ASSERT_TRUE(reader.Recover(&region));
  EXPECT_EQ(region.begin, kBlockSize + 10);
  EXPECT_EQ(region.end, file.size());  // No further block: the search ends at EOF.
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_TRUE(reader.status().ok());

  EXPECT_FALSE(reader.Seek(file.size() + 1));
  EXPECT_EQ(reader.status().code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(reader.Seek(file.size()));
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_TRUE(reader.status().ok());
  EXPECT_FALSE(reader.truncated());
}

TEST(ChunkReaderTest, EmptyAndTinySources) {
  StringSource empty("");
  ReadResult result = ReadAll(&empty, false);
  EXPECT_TRUE(result.clean_end);
  EXPECT_TRUE(result.chunks.empty());
  StringSource tiny(std::string(20, '\0'));
  result = ReadAll(&tiny, false);
  EXPECT_TRUE(result.truncated);
  ChunkReader reader(&tiny);
  EXPECT_FALSE(reader.SeekToChunkContaining(5));
  EXPECT_TRUE(reader.status().ok());
  EXPECT_TRUE(reader.truncated());
  StringSource garbage(std::string(200, 'g'));
  result = ReadAll(&garbage, false);
  EXPECT_FALSE(result.clean_end);
  EXPECT_FALSE(result.truncated);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
