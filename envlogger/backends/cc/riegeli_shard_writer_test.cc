#include "envlogger/backends/cc/riegeli_shard_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "envlogger/backends/cc/dataset_test_util.h"

namespace envlogger {
namespace {

using testing::MakeTempDir;
using testing::ReadAllRecords;
using testing::ReadIndexFile;

struct ShardPaths {
  explicit ShardPaths(const std::string& dir)
      : steps(dir + "/steps.riegeli"),
        step_offsets(dir + "/step_offsets.riegeli"),
        episode_metadata(dir + "/episode_metadata.riegeli"),
        episode_index(dir + "/episode_index.riegeli") {}
  std::string steps, step_offsets, episode_metadata, episode_index;
};

envlogger::Status InitWriter(RiegeliShardWriter& writer, const ShardPaths& paths,
                             const std::string& options = "transpose,brotli:6,chunk_size:1M") {
  return writer.Init(paths.steps, paths.step_offsets, paths.episode_metadata, paths.episode_index,
                     options);
}

// Port of upstream's RiegeliShardWriterTest.KStepsIndex: 5 steps, episodes
// starting at steps 0, 2 and 3, metadata on episodes 1 and 2 only.
TEST(RiegeliShardWriterTest, KStepsIndex) {
  const ShardPaths paths(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(InitWriter(writer, paths).ok());
    const bool new_episode[] = {true, false, true, true, false};
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(writer.AddStep("step-" + std::to_string(i), new_episode[i]).ok());
      if (i == 2) writer.SetEpisodeMetadata("12345");
      if (i == 4) writer.SetEpisodeMetadata("54321");
    }
    ASSERT_TRUE(writer.Close().ok());
  }

  // Every indexed offset leads to the right step.
  const auto steps = ReadAllRecords(paths.steps);
  std::map<uint64_t, std::string> step_at(steps.begin(), steps.end());
  const auto offsets = ReadIndexFile(paths.step_offsets);
  ASSERT_EQ(offsets.size(), 1u);  // One flush (at Close).
  ASSERT_EQ(offsets[0].shape, std::vector<int64_t>{5});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(step_at[offsets[0].values[i]], "step-" + std::to_string(i));

  const auto metadata = ReadAllRecords(paths.episode_metadata);
  ASSERT_EQ(metadata.size(), 2u);
  EXPECT_EQ(metadata[0].second, "12345");
  EXPECT_EQ(metadata[1].second, "54321");

  // Close() flushes (rows of the two finished episodes), then writes the row
  // of the last one.
  const auto index = ReadIndexFile(paths.episode_index);
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(index[0].values,
            (std::vector<int64_t>{0, -1, 2, static_cast<int64_t>(metadata[0].first)}));
  EXPECT_EQ(index[1].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(index[1].values, (std::vector<int64_t>{3, static_cast<int64_t>(metadata[1].first)}));
  EXPECT_GT(metadata[0].first, 0u);
}

TEST(RiegeliShardWriterTest, MetadataBeforeTheFirstEpisodeIsIgnoredAndLastCallWins) {
  const ShardPaths paths(MakeTempDir());
  RiegeliShardWriter writer;
  ASSERT_TRUE(InitWriter(writer, paths).ok());
  writer.SetEpisodeMetadata("too early");
  ASSERT_TRUE(writer.AddStep("a", true).ok());
  writer.SetEpisodeMetadata("first");
  writer.SetEpisodeMetadata("second");
  ASSERT_TRUE(writer.Close().ok());
  const auto metadata = ReadAllRecords(paths.episode_metadata);
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].second, "second");
  const auto index = ReadIndexFile(paths.episode_index);
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].values, (std::vector<int64_t>{0, static_cast<int64_t>(metadata[0].first)}));
}

TEST(RiegeliShardWriterTest, FlushWritesOneOffsetsRecordAndRowsOfFinishedEpisodesOnly) {
  const ShardPaths paths(MakeTempDir());
  RiegeliShardWriter writer;
  ASSERT_TRUE(InitWriter(writer, paths).ok());
  ASSERT_TRUE(writer.AddStep("0", true).ok());
  ASSERT_TRUE(writer.AddStep("1").ok());
  ASSERT_TRUE(writer.Flush().ok());  // Episode 0 still in progress: no row.
  ASSERT_TRUE(writer.Flush().ok());  // Nothing new: no record.
  EXPECT_EQ(ReadIndexFile(paths.step_offsets).size(), 1u);
  EXPECT_EQ(ReadIndexFile(paths.episode_index).size(), 0u);
  ASSERT_TRUE(writer.AddStep("2", true).ok());
  ASSERT_TRUE(writer.Flush().ok());  // Episode 0 finished.
  const auto index = ReadIndexFile(paths.episode_index);
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].values, (std::vector<int64_t>{0, -1}));
  const auto offsets = ReadIndexFile(paths.step_offsets);
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(offsets[0].values.size(), 2u);
  EXPECT_EQ(offsets[1].values.size(), 1u);
  // Each flush ends the steps chunk: step 2 starts a new chunk.
  EXPECT_GT(offsets[1].values[0], offsets[0].values[1] + 1);
  ASSERT_TRUE(writer.Close().ok());
  const auto final_index = ReadIndexFile(paths.episode_index);
  ASSERT_EQ(final_index.size(), 2u);
  EXPECT_EQ(final_index[1].values, (std::vector<int64_t>{2, -1}));
}

TEST(RiegeliShardWriterTest, InvalidOptionsAreAnErrorNamingThem) {
  const ShardPaths paths(MakeTempDir());
  RiegeliShardWriter writer;
  envlogger::Status status = InitWriter(writer, paths, "transpose,bogus:3");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), envlogger::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bogus"), std::string::npos) << status.message();
  EXPECT_FALSE(writer.AddStep("x", true).ok());
}

TEST(RiegeliShardWriterTest, UnwritablePathIsAnErrorNamingIt) {
  RiegeliShardWriter writer;
  const ShardPaths paths("/nonexistent/envlogger/shard");
  envlogger::Status status = InitWriter(writer, paths);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/nonexistent/envlogger/shard/steps.riegeli"), std::string::npos)
      << status.message();
}

TEST(RiegeliShardWriterTest, ReInitClosesThePreviousShard) {
  const ShardPaths first(MakeTempDir());
  const ShardPaths second(MakeTempDir());
  RiegeliShardWriter writer;
  ASSERT_TRUE(InitWriter(writer, first).ok());
  ASSERT_TRUE(writer.AddStep("a", true).ok());
  ASSERT_TRUE(InitWriter(writer, second).ok());
  EXPECT_EQ(ReadIndexFile(first.episode_index).size(), 1u);
  EXPECT_EQ(ReadIndexFile(first.step_offsets).size(), 1u);
  ASSERT_TRUE(writer.AddStep("b", true).ok());
  ASSERT_TRUE(writer.Close().ok());
  const auto steps = ReadAllRecords(second.steps);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].second, "b");
  EXPECT_EQ(ReadIndexFile(second.episode_index)[0].values, (std::vector<int64_t>{0, -1}));
}

}  // namespace
}  // namespace envlogger
