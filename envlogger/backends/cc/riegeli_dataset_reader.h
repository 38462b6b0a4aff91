// Reads a Riegeli dataset written by RiegeliDatasetWriter or by upstream
// envlogger: the metadata record plus every shard (riegeli_shard_reader.h),
// indexed as one sequence of steps and one sequence of episodes.
//
// * Init(data_dir): NOT_FOUND naming `data_dir` if it does not exist or has
//   no metadata.riegeli. Shards are the subdirectories holding
//   step_offsets.riegeli, in sorted (= creation) order; they are loaded in
//   parallel. A shard that fails to load (e.g. "Empty steps in ...", left by
//   a writer that never flushed) counts as 0 steps and 0 episodes, the
//   others stay readable, and Init() returns the first such error (shards in
//   order, then the metadata) on an otherwise usable reader, as upstream.
// * Global step i lives in the last shard whose cumulative step count is
//   <= i; likewise for episodes. Episode starts are global.
// * Metadata() is the first record of metadata.riegeli (a serialized
//   envlogger.Data), unparsed.
// * A step in a damaged chunk fails with DATA_LOSS naming the file, the
//   position and the unreadable byte range; SkippedRegions() lists them.
// * Clone() shares the immutable indexes and opens its own files, so clones
//   may be used from different threads at once. One reader object is not
//   thread-safe.

#ifndef ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_READER_H_
#define ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/backends/cc/episode_info.h"
#include "envlogger/backends/cc/riegeli_shard_reader.h"
#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"

namespace envlogger {

// The decoded-chunk caches of a dataset's steps files, summed over shards.
struct StepCacheStats {
  uint64_t max_bytes = 0;                        // The bound (sum of the shards' bounds).
  uint64_t bytes = 0;                            // Held now.
  uint64_t chunks = 0;                           // Chunks held now.
  uint64_t hits = 0, misses = 0, evictions = 0;  // riegeli/chunk_cache.h counters.
};

class RiegeliDatasetReader {
 public:
  RiegeliDatasetReader() = default;
  RiegeliDatasetReader(RiegeliDatasetReader&&) = default;
  RiegeliDatasetReader& operator=(RiegeliDatasetReader&&) = default;

  envlogger::Status Init(std::string_view data_dir);

  // Init() of a dataset whose shard directories are given (in order) instead
  // of listed, its files opened with `open` (riegeli/byte_io.h; clones too):
  // for datasets held in memory by tests and fuzz targets. Shards load on up
  // to `max_threads` threads at once (0: one per hardware thread; 1: all on
  // the calling thread).
  envlogger::Status InitFromShards(std::string_view data_dir,
                                   const std::vector<std::string>& shard_dirs,
                                   riegeli::SourceOpener open, size_t max_threads = 0);

  envlogger::StatusOr<RiegeliDatasetReader> Clone() const;

  // The serialized dataset metadata; nullopt if it could not be read.
  const std::optional<std::string>& Metadata() const { return metadata_; }
  int64_t NumSteps() const { return num_steps_; }
  int64_t NumEpisodes() const { return num_episodes_; }
  const std::string& DataDir() const { return data_dir_; }

  // Reads global step `index` into `*record` (valid until the next call on
  // this reader). OUT_OF_RANGE outside [0, NumSteps()).
  envlogger::Status ReadStep(int64_t index, std::string_view* record);

  // Global episode `index`, with a global start. OUT_OF_RANGE outside
  // [0, NumEpisodes()).
  envlogger::StatusOr<EpisodeInfo> Episode(int64_t index, bool include_metadata = false);

  // A reader (clone) of the shard holding global episode `episode_index`;
  // its steps and episodes are shard-local. OUT_OF_RANGE outside
  // [0, NumEpisodes()).
  envlogger::StatusOr<RiegeliShardReader> GetShard(int64_t episode_index) const;

  // The damaged regions met by reads of this reader (not of its clones),
  // shard by shard, with global step indices (riegeli_shard_reader.h).
  std::vector<SkippedRegion> SkippedRegions() const;

  // Bounds the decoded-chunk caches of the steps files to `max_bytes` in
  // total, split evenly over the shards (each shard's cache holds at most
  // max_bytes / number of shards). Clones keep the bounds.
  void SetStepCacheBytes(uint64_t max_bytes);
  StepCacheStats GetStepCacheStats() const;

  // Releases all files.
  void Close();

  // One line per shard whose index Init() completed from its steps.riegeli
  // (RiegeliShardReader::RecoverySummary()); empty for closed datasets.
  std::vector<std::string> RecoveryReports() const;

  // The global index of each shard's first episode, in shard order (an
  // episode range that starts and ends on these reads one shard).
  std::vector<int64_t> ShardEpisodeStarts() const;

 private:
  struct Shard {
    RiegeliShardReader reader;
    int64_t cumulative_steps = 0;     // Steps in all earlier shards.
    int64_t cumulative_episodes = 0;  // Episodes in all earlier shards.
  };

  // Closes and empties the reader, now of `data_dir`.
  void Reset(std::string_view data_dir);
  // The shard holding global episode `index`, which must be in range.
  size_t ShardOfEpisode(int64_t index) const;

  std::string data_dir_;
  std::optional<std::string> metadata_;
  std::vector<Shard> shards_;
  int64_t num_steps_ = 0;
  int64_t num_episodes_ = 0;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_READER_H_
