#include "envlogger/riegeli/chunk_reader.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/chunk_decoder.h"
#include "envlogger/riegeli/chunk_writer.h"
#include "envlogger/riegeli/fd_io.h"
#include "envlogger/riegeli/simple_encoder.h"
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
  const ChunkType s = ChunkType::kFileSignature, r = ChunkType::kSimple, t = ChunkType::kTransposed,
                  p = ChunkType::kPadding;
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
      {"A_q_boundary_plus_1.riegeli", {{0, s, 0}, {64, r, 65473}}, std::vector<std::string>(65473)},
      {"A_q_boundary_plus_1_with_tail.riegeli", {{0, s, 0}, {64, r, 65473}, {65561, r, 1}}, {}},
      {"B_q_boundary_plus_24.riegeli",
       {{0, s, 0}, {64, r, 65496}},
       std::vector<std::string>(65496)},
      {"B_q_boundary_plus_24_with_tail.riegeli", {{0, s, 0}, {64, r, 65496}, {65561, r, 1}}, {}},
      {"C_q_boundary_exact.riegeli", {{0, s, 0}, {64, r, 65472}}, std::vector<std::string>(65472)},
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
  for (const char* name :
       {"D_chunk_starts_at_boundary.riegeli", "A_q_boundary_plus_1_with_tail.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    std::vector<uint64_t> lengths;
    for (uint64_t length = 0; length <= file.size(); length += 509) lengths.push_back(length);
    // Every length near chunk ends and block boundaries.
    std::vector<uint64_t> marks = {0, kBlockSize, file.size()};
    for (const auto& entry : originals) marks.push_back(entry.second.end);
    for (uint64_t mark : marks) {
      for (uint64_t length = mark > 70 ? mark - 70 : 0;
           length <= mark + 70 && length <= file.size(); ++length) {
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
    if (begin != damaged->first || part == Part::kPadding) {
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
  for (const char* name :
       {"simple_none.riegeli", "simple_zstd.riegeli", "transpose_brotli.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    for (uint64_t offset = 0; offset < file.size(); ++offset) {
      CheckFlippedByte(file, originals, offset);
    }
  }
}

TEST(ChunkReaderTest, FlipSampledBytesOfMultiBlockFiles) {
  for (const char* name :
       {"D_chunk_starts_at_boundary.riegeli", "A_q_boundary_plus_1_with_tail.riegeli"}) {
    SCOPED_TRACE(name);
    const std::string file = ReadFixture(name);
    const auto originals = Originals(file);
    for (uint64_t offset = 0; offset < file.size(); ++offset) {
      const bool near_boundary =
          offset < 200 || (offset >= kBlockSize - 100 && offset < kBlockSize + 200);
      if (near_boundary || offset % 331 == 0) CheckFlippedByte(file, originals, offset);
    }
  }
}

// Writes a file of simple uncompressed chunks, chunk i holding the records
// of `chunks[i]`; returns the begin of every chunk (signature excluded).
std::vector<uint64_t> WriteChunks(const std::vector<std::vector<std::string>>& chunks,
                                  std::string* file) {
  StringSink sink(file);
  ChunkWriter writer(&sink);
  EXPECT_TRUE(writer.WriteSignature().ok());
  CompressorOptions none;
  none.type = CompressionType::kNone;
  std::vector<uint64_t> chunk_begins;
  for (const std::vector<std::string>& records : chunks) {
    SimpleEncoder encoder(none);
    for (const std::string& record : records) encoder.AddRecord(record);
    std::string data;
    EXPECT_TRUE(encoder.Encode(&data).ok());
    chunk_begins.push_back(writer.pos());
    EXPECT_TRUE(writer
                    .WriteChunk(ChunkType::kSimple, encoder.num_records(),
                                encoder.decoded_data_size(), data)
                    .ok());
  }
  return chunk_begins;
}

std::vector<uint64_t> DeliveredBegins(const ReadResult& result) {
  std::vector<uint64_t> delivered;
  for (const ReadChunkInfo& info : result.chunks) delivered.push_back(info.begin);
  return delivered;
}

// 23 records of 10000 bytes, 3 per chunk (spec §9.3): damage to the header of
// the chunk holding records 9..11 loses only that chunk; reading resumes at
// the next chunk header (records 12..14), which lies before the next block
// boundary (Riegeli's own recovery would resume at that block's next chunk,
// losing records 12..14 too).
TEST(ChunkReaderTest, RecoveryFromDamagedChunkHeaderResumesAtNextChunkHeader) {
  std::vector<std::vector<std::string>> chunks;
  for (int first = 0; first < 23; first += 3) {
    chunks.emplace_back();
    for (int i = first; i < std::min(first + 3, 23); ++i) {
      chunks.back().push_back(std::string(10000, static_cast<char>('a' + i)));
    }
  }
  std::string file;
  const std::vector<uint64_t> chunk_begins = WriteChunks(chunks, &file);
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
  EXPECT_EQ(
      DeliveredBegins(result),
      (std::vector<uint64_t>{0, chunk_begins[0], chunk_begins[1], chunk_begins[2], chunk_begins[4],
                             chunk_begins[5], chunk_begins[6], chunk_begins[7]}));
  ASSERT_EQ(result.regions.size(), 1u);
  EXPECT_EQ(result.regions[0].begin, chunk_begins[3]);
  EXPECT_EQ(result.regions[0].end, chunk_begins[4]);
  EXPECT_NE(result.regions[0].message.find("corrupted chunk header"), std::string::npos)
      << result.regions[0].message;
}

// Many small chunks in one block: damage to the 2nd chunk's header costs only
// that chunk, and the skipped region is exactly that chunk.
TEST(ChunkReaderTest, DamagedHeaderOfSmallChunkLosesOnlyThatChunk) {
  std::vector<std::vector<std::string>> chunks;
  for (int c = 0; c < 10; ++c) {
    chunks.push_back({"chunk" + std::to_string(c) + "_a", "chunk" + std::to_string(c) + "_b"});
  }
  std::string file;
  const std::vector<uint64_t> chunk_begins = WriteChunks(chunks, &file);
  ASSERT_LT(file.size(), kBlockSize);
  for (uint64_t offset = 0; offset < kChunkHeaderSize; ++offset) {
    SCOPED_TRACE("flipped header byte " + std::to_string(offset));
    std::string corrupt = file;
    corrupt[chunk_begins[1] + offset] ^= 0x20;
    StringSource source(corrupt);
    const ReadResult result = ReadAll(&source, /*recover=*/true);
    ASSERT_TRUE(result.terminated);
    EXPECT_TRUE(result.clean_end);
    std::vector<uint64_t> expected = {0};
    for (size_t c = 0; c < chunk_begins.size(); ++c) {
      if (c != 1) expected.push_back(chunk_begins[c]);
    }
    ASSERT_EQ(DeliveredBegins(result), expected);
    EXPECT_EQ(DecodeRecords(result.chunks[2].chunk), chunks[2]);
    EXPECT_EQ(DecodeRecords(result.chunks.back().chunk), chunks.back());
    ASSERT_EQ(result.regions.size(), 1u);
    EXPECT_EQ(result.regions[0].begin, chunk_begins[1]);
    EXPECT_EQ(result.regions[0].end, chunk_begins[2]);
  }
}

// Seeking to a record position walks chunk headers from the block header; a
// damaged chunk header on the way costs only the positions of that chunk.
TEST(ChunkReaderTest, SeekPastDamagedChunkHeaderInSameBlock) {
  std::vector<std::vector<std::string>> chunks;
  for (int c = 0; c < 6; ++c) chunks.push_back({"a", "b", "c"});
  std::string file;
  const std::vector<uint64_t> chunk_begins = WriteChunks(chunks, &file);
  file[chunk_begins[1] + 30] ^= 4;
  StringSource source(file);
  ChunkReader reader(&source);
  for (size_t c : {size_t{3}, size_t{2}, size_t{5}}) {
    ASSERT_TRUE(reader.SeekToChunkContaining(chunk_begins[c] + 1)) << reader.status().ToString();
    EXPECT_EQ(reader.pos(), chunk_begins[c]);
    Chunk chunk;
    uint64_t begin = 0;
    ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
    EXPECT_EQ(DecodeRecords(chunk), chunks[c]);
  }
  // A position inside the damaged chunk fails; recovery skips exactly it.
  EXPECT_FALSE(reader.SeekToChunkContaining(chunk_begins[1] + 2));
  EXPECT_EQ(reader.status().code(), StatusCode::kDataLoss);
  SkippedRegion region;
  ASSERT_TRUE(reader.Recover(&region));
  EXPECT_EQ(region.begin, chunk_begins[1]);
  EXPECT_EQ(region.end, chunk_begins[2]);
  // Seeking before a position beyond the damage finds the intact chunk.
  ASSERT_TRUE(reader.SeekToChunkBefore(chunk_begins[3]));
  EXPECT_EQ(reader.pos(), chunk_begins[2]);
}

// A damaged block header does not stop seeks into its block: the walk
// starts from the previous intact block header.
TEST(ChunkReaderTest, SeekPastDamagedBlockHeader) {
  std::vector<std::vector<std::string>> chunks;
  for (int c = 0; c < 12; ++c) chunks.push_back({std::string(25000, static_cast<char>('a' + c))});
  std::string file;
  const std::vector<uint64_t> chunk_begins = WriteChunks(chunks, &file);
  ASSERT_LT(chunk_begins[2], kBlockSize);
  ASSERT_GT(chunk_begins[3], kBlockSize);
  file[kBlockSize + 5] ^= 1;  // Inside chunk 2's data.
  StringSource source(file);
  ChunkReader reader(&source);
  ASSERT_TRUE(reader.SeekToChunkContaining(chunk_begins[3])) << reader.status().ToString();
  EXPECT_EQ(reader.pos(), chunk_begins[3]);
  Chunk chunk;
  uint64_t begin = 0;
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(DecodeRecords(chunk), chunks[3]);
  // Chunk 2 itself crosses the damaged block header: reading it fails.
  ASSERT_TRUE(reader.SeekToChunkContaining(chunk_begins[2]));
  EXPECT_FALSE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(reader.status().code(), StatusCode::kDataLoss);
}

// The search for the next chunk header reassembles headers that straddle a
// block boundary (block header interleaved) and never proposes a position
// inside a block header.
TEST(ChunkReaderTest, RecoveryFindsChunkHeaderStraddlingBlockBoundary) {
  // Chunk 1 fills the first block up to `gap` bytes before its end, so that
  // chunk 2's 40-byte header begins there and crosses the block boundary.
  for (uint64_t gap : {uint64_t{1}, uint64_t{8}, uint64_t{24}, uint64_t{39}}) {
    SCOPED_TRACE("header begins " + std::to_string(gap) + " bytes before the block boundary");
    std::string file;
    std::vector<uint64_t> chunk_begins;
    for (uint64_t length = kBlockSize - 200; length < kBlockSize; ++length) {
      file.clear();
      chunk_begins =
          WriteChunks({{"x"}, {std::string(length, 'p')}, {"after1", "after2"}, {"last"}}, &file);
      if (chunk_begins[2] >= kBlockSize - gap) break;
    }
    ASSERT_EQ(chunk_begins[2], kBlockSize - gap);
    // Damage the header of chunk 0: the search finds chunk 1 right after it.
    std::string corrupt = file;
    corrupt[chunk_begins[0] + 3] ^= 1;
    {
      StringSource source(corrupt);
      const ReadResult result = ReadAll(&source, /*recover=*/true);
      ASSERT_TRUE(result.terminated);
      EXPECT_EQ(DeliveredBegins(result),
                (std::vector<uint64_t>{0, chunk_begins[1], chunk_begins[2], chunk_begins[3]}));
    }
    // Damage the header of chunk 1: the search crosses chunk 1's data and
    // finds chunk 2's header, which straddles the block boundary.
    corrupt = file;
    corrupt[chunk_begins[1] + 3] ^= 1;
    {
      StringSource source(corrupt);
      const ReadResult result = ReadAll(&source, /*recover=*/true);
      ASSERT_TRUE(result.terminated);
      EXPECT_TRUE(result.clean_end);
      EXPECT_EQ(DeliveredBegins(result),
                (std::vector<uint64_t>{0, chunk_begins[0], chunk_begins[2], chunk_begins[3]}));
      ASSERT_EQ(result.regions.size(), 1u);
      EXPECT_EQ(result.regions[0].begin, chunk_begins[1]);
      EXPECT_EQ(result.regions[0].end, chunk_begins[2]);
      ASSERT_EQ(result.chunks.size(), 4u);
      EXPECT_EQ(DecodeRecords(result.chunks[2].chunk),
                (std::vector<std::string>{"after1", "after2"}));
    }
  }
}

// Damage to both a chunk header and the header of the chunk after it: the
// search continues past the second one to the block header's pointer.
TEST(ChunkReaderTest, RecoveryFallsBackToBlockHeaderPointer) {
  std::vector<std::vector<std::string>> chunks;
  for (int c = 0; c < 12; ++c) chunks.push_back({std::string(25000, static_cast<char>('a' + c))});
  std::string file;
  const std::vector<uint64_t> chunk_begins = WriteChunks(chunks, &file);
  // Chunk 2 crosses the first block boundary, chunk 3 begins after it.
  ASSERT_LT(chunk_begins[2], kBlockSize);
  ASSERT_GT(chunk_begins[3], kBlockSize);
  std::string corrupt = file;
  corrupt[chunk_begins[1] + 10] ^= 1;
  corrupt[chunk_begins[2] + 10] ^= 1;
  StringSource source(corrupt);
  const ReadResult result = ReadAll(&source, /*recover=*/true);
  ASSERT_TRUE(result.terminated);
  EXPECT_TRUE(result.clean_end);
  std::vector<uint64_t> expected = {0, chunk_begins[0]};
  for (size_t c = 3; c < chunk_begins.size(); ++c) expected.push_back(chunk_begins[c]);
  EXPECT_EQ(DeliveredBegins(result), expected);
  ASSERT_EQ(result.regions.size(), 1u);
  EXPECT_EQ(result.regions[0].begin, chunk_begins[1]);
  EXPECT_EQ(result.regions[0].end, chunk_begins[3]);
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
  for (const auto& [data_size, num_records] : {std::pair<uint64_t, uint64_t>{uint64_t{1} << 62, 0},
                                               {~uint64_t{0}, 0},
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
  // The search resumes at the next chunk header: the chunk after the
  // signature chunk at the block boundary.
  EXPECT_EQ(region.end, kBlockSize + kSignatureSize);
  ASSERT_TRUE(reader.ReadChunk(&chunk, &begin));
  EXPECT_EQ(begin, kBlockSize + kSignatureSize);

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
