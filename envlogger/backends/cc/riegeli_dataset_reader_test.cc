#include "envlogger/backends/cc/riegeli_dataset_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "envlogger/backends/cc/dataset_filesystem.h"
#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/backends/cc/int64_datum_codec.h"
#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"
#include "envlogger/backends/cc/riegeli_dataset_writer.h"
#include "envlogger/backends/cc/upstream_fixture_index.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace {

using testing::MakeTempDir;

std::string Step(RiegeliDatasetReader& reader, int64_t i) {
  std::string_view record;
  envlogger::Status status = reader.ReadStep(i, &record);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return std::string(record);
}

std::pair<int64_t, int64_t> EpisodeRange(RiegeliDatasetReader& reader, int64_t i) {
  auto info = reader.Episode(i);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? std::pair<int64_t, int64_t>(info->start, info->num_steps)
                   : std::pair<int64_t, int64_t>(-1, -1);
}

// Writes one shard per entry of `shards`: each a list of episode lengths.
// Steps are "s<global index>"; episode e gets metadata "m<e>" if e is even.
void WriteDataset(const std::string& dir, const std::vector<std::vector<int>>& shards) {
  int64_t step = 0;
  int64_t episode = 0;
  for (const auto& lengths : shards) {
    RiegeliDatasetWriter writer;
    ASSERT_TRUE(writer.Init(dir, "dataset metadata").ok());
    for (int length : lengths) {
      for (int s = 0; s < length; ++s) {
        ASSERT_TRUE(writer.AddStep("s" + std::to_string(step++), s == 0).ok());
        if (s == 0 && episode % 2 == 0) writer.SetEpisodeMetadata("m" + std::to_string(episode));
      }
      ++episode;
    }
    ASSERT_TRUE(writer.Close().ok());
  }
}

TEST(RiegeliDatasetReaderTest, MissingDataDirIsNotFoundNamingIt) {
  RiegeliDatasetReader reader;
  envlogger::Status status = reader.Init("/nonexistent/envlogger/data");
  EXPECT_EQ(status.code(), envlogger::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("/nonexistent/envlogger/data"), std::string::npos)
      << status.message();
}

TEST(RiegeliDatasetReaderTest, DirectoryWithoutMetadataIsNotFound) {
  const std::string dir = MakeTempDir();
  RiegeliDatasetReader reader;
  envlogger::Status status = reader.Init(dir);
  EXPECT_EQ(status.code(), envlogger::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("metadata.riegeli"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(dir), std::string::npos) << status.message();
}

TEST(RiegeliDatasetReaderTest, SimpleMetadata) {
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{}});
  RiegeliDatasetReader reader;
  // The only shard has no step: tolerated, reported.
  envlogger::Status status = reader.Init(dir);
  EXPECT_EQ(status.ToString().rfind("NOT_FOUND: Empty steps in " + dir + "/", 0), 0u)
      << status.ToString();
  ASSERT_TRUE(reader.Metadata().has_value());
  EXPECT_EQ(*reader.Metadata(), "dataset metadata");
  EXPECT_EQ(reader.NumSteps(), 0);
  EXPECT_EQ(reader.NumEpisodes(), 0);
  EXPECT_EQ(reader.DataDir(), dir);
}

TEST(RiegeliDatasetReaderTest, OneShard) {
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{3, 2}});
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  ASSERT_EQ(reader.NumSteps(), 5);
  ASSERT_EQ(reader.NumEpisodes(), 2);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Step(reader, i), "s" + std::to_string(i));
  EXPECT_EQ(EpisodeRange(reader, 0), (std::pair<int64_t, int64_t>(0, 3)));
  EXPECT_EQ(EpisodeRange(reader, 1), (std::pair<int64_t, int64_t>(3, 2)));
  auto first = reader.Episode(0, true);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->metadata, std::optional<std::string>("m0"));
  auto second = reader.Episode(1, true);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->metadata.has_value());
  std::string_view record;
  EXPECT_EQ(reader.ReadStep(5, &record).code(), envlogger::StatusCode::kOutOfRange);
  EXPECT_EQ(reader.Episode(2).status().code(), envlogger::StatusCode::kOutOfRange);
}

TEST(RiegeliDatasetReaderTest, TwoShards) {
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{3, 2}, {4, 1, 2}});
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  ASSERT_EQ(reader.NumSteps(), 12);
  ASSERT_EQ(reader.NumEpisodes(), 5);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(Step(reader, i), "s" + std::to_string(i));
  const std::pair<int64_t, int64_t> expected[] = {{0, 3}, {3, 2}, {5, 4}, {9, 1}, {10, 2}};
  for (int e = 0; e < 5; ++e) EXPECT_EQ(EpisodeRange(reader, e), expected[e]) << e;
  auto metadata = reader.Episode(4, true);
  ASSERT_TRUE(metadata.ok());
  EXPECT_EQ(metadata->metadata, std::optional<std::string>("m4"));
  EXPECT_EQ(reader.ShardEpisodeStarts(), (std::vector<int64_t>{0, 2}));
}

TEST(RiegeliDatasetReaderTest, InitFromShardsReadsThroughTheOpener) {
  // The dataset's files are copied into memory and the directory removed:
  // every read must go through the opener, which also records the paths.
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{3, 2}, {4, 1, 2}});
  auto shard_dirs = ListShardDirectories(dir);
  ASSERT_TRUE(shard_dirs.ok());
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::filesystem::remove_all(dir);
  auto opened = std::make_shared<std::map<std::string, int>>();
  riegeli::SourceOpener open =
      [files, opened](
          const std::string& path) -> envlogger::StatusOr<std::unique_ptr<riegeli::ByteSource>> {
    ++(*opened)[path];
    auto it = files.find(path);
    if (it == files.end()) return envlogger::NotFoundError(path);
    return std::unique_ptr<riegeli::ByteSource>(new riegeli::StringSource(it->second));
  };
  // The same dataset whether shards load on threads (0: the default) or
  // all on the calling thread (1).
  RiegeliDatasetReader reader;
  for (const size_t max_threads : {0, 1}) {
    SCOPED_TRACE("max_threads=" + std::to_string(max_threads));
    ASSERT_TRUE(reader.InitFromShards(dir, *shard_dirs, open, max_threads).ok());
    ASSERT_EQ(reader.NumSteps(), 12);
    ASSERT_EQ(reader.NumEpisodes(), 5);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(Step(reader, i), "s" + std::to_string(i));
    EXPECT_EQ(EpisodeRange(reader, 3), (std::pair<int64_t, int64_t>(9, 1)));
    EXPECT_EQ(reader.Metadata(), std::optional<std::string>("dataset metadata"));
  }
  auto clone = reader.Clone();
  ASSERT_TRUE(clone.ok());
  EXPECT_EQ(Step(*clone, 11), "s11");
  EXPECT_EQ(opened->count(dir + "/metadata.riegeli"), 1u);
  EXPECT_GE(opened->at((*shard_dirs)[1] + "/steps.riegeli"), 2);  // Reader and clone.
}

TEST(RiegeliDatasetReaderTest, InitFromShardsTreatsNotFoundIndexFilesAsMissing) {
  // The index files are missing (NOT_FOUND from the opener): the index is
  // recovered from the steps, as for a writer killed before writing them.
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{2, 3}});
  auto shard_dirs = ListShardDirectories(dir);
  ASSERT_TRUE(shard_dirs.ok());
  std::map<std::string, std::string> files;
  const std::string shard = (*shard_dirs)[0].substr(dir.size() + 1);
  for (const std::string& name : {std::string("metadata.riegeli"), shard + "/steps.riegeli",
                                  shard + "/episode_metadata.riegeli"}) {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    files[dir + "/" + name] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  riegeli::SourceOpener open =
      [files](
          const std::string& path) -> envlogger::StatusOr<std::unique_ptr<riegeli::ByteSource>> {
    auto it = files.find(path);
    if (it == files.end()) return envlogger::NotFoundError(path);
    return std::unique_ptr<riegeli::ByteSource>(new riegeli::StringSource(it->second));
  };
  RiegeliDatasetReader reader;
  const envlogger::Status status = reader.InitFromShards(dir, *shard_dirs, open);
  EXPECT_TRUE(status.ok()) << status.ToString();
  // The steps are found by scanning steps.riegeli (these test steps are not
  // Data tuples, so no episode starts can be recovered from them).
  ASSERT_EQ(reader.NumSteps(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Step(reader, i), "s" + std::to_string(i));
}

TEST(RiegeliDatasetReaderTest, EmptyShardsAreSkippedAndReported) {
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{2}, {}, {}, {3}, {}});
  RiegeliDatasetReader reader;
  envlogger::Status status = reader.Init(dir);
  EXPECT_EQ(status.ToString().rfind("NOT_FOUND: Empty steps in ", 0), 0u) << status.ToString();
  ASSERT_EQ(reader.NumSteps(), 5);
  ASSERT_EQ(reader.NumEpisodes(), 2);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Step(reader, i), "s" + std::to_string(i));
  EXPECT_EQ(EpisodeRange(reader, 1), (std::pair<int64_t, int64_t>(2, 3)));
}

TEST(RiegeliDatasetReaderTest, TruncatedShardIsTolerated) {
  // Like upstream's test_truncated_trajectory: the last shard's files are
  // emptied; the other shards stay readable.
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{2, 2}, {3}});
  auto shards = ListShardDirectories(dir);
  ASSERT_TRUE(shards.ok());
  for (const char* name : {internal::kStepsFilename, internal::kStepOffsetsFilename,
                           internal::kEpisodeMetadataFilename, internal::kEpisodeIndexFilename}) {
    ASSERT_EQ(::truncate((shards->back() + "/" + name).c_str(), 0), 0);
  }
  RiegeliDatasetReader reader;
  envlogger::Status status = reader.Init(dir);
  EXPECT_EQ(status.ToString(),
            "NOT_FOUND: Empty steps in " + shards->back() + "/step_offsets.riegeli");
  EXPECT_EQ(reader.NumSteps(), 4);
  EXPECT_EQ(reader.NumEpisodes(), 2);
  EXPECT_EQ(Step(reader, 3), "s3");
}

TEST(RiegeliDatasetReaderTest, GetShard) {
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{3, 2}, {4, 1, 2}});
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  auto shard = reader.GetShard(3);
  ASSERT_TRUE(shard.ok()) << shard.status().ToString();
  EXPECT_EQ(shard->NumSteps(), 7);
  EXPECT_EQ(shard->NumEpisodes(), 3);
  std::string_view record;
  ASSERT_TRUE(shard->ReadStep(0, &record).ok());
  EXPECT_EQ(record, "s5");
  auto local = shard->Episode(1);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->start, 4);  // Shard-local.
  EXPECT_EQ(reader.GetShard(5).status().code(), envlogger::StatusCode::kOutOfRange);
  EXPECT_EQ(reader.GetShard(-1).status().code(), envlogger::StatusCode::kOutOfRange);
}

TEST(RiegeliDatasetReaderTest, CloneTest) {
  const std::string dir = MakeTempDir();
  WriteDataset(dir, {{30, 20}, {40, 10, 25}, {5}});
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  std::vector<RiegeliDatasetReader> clones;
  for (int t = 0; t < 4; ++t) {
    auto clone = reader.Clone();
    ASSERT_TRUE(clone.ok()) << clone.status().ToString();
    clones.push_back(std::move(clone).value());
  }
  reader.Close();
  EXPECT_EQ(clones[0].Metadata(), std::optional<std::string>("dataset metadata"));
  EXPECT_EQ(clones[0].NumSteps(), 130);
  EXPECT_EQ(clones[0].NumEpisodes(), 6);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 1000; ++k) {
        const int i = (k * 37 + t * 11) % 130;
        std::string_view record;
        if (!clones[t].ReadStep(i, &record).ok() || record != "s" + std::to_string(i)) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Every dataset written by upstream envlogger 1.3 reads back with the
// counts, episodes and exact record bytes upstream's reader reported.
TEST(RiegeliDatasetReaderTest, ReadsEveryUpstreamFixture) {
  for (const std::string& name : testing::UpstreamFixtureNames()) {
    SCOPED_TRACE(name);
    testing::FixtureDataset expected;
    ASSERT_TRUE(testing::LoadUpstreamFixtureIndex(name, &expected));
    RiegeliDatasetReader reader;
    envlogger::Status status =
        reader.Init(envlogger::testing::TestDataPath("upstream-1.3/" + name));
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_EQ(reader.NumSteps(), expected.num_steps);
    ASSERT_EQ(reader.NumEpisodes(), expected.num_episodes);
    ASSERT_TRUE(reader.Metadata().has_value());
    EXPECT_EQ(reader.Metadata()->size(), expected.metadata.length);
    EXPECT_EQ(testing::Fnv1a64(*reader.Metadata()), expected.metadata.fnv);

    std::vector<testing::FixtureRecord> steps;
    std::vector<std::optional<testing::FixtureRecord>> episode_metadata;
    for (const auto& shard : expected.shards) {
      steps.insert(steps.end(), shard.steps.begin(), shard.steps.end());
      std::map<uint64_t, testing::FixtureRecord> by_position;
      for (const auto& record : shard.episode_metadata) by_position[record.position] = record;
      for (const auto& record : shard.episode_index) {
        auto datum = DecodeInt64Datum(record.bytes);
        ASSERT_TRUE(datum.ok());
        for (size_t i = 1; i < datum->values.size(); i += 2) {
          const int64_t offset = datum->values[i];
          if (offset < 0) {
            episode_metadata.push_back(std::nullopt);
          } else {
            ASSERT_EQ(by_position.count(offset), 1u) << offset;
            episode_metadata.push_back(by_position[offset]);
          }
        }
      }
    }
    ASSERT_EQ(steps.size(), static_cast<size_t>(expected.num_steps));
    for (size_t i = 0; i < steps.size(); ++i) {
      std::string_view record;
      ASSERT_TRUE(reader.ReadStep(i, &record).ok()) << i;
      EXPECT_EQ(record.size(), steps[i].length) << "step " << i;
      EXPECT_EQ(testing::Fnv1a64(record), steps[i].fnv) << "step " << i;
    }
    ASSERT_EQ(episode_metadata.size(), expected.episodes.size());
    for (size_t e = 0; e < expected.episodes.size(); ++e) {
      auto info = reader.Episode(e, /*include_metadata=*/true);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      EXPECT_EQ(info->start, expected.episodes[e].first) << "episode " << e;
      EXPECT_EQ(info->num_steps, expected.episodes[e].second) << "episode " << e;
      ASSERT_EQ(info->metadata.has_value(), episode_metadata[e].has_value()) << "episode " << e;
      if (info->metadata.has_value()) {
        EXPECT_EQ(testing::Fnv1a64(*info->metadata), episode_metadata[e]->fnv) << "episode " << e;
      }
    }
  }
}

}  // namespace
}  // namespace envlogger
