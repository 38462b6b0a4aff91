#include "envlogger/backends/cc/riegeli_dataset_writer.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "envlogger/backends/cc/dataset_filesystem.h"
#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"

namespace envlogger {
namespace {

using testing::MakeTempDir;
using testing::ReadAllRecords;
using testing::ReadIndexFile;

std::vector<std::string> Shards(const std::string& dir) {
  auto shards = ListShardDirectories(dir);
  EXPECT_TRUE(shards.ok()) << shards.status().ToString();
  return shards.ok() ? *shards : std::vector<std::string>{};
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (const struct dirent* entry = ::readdir(dir)) names.push_back(entry->d_name);
  ::closedir(dir);
  return names;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteEpisodes(RiegeliDatasetWriter& writer, int num_episodes, int steps_per_episode) {
  for (int e = 0; e < num_episodes; ++e) {
    for (int s = 0; s < steps_per_episode; ++s) {
      ASSERT_TRUE(writer.AddStep("e" + std::to_string(e) + "s" + std::to_string(s), s == 0).ok());
    }
  }
}

TEST(RiegeliDatasetWriterTest, EmptyTagDir) {
  RiegeliDatasetWriter writer;
  envlogger::Status status = writer.Init("");
  EXPECT_EQ(status.ToString(), "NOT_FOUND: Empty data_dir.");
}

TEST(RiegeliDatasetWriterTest, NonPositiveMaxEpisodesPerShard) {
  for (int64_t max_episodes : {0, -1}) {
    const std::string dir = MakeTempDir();
    RiegeliDatasetWriter writer;
    ASSERT_TRUE(writer.Init(dir, "", max_episodes).ok());
    EXPECT_EQ(Shards(dir).size(), 1u);  // Created by Init().
    WriteEpisodes(writer, 1000, 2);
    ASSERT_TRUE(writer.Close().ok());
    const auto shards = Shards(dir);
    ASSERT_EQ(shards.size(), 1u);
    size_t rows = 0;
    for (const auto& datum : ReadIndexFile(shards[0] + "/" + internal::kEpisodeIndexFilename)) {
      rows += datum.values.size() / 2;
    }
    EXPECT_EQ(rows, 1000u);
  }
}

TEST(RiegeliDatasetWriterTest, PositiveMaxEpisodesPerShard) {
  const std::string dir = MakeTempDir();
  RiegeliDatasetWriter writer;
  ASSERT_TRUE(writer.Init(dir, "", 5).ok());
  EXPECT_EQ(Shards(dir).size(), 0u);  // Shards come with episodes.
  WriteEpisodes(writer, 1000, 1);
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(writer.EpisodeCounter(), 1000);
  const auto shards = Shards(dir);
  ASSERT_EQ(shards.size(), 200u);
  for (const std::string& shard : {shards.front(), shards.back()}) {
    const auto steps = ReadAllRecords(shard + "/" + internal::kStepsFilename);
    EXPECT_EQ(steps.size(), 5u);
  }
  // Shards are in writing order.
  EXPECT_EQ(ReadAllRecords(shards.front() + "/" + internal::kStepsFilename)[0].second, "e0s0");
  EXPECT_EQ(ReadAllRecords(shards.back() + "/" + internal::kStepsFilename)[0].second, "e995s0");
  const std::regex name(R"(.*/\d{8}T\d{12}$)");
  for (const auto& shard : shards) EXPECT_TRUE(std::regex_match(shard, name)) << shard;
}

TEST(RiegeliDatasetWriterTest, StepBeforeAnyEpisodeIsRejectedWhenSharding) {
  const std::string dir = MakeTempDir();
  RiegeliDatasetWriter writer;
  ASSERT_TRUE(writer.Init(dir, "", 3).ok());
  envlogger::Status status = writer.AddStep("orphan", false);
  EXPECT_EQ(status.code(), envlogger::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(writer.AddStep("first", true).ok());
  EXPECT_TRUE(writer.AddStep("second", false).ok());
}

TEST(RiegeliDatasetWriterTest, EpisodeMetadata) {
  const std::string dir = MakeTempDir();
  RiegeliDatasetWriter writer;
  ASSERT_TRUE(writer.Init(dir).ok());
  writer.SetEpisodeMetadata("ignored: no episode yet");
  for (int e = 0; e < 3; ++e) {
    ASSERT_TRUE(writer.AddStep("step", true).ok());
    if (e != 1) writer.SetEpisodeMetadata("meta" + std::to_string(e));
  }
  ASSERT_TRUE(writer.Close().ok());
  const auto shards = Shards(dir);
  ASSERT_EQ(shards.size(), 1u);
  const auto metadata = ReadAllRecords(shards[0] + "/" + internal::kEpisodeMetadataFilename);
  ASSERT_EQ(metadata.size(), 2u);
  EXPECT_EQ(metadata[0].second, "meta0");
  EXPECT_EQ(metadata[1].second, "meta2");
  std::vector<int64_t> rows;
  for (const auto& datum : ReadIndexFile(shards[0] + "/" + internal::kEpisodeIndexFilename)) {
    rows.insert(rows.end(), datum.values.begin(), datum.values.end());
  }
  EXPECT_EQ(rows, (std::vector<int64_t>{0, static_cast<int64_t>(metadata[0].first), 1, -1, 2,
                                        static_cast<int64_t>(metadata[1].first)}));
}

TEST(RiegeliDatasetWriterTest, WriterOptionsAreForwarded) {
  // Compressible but not trivially: a slow and a fast setting give different sizes.
  std::string payload;
  for (int i = 0; i < 20000; ++i) payload += std::to_string(i * 7919 % 10007) + ",";
  off_t sizes[2];
  const char* options[2] = {"brotli:9,chunk_size:10M", "brotli:1,chunk_size:16K"};
  for (int k = 0; k < 2; ++k) {
    const std::string dir = MakeTempDir();
    RiegeliDatasetWriter writer;
    ASSERT_TRUE(writer.Init(dir, "", 0, options[k]).ok());
    EXPECT_EQ(writer.WriterOptions(), options[k]);
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(writer.AddStep(payload + std::to_string(i), i == 0).ok());
    ASSERT_TRUE(writer.Close().ok());
    struct stat info;
    ASSERT_EQ(::stat((Shards(dir)[0] + "/" + internal::kStepsFilename).c_str(), &info), 0);
    sizes[k] = info.st_size;
  }
  EXPECT_LT(sizes[0], sizes[1]);
}

TEST(RiegeliDatasetWriterTest, InvalidWriterOptionsFailInit) {
  RiegeliDatasetWriter writer;
  envlogger::Status status = writer.Init(MakeTempDir(), "", 10, "brotli:99");
  EXPECT_EQ(status.code(), envlogger::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("brotli:99"), std::string::npos) << status.message();
}

TEST(RiegeliDatasetWriterTest, DataDirReuseShouldStillWork) {
  const std::string dir = MakeTempDir();
  for (int i = 0; i < 2; ++i) {
    RiegeliDatasetWriter writer;
    ASSERT_TRUE(writer.Init(dir, "same metadata").ok());
    WriteEpisodes(writer, 2, 3);
    ASSERT_TRUE(writer.Close().ok());
  }
  EXPECT_EQ(Shards(dir).size(), 2u);
  const auto metadata = ReadAllRecords(dir + "/" + internal::kMetadataFilename);
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].second, "same metadata");
}

TEST(RiegeliDatasetWriterTest, DataDirReuseWithOtherMetadataFailsNamingTheFile) {
  const std::string dir = MakeTempDir();
  {
    RiegeliDatasetWriter writer;
    ASSERT_TRUE(writer.Init(dir, "first metadata").ok());
    ASSERT_TRUE(writer.Close().ok());
  }
  RiegeliDatasetWriter writer;
  const envlogger::Status status = writer.Init(dir, "second metadata");
  EXPECT_EQ(status.code(), envlogger::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(dir + "/" + internal::kMetadataFilename), std::string::npos)
      << status.message();
  const auto metadata = ReadAllRecords(dir + "/" + internal::kMetadataFilename);
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].second, "first metadata");
}

TEST(RiegeliDatasetWriterTest, ConcurrentInitsPublishOneWholeMetadataFileAndNoTemporary) {
  const std::string dir = MakeTempDir();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      RiegeliDatasetWriter writer;
      if (!writer.Init(dir, std::string(5000, 'm')).ok() || !writer.Close().ok()) ++failures;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const auto metadata = ReadAllRecords(dir + "/" + internal::kMetadataFilename);
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].second, std::string(5000, 'm'));
  for (const std::string& name : ListDir(dir))
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST(RiegeliDatasetWriterTest, MetadataFileIsTransposedBrotliWhateverTheOptions) {
  const std::string dir = MakeTempDir();
  RiegeliDatasetWriter writer;
  ASSERT_TRUE(writer.Init(dir, "dataset metadata", 0, "uncompressed").ok());
  ASSERT_TRUE(writer.Close().ok());
  const std::string bytes = ReadFile(dir + "/" + internal::kMetadataFilename);
  // The first data chunk follows the 64-byte signature chunk: its header's
  // byte 24 is the chunk type, and a transposed chunk's data starts with the
  // compression type.
  ASSERT_GT(bytes.size(), 64u + 41u);
  EXPECT_EQ(bytes[64 + 24], 't');
  EXPECT_EQ(bytes[64 + 40], 'b');
  const std::string steps = ReadFile(Shards(dir)[0] + "/" + internal::kStepsFilename);
  EXPECT_EQ(steps.size(), 64u);  // No step: only the file signature.
}

TEST(RiegeliDatasetWriterTest, MissingDataDirIsCreated) {
  const std::string dir = MakeTempDir() + "/new/nested/dataset";
  RiegeliDatasetWriter writer;
  ASSERT_TRUE(writer.Init(dir).ok());
  ASSERT_TRUE(writer.AddStep("x", true).ok());
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(Shards(dir).size(), 1u);
  EXPECT_TRUE(PathExists(dir + "/" + internal::kMetadataFilename));
}

TEST(RiegeliDatasetWriterTest, DataDirThatIsAFileIsAnErrorNamingIt) {
  const std::string file = MakeTempDir() + "/a_file";
  std::ofstream(file) << "not a directory";
  RiegeliDatasetWriter writer;
  envlogger::Status status = writer.Init(file);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(file), std::string::npos) << status.message();
  EXPECT_FALSE(writer.AddStep("x", true).ok());
}

TEST(RiegeliDatasetWriterTest, ShardsCreatedWithinOneMicrosecondGetDistinctNames) {
  const std::string dir = MakeTempDir();
  RiegeliDatasetWriter writer;
  ASSERT_TRUE(writer.Init(dir, "", 1).ok());
  // 50 one-step episodes, one shard each, created as fast as possible.
  WriteEpisodes(writer, 50, 1);
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(Shards(dir).size(), 50u);
}

}  // namespace
}  // namespace envlogger
