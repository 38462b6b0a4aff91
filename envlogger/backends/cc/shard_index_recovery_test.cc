#include "envlogger/backends/cc/shard_index_recovery.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/converters/data_wire.h"
#include "envlogger/riegeli/record_writer.h"
#include "envlogger/riegeli/record_writer_options.h"

namespace envlogger {
namespace {

// An envlogger step record as the codec writes it: Data{tuple{[timestep,
// action, custom_data]}} with timestep = Data{tuple{[step_type, reward,
// discount, observation]}}, the step type a Python int (bigint_values), the
// observation a bigint holding `tag` so records differ.
std::string StepRecord(int step_type, int tag) {
  std::string out;
  WireWriter w(&out);
  const size_t step = w.BeginMessage(wire::kDataTuple);
  const size_t timestep_element = w.BeginMessage(wire::kListValues);
  const size_t timestep = w.BeginMessage(wire::kDataTuple);
  for (int value : {step_type, -1, -1, tag}) {
    const size_t element = w.BeginMessage(wire::kListValues);
    if (value >= 0) {
      const size_t datum = w.BeginMessage(wire::kDataDatum);
      const size_t values = w.BeginMessage(wire::kDatumValues);
      w.Bytes(wire::kBigintValues, BigintBytesFromInt64(value));
      w.EndMessage(values);
      w.EndMessage(datum);
    }
    w.EndMessage(element);
  }
  w.EndMessage(timestep);
  w.EndMessage(timestep_element);
  for (int i = 0; i < 2; ++i)
    w.EndMessage(w.BeginMessage(wire::kListValues));  // action, custom_data: None.
  w.EndMessage(step);
  return out;
}

// Writes `types` as steps, one chunk per `steps_per_chunk` steps; returns
// the record positions.
std::vector<int64_t> WriteSteps(const std::string& path, const std::vector<int>& types,
                                int steps_per_chunk) {
  auto options = riegeli::RecordWriterOptions::FromString("uncompressed");
  EXPECT_TRUE(options.ok());
  auto writer = riegeli::RecordWriter::Open(path, *options);
  EXPECT_TRUE(writer.ok());
  std::vector<int64_t> positions;
  for (size_t i = 0; i < types.size(); ++i) {
    EXPECT_TRUE((*writer)->WriteRecord(StepRecord(types[i], static_cast<int>(i))).ok());
    positions.push_back(static_cast<int64_t>((*writer)->LastPos().numeric()));
    if ((i + 1) % steps_per_chunk == 0) {
      EXPECT_TRUE((*writer)->Flush().ok());
    }
  }
  EXPECT_TRUE((*writer)->Close().ok());
  return positions;
}

// Three episodes of four steps: FIRST MID MID LAST.
const std::vector<int> kThreeEpisodes = {0, 1, 1, 2, 0, 1, 1, 2, 0, 1, 1, 2};

TEST(StepTypeOfRecordTest, ReadsTheStepTypeOfEnvloggerSteps) {
  EXPECT_EQ(StepTypeOfRecord(StepRecord(0, 7)), StepType::kFirst);
  EXPECT_EQ(StepTypeOfRecord(StepRecord(1, 7)), StepType::kMid);
  EXPECT_EQ(StepTypeOfRecord(StepRecord(2, 300)), StepType::kLast);
  EXPECT_EQ(StepTypeOfRecord(StepRecord(3, 7)), std::nullopt);
  EXPECT_EQ(StepTypeOfRecord(""), std::nullopt);
  EXPECT_EQ(StepTypeOfRecord("step0"), std::nullopt);
  const std::string record = StepRecord(0, 7);
  for (size_t cut = 0; cut < record.size(); ++cut) {
    EXPECT_EQ(StepTypeOfRecord(record.substr(0, cut)), std::nullopt) << cut;
  }
}

TEST(EpisodeStartsOfTest, FirstAfterLastAfterDamageAndKnownStarts) {
  const std::optional<StepType> kF = StepType::kFirst, kM = StepType::kMid, kL = StepType::kLast,
                                kNone = std::nullopt;
  // 0: FIRST; 3: after LAST; 5: after damage; 7: known; 8: FIRST without a
  // LAST before it; records without a step type start nothing by themselves.
  const std::vector<ScannedStep> steps = {
      {kF}, {kM}, {kL}, {kM}, {kM}, {kM, true}, {kNone}, {kM, false, true}, {kF}, {kNone}, {kL}};
  EXPECT_EQ(EpisodeStartsOf(steps), (std::vector<int64_t>{0, 3, 5, 7, 8}));
  EXPECT_EQ(EpisodeStartsOf({}), (std::vector<int64_t>{}));
  EXPECT_EQ(EpisodeStartsOf({{kM}, {kM}}), (std::vector<int64_t>{}));
  EXPECT_EQ(EpisodeStartsOf({{kL}, {kNone}, {kM}}), (std::vector<int64_t>{1}));
}

TEST(RecoverShardIndexTest, CompleteIndexIsUnchanged) {
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  const std::vector<int64_t> positions = WriteSteps(path, kThreeEpisodes, 5);
  ShardIndexLists index{positions, {0, 4, 8}, {-1, -1, -1}};
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  EXPECT_FALSE(recovery->changed());
  EXPECT_EQ(index.step_offsets, positions);
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0, 4, 8}));
}

// Found by dataset_reader_fuzzer: an index whose last step offset is the
// largest int64 overflowed computing where the scan starts (UBSan). Such an
// offset lies beyond the file: there is nothing to scan and nothing to add.
TEST(RecoverShardIndexTest, LastIndexedOffsetAtInt64MaxScansNothing) {
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  const std::vector<int64_t> positions = WriteSteps(path, kThreeEpisodes, 5);
  const int64_t max = std::numeric_limits<int64_t>::max();
  ShardIndexLists index{{positions[0], max}, {0}, {-1}};
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  EXPECT_EQ(recovery->recovered_steps, 0);
  EXPECT_EQ(recovery->recovered_episodes, 0);
  EXPECT_EQ(index.step_offsets, (std::vector<int64_t>{positions[0], max}));
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0}));
}

TEST(RecoverShardIndexTest, KilledWriterStepsAndEpisodesAreRecoveredWithoutMerging) {
  // The last flush indexed 6 steps and the one finished episode; episode 1
  // (steps 4..7, in progress at the flush) and episode 2 were never indexed.
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  const std::vector<int64_t> positions = WriteSteps(path, kThreeEpisodes, 3);
  ShardIndexLists index{{positions.begin(), positions.begin() + 6}, {0}, {64}};
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  EXPECT_EQ(recovery->recovered_steps, 6);
  EXPECT_EQ(recovery->recovered_episodes, 2);
  EXPECT_EQ(index.step_offsets, positions);
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0, 4, 8}));
  EXPECT_EQ(index.episode_metadata_offsets, (std::vector<int64_t>{64, -1, -1}));
  EXPECT_NE(recovery->Summary(path).find("recovered 6 steps and 2 episode starts"),
            std::string::npos);
}

TEST(RecoverShardIndexTest, MissingIndexRebuildsEverything) {
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  const std::vector<int64_t> positions = WriteSteps(path, kThreeEpisodes, 4);
  ShardIndexLists index;
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  EXPECT_EQ(index.step_offsets, positions);
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0, 4, 8}));
}

TEST(RecoverShardIndexTest, IncompleteEpisodeEndsWhereTheNextStarts) {
  // Episode 0 has no LAST (its end was never written): it must not absorb
  // episode 1.
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  const std::vector<int64_t> positions = WriteSteps(path, {0, 1, 1, 0, 1, 2}, 2);
  ShardIndexLists index;
  ASSERT_TRUE(RecoverShardIndex(path, &index).ok());
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0, 3}));
}

TEST(RecoverShardIndexTest, TornTailIsReportedAndCompleteChunksKept) {
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  const std::vector<int64_t> positions = WriteSteps(path, kThreeEpisodes, 4);
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  ASSERT_EQ(::truncate(path.c_str(), info.st_size - 10), 0);
  ShardIndexLists index;
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  EXPECT_EQ(index.step_offsets, std::vector<int64_t>(positions.begin(), positions.begin() + 8));
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0, 4}));
  EXPECT_GT(recovery->torn_tail_bytes, 0u);
  EXPECT_NE(recovery->Summary(path).find("incomplete chunk"), std::string::npos);
}

TEST(RecoverShardIndexTest, StepsAfterADamagedChunkFormTheirOwnEpisode) {
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  // Chunks: [F M] [M L] [F M] [M L] [F M] [M L]; damage the data of the
  // third chunk (episode 1's FIRST is lost).
  const std::vector<int64_t> positions = WriteSteps(path, kThreeEpisodes, 2);
  {
    FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fseek(f, static_cast<long>(positions[4] + 45), SEEK_SET), 0);
    const int byte = std::fgetc(f);
    ASSERT_EQ(std::fseek(f, static_cast<long>(positions[4] + 45), SEEK_SET), 0);
    std::fputc(byte ^ 0xff, f);
    std::fclose(f);
  }
  ShardIndexLists index;
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  ASSERT_EQ(recovery->skipped.size(), 1u);
  std::vector<int64_t> expected = positions;
  expected.erase(expected.begin() + 4, expected.begin() + 6);
  EXPECT_EQ(index.step_offsets, expected);
  // Episode 0, the headless rest of episode 1 (its MID LAST), episode 2.
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0, 4, 6}));
}

TEST(RecoverShardIndexTest, RecordsWithoutStepTypesNeverStartEpisodes) {
  const std::string path = testing::MakeTempDir() + "/steps.riegeli";
  {
    auto options = riegeli::RecordWriterOptions::FromString("");
    ASSERT_TRUE(options.ok());
    auto writer = riegeli::RecordWriter::Open(path, *options);
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE((*writer)->WriteRecord("step" + std::to_string(i)).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  ShardIndexLists index{{64, 65}, {0}, {-1}};
  auto recovery = RecoverShardIndex(path, &index);
  ASSERT_TRUE(recovery.ok());
  EXPECT_EQ(index.step_offsets, (std::vector<int64_t>{64, 65, 66, 67}));
  EXPECT_EQ(index.episode_starts, (std::vector<int64_t>{0}));
}

TEST(RecoverShardIndexTest, MissingStepsFileIsAnError) {
  ShardIndexLists index;
  auto recovery = RecoverShardIndex(testing::MakeTempDir() + "/steps.riegeli", &index);
  EXPECT_FALSE(recovery.ok());
}

}  // namespace
}  // namespace envlogger
