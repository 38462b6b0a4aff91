// Writes a Riegeli dataset: metadata.riegeli plus one timestamped shard
// directory per `max_episodes_per_shard` episodes (see
// riegeli_dataset_io_constants.h and dataset_filesystem.h).
//
// * Init(): creates `data_dir` (and missing parents) if needed; writes
//   metadata.riegeli (one record, transposed Brotli chunks whatever
//   `writer_options` says) atomically (a temporary file hard-linked to its
//   name) if it does not exist yet; a reused directory must hold the same
//   metadata, else Init() fails with FAILED_PRECONDITION naming the file. With
//   max_episodes_per_shard <= 0 the single shard is created right away; otherwise shards are
//   created by AddStep().
// * AddStep(data, is_new_episode): with max_episodes_per_shard = N > 0,
//   every N-th new episode (the 1st, N+1-th, ...) closes the current shard
//   and starts a new one, so an episode never spans shards. A step that
//   does not start an episode while no shard exists is rejected with
//   FAILED_PRECONDITION (upstream returns false).
// * SetEpisodeMetadata(), Flush(), Close() act on the current shard (see
//   riegeli_shard_writer.h). Reusing a directory with a new writer adds
//   shards.
//
// Not thread-safe; see async_dataset_writer.h for off-thread writing.

#ifndef ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_WRITER_H_
#define ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "envlogger/backends/cc/riegeli_shard_writer.h"
#include "envlogger/base/status.h"

namespace envlogger {

inline constexpr char kDefaultRiegeliWriterOptions[] = "transpose,brotli:6,chunk_size:1M";

class RiegeliDatasetWriter {
 public:
  RiegeliDatasetWriter() = default;
  RiegeliDatasetWriter(const RiegeliDatasetWriter&) = delete;
  RiegeliDatasetWriter& operator=(const RiegeliDatasetWriter&) = delete;
  // Closes the current shard; errors are lost (call Close() to see them).
  ~RiegeliDatasetWriter() = default;

  // `metadata` is the serialized dataset metadata (an envlogger.Data; empty
  // bytes are an empty Data). Errors: NOT_FOUND "Empty data_dir." for an
  // empty path; an error naming the path if `data_dir` cannot be created or
  // written to or metadata.riegeli cannot be written; INVALID_ARGUMENT for
  // bad `writer_options`.
  envlogger::Status Init(std::string data_dir, std::string_view metadata = {},
                         int64_t max_episodes_per_shard = 0,
                         std::string writer_options = kDefaultRiegeliWriterOptions,
                         int64_t episode_counter = 0);

  envlogger::Status AddStep(std::string_view data, bool is_new_episode = false);
  void SetEpisodeMetadata(std::string data);
  envlogger::Status Flush();
  envlogger::Status Close();

  const std::string& DataDir() const { return data_dir_; }
  const std::string& WriterOptions() const { return writer_options_; }
  int64_t MaxEpisodesPerShard() const { return max_episodes_per_shard_; }
  // Episodes started so far (counted only when sharding by episodes).
  int64_t EpisodeCounter() const { return episode_counter_; }

 private:
  // Closes the current shard and starts a new shard directory.
  envlogger::Status StartShard();

  std::string data_dir_;
  std::string writer_options_;
  int64_t max_episodes_per_shard_ = 0;
  int64_t episode_counter_ = 0;
  bool has_shard_ = false;
  RiegeliShardWriter shard_writer_;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_WRITER_H_
