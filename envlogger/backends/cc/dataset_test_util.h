// Test helpers shared by the dataset backend's gtest files.

#ifndef ENVLOGGER_BACKENDS_CC_DATASET_TEST_UTIL_H_
#define ENVLOGGER_BACKENDS_CC_DATASET_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "envlogger/backends/cc/int64_datum_codec.h"
#include "envlogger/riegeli/record_reader.h"

namespace envlogger {
namespace testing {

// A fresh directory under the test's temporary directory.
inline std::string MakeTempDir(const std::string& prefix = "dataset") {
  std::string pattern = ::testing::TempDir() + "/" + prefix + "_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
  return pattern;
}

// Every record of a Riegeli file with its numeric position, read
// sequentially with our RecordReader.
inline std::vector<std::pair<uint64_t, std::string>> ReadAllRecords(const std::string& path) {
  std::vector<std::pair<uint64_t, std::string>> records;
  auto reader = riegeli::RecordReader::Open(path);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status().ToString();
    return records;
  }
  std::string_view record;
  while ((*reader)->ReadRecord(&record))
    records.emplace_back((*reader)->LastPos().numeric(), std::string(record));
  EXPECT_TRUE((*reader)->ok()) << (*reader)->status().ToString();
  return records;
}

// The int64 arrays of an index file, one per record.
inline std::vector<Int64Datum> ReadIndexFile(const std::string& path) {
  std::vector<Int64Datum> arrays;
  for (const auto& [pos, record] : ReadAllRecords(path)) {
    auto datum = DecodeInt64Datum(record);
    if (!datum.ok()) {
      ADD_FAILURE() << datum.status().ToString();
      continue;
    }
    arrays.push_back(*datum);
  }
  return arrays;
}

}  // namespace testing
}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_DATASET_TEST_UTIL_H_
