// Round trips through RiegeliShardWriter and RiegeliShardReader (ports of
// upstream's riegeli_shard_io_test).

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/backends/cc/riegeli_shard_reader.h"
#include "envlogger/backends/cc/riegeli_shard_writer.h"

namespace envlogger {
namespace {

struct Files {
  explicit Files(const std::string& dir)
      : steps(dir + "/steps.riegeli"),
        step_offsets(dir + "/step_offsets.riegeli"),
        episode_metadata(dir + "/episode_metadata.riegeli"),
        episode_index(dir + "/episode_index.riegeli") {}
  std::string steps, step_offsets, episode_metadata, episode_index;
};

// Writes `episode_lengths` episodes of steps "e<episode>s<step>", flushing
// after a step whenever `flush_after(global step)` says so, then reads the
// shard back and checks every step and episode.
template <typename FlushPredicate>
void WriteAndCheck(const std::vector<int>& episode_lengths, FlushPredicate flush_after) {
  const Files files(testing::MakeTempDir());
  std::vector<std::string> steps;
  std::vector<std::pair<int64_t, int64_t>> episodes;
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(writer
                    .Init(files.steps, files.step_offsets, files.episode_metadata,
                          files.episode_index, "transpose,brotli:6,chunk_size:1M")
                    .ok());
    for (size_t e = 0; e < episode_lengths.size(); ++e) {
      episodes.emplace_back(steps.size(), episode_lengths[e]);
      for (int s = 0; s < episode_lengths[e]; ++s) {
        steps.push_back("e" + std::to_string(e) + "s" + std::to_string(s));
        ASSERT_TRUE(writer.AddStep(steps.back(), s == 0).ok());
        if (flush_after(steps.size() - 1)) {
          ASSERT_TRUE(writer.Flush().ok());
        }
      }
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  RiegeliShardReader reader;
  ASSERT_TRUE(
      reader.Init(files.steps, files.step_offsets, files.episode_metadata, files.episode_index)
          .ok());
  ASSERT_EQ(reader.NumSteps(), static_cast<int64_t>(steps.size()));
  ASSERT_EQ(reader.NumEpisodes(), static_cast<int64_t>(episodes.size()));
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string_view record;
    ASSERT_TRUE(reader.ReadStep(i, &record).ok());
    EXPECT_EQ(record, steps[i]);
  }
  for (size_t e = 0; e < episodes.size(); ++e) {
    auto info = reader.Episode(e);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->start, episodes[e].first) << e;
    EXPECT_EQ(info->num_steps, episodes[e].second) << e;
  }
}

TEST(RiegeliShardIoTest, NonEmptyMultipleEpisodes) {
  // Episodes (0,3), (3,3), (6,1), flushed only at close.
  WriteAndCheck({3, 3, 1}, [](size_t) { return false; });
}

TEST(RiegeliShardIoTest, MultipleFlushes) {
  std::mt19937 rng(42);
  std::vector<int> lengths;
  std::uniform_int_distribution<int> length(1, 12);
  for (int e = 0; e < 30; ++e) lengths.push_back(length(rng));
  std::bernoulli_distribution flip(0.3);
  WriteAndCheck(lengths, [&](size_t) { return flip(rng); });
}

TEST(RiegeliShardIoTest, FlushAfterEveryStep) {
  WriteAndCheck({1, 4, 2, 1, 1, 5}, [](size_t) { return true; });
}

}  // namespace
}  // namespace envlogger
