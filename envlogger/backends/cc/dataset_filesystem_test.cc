#include "envlogger/backends/cc/dataset_filesystem.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>

#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"

namespace envlogger {
namespace {

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/dataset_fs_XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return pattern;
}

void Touch(const std::string& path) { std::ofstream(path) << ""; }

std::chrono::system_clock::time_point FromMicros(int64_t micros) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
}

TEST(ShardDirectoryNameTest, FormatsUtcWithSixMicrosecondDigits) {
  // 2026-11-24T09:58:12.923825Z = 1795514292 s since the epoch (computed with
  // Python's datetime(2026, 11, 24, 9, 58, 12, tzinfo=utc).timestamp()).
  EXPECT_EQ(ShardDirectoryName(FromMicros(1795514292923825)), "20261124T095812923825");
  EXPECT_EQ(ShardDirectoryName(FromMicros(7)), "19700101T000000000007");
}

TEST(CreateShardDirectoryTest, TakesTheNextFreeMicrosecondWhenTheNameExists) {
  const std::string dir = MakeTempDir();
  const auto t = FromMicros(1795514292999999);
  auto first = CreateShardDirectory(dir, t);
  auto second = CreateShardDirectory(dir, t);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*first, dir + "/20261124T095812999999");
  EXPECT_EQ(*second, dir + "/20261124T095813000000");
}

TEST(CreateShardDirectoryTest, FailsNamingTheDirectoryWhenParentIsMissing) {
  auto made = CreateShardDirectory("/nonexistent/envlogger/dir", FromMicros(0));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), envlogger::StatusCode::kNotFound);
  EXPECT_NE(made.status().message().find("/nonexistent/envlogger/dir/"), std::string::npos);
}

TEST(CreateDirectoriesTest, CreatesMissingParentsAndAcceptsExisting) {
  const std::string dir = MakeTempDir();
  const std::string nested = dir + "/a/b/c";
  ASSERT_TRUE(CreateDirectories(nested).ok());
  struct stat info;
  ASSERT_EQ(::stat(nested.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_TRUE(CreateDirectories(nested).ok());
  EXPECT_TRUE(CreateDirectories(nested + "/").ok());
  EXPECT_TRUE(CheckWritableDirectory(nested).ok());
}

TEST(CreateDirectoriesTest, RejectsAFileInThePath) {
  const std::string dir = MakeTempDir();
  Touch(dir + "/file");
  envlogger::Status status = CreateDirectories(dir + "/file/sub");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir + "/file"), std::string::npos) << status.message();
  envlogger::Status writable = CheckWritableDirectory(dir + "/file");
  ASSERT_FALSE(writable.ok());
  EXPECT_NE(writable.message().find(dir + "/file"), std::string::npos);
}

TEST(ListShardDirectoriesTest, ListsSortedSubdirectoriesWithStepOffsets) {
  const std::string dir = MakeTempDir();
  for (const char* name :
       {"20260102T000000000000", "20250101T000000000000", "not_a_shard", "20270101T000000000000"}) {
    ASSERT_TRUE(CreateDirectories(dir + "/" + name).ok());
  }
  Touch(dir + "/20260102T000000000000/" + internal::kStepOffsetsFilename);
  Touch(dir + "/20250101T000000000000/" + internal::kStepOffsetsFilename);
  Touch(dir + "/not_a_shard/steps.riegeli");
  Touch(dir + "/" + internal::kStepOffsetsFilename);  // A file, not a subdirectory.
  auto shards = ListShardDirectories(dir);
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  EXPECT_EQ(*shards, (std::vector<std::string>{dir + "/20250101T000000000000",
                                               dir + "/20260102T000000000000"}));
}

TEST(ListShardDirectoriesTest, MissingDirectoryIsNotFound) {
  auto shards = ListShardDirectories("/nonexistent/envlogger");
  ASSERT_FALSE(shards.ok());
  EXPECT_EQ(shards.status().code(), envlogger::StatusCode::kNotFound);
  EXPECT_NE(shards.status().message().find("/nonexistent/envlogger"), std::string::npos);
}

}  // namespace
}  // namespace envlogger
