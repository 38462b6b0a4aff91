#include "envlogger/backends/cc/riegeli_dataset_reader.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <utility>

#include "envlogger/backends/cc/dataset_filesystem.h"
#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"
#include "envlogger/riegeli/record_reader.h"

namespace envlogger {

using envlogger::OkStatus;
using envlogger::Status;
using envlogger::StatusOr;
using riegeli::RecordReader;

namespace {

StatusOr<std::string> ReadFirstRecord(const std::string& path, const riegeli::SourceOpener& open) {
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, RecordReader::Open(path, {}, open));
  std::string_view record;
  if (!reader->ReadRecord(&record)) {
    if (!reader->ok()) return reader->status();
    return envlogger::NotFoundError("No record in " + path);
  }
  return std::string(record);
}

// Runs task(i) for i in [0, n) on up to `max_threads` threads (0: up to
// hardware_concurrency); on the calling thread if n <= 2 (the metadata and one
// shard: the metadata is one small record, so threads would cost more than
// they save) or max_threads is 1.
void ParallelFor(size_t n, size_t max_threads, const std::function<void(size_t)>& task) {
  if (max_threads == 0) max_threads = std::max(2u, std::thread::hardware_concurrency());
  if (n <= 2 || max_threads == 1) {
    for (size_t i = 0; i < n; ++i) task(i);
    return;
  }
  const size_t num_threads = std::min(n, max_threads);
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < num_threads; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) task(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace

void RiegeliDatasetReader::Reset(std::string_view data_dir) {
  Close();
  data_dir_ = std::string(data_dir);
  metadata_.reset();
  shards_.clear();
  num_steps_ = 0;
  num_episodes_ = 0;
}

Status RiegeliDatasetReader::Init(std::string_view data_dir) {
  Reset(data_dir);
  if (data_dir_.empty()) return envlogger::NotFoundError("Empty data_dir.");
  if (!PathExists(data_dir_))
    return envlogger::NotFoundError("Data directory " + data_dir_ + " does not exist");
  const std::string metadata_path = JoinPath(data_dir_, internal::kMetadataFilename);
  if (!PathExists(metadata_path)) {
    return envlogger::NotFoundError("No " + std::string(internal::kMetadataFilename) + " in " +
                                    data_dir_ + ": not an envlogger Riegeli dataset");
  }
  ASSIGN_OR_RETURN(const std::vector<std::string> shard_dirs, ListShardDirectories(data_dir_));
  return InitFromShards(data_dir, shard_dirs, nullptr);
}

Status RiegeliDatasetReader::InitFromShards(std::string_view data_dir,
                                            const std::vector<std::string>& shard_dirs,
                                            riegeli::SourceOpener open, size_t max_threads) {
  Reset(data_dir);
  const std::string metadata_path = JoinPath(data_dir_, internal::kMetadataFilename);

  // Task 0 reads the metadata, task i+1 loads shard i.
  shards_.resize(shard_dirs.size());
  std::vector<Status> shard_status(shard_dirs.size());
  Status metadata_status;
  ParallelFor(shard_dirs.size() + 1, max_threads, [&](size_t task) {
    if (task == 0) {
      StatusOr<std::string> metadata = ReadFirstRecord(metadata_path, open);
      if (metadata.ok()) {
        metadata_ = std::move(metadata).value();
      } else {
        metadata_status = metadata.status();
      }
      return;
    }
    const std::string& dir = shard_dirs[task - 1];
    shard_status[task - 1] = shards_[task - 1].reader.Init(
        JoinPath(dir, internal::kStepsFilename), JoinPath(dir, internal::kStepOffsetsFilename),
        JoinPath(dir, internal::kEpisodeMetadataFilename),
        JoinPath(dir, internal::kEpisodeIndexFilename), open);
  });

  for (Shard& shard : shards_) {
    shard.cumulative_steps = num_steps_;
    shard.cumulative_episodes = num_episodes_;
    num_steps_ += shard.reader.NumSteps();
    num_episodes_ += shard.reader.NumEpisodes();
  }
  for (const Status& status : shard_status) RETURN_IF_ERROR(status);
  return metadata_status;
}

void RiegeliDatasetReader::SetStepCacheBytes(uint64_t max_bytes) {
  if (shards_.empty()) return;
  for (Shard& shard : shards_) shard.reader.SetStepCacheBytes(max_bytes / shards_.size());
}

StepCacheStats RiegeliDatasetReader::GetStepCacheStats() const {
  StepCacheStats stats;
  for (const Shard& shard : shards_) {
    const riegeli::ChunkCache* cache = shard.reader.StepCache();
    if (cache == nullptr) continue;
    stats.max_bytes += cache->max_bytes();
    stats.bytes += cache->bytes();
    stats.chunks += cache->size();
    stats.hits += cache->hits();
    stats.misses += cache->misses();
    stats.evictions += cache->evictions();
  }
  return stats;
}

StatusOr<RiegeliDatasetReader> RiegeliDatasetReader::Clone() const {
  RiegeliDatasetReader clone;
  clone.data_dir_ = data_dir_;
  clone.metadata_ = metadata_;
  clone.num_steps_ = num_steps_;
  clone.num_episodes_ = num_episodes_;
  clone.shards_.reserve(shards_.size());
  for (const Shard& shard : shards_) {
    ASSIGN_OR_RETURN(RiegeliShardReader reader, shard.reader.Clone());
    clone.shards_.push_back(
        Shard{std::move(reader), shard.cumulative_steps, shard.cumulative_episodes});
  }
  return clone;
}

Status RiegeliDatasetReader::ReadStep(int64_t index, std::string_view* record) {
  if (index < 0 || index >= num_steps_) {
    return envlogger::OutOfRangeError("Step " + std::to_string(index) + " is not in [0, " +
                                      std::to_string(num_steps_) + ")");
  }
  // The last shard starting at or before `index`; empty shards before a
  // non-empty one share its cumulative count and are skipped this way.
  const auto it =
      std::upper_bound(shards_.begin(), shards_.end(), index,
                       [](int64_t i, const Shard& shard) { return i < shard.cumulative_steps; });
  Shard& shard = *(it - 1);
  return shard.reader.ReadStep(index - shard.cumulative_steps, record);
}

size_t RiegeliDatasetReader::ShardOfEpisode(int64_t index) const {
  const auto it =
      std::upper_bound(shards_.begin(), shards_.end(), index,
                       [](int64_t i, const Shard& shard) { return i < shard.cumulative_episodes; });
  return static_cast<size_t>(it - shards_.begin()) - 1;
}

StatusOr<EpisodeInfo> RiegeliDatasetReader::Episode(int64_t index, bool include_metadata) {
  if (index < 0 || index >= num_episodes_) {
    return envlogger::OutOfRangeError("Episode " + std::to_string(index) + " is not in [0, " +
                                      std::to_string(num_episodes_) + ")");
  }
  Shard& shard = shards_[ShardOfEpisode(index)];
  ASSIGN_OR_RETURN(EpisodeInfo info,
                   shard.reader.Episode(index - shard.cumulative_episodes, include_metadata));
  info.start += shard.cumulative_steps;
  return info;
}

StatusOr<RiegeliShardReader> RiegeliDatasetReader::GetShard(int64_t episode_index) const {
  if (episode_index < 0 || episode_index >= num_episodes_) {
    return envlogger::OutOfRangeError("Episode " + std::to_string(episode_index) +
                                      " is not in [0, " + std::to_string(num_episodes_) + ")");
  }
  return shards_[ShardOfEpisode(episode_index)].reader.Clone();
}

std::vector<int64_t> RiegeliDatasetReader::ShardEpisodeStarts() const {
  std::vector<int64_t> starts;
  starts.reserve(shards_.size());
  for (const Shard& shard : shards_) starts.push_back(shard.cumulative_episodes);
  return starts;
}

std::vector<std::string> RiegeliDatasetReader::RecoveryReports() const {
  std::vector<std::string> reports;
  for (const Shard& shard : shards_) {
    std::string summary = shard.reader.RecoverySummary();
    if (!summary.empty()) reports.push_back(std::move(summary));
  }
  return reports;
}

std::vector<SkippedRegion> RiegeliDatasetReader::SkippedRegions() const {
  std::vector<SkippedRegion> regions;
  for (const Shard& shard : shards_) {
    for (SkippedRegion region : shard.reader.SkippedRegions()) {
      if (region.first_step >= 0) {
        region.first_step += shard.cumulative_steps;
        region.last_step += shard.cumulative_steps;
      }
      regions.push_back(std::move(region));
    }
  }
  return regions;
}

void RiegeliDatasetReader::Close() {
  for (Shard& shard : shards_) shard.reader.Close();
}

}  // namespace envlogger
