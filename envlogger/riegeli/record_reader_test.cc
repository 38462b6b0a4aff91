#include "envlogger/riegeli/record_reader.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/chunk_writer.h"
#include "envlogger/riegeli/highwayhash.h"
#include "envlogger/riegeli/record_writer.h"
#include "envlogger/riegeli/records_format.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

std::string ReferencePath(const std::string& name) {
  return testing::TestDataPath("riegeli-reference/" + name);
}

RecordWriterOptions Options(const std::string& text) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(text);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return *options;
}

std::unique_ptr<RecordReader> OpenReference(const std::string& name,
                                            RecordReaderOptions options = {}) {
  StatusOr<std::unique_ptr<RecordReader>> reader =
      RecordReader::Open(ReferencePath(name), std::move(options));
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  return std::move(*reader);
}

// Writes `records` with `options` into a string; each record's position goes
// to `*positions`.
std::string WriteRecords(const std::string& options, const std::vector<std::string>& records,
                         std::vector<RecordPosition>* positions) {
  std::string file;
  StatusOr<std::unique_ptr<RecordWriter>> writer =
      RecordWriter::Create(std::make_unique<StringSink>(&file), Options(options));
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok()) return file;
  for (const std::string& record : records) {
    EXPECT_TRUE((*writer)->WriteRecord(record).ok());
    positions->push_back((*writer)->LastPos());
  }
  EXPECT_TRUE((*writer)->Close().ok());
  return file;
}

// Options whose recovery callback appends every skipped region to `*regions`
// and continues.
RecordReaderOptions RecoveringInto(std::vector<SkippedRegion>* regions) {
  RecordReaderOptions options;
  options.recovery = [regions](const SkippedRegion& region) {
    regions->push_back(region);
    return true;
  };
  return options;
}

struct Expected {
  uint64_t numeric;
  std::string record;
};

// The records of a reference file as its README describes them.
std::vector<Expected> ExpectedRecords(const std::string& name) {
  std::vector<Expected> expected;
  if (name.rfind("simple_", 0) == 0 || name.rfind("transpose_", 0) == 0) {
    for (int i = 0; i < 100; ++i) {
      char buffer[16];
      std::snprintf(buffer, sizeof(buffer), "record_%06d", i);
      expected.push_back({uint64_t(64 + i), buffer});
    }
    return expected;
  }
  if (name.rfind("D_", 0) == 0)
    return {{64, "file-one-record"}, {65600, "boundary-coincident-file"}};
  size_t num_empty = 0;
  if (name.rfind("A_", 0) == 0) num_empty = 65473;
  if (name.rfind("B_", 0) == 0) num_empty = 65496;
  if (name.rfind("C_", 0) == 0) num_empty = 65472;
  for (size_t i = 0; i < num_empty; ++i) expected.push_back({64 + i, ""});
  if (name.find("_with_tail") != std::string::npos) expected.push_back({65561, "tail"});
  return expected;
}

const char* const kReadableFiles[] = {
    "simple_none.riegeli",          "simple_zstd.riegeli",
    "simple_brotli.riegeli",        "transpose_none.riegeli",
    "transpose_zstd.riegeli",       "transpose_brotli.riegeli",
    "A_q_boundary_plus_1.riegeli",  "A_q_boundary_plus_1_with_tail.riegeli",
    "B_q_boundary_plus_24.riegeli", "B_q_boundary_plus_24_with_tail.riegeli",
    "C_q_boundary_exact.riegeli",   "D_chunk_starts_at_boundary.riegeli",
};

TEST(RecordReaderTest, ReadsEveryReferenceFileWithPositions) {
  for (const std::string name : kReadableFiles) {
    SCOPED_TRACE(name);
    std::unique_ptr<RecordReader> reader = OpenReference(name);
    const std::vector<Expected> expected = ExpectedRecords(name);
    std::string_view record;
    size_t count = 0;
    uint64_t chunk_begin = expected.front().numeric;
    while (reader->ReadRecord(&record)) {
      ASSERT_LT(count, expected.size());
      EXPECT_EQ(record, expected[count].record) << count;
      EXPECT_EQ(reader->LastPos().numeric(), expected[count].numeric) << count;
      // Records of one chunk have consecutive positions; a gap starts a chunk.
      if (count > 0 && expected[count].numeric != expected[count - 1].numeric + 1) {
        chunk_begin = expected[count].numeric;
      }
      EXPECT_EQ(reader->LastPos(),
                (RecordPosition{chunk_begin, expected[count].numeric - chunk_begin}));
      ++count;
    }
    EXPECT_TRUE(reader->ok()) << reader->status().ToString();
    EXPECT_EQ(count, expected.size());
    const uint64_t size = *reader->Size();
    EXPECT_EQ(reader->Pos(), (RecordPosition{size, 0}));
    EXPECT_TRUE(reader->Close().ok()) << reader->status().ToString();
  }
}

// Seeking to every numeric position 0..size lands on the record at that
// position or, between records, on the next one.
TEST(RecordReaderTest, SeekNumericToEveryPosition) {
  for (const std::string name :
       {"A_q_boundary_plus_1_with_tail.riegeli", "B_q_boundary_plus_24_with_tail.riegeli",
        "C_q_boundary_exact.riegeli", "D_chunk_starts_at_boundary.riegeli",
        "simple_zstd.riegeli"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<RecordReader> reader = OpenReference(name);
    const std::vector<Expected> expected = ExpectedRecords(name);
    const uint64_t size = *reader->Size();
    std::vector<uint64_t> targets;
    for (uint64_t pos = 0; pos <= size; ++pos) targets.push_back(pos);
    // Ascending (mostly served from the decoded chunk), then shuffled.
    std::vector<uint64_t> shuffled = targets;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
    shuffled.resize(std::min<size_t>(shuffled.size(), 3000));
    for (const std::vector<uint64_t>* order : {&targets, &shuffled}) {
      for (const uint64_t pos : *order) {
        ASSERT_TRUE(reader->SeekNumeric(pos)) << pos << ": " << reader->status().ToString();
        const auto next =
            std::lower_bound(expected.begin(), expected.end(), pos,
                             [](const Expected& e, uint64_t p) { return e.numeric < p; });
        std::string_view record;
        if (next == expected.end()) {
          ASSERT_FALSE(reader->ReadRecord(&record)) << pos;
          ASSERT_TRUE(reader->ok()) << reader->status().ToString();
        } else {
          ASSERT_TRUE(reader->ReadRecord(&record)) << pos << ": " << reader->status().ToString();
          ASSERT_EQ(reader->LastPos().numeric(), next->numeric) << pos;
          ASSERT_EQ(record, next->record) << pos;
        }
      }
    }
  }
}

TEST(RecordReaderTest, SeekNumericBeyondEndFails) {
  std::unique_ptr<RecordReader> reader = OpenReference("simple_none.riegeli");
  EXPECT_FALSE(reader->SeekNumeric(1507));
  EXPECT_EQ(reader->status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(reader->status().message().find("simple_none.riegeli"), std::string::npos)
      << reader->status().message();
}

TEST(RecordReaderTest, ReadRecordAtServesAnyOrder) {
  std::unique_ptr<RecordReader> reader = OpenReference("D_chunk_starts_at_boundary.riegeli");
  std::string_view record;
  ASSERT_TRUE(reader->ReadRecordAt(65600, &record));
  EXPECT_EQ(record, "boundary-coincident-file");
  ASSERT_TRUE(reader->ReadRecordAt(64, &record));
  EXPECT_EQ(record, "file-one-record");
  ASSERT_TRUE(reader->ReadRecordAt(64, &record));
  EXPECT_EQ(record, "file-one-record");
  ASSERT_TRUE(reader->ReadRecord(&record));  // Continues after the record read.
  EXPECT_EQ(record, "boundary-coincident-file");

  reader = OpenReference("simple_brotli.riegeli");
  for (int i : {99, 0, 50, 51, 13, 98}) {
    ASSERT_TRUE(reader->ReadRecordAt(64 + i, &record)) << i;
    char buffer[16];
    std::snprintf(buffer, sizeof(buffer), "record_%06d", i);
    EXPECT_EQ(record, buffer);
    EXPECT_EQ(reader->LastPos(), (RecordPosition{64, uint64_t(i)}));
  }
}

TEST(RecordReaderTest, SeekAndSeekBack) {
  std::unique_ptr<RecordReader> reader = OpenReference("D_chunk_starts_at_boundary.riegeli");
  std::string_view record;
  while (reader->ReadRecord(&record)) {
  }
  ASSERT_TRUE(reader->SeekBack());
  ASSERT_TRUE(reader->ReadRecord(&record));
  EXPECT_EQ(record, "boundary-coincident-file");
  ASSERT_TRUE(reader->SeekBack());
  ASSERT_TRUE(reader->SeekBack());  // Across the padding and second signature chunks.
  ASSERT_TRUE(reader->ReadRecord(&record));
  EXPECT_EQ(record, "file-one-record");
  ASSERT_TRUE(reader->SeekBack());
  EXPECT_FALSE(reader->SeekBack());  // Nothing before the first record.
  EXPECT_TRUE(reader->ok());

  ASSERT_TRUE(reader->Seek(RecordPosition{65600, 0}));
  EXPECT_EQ(reader->Pos(), (RecordPosition{65600, 0}));
  ASSERT_TRUE(reader->ReadRecord(&record));
  EXPECT_EQ(record, "boundary-coincident-file");
  ASSERT_TRUE(reader->Seek(RecordPosition{64, 1}));  // Past the chunk's only record.
  EXPECT_EQ(reader->Pos(), (RecordPosition{122, 0}));
  ASSERT_TRUE(reader->ReadRecord(&record));
  EXPECT_EQ(record, "boundary-coincident-file");
}

TEST(RecordReaderTest, SeekBackWalksAllRecordsBackwards) {
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) records.push_back(std::string(i, 'a' + i % 26));
  std::vector<RecordPosition> positions;
  const std::string file = WriteRecords("uncompressed,chunk_size:100", records, &positions);
  RecordReader reader(std::make_unique<StringSource>(file));
  ASSERT_TRUE(reader.SeekNumeric(file.size()));
  std::string_view record;
  for (int i = 39; i >= 0; --i) {
    ASSERT_TRUE(reader.SeekBack()) << i;
    EXPECT_EQ(reader.Pos(), positions[i]);
    ASSERT_TRUE(reader.ReadRecord(&record));
    EXPECT_EQ(record, std::string(i, 'a' + i % 26));
    ASSERT_TRUE(reader.SeekBack());
  }
  EXPECT_FALSE(reader.SeekBack());
}

TEST(RecordReaderTest, WriterAndReaderPositionsAgree) {
  for (const std::string options :
       {"uncompressed,chunk_size:35000", "zstd,chunk_size:1K", "brotli:1,chunk_size:3000",
        "snappy,chunk_size:70000", "uncompressed,chunk_size:200K,padding:10K",
        "transpose,uncompressed,chunk_size:35000", "transpose,zstd:1,chunk_size:5K"}) {
    SCOPED_TRACE(options);
    std::mt19937 random(7);
    std::vector<std::string> records;
    for (int i = 0; i < 300; ++i) {
      std::string record(random() % (i % 50 == 0 ? 70000 : 300), '\0');
      for (char& c : record) c = static_cast<char>(random() % 7);
      records.push_back(std::move(record));
    }
    std::string file;
    std::vector<RecordPosition> positions;
    StatusOr<std::unique_ptr<RecordWriter>> writer =
        RecordWriter::Create(std::make_unique<StringSink>(&file), Options(options));
    ASSERT_TRUE(writer.ok());
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_TRUE((*writer)->WriteRecord(records[i]).ok()) << (*writer)->status().ToString();
      positions.push_back((*writer)->LastPos());
      if (i % 97 == 0) {
        ASSERT_TRUE((*writer)->Flush().ok());
      }
    }
    ASSERT_TRUE((*writer)->Close().ok());

    RecordReader reader(std::make_unique<StringSource>(file));
    std::string_view record;
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_TRUE(reader.ReadRecord(&record)) << i << ": " << reader.status().ToString();
      ASSERT_EQ(record, records[i]) << i;
      ASSERT_EQ(reader.LastPos(), positions[i]) << i;
    }
    EXPECT_FALSE(reader.ReadRecord(&record));
    EXPECT_TRUE(reader.Close().ok()) << reader.status().ToString();
  }
}

// Spec §9.3 / Riegeli's records_test: 23 records of 10000 bytes, 3 per chunk;
// a byte of the header of the chunk holding records 9..11 is damaged. That
// chunk straddles the block boundary at 65536, whose block header points to
// the chunk of record 15, so records 12..14 are lost too.
class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(
        std::make_unique<StringSink>(&file_), Options("uncompressed,chunk_size:35000"));
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 23; ++i) {
      records_.push_back(std::string(10000, static_cast<char>('A' + i)));
      ASSERT_TRUE((*writer)->WriteRecord(records_.back()).ok());
      positions_.push_back((*writer)->LastPos());
    }
    ASSERT_TRUE((*writer)->Close().ok());
    file_[positions_[9].chunk_begin + 20] ^= 0x55;
  }

  std::string file_;
  std::vector<std::string> records_;
  std::vector<RecordPosition> positions_;
};

TEST_F(RecoveryTest, SkipsDamagedChunksAndReportsRegion) {
  std::vector<SkippedRegion> regions;
  RecordReaderOptions options;
  options.recovery = [&](const SkippedRegion& region) {
    regions.push_back(region);
    return true;
  };
  RecordReader reader(std::make_unique<StringSource>(file_), options);
  std::vector<size_t> read;
  std::string_view record;
  while (reader.ReadRecord(&record)) {
    const size_t i = record[0] - 'A';
    EXPECT_EQ(record, records_[i]);
    EXPECT_EQ(reader.LastPos(), positions_[i]);
    read.push_back(i);
  }
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<size_t> expected;
  for (size_t i = 0; i < 23; ++i) {
    if (i < 9 || i >= 12) expected.push_back(i);
  }
  // Only the damaged chunk (records 9..11) is lost: reading resumes at the
  // next chunk header, not at the next block boundary.
  EXPECT_EQ(read, expected);
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(regions[0].begin, positions_[9].numeric());
  EXPECT_EQ(regions[0].end, positions_[12].numeric());
  EXPECT_TRUE(reader.Close().ok());
}

TEST_F(RecoveryTest, WithoutRecoveryFailsThenRecoverContinues) {
  RecordReader reader(std::make_unique<StringSource>(file_));
  std::string_view record;
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(reader.ReadRecord(&record)) << i;
  EXPECT_FALSE(reader.ReadRecord(&record));
  EXPECT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find(std::to_string(positions_[9].chunk_begin)),
            std::string::npos)
      << reader.status().message();
  SkippedRegion region;
  ASSERT_TRUE(reader.Recover(&region));
  EXPECT_EQ(region.begin, positions_[9].numeric());
  EXPECT_EQ(region.end, positions_[12].numeric());
  ASSERT_TRUE(reader.ReadRecord(&record)) << reader.status().ToString();
  EXPECT_EQ(record, records_[12]);
}

TEST_F(RecoveryTest, SeekIntoDamagedChunk) {
  {
    RecordReader reader(std::make_unique<StringSource>(file_));
    EXPECT_FALSE(reader.SeekNumeric(positions_[10].numeric()));
    EXPECT_FALSE(reader.ok());
  }
  std::vector<SkippedRegion> regions;
  RecordReaderOptions options;
  options.recovery = [&](const SkippedRegion& region) {
    regions.push_back(region);
    return true;
  };
  RecordReader reader(std::make_unique<StringSource>(file_), options);
  ASSERT_TRUE(reader.SeekNumeric(positions_[10].numeric())) << reader.status().ToString();
  std::string_view record;
  ASSERT_TRUE(reader.ReadRecord(&record)) << reader.status().ToString();
  EXPECT_EQ(record, records_[12]);
  EXPECT_EQ(reader.LastPos(), positions_[12]);
  EXPECT_EQ(regions.size(), 1u);
  // Positions outside the damage are unaffected, also those after it in the
  // same block (the seek walks past the damaged chunk header).
  ASSERT_TRUE(reader.SeekNumeric(positions_[13].numeric()));
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, records_[13]);
  ASSERT_TRUE(reader.SeekNumeric(positions_[4].numeric()));
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, records_[4]);
}

// With the block header at 0 damaged, a seek cannot use it and recovery
// resumes at the first intact chunk, before the asked position: reading goes
// on to the record at that position (found by the fuzzer: the reader used to
// return the first record after the damage).
TEST(RecordReaderRecoveryTest, ReadRecordAtAfterRecoveryBeforeThePosition) {
  std::string file;
  std::vector<std::string> records;
  std::vector<RecordPosition> positions;
  {
    StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(
        std::make_unique<StringSink>(&file), Options("uncompressed,chunk_size:100"));
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 20; ++i) {
      records.push_back("record" + std::to_string(i) + std::string(30, 'x'));
      ASSERT_TRUE((*writer)->WriteRecord(records.back()).ok());
      positions.push_back((*writer)->LastPos());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  ASSERT_GT(positions.back().chunk_begin, positions[0].chunk_begin);
  file[3] ^= 1;  // The block header at 0.
  for (size_t i : {size_t{0}, size_t{7}, size_t{19}, size_t{12}}) {
    SCOPED_TRACE(i);
    RecordReaderOptions options;
    options.recovery = [](const SkippedRegion&) { return true; };
    RecordReader reader(std::make_unique<StringSource>(file), options);
    std::string_view record;
    ASSERT_TRUE(reader.ReadRecordAt(positions[i].numeric(), &record)) << reader.status().ToString();
    EXPECT_EQ(reader.LastPos(), positions[i]);
    EXPECT_EQ(record, records[i]);
  }
}

TEST_F(RecoveryTest, CallbackReturningFalseStopsReading) {
  RecordReaderOptions options;
  options.recovery = [](const SkippedRegion&) { return false; };
  RecordReader reader(std::make_unique<StringSource>(file_), options);
  std::string_view record;
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(reader.ReadRecord(&record)) << i;
  EXPECT_FALSE(reader.ReadRecord(&record));
  EXPECT_TRUE(reader.ok());
}

// A chunk whose hashes are right but whose simple-chunk data is inconsistent
// is skipped as a whole: region [chunk_begin, chunk_end).
TEST(RecordReaderTest, UndecodableChunkIsSkippedWithRegion) {
  std::string file;
  StringSink sink(&file);
  ChunkWriter chunk_writer(&sink);
  ASSERT_TRUE(chunk_writer.WriteSignature().ok());
  // Valid simple chunk: compression none, sizes [1], values "a".
  ASSERT_TRUE(chunk_writer
                  .WriteChunk(ChunkType::kSimple, 1, 1,
                              std::string("\0\x01\x01"
                                          "a",
                                          4))
                  .ok());
  const uint64_t bad_begin = chunk_writer.pos();
  // Claims 2 records but the sizes stream holds one.
  ASSERT_TRUE(chunk_writer
                  .WriteChunk(ChunkType::kSimple, 2, 1,
                              std::string("\0\x01\x01"
                                          "b",
                                          4))
                  .ok());
  const uint64_t bad_end = chunk_writer.pos();
  ASSERT_TRUE(chunk_writer
                  .WriteChunk(ChunkType::kSimple, 1, 1,
                              std::string("\0\x01\x01"
                                          "c",
                                          4))
                  .ok());

  std::vector<SkippedRegion> regions;
  RecordReader reader(std::make_unique<StringSource>(file), RecoveringInto(&regions));
  std::string_view record;
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "a");
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "c");
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(regions[0].begin, bad_begin);
  EXPECT_EQ(regions[0].end, bad_end);

  RecordReader strict(std::make_unique<StringSource>(file));
  ASSERT_TRUE(strict.ReadRecord(&record));
  EXPECT_FALSE(strict.ReadRecord(&record));
  EXPECT_EQ(strict.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(strict.status().message().find(std::to_string(bad_begin)), std::string::npos)
      << strict.status().message();
}

TEST(RecordReaderTest, TruncatedFileReportsAtClose) {
  const std::string full =
      testing::ReadFile(ReferencePath("A_q_boundary_plus_1_with_tail.riegeli"));
  const std::string cut = full.substr(0, full.size() - 3);  // Inside the "tail" chunk.
  {
    RecordReader reader(std::make_unique<StringSource>(cut));
    std::string_view record;
    size_t count = 0;
    while (reader.ReadRecord(&record)) ++count;
    EXPECT_EQ(count, 65473u);
    EXPECT_TRUE(reader.ok());
    const Status status = reader.Close();
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("Truncated Riegeli/records file, incomplete chunk at 65561"),
              std::string::npos)
        << status.message();
  }
  {
    std::vector<SkippedRegion> regions;
    RecordReaderOptions options;
    options.recovery = [&](const SkippedRegion& region) {
      regions.push_back(region);
      return true;
    };
    RecordReader reader(std::make_unique<StringSource>(cut), options);
    std::string_view record;
    while (reader.ReadRecord(&record)) {
    }
    EXPECT_TRUE(reader.Close().ok());
    ASSERT_EQ(regions.size(), 1u);
    EXPECT_EQ(regions[0].begin, 65561u);
    EXPECT_EQ(regions[0].end, cut.size());
  }
}

TEST(RecordReaderTest, RecoveryResumingBeyondTheEndLeavesNoReversedRegionAtClose) {
  // Records of 25000 bytes, one chunk each: the third chunk crosses the first
  // block boundary. Its block header is rewritten (with a valid hash) to
  // name a wrong chunk start and a next chunk 60000 bytes on, beyond the end
  // of the file, which ends with that third chunk.
  std::vector<RecordPosition> positions;
  std::string file = WriteRecords(
      "uncompressed,chunk_size:1000",
      {std::string(25000, 'a'), std::string(25000, 'b'), std::string(25000, 'c')}, &positions);
  const uint64_t third = positions[2].chunk_begin;
  ASSERT_LT(third, kBlockSize);
  ASSERT_GT(file.size(), kBlockSize + kBlockHeaderSize);
  const uint64_t resume = kBlockSize + 60000;
  ASSERT_GT(resume, file.size());
  EncodeFixed64(1, &file[kBlockSize + 8]);  // previous_chunk: not kBlockSize - third.
  EncodeFixed64(60000, &file[kBlockSize + 16]);
  EncodeFixed64(RiegeliHash(std::string_view(file).substr(kBlockSize + 8, 16)), &file[kBlockSize]);

  std::vector<SkippedRegion> regions;
  RecordReader reader(std::make_unique<StringSource>(file), RecoveringInto(&regions));
  std::string_view record;
  std::vector<char> firsts;
  while (reader.ReadRecord(&record)) firsts.push_back(record[0]);
  EXPECT_EQ(firsts, (std::vector<char>{'a', 'b'}));
  EXPECT_TRUE(reader.Close().ok());
  // The damaged chunk, up to where the block header says the next begins;
  // Close() adds nothing (it used to add [resume, end of file), reversed).
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(regions[0].begin, third);
  EXPECT_EQ(regions[0].end, resume);

  // Without a callback, recovering by hand: Close() says where the file ends.
  RecordReader strict(std::make_unique<StringSource>(file));
  ASSERT_TRUE(strict.ReadRecord(&record));
  ASSERT_TRUE(strict.ReadRecord(&record));
  EXPECT_FALSE(strict.ReadRecord(&record));
  SkippedRegion region;
  ASSERT_TRUE(strict.Recover(&region));
  EXPECT_EQ(region.end, resume);
  EXPECT_FALSE(strict.ReadRecord(&record));
  EXPECT_TRUE(strict.ok());
  const Status status = strict.Close();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("it ends at " + std::to_string(file.size()) +
                                  ", before the next chunk at " + std::to_string(resume)),
            std::string::npos)
      << status.message();
}

// A source whose contents a test can extend, like a file being written.
class GrowingSource : public ByteSource {
 public:
  explicit GrowingSource(const std::string* data) : data_(data) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    if (offset >= data_->size()) {
      dest->clear();
    } else {
      dest->assign(*data_, offset, length);
    }
    return OkStatus();
  }
  StatusOr<uint64_t> Size() override { return uint64_t{data_->size()}; }
  const std::string& name() const override { return name_; }

 private:
  const std::string* data_;
  std::string name_ = "<growing>";
};

TEST(RecordReaderTest, ContinuesReadingAGrowingFile) {
  const std::string full = testing::ReadFile(ReferencePath("D_chunk_starts_at_boundary.riegeli"));
  std::string visible = full.substr(0, 65536 + 30);  // Mid second-file signature.
  RecordReader reader(std::make_unique<GrowingSource>(&visible));
  std::string_view record;
  ASSERT_TRUE(reader.ReadRecord(&record));
  EXPECT_EQ(record, "file-one-record");
  EXPECT_FALSE(reader.ReadRecord(&record));
  EXPECT_TRUE(reader.ok());
  visible = full.substr(0, full.size() - 5);  // Mid last chunk.
  EXPECT_FALSE(reader.ReadRecord(&record));
  EXPECT_TRUE(reader.ok());
  visible = full;
  ASSERT_TRUE(reader.ReadRecord(&record)) << reader.status().ToString();
  EXPECT_EQ(record, "boundary-coincident-file");
  EXPECT_EQ(reader.LastPos(), (RecordPosition{65600, 0}));
  EXPECT_FALSE(reader.ReadRecord(&record));
  EXPECT_TRUE(reader.Close().ok());
}

TEST(RecordReaderTest, ReadMetadataAbsentOrEmpty) {
  {
    RecordReader reader(std::make_unique<StringSource>(""));
    StatusOr<std::optional<std::string>> metadata = reader.ReadMetadata();
    ASSERT_TRUE(metadata.ok());
    EXPECT_FALSE(metadata->has_value());
  }
  {
    const std::string signature_only =
        testing::ReadFile(ReferencePath("simple_none.riegeli")).substr(0, 64);
    RecordReader reader(std::make_unique<StringSource>(signature_only));
    StatusOr<std::optional<std::string>> metadata = reader.ReadMetadata();
    ASSERT_TRUE(metadata.ok());
    EXPECT_FALSE(metadata->has_value());
  }
  {
    std::unique_ptr<RecordReader> reader = OpenReference("simple_none.riegeli");
    StatusOr<std::optional<std::string>> metadata = reader->ReadMetadata();
    ASSERT_TRUE(metadata.ok());
    ASSERT_TRUE(metadata->has_value());
    EXPECT_EQ(**metadata, "");
  }
}

TEST(RecordReaderTest, EmptyAndShortFiles) {
  {
    RecordReader reader(std::make_unique<StringSource>(""));
    std::string_view record;
    EXPECT_FALSE(reader.ReadRecord(&record));
    EXPECT_TRUE(reader.ok());
    EXPECT_TRUE(reader.Close().ok());
  }
  {
    const std::string prefix =
        testing::ReadFile(ReferencePath("simple_none.riegeli")).substr(0, 30);
    RecordReader reader(std::make_unique<StringSource>(prefix));
    std::string_view record;
    EXPECT_FALSE(reader.ReadRecord(&record));
    EXPECT_TRUE(reader.ok());
    EXPECT_FALSE(reader.Close().ok());
  }
}

TEST(RecordReaderTest, RecoveryRegressionFileTerminatesWithMonotonicRegions) {
  {
    std::unique_ptr<RecordReader> reader = OpenReference("recovery_regions_alias.riegeli");
    std::string_view record;
    EXPECT_FALSE(reader->ReadRecord(&record));
    EXPECT_FALSE(reader->ok());
  }
  std::vector<SkippedRegion> regions;
  RecordReaderOptions options;
  options.recovery = [&](const SkippedRegion& region) {
    regions.push_back(region);
    return true;
  };
  std::unique_ptr<RecordReader> reader = OpenReference("recovery_regions_alias.riegeli", options);
  std::string_view record;
  int count = 0;
  while (reader->ReadRecord(&record) && count < 1000000) ++count;
  reader->Close().IgnoreError();
  ASSERT_FALSE(regions.empty());
  for (size_t i = 0; i < regions.size(); ++i) {
    EXPECT_LT(regions[i].begin, regions[i].end) << i;
    if (i > 0) {
      EXPECT_GE(regions[i].begin, regions[i - 1].end) << i;
    }
  }
}

// Damaged files (random byte flips, truncations) under every codec and
// chunk kind: reading terminates, never touches memory it should not (run
// under the sanitizers), and returns only genuine records at their
// positions, in order.
TEST(RecordReaderTest, RandomDamageReturnsOnlyGenuineRecords) {
  const char* const kOptions[] = {"uncompressed,chunk_size:3000",
                                  "zstd:1,chunk_size:5000",
                                  "brotli:1,chunk_size:20000",
                                  "snappy,chunk_size:70000",
                                  "transpose,uncompressed,chunk_size:4000",
                                  "transpose,zstd:1,chunk_size:9000",
                                  "transpose,snappy,chunk_size:90000"};
  std::mt19937 random(1234);
  for (int round = 0; round < 140; ++round) {
    const std::string options = kOptions[round % (sizeof(kOptions) / sizeof(kOptions[0]))];
    SCOPED_TRACE(options + " round " + std::to_string(round));
    std::vector<std::string> records;
    const int num_records = 1 + random() % 60;
    for (int i = 0; i < num_records; ++i) {
      std::string record(random() % (i % 9 == 0 ? 30000 : 400), '\0');
      // Proto-like bytes (field 1 varint, field 2 bytes) or arbitrary ones.
      for (size_t j = 0; j < record.size(); ++j) {
        record[j] = static_cast<char>(i % 2 ? random() : "\x08\x01\x12\x00"[j % 4]);
      }
      records.push_back(std::move(record));
    }
    std::string file;
    std::vector<RecordPosition> positions;
    {
      StatusOr<std::unique_ptr<RecordWriter>> writer =
          RecordWriter::Create(std::make_unique<StringSink>(&file), Options(options));
      ASSERT_TRUE(writer.ok());
      for (const std::string& record : records) {
        ASSERT_TRUE((*writer)->WriteRecord(record).ok());
        positions.push_back((*writer)->LastPos());
      }
      ASSERT_TRUE((*writer)->Close().ok());
    }
    if (round % 4 == 3) {
      file.resize(random() % file.size());
    } else {
      for (int flips = 1 + round % 3; flips > 0; --flips) {
        file[random() % file.size()] ^= static_cast<char>(1 << (random() % 8));
      }
    }
    for (const bool recover : {false, true}) {
      int regions = 0;
      RecordReaderOptions reader_options;
      if (recover) {
        reader_options.recovery = [&](const SkippedRegion&) { return ++regions < 100000; };
      }
      RecordReader reader(std::make_unique<StringSource>(file), reader_options);
      std::string_view record;
      size_t next = 0;  // Index of the first record that may still come.
      while (reader.ReadRecord(&record)) {
        const auto found = std::find(positions.begin() + next, positions.end(), reader.LastPos());
        ASSERT_NE(found, positions.end()) << reader.LastPos().ToString();
        const size_t index = found - positions.begin();
        ASSERT_EQ(record, records[index]);
        next = index + 1;
      }
      reader.Close().IgnoreError();
    }
  }
}

TEST(RecordReaderTest, OpenMissingFileNamesPath) {
  StatusOr<std::unique_ptr<RecordReader>> reader = RecordReader::Open("/nonexistent/x.riegeli");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_NE(reader.status().message().find("/nonexistent/x.riegeli"), std::string::npos);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
