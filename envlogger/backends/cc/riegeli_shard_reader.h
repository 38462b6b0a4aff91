// Reads one shard of a Riegeli dataset (see riegeli_dataset_io_constants.h).
//
// Init() loads the shard's index into memory: the concatenation of all int64
// arrays in step_offsets.riegeli is the list of step record positions
// (shard-local step i lives at position step_offsets[i] of steps.riegeli),
// and the rows of all [k, 2] arrays in episode_index.riegeli give each
// episode's first step and the position of its metadata record (or -1).
// Datum records holding arrays of other types are ignored, as upstream does.
// A shard whose index lists no step is NOT_FOUND "Empty steps in <path>".
// An index file that ends inside a chunk (its writer was killed) yields the
// records before that chunk; a missing index file is an empty one.
//
// Recovery: the index is then completed from steps.riegeli (see
// shard_index_recovery.h): steps a killed writer wrote after its last flush,
// and episode starts it never indexed (so the episode in progress at that
// flush is not merged with the next one), are added; Recovery() and
// RecoverySummary() say what was recovered or found damaged.
//
// The index is immutable and shared between clones; each clone has its own
// file handles, so clones may be used from different threads at once. One
// reader object is not thread-safe.

#ifndef ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_READER_H_
#define ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/backends/cc/episode_info.h"
#include "envlogger/backends/cc/shard_index_recovery.h"
#include "envlogger/riegeli/record_reader.h"
#include "envlogger/riegeli/status.h"

namespace envlogger {

class RiegeliShardReader {
 public:
  RiegeliShardReader() = default;
  RiegeliShardReader(RiegeliShardReader&&) = default;
  RiegeliShardReader& operator=(RiegeliShardReader&&) = default;

  riegeli::Status Init(const std::string& steps_filepath, const std::string& step_offsets_filepath,
                       const std::string& episode_metadata_filepath, const std::string& episode_index_filepath);

  // A reader of the same shard sharing this one's index, with its own files.
  riegeli::StatusOr<RiegeliShardReader> Clone() const;

  // 0 before a successful Init().
  int64_t NumSteps() const;
  int64_t NumEpisodes() const;

  // Reads shard-local step `index` into `*record` (valid until the next call
  // on this reader). OUT_OF_RANGE outside [0, NumSteps()); read errors
  // (including an index position that holds no record) name the file and
  // the position, and do not affect later reads of other steps.
  riegeli::Status ReadStep(int64_t index, std::string_view* record);

  // Shard-local episode `index`: its shard-local start and length, and with
  // `include_metadata` its metadata record if it has one. OUT_OF_RANGE
  // outside [0, NumEpisodes()).
  riegeli::StatusOr<EpisodeInfo> Episode(int64_t index, bool include_metadata = false);

  // Releases the files. The index stays, so clones can still be made.
  void Close();

  // What Init() added to the index files' content; nothing changed() for a
  // shard whose writer closed it.
  const ShardIndexRecovery& Recovery() const;
  // Recovery().Summary(steps path) if anything changed(), else "".
  std::string RecoverySummary() const;

 private:
  struct Index {
    std::string steps_filepath;
    std::string episode_metadata_filepath;
    std::vector<int64_t> step_offsets;
    std::vector<int64_t> episode_starts;
    std::vector<int64_t> episode_metadata_offsets;
    ShardIndexRecovery recovery;
  };

  // Opens the steps and episode metadata files for `index_`.
  riegeli::Status OpenFiles();

  std::shared_ptr<const Index> index_;
  std::unique_ptr<riegeli::RecordReader> steps_;
  std::unique_ptr<riegeli::RecordReader> episode_metadata_;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_READER_H_
