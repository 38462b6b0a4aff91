#include "envlogger/backends/cc/async_dataset_writer.h"

#include <pthread.h>
#include <sched.h>

#include <utility>

namespace envlogger {

using envlogger::OkStatus;
using envlogger::Status;
using envlogger::StatusOr;

StatusOr<std::unique_ptr<AsyncDatasetWriter>> AsyncDatasetWriter::Create(
    std::string data_dir, std::string_view metadata, int64_t max_episodes_per_shard,
    std::string writer_options, size_t max_queued_bytes, std::chrono::milliseconds flush_interval) {
  auto writer = std::make_unique<RiegeliDatasetWriter>();
  RETURN_IF_ERROR(writer->Init(std::move(data_dir), metadata, max_episodes_per_shard,
                               std::move(writer_options)));
  return std::unique_ptr<AsyncDatasetWriter>(
      new AsyncDatasetWriter(std::move(writer), max_queued_bytes, flush_interval));
}

AsyncDatasetWriter::AsyncDatasetWriter(std::unique_ptr<RiegeliDatasetWriter> writer,
                                       size_t max_queued_bytes,
                                       std::chrono::milliseconds flush_interval)
    : writer_(std::move(writer)),
      data_dir_(writer_->DataDir()),
      writer_options_(writer_->WriterOptions()),
      max_episodes_per_shard_(writer_->MaxEpisodesPerShard()),
      max_queued_bytes_(max_queued_bytes),
      flush_interval_(flush_interval),
      thread_([this] { Run(); }) {}

AsyncDatasetWriter::~AsyncDatasetWriter() { Close().IgnoreError(); }

size_t AsyncDatasetWriter::QueuedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_bytes_;
}

size_t AsyncDatasetWriter::PooledBuffers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pool_.size();
}

size_t AsyncDatasetWriter::PooledBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pooled_bytes_;
}

std::string AsyncDatasetWriter::TakeBuffer() {
  std::lock_guard<std::mutex> lock(mutex_);
  return TakeBufferLocked();
}

std::string AsyncDatasetWriter::TakeBufferLocked() {
  if (pool_.empty()) return std::string();
  std::string buffer = std::move(pool_.back());
  pool_.pop_back();
  pooled_bytes_ -= buffer.capacity();
  return buffer;
}

void AsyncDatasetWriter::Recycle(std::string& buffer) {
  const size_t capacity = buffer.capacity();
  if (capacity < kMinPooledCapacity || pool_.size() >= kMaxPooledBuffers ||
      pooled_bytes_ + capacity > kMaxPooledBytes) {
    return;
  }
  buffer.clear();
  pooled_bytes_ += capacity;
  pool_.push_back(std::move(buffer));
}

StatusOr<uint64_t> AsyncDatasetWriter::Enqueue(std::unique_lock<std::mutex>& lock, Op op) {
  progress_.wait(lock, [&] { return NeedNotWaitLocked(); });
  if (close_requested_)
    return envlogger::FailedPreconditionError("The dataset writer for " + data_dir_ + " is closed");
  if (!error_.ok()) return error_;
  op.sequence = next_sequence_++;
  queued_bytes_ += AccountedBytes(op);
  const uint64_t sequence = op.sequence;
  const bool urgent = op.type == OpType::kFlush || queued_bytes_ > max_queued_bytes_ / 2;
  queue_.push_back(std::move(op));
  // A thread that is collecting a batch wakes up by itself shortly: waking it
  // for every step would cost a futex call here and a context switch there.
  if (writer_idle_ || urgent) queue_changed_.notify_one();
  return sequence;
}

void AsyncDatasetWriter::WaitApplied(std::unique_lock<std::mutex>& lock, uint64_t sequence) {
  progress_.wait(lock, [&] { return applied_sequence_ >= sequence; });
}

Status AsyncDatasetWriter::AddStep(std::string serialized_step, bool is_new_episode,
                                   std::string* next_buffer) {
  std::unique_lock<std::mutex> lock(mutex_);
  return AddStepLocked(lock, std::move(serialized_step), is_new_episode, next_buffer);
}

bool AsyncDatasetWriter::TryAddStep(std::string& serialized_step, bool is_new_episode,
                                    std::string* next_buffer, Status* status) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!NeedNotWaitLocked()) return false;
  *status = AddStepLocked(lock, std::move(serialized_step), is_new_episode, next_buffer);
  return true;
}

Status AsyncDatasetWriter::AddStepLocked(std::unique_lock<std::mutex>& lock,
                                         std::string serialized_step, bool is_new_episode,
                                         std::string* next_buffer) {
  if (!is_new_episode && max_episodes_per_shard_ > 0 && !episode_started_ && error_.ok() &&
      !close_requested_) {
    return envlogger::FailedPreconditionError(
        "AddStep: no shard is open in " + data_dir_ +
        " (with max_episodes_per_shard > 0 the first step must start an episode)");
  }
  StatusOr<uint64_t> sequence =
      Enqueue(lock, Op{OpType::kStep, std::move(serialized_step), is_new_episode});
  if (!sequence.ok()) return sequence.status();
  if (is_new_episode) episode_started_ = true;
  if (next_buffer != nullptr) *next_buffer = TakeBufferLocked();
  return OkStatus();
}

Status AsyncDatasetWriter::SetEpisodeMetadata(std::string serialized_metadata) {
  std::unique_lock<std::mutex> lock(mutex_);
  return Enqueue(lock, Op{OpType::kEpisodeMetadata, std::move(serialized_metadata)}).status();
}

Status AsyncDatasetWriter::Flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  StatusOr<uint64_t> sequence = Enqueue(lock, Op{OpType::kFlush, std::string()});
  if (!sequence.ok()) return sequence.status();
  WaitApplied(lock, *sequence);
  return error_;
}

Status AsyncDatasetWriter::Close() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (close_requested_) {
    progress_.wait(lock, [&] { return closed_; });
    return close_status_;
  }
  close_requested_ = true;
  progress_.notify_all();  // Callers blocked on backpressure fail now.
  // Close is queued even after an error, and without waiting for room, so
  // that the files are always closed and the thread always exits.
  Op op{OpType::kClose, std::string()};
  op.sequence = next_sequence_++;
  const uint64_t sequence = op.sequence;
  queue_.push_back(std::move(op));
  queue_changed_.notify_one();
  WaitApplied(lock, sequence);
  lock.unlock();
  thread_.join();
  lock.lock();
  closed_ = true;
  close_status_ = error_;
  progress_.notify_all();
  return close_status_;
}

namespace {

// Makes the calling thread SCHED_BATCH where there is one (Linux; allowed
// without privileges): the same share of the CPU, but its wake-ups do not
// preempt the running thread. Best effort: the policy is a matter of latency
// only, so a refusal is ignored.
void DisfavorWakeups() {
#ifdef SCHED_BATCH
  sched_param param{};
  param.sched_priority = 0;
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
#endif
}

}  // namespace

void AsyncDatasetWriter::Run() {
  DisfavorWakeups();
  // Whether the last wait found work, so more is likely to follow.
  bool batching = false;
  for (;;) {
    Op op;
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (queue_.empty() && batching) {
        // Producers do not wake a batching thread (unless urgent): collect
        // what arrives meanwhile and apply it in one go.
        queue_changed_.wait_for(lock, kBatchDelay);
        batching = !queue_.empty();
      }
      if (queue_.empty()) {
        writer_idle_ = true;  // Producers wake it from now on.
        if (oldest_unflushed_.has_value()) {
          queue_changed_.wait_until(lock, *oldest_unflushed_ + flush_interval_,
                                    [&] { return !queue_.empty(); });
        } else {
          queue_changed_.wait(lock, [&] { return !queue_.empty(); });
        }
        writer_idle_ = false;
        batching = !queue_.empty();
      }
      if (queue_.empty()) {  // The interval passed with steps pending.
        const bool failed = !error_.ok();
        lock.unlock();
        Status status = failed ? OkStatus() : writer_->Flush();
        oldest_unflushed_.reset();
        lock.lock();
        if (!status.ok() && error_.ok()) error_ = std::move(status);
        continue;
      }
      op = std::move(queue_.front());
      queue_.pop_front();
      failed = !error_.ok();
    }
    const size_t bytes = AccountedBytes(op);
    Status status = Apply(op, failed);
    const auto now = std::chrono::steady_clock::now();
    if (op.type == OpType::kFlush || op.type == OpType::kClose || flush_interval_.count() <= 0) {
      oldest_unflushed_.reset();
    } else if (op.type == OpType::kStep && !oldest_unflushed_.has_value()) {
      oldest_unflushed_ = now;
    } else if (oldest_unflushed_.has_value() && now - *oldest_unflushed_ >= flush_interval_ &&
               status.ok() && !failed) {
      // A steady stream of operations never leaves the queue empty.
      status = writer_->Flush();
      oldest_unflushed_.reset();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!status.ok() && error_.ok()) error_ = std::move(status);
      if (op.type != OpType::kClose) queued_bytes_ -= bytes;
      applied_sequence_ = op.sequence;
      Recycle(op.data);
    }
    progress_.notify_all();
    // A buffer the pool did not take is freed here, outside the lock, so that
    // a slow free() (returning memory to the system) never blocks producers.
    op.data = std::string();
    if (op.type == OpType::kClose) return;
  }
}

Status AsyncDatasetWriter::Apply(Op& op, bool failed) {
  switch (op.type) {
    case OpType::kStep:
      if (failed) return OkStatus();  // Discarded: the error is already reported.
      return writer_->AddStep(op.data, op.is_new_episode);
    case OpType::kEpisodeMetadata:
      if (!failed) writer_->SetEpisodeMetadata(std::move(op.data));
      return OkStatus();
    case OpType::kFlush:
      if (failed) return OkStatus();
      return writer_->Flush();
    case OpType::kClose:
      return writer_->Close();
  }
  return OkStatus();
}

}  // namespace envlogger
