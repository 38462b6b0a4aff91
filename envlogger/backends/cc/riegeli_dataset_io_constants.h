// File names of an envlogger Riegeli dataset (upstream's on-disk layout).
//
//   <data_dir>/metadata.riegeli            one envlogger.Data record: dataset metadata
//   <data_dir>/<shard timestamp>/          one directory per shard, holding:
//     steps.riegeli                        one serialized step per record
//     step_offsets.riegeli                 envlogger.Datum int64 [n]: step record positions
//     episode_metadata.riegeli             envlogger.Data per episode that has metadata
//     episode_index.riegeli                envlogger.Datum int64 [k, 2]: (start, metadata pos)
//
// A shard directory is recognised by the presence of step_offsets.riegeli.

#ifndef ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_IO_CONSTANTS_H_
#define ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_IO_CONSTANTS_H_

namespace envlogger {
namespace internal {

inline constexpr char kMetadataFilename[] = "metadata.riegeli";
inline constexpr char kStepsFilename[] = "steps.riegeli";
inline constexpr char kStepOffsetsFilename[] = "step_offsets.riegeli";
inline constexpr char kEpisodeMetadataFilename[] = "episode_metadata.riegeli";
inline constexpr char kEpisodeIndexFilename[] = "episode_index.riegeli";

}  // namespace internal
}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_RIEGELI_DATASET_IO_CONSTANTS_H_
