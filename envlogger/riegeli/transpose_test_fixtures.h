// Test-only helpers for the transposed-chunk tests: walking the chunks of a
// small fixture file without the chunk reader (no hash checks), and loading
// the expected records written by
// testdata_tools/extract_transposed_expected.py.

#ifndef ENVLOGGER_RIEGELI_TRANSPOSE_TEST_FIXTURES_H_
#define ENVLOGGER_RIEGELI_TRANSPOSE_TEST_FIXTURES_H_

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/records_format.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace transpose_testing {

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    fprintf(stderr, "cannot open %s\n", path.c_str());
    abort();
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

struct FixtureChunk {
  uint64_t begin = 0;
  uint8_t type = 0;
  uint64_t num_records = 0;
  uint64_t decoded_data_size = 0;
  std::string data;
};

// `length` bytes at physical `pos` of `file`, block headers skipped.
inline std::string ReadLogical(const std::string& file, uint64_t pos, uint64_t length) {
  std::string out;
  while (out.size() < length) {
    if (pos % kBlockSize < kBlockHeaderSize) pos += kBlockHeaderSize - pos % kBlockSize;
    const uint64_t take = std::min<uint64_t>(length - out.size(), kBlockSize - pos % kBlockSize);
    if (pos + take > file.size()) abort();
    out.append(file, pos, take);
    pos += take;
  }
  return out;
}

inline std::vector<FixtureChunk> WalkChunks(const std::string& file) {
  std::vector<FixtureChunk> chunks;
  uint64_t begin = 0;
  while (begin < file.size()) {
    const std::string header = ReadLogical(file, begin, kChunkHeaderSize);
    FixtureChunk chunk;
    chunk.begin = begin;
    const uint64_t data_size = DecodeFixed64(&header[8]);
    const uint64_t word = DecodeFixed64(&header[24]);
    chunk.type = static_cast<uint8_t>(word);
    chunk.num_records = word >> 8;
    chunk.decoded_data_size = DecodeFixed64(&header[32]);
    chunk.data = ReadLogical(file, AddWithOverhead(begin, kChunkHeaderSize), data_size);
    begin = ChunkEnd(begin, data_size, chunk.num_records);
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

inline std::vector<std::string> ReadExpectedRecords(const std::string& path) {
  const std::string contents = ReadFileOrDie(path);
  std::vector<std::string> records(DecodeFixed64(contents.data()));
  size_t pos = 8;
  for (std::string& record : records) {
    const uint64_t length = DecodeFixed64(contents.data() + pos);
    record = contents.substr(pos + 8, length);
    pos += 8 + length;
  }
  return records;
}

struct ManifestEntry {
  std::string riegeli;         // relative to the testdata dir
  std::string expected;        // expected records file, relative to the testdata dir
  std::string writer_options;  // RecordWriterOptions text the file was written with
};

inline std::vector<ManifestEntry> ReadManifest() {
  std::istringstream lines(
      ReadFileOrDie(envlogger::testing::TestDataPath("transposed_expected/MANIFEST")));
  std::vector<ManifestEntry> entries;
  ManifestEntry entry;
  while (lines >> entry.riegeli >> entry.expected >> entry.writer_options) entries.push_back(entry);
  return entries;
}

inline std::vector<std::string> SplitRecords(const std::string& values,
                                             const std::vector<uint64_t>& limits) {
  std::vector<std::string> records;
  uint64_t start = 0;
  for (uint64_t limit : limits) {
    records.push_back(values.substr(start, limit - start));
    start = limit;
  }
  return records;
}

}  // namespace transpose_testing
}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_TRANSPOSE_TEST_FIXTURES_H_
