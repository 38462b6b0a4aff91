// Writes a Riegeli dataset off the caller's thread.
//
// An AsyncDatasetWriter owns a RiegeliDatasetWriter and one background
// thread. AddStep() and SetEpisodeMetadata() only move the serialized record
// into a queue (no I/O, no compression, no hashing on the caller's thread);
// the thread applies the queued operations in order, so chunking,
// compression and writing happen there.
//
// * Backpressure: the queue is bounded by memory. A call that would enqueue
//   while more than `max_queued_bytes` are queued blocks until the thread
//   has drained below that bound (one operation larger than the bound still
//   goes through once the queue is that small).
// * Barriers: when Flush() returns, every operation queued before it has
//   been applied and flushed (steps and episodes are indexed, readable by a
//   new reader); when Close() returns, the dataset is closed and the thread
//   has exited.
// * Errors: the first error of the background thread (e.g. the disk is full)
//   is kept and returned by every later AddStep/SetEpisodeMetadata/Flush/
//   Close call; it is never dropped. After it, queued steps are discarded,
//   but Flush() and Close() still index what reached the files, so the
//   dataset stays readable up to the last successful flush.
// * A step that does not start an episode while no shard can exist yet
//   (max_episodes_per_shard > 0 and no episode started) is rejected at once
//   with FAILED_PRECONDITION, like RiegeliDatasetWriter::AddStep.
// * Bounded loss: the thread flushes by itself (like Flush(), but nobody
//   waits) once the oldest step it applied and did not flush yet is
//   `flush_interval` old, checked whenever it wakes up and at least that
//   often while steps are pending. So a process killed at any moment loses
//   at most about the last `flush_interval` of steps (plus the time to
//   write one chunk), while a fast producer still gets full-size chunks
//   (they fill up before the interval passes). Zero disables it.
// * Buffer reuse: TakeBuffer() hands out an empty string that keeps the
//   capacity of a step the thread has already written. A producer that
//   serializes each step into TakeBuffer() and moves it into AddStep() makes
//   no allocation per step in the steady state: no malloc/free of large
//   blocks, no page faults on fresh memory, on either thread. The thread
//   gives buffers back to the pool after applying their operation; the pool
//   is bounded (kMaxPooledBuffers buffers and kMaxPooledBytes of capacity in
//   total, buffers under kMinPooledCapacity are not kept), the rest is
//   freed. Memory held is thus at most max_queued_bytes (queued operations,
//   counted by capacity) + kMaxPooledBytes + the producers' own buffers.
// * Batched wake-ups: while operations keep coming, the thread is not woken
//   for each one; it sleeps kBatchDelay and then applies what has queued up
//   (flushes, Close(), an idle thread and a queue over half its bound still
//   wake it at once). This saves the producer a futex call and both threads
//   a context switch per step, at the cost of at most kBatchDelay of extra
//   latency before a step reaches the files.
// * The thread runs as SCHED_BATCH on Linux: it gets the same share of the
//   CPU, but waking it (a step arriving, the batch timer) does not preempt
//   the running thread. On a busy machine the woken writer used to take the
//   core of the environment's thread mid-step, for a slice of compression:
//   that was most of the p99 overhead per step.
// * The destructor closes (errors are then lost).
//
// The methods may be called from any thread, but calls are applied in the
// order they acquire the queue.

#ifndef ENVLOGGER_BACKENDS_CC_ASYNC_DATASET_WRITER_H_
#define ENVLOGGER_BACKENDS_CC_ASYNC_DATASET_WRITER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "envlogger/backends/cc/riegeli_dataset_writer.h"
#include "envlogger/base/status.h"

namespace envlogger {

class AsyncDatasetWriter {
 public:
  static constexpr size_t kDefaultMaxQueuedBytes = size_t{64} << 20;
  // Half the one-second loss bound, leaving the other half to compress and
  // write the chunk (docs/crash-safety.md).
  static constexpr std::chrono::milliseconds kDefaultFlushInterval{500};
  // How long a busy thread waits to collect a batch of operations.
  static constexpr std::chrono::milliseconds kBatchDelay{1};
  // Bounds of the pool of recycled buffers (see "Buffer reuse" above): 64
  // steps of an 84x84x3 frame, or 4 of 1 MiB. Smaller buffers are cheap to
  // allocate and are not kept.
  static constexpr size_t kMaxPooledBuffers = 64;
  static constexpr size_t kMaxPooledBytes = size_t{4} << 20;
  static constexpr size_t kMinPooledCapacity = 256;

  // Initialises the dataset on the calling thread (see
  // RiegeliDatasetWriter::Init for the arguments and errors), then starts
  // the background thread.
  static envlogger::StatusOr<std::unique_ptr<AsyncDatasetWriter>> Create(
      std::string data_dir, std::string_view metadata = {}, int64_t max_episodes_per_shard = 0,
      std::string writer_options = kDefaultRiegeliWriterOptions,
      size_t max_queued_bytes = kDefaultMaxQueuedBytes,
      std::chrono::milliseconds flush_interval = kDefaultFlushInterval);

  AsyncDatasetWriter(const AsyncDatasetWriter&) = delete;
  AsyncDatasetWriter& operator=(const AsyncDatasetWriter&) = delete;
  ~AsyncDatasetWriter();

  // Returns an empty string, with the capacity of an earlier step's buffer
  // when the pool has one, for serializing the next step into before
  // passing it to AddStep(). Never blocks on backpressure.
  std::string TakeBuffer();
  // Queues a step. If `next_buffer` is given and the step was queued, it
  // receives what TakeBuffer() would return, under the same lock (a producer
  // looping over steps takes the queue's lock once per step).
  envlogger::Status AddStep(std::string serialized_step, bool is_new_episode = false,
                            std::string* next_buffer = nullptr);
  // AddStep() for a caller holding a lock the writer thread never takes (the
  // GIL): if queuing would have to wait for room, returns false and leaves
  // `serialized_step` as it was, so that the caller can release its lock and
  // call AddStep(); otherwise does what AddStep() does, sets `*status` to its
  // result and returns true. Saves releasing and retaking that lock per step.
  bool TryAddStep(std::string& serialized_step, bool is_new_episode, std::string* next_buffer,
                  envlogger::Status* status);
  envlogger::Status SetEpisodeMetadata(std::string serialized_metadata);
  envlogger::Status Flush();
  // Idempotent; later calls return the first result.
  envlogger::Status Close();

  const std::string& DataDir() const { return data_dir_; }
  const std::string& WriterOptions() const { return writer_options_; }
  int64_t MaxEpisodesPerShard() const { return max_episodes_per_shard_; }
  size_t MaxQueuedBytes() const { return max_queued_bytes_; }
  // Bytes currently queued (for tests and monitoring): the capacity of the
  // queued data plus a fixed overhead per operation.
  size_t QueuedBytes() const;
  // Buffers in the pool and their total capacity (for tests and monitoring).
  size_t PooledBuffers() const;
  size_t PooledBytes() const;

 private:
  enum class OpType { kStep, kEpisodeMetadata, kFlush, kClose };
  struct Op {
    OpType type;
    std::string data;
    bool is_new_episode = false;
    uint64_t sequence = 0;  // For barriers: the thread reports it applied.
  };
  // Accounted for every queued operation besides its data.
  static constexpr size_t kOpOverheadBytes = sizeof(Op);

  AsyncDatasetWriter(std::unique_ptr<RiegeliDatasetWriter> writer, size_t max_queued_bytes,
                     std::chrono::milliseconds flush_interval);

  // Whether Enqueue() can go ahead without waiting: there is room, or it
  // will fail at once (an error, Close()). `mutex_` is held.
  bool NeedNotWaitLocked() const {
    return queued_bytes_ <= max_queued_bytes_ || !error_.ok() || close_requested_;
  }
  // Waits for room, then queues `op`; returns its sequence number, or the
  // sticky error, or FAILED_PRECONDITION after Close(). `lock` holds mutex_.
  envlogger::StatusOr<uint64_t> Enqueue(std::unique_lock<std::mutex>& lock, Op op);
  // AddStep() with `lock` holding mutex_.
  envlogger::Status AddStepLocked(std::unique_lock<std::mutex>& lock, std::string serialized_step,
                                  bool is_new_episode, std::string* next_buffer);
  // TakeBuffer() with `mutex_` held.
  std::string TakeBufferLocked();
  // Waits until the thread applied operation `sequence`. `lock` holds mutex_.
  void WaitApplied(std::unique_lock<std::mutex>& lock, uint64_t sequence);
  // The background thread's loop: applies operations until kClose.
  void Run();
  // Applies one operation to writer_; `failed` says an earlier one failed.
  envlogger::Status Apply(Op& op, bool failed);
  // Queue accounting of `op` (its data's capacity plus kOpOverheadBytes).
  static size_t AccountedBytes(const Op& op) { return op.data.capacity() + kOpOverheadBytes; }
  // Moves `buffer` into the pool, cleared, if it is worth keeping and the
  // pool has room; otherwise leaves it with the caller. `mutex_` is held.
  void Recycle(std::string& buffer);

  std::unique_ptr<RiegeliDatasetWriter> writer_;  // Used by the thread only.
  const std::string data_dir_;
  const std::string writer_options_;
  const int64_t max_episodes_per_shard_;
  const size_t max_queued_bytes_;
  const std::chrono::milliseconds flush_interval_;
  // When the oldest applied but unflushed step was applied (thread only).
  std::optional<std::chrono::steady_clock::time_point> oldest_unflushed_;

  mutable std::mutex mutex_;
  std::condition_variable queue_changed_;  // Signals the thread: work queued.
  std::condition_variable progress_;       // Signals callers: room or barrier done.
  std::deque<Op> queue_;
  size_t queued_bytes_ = 0;
  std::vector<std::string> pool_;  // Empty strings with capacity.
  size_t pooled_bytes_ = 0;        // Sum of the pool's capacities.
  uint64_t next_sequence_ = 1;
  uint64_t applied_sequence_ = 0;
  envlogger::Status error_;  // First error of the thread; sticky.
  // The thread waits for work with nothing pending, so producers wake it.
  bool writer_idle_ = false;
  bool episode_started_ = false;
  bool close_requested_ = false;
  bool closed_ = false;
  envlogger::Status close_status_;
  std::thread thread_;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_ASYNC_DATASET_WRITER_H_
