// Rebuilds the in-memory index of a shard from its steps.riegeli, for a
// shard whose writer died without Close() (SIGKILL, OOM, power loss) or whose
// index files are missing, short or damaged.
//
// What the index files say is trusted as far as it goes; steps.riegeli is
// then scanned from the first step of the last indexed episode (or from the
// start of the file if no step is indexed) to its end:
// * every readable record after the last indexed step becomes a step, in
//   file order; records in damaged chunks are skipped (Riegeli recovery) and
//   listed in `skipped`, and an incomplete chunk at the end (the writer died
//   while writing it) is not read;
// * a step starts a new episode if its step type is FIRST, if it follows a
//   LAST step, or if it follows skipped damage. So the episode in progress at
//   the last flush (whose start upstream's writer never indexes) is not merged
//   with the one before it, and an episode whose end was not written is
//   returned as an incomplete episode ending where the next one starts.
// The step type is read from the envlogger.Data wire bytes (step =
// tuple(timestep=tuple(step_type, ...), action, custom_data)); records that
// are not envlogger steps have no step type and never start an episode.
// Recovered episodes have no metadata (-1): which metadata record belongs to
// which unindexed episode cannot be known in general (`envlogger recover`
// attributes them where it is unambiguous).

#ifndef ENVLOGGER_BACKENDS_CC_SHARD_INDEX_RECOVERY_H_
#define ENVLOGGER_BACKENDS_CC_SHARD_INDEX_RECOVERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/chunk_reader.h"

namespace envlogger {

// dm_env.StepType values as envlogger stores them.
enum class StepType : int { kFirst = 0, kMid = 1, kLast = 2 };

// The step type of a serialized envlogger step, or nullopt if the record is
// not one (or is malformed).
std::optional<StepType> StepTypeOfRecord(std::string_view record);

// The episode-boundary rule: whether a step of step type `type` (nullopt: the
// record is not an envlogger step) starts a new episode, given the step type
// of the record before it (`previous`, nullopt if none or not a step) and
// whether damaged bytes were skipped between the two. A step starts an
// episode if it is FIRST, follows a LAST step, or follows damage.
bool StartsEpisode(std::optional<StepType> type, std::optional<StepType> previous,
                   bool damage_before);

// One readable record of a steps file, as the rule sees it.
struct ScannedStep {
  std::optional<StepType> type;
  bool damage_before = false;  // Damage was skipped just before this record.
  bool known_start = false;    // An index already starts an episode here.
};

// The indices into `steps` (the readable records of a steps file, in file
// order) of the steps that start an episode: those StartsEpisode() picks and
// those marked `known_start`. Used by `envlogger recover` (through
// envlogger._native.shard_recovery) to rebuild a whole index.
std::vector<int64_t> EpisodeStartsOf(const std::vector<ScannedStep>& steps);

// A shard index in the terms of its files (see riegeli_shard_reader.h).
struct ShardIndexLists {
  std::vector<int64_t> step_offsets;
  std::vector<int64_t> episode_starts;
  std::vector<int64_t> episode_metadata_offsets;
};

// What RecoverShardIndex() changed.
struct ShardIndexRecovery {
  int64_t recovered_steps = 0;                  // Steps found beyond the index.
  int64_t recovered_episodes = 0;               // Episode starts the index lacked.
  std::vector<riegeli::SkippedRegion> skipped;  // Damage met in steps.riegeli.
  uint64_t torn_tail_bytes = 0;                 // Incomplete chunk at the end of the file.
  // True if anything was recovered or lost.
  bool changed() const {
    return recovered_steps > 0 || recovered_episodes > 0 || !skipped.empty() || torn_tail_bytes > 0;
  }
  // One line for logs, e.g. "recovered 12 steps and 2 episodes not in the
  // index of <dir>/steps.riegeli; skipped damaged bytes [100, 200)".
  std::string Summary(const std::string& steps_filepath) const;
};

// Completes `index` from the steps file (see above), opened with `open`
// (riegeli/byte_io.h; empty: the file). Errors: the steps file cannot be
// opened or read (other than damage, which is skipped).
envlogger::StatusOr<ShardIndexRecovery> RecoverShardIndex(
    const std::string& steps_filepath, ShardIndexLists* index,
    const riegeli::SourceOpener& open = nullptr);

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_SHARD_INDEX_RECOVERY_H_
