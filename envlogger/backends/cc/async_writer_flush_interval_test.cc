// The bounded-loss timer of AsyncDatasetWriter: steps reach the files, and
// the index, within the flush interval even if nobody calls Flush() or
// Close() (a process that is then killed keeps them).

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "envlogger/backends/cc/async_dataset_writer.h"
#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/backends/cc/riegeli_dataset_reader.h"

namespace envlogger {
namespace {

using std::chrono::milliseconds;

int64_t IndexedSteps(const std::string& dir) {
  // A reader that recovered nothing sees exactly what the index lists.
  RiegeliDatasetReader reader;
  if (!reader.Init(dir).ok()) return 0;
  return reader.RecoveryReports().empty() ? reader.NumSteps() : -1;
}

TEST(AsyncWriterFlushIntervalTest, PendingStepsAreFlushedWithinTheInterval) {
  const std::string dir = testing::MakeTempDir();
  auto writer =
      AsyncDatasetWriter::Create(dir, "", 0, kDefaultRiegeliWriterOptions,
                                 AsyncDatasetWriter::kDefaultMaxQueuedBytes, milliseconds(100));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*writer)->AddStep("step", i == 0).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int64_t indexed = 0;
  while (indexed != 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    indexed = IndexedSteps(dir);
  }
  EXPECT_EQ(indexed, 5);
  ASSERT_TRUE((*writer)->Close().ok());
}

TEST(AsyncWriterFlushIntervalTest, AStreamOfStepsIsFlushedToo) {
  // The queue never runs empty; the interval is checked after each step.
  const std::string dir = testing::MakeTempDir();
  auto writer =
      AsyncDatasetWriter::Create(dir, "", 0, kDefaultRiegeliWriterOptions,
                                 AsyncDatasetWriter::kDefaultMaxQueuedBytes, milliseconds(50));
  ASSERT_TRUE(writer.ok());
  const auto start = std::chrono::steady_clock::now();
  int steps = 0;
  while (std::chrono::steady_clock::now() - start < milliseconds(400)) {
    ASSERT_TRUE((*writer)->AddStep("step", steps == 0).ok());
    ++steps;
    std::this_thread::sleep_for(milliseconds(1));
  }
  // Steps older than a few intervals are indexed while the writer is open.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_GE(IndexedSteps(dir), steps / 2);
  ASSERT_TRUE((*writer)->Close().ok());
}

TEST(AsyncWriterFlushIntervalTest, ZeroIntervalDisablesTheTimer) {
  const std::string dir = testing::MakeTempDir();
  auto writer =
      AsyncDatasetWriter::Create(dir, "", 0, kDefaultRiegeliWriterOptions,
                                 AsyncDatasetWriter::kDefaultMaxQueuedBytes, milliseconds(0));
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*writer)->AddStep("step", i == 0).ok());
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(IndexedSteps(dir), 0);  // Nothing flushed, nothing indexed.
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(IndexedSteps(dir), 5);
}

}  // namespace
}  // namespace envlogger
