#include "envlogger/backends/cc/async_dataset_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "envlogger/backends/cc/dataset_test_util.h"
#include "envlogger/backends/cc/riegeli_dataset_reader.h"

namespace envlogger {
namespace {

using testing::MakeTempDir;

std::unique_ptr<AsyncDatasetWriter> Create(
    const std::string& dir, int64_t max_episodes_per_shard = 0,
    const std::string& options = kDefaultRiegeliWriterOptions,
    size_t max_queued_bytes = AsyncDatasetWriter::kDefaultMaxQueuedBytes) {
  auto writer =
      AsyncDatasetWriter::Create(dir, "meta", max_episodes_per_shard, options, max_queued_bytes);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  return writer.ok() ? std::move(writer).value() : nullptr;
}

std::string StepPayload(int i) { return "step-" + std::to_string(i) + std::string(i % 97, 'x'); }

void ExpectDataset(const std::string& dir, int num_steps, int steps_per_episode) {
  RiegeliDatasetReader reader;
  envlogger::Status status = reader.Init(dir);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(reader.NumSteps(), num_steps);
  ASSERT_EQ(reader.NumEpisodes(), (num_steps + steps_per_episode - 1) / steps_per_episode);
  for (int i = 0; i < num_steps; ++i) {
    std::string_view record;
    ASSERT_TRUE(reader.ReadStep(i, &record).ok());
    ASSERT_EQ(record, StepPayload(i)) << i;
  }
  for (int e = 0; e < reader.NumEpisodes(); ++e) {
    auto info = reader.Episode(e, true);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->start, e * steps_per_episode);
    EXPECT_EQ(info->metadata, std::optional<std::string>("episode " + std::to_string(e)));
  }
}

TEST(AsyncDatasetWriterTest, AppliesOperationsInOrder) {
  const std::string dir = MakeTempDir();
  auto writer = Create(dir, /*max_episodes_per_shard=*/4);
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(writer->AddStep(StepPayload(i), i % 10 == 0).ok());
    if (i % 10 == 0) {
      ASSERT_TRUE(writer->SetEpisodeMetadata("episode " + std::to_string(i / 10)).ok());
    }
    if (i % 33 == 0) {
      ASSERT_TRUE(writer->Flush().ok());
    }
  }
  ASSERT_TRUE(writer->Close().ok());
  ExpectDataset(dir, 1000, 10);
}

TEST(AsyncDatasetWriterTest, FlushIsABarrier) {
  const std::string dir = MakeTempDir();
  auto writer = Create(dir);
  ASSERT_NE(writer, nullptr);
  for (int round = 1; round <= 3; ++round) {
    for (int i = (round - 1) * 20; i < round * 20; ++i) {
      ASSERT_TRUE(writer->AddStep(StepPayload(i), i % 10 == 0).ok());
      if (i % 10 == 0) {
        ASSERT_TRUE(writer->SetEpisodeMetadata("episode " + std::to_string(i / 10)).ok());
      }
    }
    ASSERT_TRUE(writer->Flush().ok());
    EXPECT_EQ(writer->QueuedBytes(), 0u);
    // A new reader sees every step queued before the flush, and every
    // episode but the one in progress.
    RiegeliDatasetReader reader;
    ASSERT_TRUE(reader.Init(dir).ok());
    EXPECT_EQ(reader.NumSteps(), round * 20);
    EXPECT_EQ(reader.NumEpisodes(), round * 2 - 1);
  }
  ASSERT_TRUE(writer->Close().ok());
  ExpectDataset(dir, 60, 10);
}

TEST(AsyncDatasetWriterTest, BackpressureBoundsTheQueueAndLosesNothing) {
  const std::string dir = MakeTempDir();
  constexpr size_t kBound = 64 << 10;
  auto writer = Create(dir, 0, "transpose,brotli:6,chunk_size:1M", kBound);
  ASSERT_NE(writer, nullptr);
  std::atomic<bool> done{false};
  std::atomic<size_t> max_seen{0};
  std::thread watcher([&] {
    while (!done) {
      const size_t queued = writer->QueuedBytes();
      if (queued > max_seen) max_seen = queued;
    }
  });
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(writer->AddStep(StepPayload(i), i % 10 == 0).ok());
    if (i % 10 == 0) {
      ASSERT_TRUE(writer->SetEpisodeMetadata("episode " + std::to_string(i / 10)).ok());
    }
  }
  done = true;
  watcher.join();
  ASSERT_TRUE(writer->Close().ok());
  // At most the bound plus the one operation admitted when at the bound.
  EXPECT_LE(max_seen.load(), kBound + 200 + 2 * sizeof(std::string) + 256);
  ExpectDataset(dir, 3000, 10);
}

TEST(AsyncDatasetWriterTest, TryAddStepQueuesOnlyWhenItNeedNotWait) {
  const std::string dir = MakeTempDir();
  // A bound far below one step: any step still queued makes the queue full.
  auto writer = Create(dir, 0, "transpose,brotli:6,chunk_size:1M", 1024);
  ASSERT_NE(writer, nullptr);
  const std::string big(100 << 10, 'b');
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    std::string step = StepPayload(i) + big;
    const std::string copy = step;
    envlogger::Status status;
    if (writer->TryAddStep(step, i % 10 == 0, nullptr, &status)) {
      ASSERT_TRUE(status.ok()) << status.ToString();
    } else {
      // Refused: nothing queued, the step left as it was for AddStep().
      ++refused;
      ASSERT_EQ(step, copy);
      ASSERT_TRUE(writer->AddStep(std::move(step), i % 10 == 0).ok());
    }
  }
  // The writer thread needs far longer per 100 KiB step than a call takes.
  EXPECT_GT(refused, 0);
  ASSERT_TRUE(writer->Close().ok());
  std::string after_close = "late";
  envlogger::Status status;
  EXPECT_TRUE(writer->TryAddStep(after_close, false, nullptr, &status));
  EXPECT_EQ(status.code(), envlogger::StatusCode::kFailedPrecondition);
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  ASSERT_EQ(reader.NumSteps(), 200);
  for (int i = 0; i < 200; ++i) {
    std::string_view record;
    ASSERT_TRUE(reader.ReadStep(i, &record).ok());
    ASSERT_EQ(record, StepPayload(i) + big) << i;
  }
}

TEST(AsyncDatasetWriterTest, StepBeforeFirstEpisodeIsRejectedImmediatelyWhenSharding) {
  auto writer = Create(MakeTempDir(), 2);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->AddStep("orphan", false).code(), envlogger::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(writer->AddStep("first", true).ok());
  EXPECT_TRUE(writer->AddStep("second", false).ok());
  EXPECT_TRUE(writer->Close().ok());
}

TEST(AsyncDatasetWriterTest, CallsAfterCloseFailAndCloseIsIdempotent) {
  auto writer = Create(MakeTempDir());
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->AddStep("a", true).ok());
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_TRUE(writer->Close().ok());
  EXPECT_EQ(writer->AddStep("b", false).code(), envlogger::StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer->Flush().code(), envlogger::StatusCode::kFailedPrecondition);
}

TEST(AsyncDatasetWriterTest, InitErrorsAreReturnedByCreate) {
  auto writer = AsyncDatasetWriter::Create("", "");
  EXPECT_EQ(writer.status().ToString(), "NOT_FOUND: Empty data_dir.");
  auto bad_options = AsyncDatasetWriter::Create(MakeTempDir(), "", 0, "zstd:99");
  EXPECT_EQ(bad_options.status().code(), envlogger::StatusCode::kInvalidArgument);
  const std::string file = MakeTempDir() + "/a_file";
  std::ofstream(file) << "not a directory";
  auto unusable = AsyncDatasetWriter::Create(file + "/dataset");
  ASSERT_FALSE(unusable.ok());
  EXPECT_NE(unusable.status().message().find(file), std::string::npos)
      << unusable.status().ToString();
}

TEST(AsyncDatasetWriterTest, DestructorClosesTheDataset) {
  const std::string dir = MakeTempDir();
  {
    auto writer = Create(dir);
    ASSERT_NE(writer, nullptr);
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(writer->AddStep(StepPayload(i), i % 10 == 0).ok());
      if (i % 10 == 0) {
        ASSERT_TRUE(writer->SetEpisodeMetadata("episode " + std::to_string(i / 10)).ok());
      }
    }
  }
  ExpectDataset(dir, 25, 10);
}

// Simulates a full disk with a file size limit (writes beyond it fail with
// EFBIG instead of raising SIGXFSZ, which is ignored).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    struct rlimit limit = previous_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    ::signal(SIGXFSZ, previous_handler_);
  }

 private:
  struct rlimit previous_;
  sighandler_t previous_handler_;
};

TEST(AsyncDatasetWriterTest, DiskFullIsReportedAndTheDatasetStaysReadable) {
  const std::string dir = MakeTempDir();
  std::mt19937 rng(7);
  auto random_step = [&](int i) {
    std::string s = "step-" + std::to_string(i) + ":";
    while (s.size() < 10000) s.push_back(static_cast<char>(rng()));
    return s;
  };
  std::vector<std::string> steps;
  envlogger::Status first_error;
  int flushed_steps = 0;
  {
    auto writer = Create(dir, 0, "uncompressed,chunk_size:64K");
    ASSERT_NE(writer, nullptr);
    FileSizeLimit limit(200 << 10);  // steps.riegeli fails after ~20 steps.
    for (int i = 0; i < 100 && first_error.ok(); ++i) {
      steps.push_back(random_step(i));
      first_error = writer->AddStep(steps.back(), i % 5 == 0);
      if (first_error.ok() && i % 5 == 4) {
        first_error = writer->Flush();
        if (first_error.ok()) flushed_steps = i + 1;
      }
    }
    ASSERT_FALSE(first_error.ok()) << "the file size limit was never hit";
    EXPECT_EQ(first_error.code(), envlogger::StatusCode::kResourceExhausted)
        << first_error.ToString();
    EXPECT_NE(first_error.message().find("steps.riegeli"), std::string::npos)
        << first_error.ToString();
    // The error is sticky: every later call reports it.
    EXPECT_EQ(writer->AddStep("more", true).ToString(), first_error.ToString());
    EXPECT_EQ(writer->Flush().ToString(), first_error.ToString());
    EXPECT_EQ(writer->Close().ToString(), first_error.ToString());
  }
  ASSERT_GT(flushed_steps, 0);
  RiegeliDatasetReader reader;
  envlogger::Status status = reader.Init(dir);
  ASSERT_TRUE(status.ok()) << status.ToString();
  // Everything up to the last successful flush is indexed and intact.
  ASSERT_EQ(reader.NumSteps(), flushed_steps);
  EXPECT_EQ(reader.NumEpisodes(), flushed_steps / 5);
  for (int i = 0; i < flushed_steps; ++i) {
    std::string_view record;
    ASSERT_TRUE(reader.ReadStep(i, &record).ok());
    EXPECT_EQ(record, steps[i]) << i;
  }
}

TEST(AsyncDatasetWriterTest, AddStepDoesNoWorkOnTheCallersThread) {
  // With compression at its slowest, queueing must still be far faster than
  // writing: the caller's time is dominated by copying into the queue.
  const std::string dir = MakeTempDir();
  auto writer = Create(dir, 0, "transpose,brotli:11,chunk_size:64K");
  ASSERT_NE(writer, nullptr);
  std::string payload;
  for (int i = 0; i < 2000; ++i) payload += std::to_string(i * 7919 % 10007);
  // Median per call, so that a preemption of this thread (on a busy
  // machine) does not count as work.
  std::vector<std::chrono::steady_clock::duration> calls;
  for (int i = 0; i < 200; ++i) {
    const auto before = std::chrono::steady_clock::now();
    ASSERT_TRUE(writer->AddStep(payload + std::to_string(i), i % 10 == 0).ok());
    calls.push_back(std::chrono::steady_clock::now() - before);
  }
  std::nth_element(calls.begin(), calls.begin() + calls.size() / 2, calls.end());
  const auto median_call = calls[calls.size() / 2];
  const auto close_start = std::chrono::steady_clock::now();
  ASSERT_TRUE(writer->Close().ok());
  const auto close_time = std::chrono::steady_clock::now() - close_start;
  // Compressing 200 such steps at brotli:11 takes far more than 200 x 10
  // queue insertions.
  EXPECT_LT(median_call * 200 * 10, close_time);
}

TEST(AsyncDatasetWriterTest, TakeBufferReturnsTheMemoryOfAWrittenStep) {
  const std::string dir = MakeTempDir();
  auto writer = Create(dir);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->PooledBuffers(), 0u);
  std::string first = writer->TakeBuffer();
  EXPECT_TRUE(first.empty());
  first.assign(20000, 'a');
  const char* const memory = first.data();
  const size_t capacity = first.capacity();
  ASSERT_TRUE(writer->AddStep(std::move(first), true).ok());
  ASSERT_TRUE(writer->Flush().ok());  // Applied, so recycled.
  EXPECT_EQ(writer->PooledBuffers(), 1u);
  EXPECT_EQ(writer->PooledBytes(), capacity);
  std::string second = writer->TakeBuffer();
  EXPECT_TRUE(second.empty());
  EXPECT_EQ(second.data(), memory);
  EXPECT_EQ(second.capacity(), capacity);
  EXPECT_EQ(writer->PooledBuffers(), 0u);
  EXPECT_EQ(writer->PooledBytes(), 0u);
  second.assign(15000, 'b');
  ASSERT_TRUE(writer->AddStep(std::move(second), false).ok());
  ASSERT_TRUE(writer->Flush().ok());
  // AddStep() can hand out the next buffer itself, from the same pool.
  std::string next("not yet replaced");
  ASSERT_TRUE(writer->AddStep(std::string(300, 'c'), false, &next).ok());
  EXPECT_TRUE(next.empty());
  EXPECT_EQ(next.data(), memory);
  EXPECT_EQ(next.capacity(), capacity);
  ASSERT_TRUE(writer->Close().ok());
  // A step that is not queued leaves `next_buffer` alone.
  std::string untouched("kept");
  EXPECT_FALSE(writer->AddStep(std::string(300, 'd'), false, &untouched).ok());
  EXPECT_EQ(untouched, "kept");
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  ASSERT_EQ(reader.NumSteps(), 3);
  std::string_view record;
  ASSERT_TRUE(reader.ReadStep(0, &record).ok());
  EXPECT_EQ(record, std::string(20000, 'a'));
  ASSERT_TRUE(reader.ReadStep(1, &record).ok());
  EXPECT_EQ(record, std::string(15000, 'b'));
  ASSERT_TRUE(reader.ReadStep(2, &record).ok());
  EXPECT_EQ(record, std::string(300, 'c'));
}

TEST(AsyncDatasetWriterTest, PoolIsBounded) {
  auto writer = Create(MakeTempDir());
  ASSERT_NE(writer, nullptr);
  // Small buffers are not kept at all.
  for (int i = 0; i < 100; ++i) {
    std::string step(AsyncDatasetWriter::kMinPooledCapacity / 2, 's');
    ASSERT_LT(step.capacity(), AsyncDatasetWriter::kMinPooledCapacity);
    ASSERT_TRUE(writer->AddStep(std::move(step), i == 0).ok());
  }
  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_EQ(writer->PooledBuffers(), 0u);
  // Many medium buffers: at most kMaxPooledBuffers are kept.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(writer->AddStep(std::string(1000, 'm')).ok());
  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_EQ(writer->PooledBuffers(), AsyncDatasetWriter::kMaxPooledBuffers);
  EXPECT_LE(writer->PooledBytes(), AsyncDatasetWriter::kMaxPooledBytes);
  // Drain the pool, then large buffers: at most kMaxPooledBytes are kept.
  while (writer->PooledBuffers() > 0) writer->TakeBuffer();
  EXPECT_EQ(writer->PooledBytes(), 0u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(writer->AddStep(std::string(size_t{1} << 20, 'l')).ok());
  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_GE(writer->PooledBuffers(), 1u);
  EXPECT_LT(writer->PooledBuffers(), 20u);
  EXPECT_LE(writer->PooledBytes(), AsyncDatasetWriter::kMaxPooledBytes);
  // A buffer larger than the whole pool is never kept.
  while (writer->PooledBuffers() > 0) writer->TakeBuffer();
  ASSERT_TRUE(writer->AddStep(std::string(AsyncDatasetWriter::kMaxPooledBytes + 1, 'h')).ok());
  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_EQ(writer->PooledBuffers(), 0u);
  ASSERT_TRUE(writer->Close().ok());
}

TEST(AsyncDatasetWriterTest, QueuedBytesCountCapacity) {
  // A recycled buffer may be much larger than the step serialized into it:
  // the backpressure bound counts the memory, not the step size.
  constexpr size_t kBound = 1 << 20;
  auto writer = Create(MakeTempDir(), 0, "transpose,brotli:11,chunk_size:64K", kBound);
  ASSERT_NE(writer, nullptr);
  std::string big;
  big.reserve(kBound / 2);
  big = "tiny";
  const size_t capacity = big.capacity();
  ASSERT_GE(capacity, kBound / 2);
  ASSERT_TRUE(writer->AddStep(std::move(big), true).ok());
  // Either still queued, counted with its capacity, or already written.
  const size_t queued = writer->QueuedBytes();
  EXPECT_TRUE(queued == 0 || queued >= capacity) << queued;
  ASSERT_TRUE(writer->Close().ok());
}

// Producers that serialize into recycled buffers while the thread recycles
// them, under constant backpressure: every step arrives intact, once, in each
// producer's order (run under ASan/TSan this also checks the hand-over).
TEST(AsyncDatasetWriterTest, RecycledBuffersKeepEveryStepIntact) {
  const std::string dir = MakeTempDir();
  constexpr size_t kBound = 256 << 10;
  constexpr int kProducers = 3;
  constexpr int kStepsPerProducer = 700;
  auto writer = Create(dir, 0, "transpose,brotli:1,chunk_size:64K", kBound);
  ASSERT_NE(writer, nullptr);
  auto payload = [](int producer, int i) {
    // Sizes vary (so buffers are reused for shorter and longer steps), and
    // every byte depends on the step.
    const size_t size = 16 + static_cast<size_t>((i * 7919 + producer * 104729) % 30000);
    std::string step = "p" + std::to_string(producer) + "s" + std::to_string(i) + ":";
    for (size_t j = step.size(); j < size; ++j)
      step.push_back(static_cast<char>('a' + (j * 31 + i + producer) % 26));
    return step;
  };
  ASSERT_TRUE(writer->AddStep("start", true).ok());
  std::vector<std::thread> producers;
  std::atomic<int> reused{0};
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      // Producer 0 takes its buffers with TakeBuffer(), the others get them
      // back from AddStep().
      std::string next;
      for (int i = 0; i < kStepsPerProducer; ++i) {
        std::string buffer = p == 0 ? writer->TakeBuffer() : std::move(next);
        next = std::string();
        if (buffer.capacity() >= AsyncDatasetWriter::kMinPooledCapacity) ++reused;
        const std::string step = payload(p, i);
        buffer.append(step);
        ASSERT_TRUE(writer->AddStep(std::move(buffer), false, p == 0 ? nullptr : &next).ok());
      }
    });
  }
  for (std::thread& producer : producers) producer.join();
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_GT(reused.load(), kProducers * kStepsPerProducer / 2);
  RiegeliDatasetReader reader;
  ASSERT_TRUE(reader.Init(dir).ok());
  ASSERT_EQ(reader.NumSteps(), 1 + kProducers * kStepsPerProducer);
  std::vector<int> next(kProducers, 0);
  std::string_view record;
  ASSERT_TRUE(reader.ReadStep(0, &record).ok());
  EXPECT_EQ(record, "start");
  for (int64_t index = 1; index < reader.NumSteps(); ++index) {
    ASSERT_TRUE(reader.ReadStep(index, &record).ok());
    ASSERT_GE(record.size(), 2u);
    const int producer = record[1] - '0';
    ASSERT_TRUE(producer >= 0 && producer < kProducers) << index;
    ASSERT_EQ(record, payload(producer, next[producer])) << index;
    ++next[producer];
  }
  EXPECT_EQ(next, std::vector<int>(kProducers, kStepsPerProducer));
}

}  // namespace
}  // namespace envlogger
