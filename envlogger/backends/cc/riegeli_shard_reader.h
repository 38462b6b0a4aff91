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
// Damage: a step (or episode metadata record) whose chunk is damaged or was
// cut off by a truncation fails with DATA_LOSS naming the file, the position
// and the unreadable byte range; the range is recorded once in
// SkippedRegions() with the steps it holds, and later reads of those steps
// fail at once without I/O. Steps in other chunks stay readable (the Riegeli
// reader resumes at the next intact chunk header).
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
#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/record_reader.h"

namespace envlogger {

// Status reasons (Status::reason()) of the two errors callers handle rather
// than report: a shard whose index lists no step (NOT_FOUND), and a record in
// a damaged chunk (DATA_LOSS; the reader recorded the range in
// SkippedRegions()).
inline constexpr char kEmptyShardReason[] = "empty_shard";
inline constexpr char kDamagedChunkReason[] = "damaged_chunk";

// A byte range [begin, end) of a shard file whose records cannot be read.
struct SkippedRegion {
  std::string path;
  uint64_t begin = 0;
  uint64_t end = 0;
  std::string message;
  // The shard-local steps whose records lie in the range, [first_step,
  // last_step]; none (-1, -1) for episode metadata.
  int64_t first_step = -1;
  int64_t last_step = -1;
  int64_t num_steps() const { return first_step < 0 ? 0 : last_step - first_step + 1; }
};

class RiegeliShardReader {
 public:
  RiegeliShardReader() = default;
  RiegeliShardReader(RiegeliShardReader&&) = default;
  RiegeliShardReader& operator=(RiegeliShardReader&&) = default;

  // Files are opened with `open` (riegeli/byte_io.h; empty: from the file
  // system), now and by clones.
  envlogger::Status Init(const std::string& steps_filepath,
                         const std::string& step_offsets_filepath,
                         const std::string& episode_metadata_filepath,
                         const std::string& episode_index_filepath,
                         riegeli::SourceOpener open = nullptr);

  // A reader of the same shard sharing this one's index, with its own files.
  envlogger::StatusOr<RiegeliShardReader> Clone() const;

  // 0 before a successful Init().
  int64_t NumSteps() const;
  int64_t NumEpisodes() const;

  // Reads shard-local step `index` into `*record` (valid until the next call
  // on this reader). OUT_OF_RANGE outside [0, NumSteps()); read errors
  // (including an index position that holds no record) name the file and
  // the position, and do not affect later reads of other steps.
  envlogger::Status ReadStep(int64_t index, std::string_view* record);

  // Shard-local episode `index`: its shard-local start and length, and with
  // `include_metadata` its metadata record if it has one. OUT_OF_RANGE
  // outside [0, NumEpisodes()).
  envlogger::StatusOr<EpisodeInfo> Episode(int64_t index, bool include_metadata = false);

  // Whether `status` (of ReadStep or Episode) says the record lies in a
  // damaged region, as opposed to any other failure.
  static bool IsDamageError(const Status& status);

  // The damaged regions met by reads of this reader (not of its clones), in
  // the order they were met, each once.
  const std::vector<SkippedRegion>& SkippedRegions() const { return damaged_; }

  // Bounds the decoded-chunk cache of the steps file (riegeli/chunk_cache.h;
  // RecordReaderOptions' default until set); clones keep the bound.
  void SetStepCacheBytes(uint64_t max_bytes);
  // The steps file's cache (size and counters since the file was opened);
  // nullptr when closed.
  const riegeli::ChunkCache* StepCache() const;

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
    riegeli::SourceOpener open;
    std::vector<int64_t> step_offsets;
    std::vector<int64_t> episode_starts;
    std::vector<int64_t> episode_metadata_offsets;
    ShardIndexRecovery recovery;
  };

  // Opens the steps and episode metadata files for `index_`.
  envlogger::Status OpenFiles();
  // Reads the record at `position` of the steps file (`is_step`) or of the
  // episode metadata file, for step or episode `index`. Errors: a closed
  // reader, a region found damaged before or now (see ReadFailure), and a
  // position that is not where a record starts (DATA_LOSS).
  envlogger::Status ReadRecord(bool is_step, int64_t index, uint64_t position,
                               std::string_view* record);
  // After `reader` (of `path`) returned no record for `position`:
  // if the position lies in a damaged or truncated region, records it and
  // returns DATA_LOSS describing it (`what` names the record); otherwise
  // returns the reader's error, or "No step/episode metadata record" if it
  // has none. Replaces a failed reader with a fresh one.
  envlogger::Status ReadFailure(const std::string& path, const std::string& what, uint64_t position,
                                bool is_step, std::unique_ptr<riegeli::RecordReader>* reader);
  // The recorded region of `path` holding `position`, if any.
  const SkippedRegion* FindDamage(const std::string& path, uint64_t position) const;
  static envlogger::Status DamageError(const std::string& what, uint64_t position,
                                       const SkippedRegion& region);

  std::shared_ptr<const Index> index_;
  std::unique_ptr<riegeli::RecordReader> steps_;
  std::unique_ptr<riegeli::RecordReader> episode_metadata_;
  std::vector<SkippedRegion> damaged_;
  uint64_t step_cache_bytes_ = riegeli::RecordReaderOptions().chunk_cache_bytes;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_READER_H_
