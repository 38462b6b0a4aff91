#include "envlogger/backends/cc/riegeli_shard_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/backends/cc/int64_datum_codec.h"
#include "envlogger/backends/cc/riegeli_shard_writer.h"
#include "envlogger/riegeli/record_writer.h"
#include "envlogger/riegeli/record_writer_options.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace {

using testing::MakeTempDir;

struct Shard {
  explicit Shard(const std::string& dir)
      : steps(dir + "/steps.riegeli"),
        step_offsets(dir + "/step_offsets.riegeli"),
        episode_metadata(dir + "/episode_metadata.riegeli"),
        episode_index(dir + "/episode_index.riegeli") {}
  envlogger::Status InitWriter(RiegeliShardWriter& writer) const {
    return writer.Init(steps, step_offsets, episode_metadata, episode_index,
                       "transpose,brotli:6,chunk_size:1M");
  }
  envlogger::Status InitReader(RiegeliShardReader& reader) const {
    return reader.Init(steps, step_offsets, episode_metadata, episode_index);
  }
  std::string steps, step_offsets, episode_metadata, episode_index;
};

std::string ReadStep(RiegeliShardReader& reader, int64_t i) {
  std::string_view record;
  envlogger::Status status = reader.ReadStep(i, &record);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return std::string(record);
}

TEST(RiegeliShardReaderTest, EmptyIndexFilename) {
  RiegeliShardReader reader;
  envlogger::Status status = reader.Init("", "", "", "");
  EXPECT_EQ(status.code(), envlogger::StatusCode::kNotFound);
  EXPECT_EQ(reader.NumSteps(), 0);
  EXPECT_EQ(reader.NumEpisodes(), 0);
}

TEST(RiegeliShardReaderTest, NonEmptySingleEpisode) {
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(writer.AddStep("step" + std::to_string(i), i == 0).ok());
    }
    writer.SetEpisodeMetadata("meta");
    ASSERT_TRUE(writer.Close().ok());
  }
  RiegeliShardReader reader;
  ASSERT_TRUE(shard.InitReader(reader).ok());
  EXPECT_EQ(reader.NumSteps(), 3);
  EXPECT_EQ(reader.NumEpisodes(), 1);
  for (int i = 2; i >= 0; --i) {
    EXPECT_EQ(ReadStep(reader, i), "step" + std::to_string(i));
  }
  auto episode = reader.Episode(0, /*include_metadata=*/true);
  ASSERT_TRUE(episode.ok()) << episode.status().ToString();
  EXPECT_EQ(episode->start, 0);
  EXPECT_EQ(episode->num_steps, 3);
  ASSERT_TRUE(episode->metadata.has_value());
  EXPECT_EQ(*episode->metadata, "meta");
  auto without_metadata = reader.Episode(0);
  ASSERT_TRUE(without_metadata.ok());
  EXPECT_FALSE(without_metadata->metadata.has_value());
}

TEST(RiegeliShardReaderTest, OutOfRangeIndicesAreOutOfRange) {
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    ASSERT_TRUE(writer.AddStep("only", true).ok());
    ASSERT_TRUE(writer.Close().ok());
  }
  RiegeliShardReader reader;
  ASSERT_TRUE(shard.InitReader(reader).ok());
  std::string_view record;
  EXPECT_EQ(reader.ReadStep(1, &record).code(), envlogger::StatusCode::kOutOfRange);
  EXPECT_EQ(reader.ReadStep(-1, &record).code(), envlogger::StatusCode::kOutOfRange);
  EXPECT_EQ(reader.Episode(1).status().code(), envlogger::StatusCode::kOutOfRange);
  EXPECT_EQ(reader.Episode(-1).status().code(), envlogger::StatusCode::kOutOfRange);
}

TEST(RiegeliShardReaderTest, ShardWithoutIndexedStepsIsEmptyStepsNotFound) {
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    ASSERT_TRUE(writer.Close().ok());
  }
  RiegeliShardReader reader;
  envlogger::Status status = shard.InitReader(reader);
  EXPECT_EQ(status.ToString(), "NOT_FOUND: Empty steps in " + shard.step_offsets);
  EXPECT_EQ(status.reason(), kEmptyShardReason);
}

TEST(RiegeliShardReaderTest, IndexCutInsideAChunkIsCompletedFromTheSteps) {
  // What a writer killed while appending to step_offsets.riegeli leaves: the
  // index keeps its complete records (3 steps) and the other 3 steps are
  // recovered from steps.riegeli.
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(writer.AddStep("step" + std::to_string(i), i == 0).ok());
      if (i == 2 || i == 5) {
        ASSERT_TRUE(writer.Flush().ok());
      }
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  struct stat info;
  ASSERT_EQ(::stat(shard.step_offsets.c_str(), &info), 0);
  ASSERT_EQ(::truncate(shard.step_offsets.c_str(), info.st_size - 5), 0);
  RiegeliShardReader reader;
  envlogger::Status status = shard.InitReader(reader);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(reader.NumSteps(), 6);
  EXPECT_EQ(reader.Recovery().recovered_steps, 3);
  EXPECT_EQ(ReadStep(reader, 2), "step2");
  EXPECT_EQ(ReadStep(reader, 5), "step5");
  // "stepN" records carry no step type, so no episode start is added.
  auto episode = reader.Episode(0);
  ASSERT_TRUE(episode.ok());
  EXPECT_EQ(episode->num_steps, 6);
  EXPECT_NE(reader.RecoverySummary().find("recovered 3 steps"), std::string::npos);
}

TEST(RiegeliShardReaderTest, StepOffsetsBehindTheEpisodeIndexAreCompletedFromTheSteps) {
  // A short step_offsets (e.g. read just before a flush appended to both
  // index files) is completed from steps.riegeli before the episode starts
  // are checked against it.
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(writer.AddStep("s", i % 2 == 0).ok());
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  // Keep episode_index (starts 0 and 2) but index only the first step.
  {
    auto offsets = riegeli::RecordWriterOptions::FromString("");
    ASSERT_TRUE(offsets.ok());
    auto rewriter = riegeli::RecordWriter::Open(shard.step_offsets, *offsets);
    ASSERT_TRUE(rewriter.ok());
    ASSERT_TRUE((*rewriter)->WriteRecord(EncodeInt64Datum({1}, {64})).ok());
    ASSERT_TRUE((*rewriter)->Close().ok());
  }
  RiegeliShardReader reader;
  envlogger::Status status = shard.InitReader(reader);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(reader.NumSteps(), 4);
  EXPECT_EQ(reader.NumEpisodes(), 2);
  EXPECT_EQ(reader.Recovery().recovered_steps, 3);
}

TEST(RiegeliShardReaderTest, EpisodeStartingBeyondTheStepsIsDataLoss) {
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(writer.AddStep("s", i % 2 == 0).ok());
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  // An episode index starting an episode at step 10 of a 4-step shard.
  {
    auto options = riegeli::RecordWriterOptions::FromString("");
    ASSERT_TRUE(options.ok());
    auto rewriter = riegeli::RecordWriter::Open(shard.episode_index, *options);
    ASSERT_TRUE(rewriter.ok());
    ASSERT_TRUE((*rewriter)->WriteRecord(EncodeInt64Datum({2, 2}, {0, -1, 10, -1})).ok());
    ASSERT_TRUE((*rewriter)->Close().ok());
  }
  RiegeliShardReader reader;
  envlogger::Status status = shard.InitReader(reader);
  EXPECT_EQ(status.code(), envlogger::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(shard.episode_index), std::string::npos) << status.message();
}

// An episode index whose starts decrease (step 3, then step 1) or go below
// step 0 would give an episode a negative length: the shard is refused.
TEST(RiegeliShardReaderTest, EpisodeStartsThatDecreaseAreDataLoss) {
  for (const std::vector<int64_t>& starts :
       {std::vector<int64_t>{0, 3, 1}, std::vector<int64_t>{-2, 1}}) {
    const Shard shard(MakeTempDir());
    {
      RiegeliShardWriter writer;
      ASSERT_TRUE(shard.InitWriter(writer).ok());
      for (int i = 0; i < 4; ++i) ASSERT_TRUE(writer.AddStep("s", i % 2 == 0).ok());
      ASSERT_TRUE(writer.Close().ok());
    }
    {
      std::vector<int64_t> values;
      for (const int64_t start : starts) values.insert(values.end(), {start, -1});
      auto options = riegeli::RecordWriterOptions::FromString("");
      ASSERT_TRUE(options.ok());
      auto rewriter = riegeli::RecordWriter::Open(shard.episode_index, *options);
      ASSERT_TRUE(rewriter.ok());
      ASSERT_TRUE(
          (*rewriter)
              ->WriteRecord(EncodeInt64Datum({static_cast<int64_t>(starts.size()), 2}, values))
              .ok());
      ASSERT_TRUE((*rewriter)->Close().ok());
    }
    RiegeliShardReader reader;
    const envlogger::Status status = shard.InitReader(reader);
    EXPECT_EQ(status.code(), envlogger::StatusCode::kDataLoss) << status.message();
    EXPECT_NE(status.message().find(shard.episode_index), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(starts.size() == 3 ? "starts episode 2 at step 1, before "
                                                         "episode 1 (step 3)"
                                                       : "at step -2"),
              std::string::npos)
        << status.message();
  }
}

TEST(RiegeliShardReaderTest, BadIndexPositionsFailOnlyTheirOwnReads) {
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(shard.InitWriter(writer).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(writer.AddStep("step" + std::to_string(i), i == 0).ok());
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  {
    // Steps are at 64, 65, 66. 100000 is beyond the file; 30 is inside the
    // file signature, where no record starts.
    auto options = riegeli::RecordWriterOptions::FromString("");
    ASSERT_TRUE(options.ok());
    auto rewriter = riegeli::RecordWriter::Open(shard.step_offsets, *options);
    ASSERT_TRUE(rewriter.ok());
    ASSERT_TRUE((*rewriter)->WriteRecord(EncodeInt64Datum({5}, {64, 100000, 65, 30, 66})).ok());
    ASSERT_TRUE((*rewriter)->Close().ok());
  }
  RiegeliShardReader reader;
  ASSERT_TRUE(shard.InitReader(reader).ok());
  std::string_view record;
  envlogger::Status beyond = reader.ReadStep(1, &record);
  EXPECT_FALSE(beyond.ok());
  EXPECT_NE(beyond.message().find(shard.steps), std::string::npos) << beyond.message();
  EXPECT_EQ(ReadStep(reader, 2), "step1");
  envlogger::Status between = reader.ReadStep(3, &record);
  EXPECT_EQ(between.code(), envlogger::StatusCode::kDataLoss);
  EXPECT_NE(between.message().find("position 30"), std::string::npos) << between.message();
  EXPECT_EQ(ReadStep(reader, 4), "step2");
  EXPECT_EQ(ReadStep(reader, 0), "step0");
}

// A damaged chunk of steps.riegeli fails only its own steps, each read naming
// the file, the position and the byte range, and is recorded once.
TEST(RiegeliShardReaderTest, DamagedChunkFailsOnlyItsStepsAndIsRecorded) {
  const Shard shard(MakeTempDir());
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(writer
                    .Init(shard.steps, shard.step_offsets, shard.episode_metadata,
                          shard.episode_index, "uncompressed,chunk_size:100")
                    .ok());
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(
          writer.AddStep("step" + std::to_string(i) + std::string(40, 'x'), i % 10 == 0).ok());
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  // Chunk begins: a record whose position does not follow its predecessor's.
  std::vector<uint64_t> begins;
  std::vector<size_t> first_step;
  const auto records = testing::ReadAllRecords(shard.steps);
  ASSERT_EQ(records.size(), 30u);
  for (size_t i = 0; i < records.size(); ++i) {
    if (i == 0 || records[i].first != records[i - 1].first + 1) {
      begins.push_back(records[i].first);
      first_step.push_back(i);
    }
  }
  ASSERT_GE(begins.size(), 5u);
  {
    std::string file = testing::ReadFile(shard.steps);
    file[begins[2] + 10] ^= 1;  // The chunk header's data_size.
    FILE* f = fopen(shard.steps.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(fwrite(file.data(), 1, file.size(), f), file.size());
    fclose(f);
  }
  RiegeliShardReader reader;
  ASSERT_TRUE(shard.InitReader(reader).ok());
  ASSERT_EQ(reader.NumSteps(), 30);
  const int64_t lost_first = static_cast<int64_t>(first_step[2]);
  const int64_t lost_last = static_cast<int64_t>(first_step[3]) - 1;
  std::string_view record;
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t i = lost_first; i <= lost_last; ++i) {
      const envlogger::Status status = reader.ReadStep(i, &record);
      EXPECT_EQ(status.code(), envlogger::StatusCode::kDataLoss);
      EXPECT_EQ(status.reason(), kDamagedChunkReason);
      EXPECT_NE(status.message().find(shard.steps), std::string::npos) << status.message();
      EXPECT_NE(status.message().find("position " + std::to_string(records[i].first)),
                std::string::npos)
          << status.message();
      EXPECT_NE(status.message().find("damaged chunk: bytes [" + std::to_string(begins[2]) + ", " +
                                      std::to_string(begins[3]) + ")"),
                std::string::npos)
          << status.message();
    }
    // Every other step reads, in any order (later chunks of the same block
    // included).
    for (int64_t i : {lost_last + 1, int64_t{29}, lost_first - 1, int64_t{0}, lost_last + 2}) {
      EXPECT_EQ(ReadStep(reader, i), records[i].second) << i;
    }
  }
  ASSERT_EQ(reader.SkippedRegions().size(), 1u);
  const SkippedRegion& region = reader.SkippedRegions()[0];
  EXPECT_EQ(region.path, shard.steps);
  EXPECT_EQ(region.begin, begins[2]);
  EXPECT_EQ(region.end, begins[3]);
  EXPECT_EQ(region.first_step, lost_first);
  EXPECT_EQ(region.last_step, lost_last);
  EXPECT_EQ(region.num_steps(), lost_last - lost_first + 1);
  EXPECT_NE(region.message.find("corrupted chunk header"), std::string::npos) << region.message;
  // A clone starts with its own, empty list.
  auto clone = reader.Clone();
  ASSERT_TRUE(clone.ok());
  EXPECT_TRUE(clone->SkippedRegions().empty());
}

TEST(RiegeliShardReaderTest, MissingIndexFileIsAnErrorNamingIt) {
  const Shard shard(MakeTempDir());
  RiegeliShardReader reader;
  envlogger::Status status = shard.InitReader(reader);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(shard.step_offsets), std::string::npos) << status.message();
}

TEST(RiegeliShardReaderTest, ClonesShareTheIndexAndReadConcurrently) {
  const Shard shard(MakeTempDir());
  constexpr int kSteps = 500;
  {
    RiegeliShardWriter writer;
    ASSERT_TRUE(writer
                    .Init(shard.steps, shard.step_offsets, shard.episode_metadata,
                          shard.episode_index, "brotli:1,chunk_size:4K")
                    .ok());
    for (int i = 0; i < kSteps; ++i) {
      ASSERT_TRUE(
          writer.AddStep(std::string(100, 'a' + i % 26) + std::to_string(i), i % 50 == 0).ok());
    }
    ASSERT_TRUE(writer.Close().ok());
  }
  RiegeliShardReader reader;
  ASSERT_TRUE(shard.InitReader(reader).ok());
  std::vector<RiegeliShardReader> clones;
  for (int t = 0; t < 4; ++t) {
    auto clone = reader.Clone();
    ASSERT_TRUE(clone.ok()) << clone.status().ToString();
    clones.push_back(std::move(clone).value());
  }
  reader.Close();  // Clones have their own files.
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kSteps; ++k) {
        const int i = (k * 7919 + t * 131) % kSteps;  // A different scattered order per thread.
        std::string_view record;
        if (!clones[t].ReadStep(i, &record).ok() ||
            record != std::string(100, 'a' + i % 26) + std::to_string(i)) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(clones[0].NumEpisodes(), 10);
  auto clone_of_closed = reader.Clone();
  ASSERT_TRUE(clone_of_closed.ok());
  EXPECT_EQ(ReadStep(*clone_of_closed, 7), std::string(100, 'h') + "7");
}

}  // namespace
}  // namespace envlogger
