// Writes one shard of a Riegeli dataset: steps.riegeli plus its three index
// files (see riegeli_dataset_io_constants.h), with upstream's algorithm so
// the index records are the ones upstream writes for the same calls.
//
// State between flushes: the positions of the steps written since the last
// flush, the starts of episodes not yet indexed (the last one is the episode
// in progress) and the metadata positions of the finished ones.
//
// * AddStep(data, is_new_episode): a new episode first writes the previous
//   episode's pending metadata (if any) to episode_metadata.riegeli and
//   remembers its position (or -1), then records the new episode's start
//   (shard-local step index). The step goes to steps.riegeli; its numeric
//   record position is remembered. The start is recorded even if the step
//   write then fails.
// * SetEpisodeMetadata(data): the metadata of the episode in progress; the
//   last call wins; ignored before the first episode starts.
// * Flush(): if steps were added since the last flush, closes the current
//   steps chunk, appends one int64 Datum [n] of their positions to
//   step_offsets.riegeli, and, if an episode finished since, one int64 Datum
//   [k, 2] of (start, metadata position or -1) rows for the finished
//   episodes to episode_index.riegeli. Every file touched is flushed with
//   FlushType::kFromMachine, which also ends its chunk.
// * Close(): Flush(), then writes the row of the episode in progress
//   (writing its metadata first) and closes the four files. Steps and
//   episodes are visible to readers only once indexed.
//
// Unlike upstream, failures are reported as Status (upstream logs them).
// After steps.riegeli fails (e.g. the disk is full), no step written after
// the last successful flush is ever indexed: Flush()/Close() only complete
// the index of what reached the file (rows of episodes that started within
// the indexed steps), so the shard stays readable up to its last flush.
//
// Not thread-safe.

#ifndef ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_WRITER_H_
#define ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_WRITER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/record_writer.h"

namespace envlogger {

class RiegeliShardWriter {
 public:
  RiegeliShardWriter() = default;
  RiegeliShardWriter(const RiegeliShardWriter&) = delete;
  RiegeliShardWriter& operator=(const RiegeliShardWriter&) = delete;
  // Closes the shard; errors are lost (call Close() to see them).
  ~RiegeliShardWriter();

  // Closes the previous shard of this object (if any), then creates (or
  // truncates) the four files, all written with `writer_options` (Riegeli
  // options text). Errors name the offending file or option.
  envlogger::Status Init(const std::string& steps_filepath,
                         const std::string& step_offsets_filepath,
                         const std::string& episode_metadata_filepath,
                         const std::string& episode_index_filepath,
                         const std::string& writer_options);

  // `data` is the serialized step (normally an envlogger.Data).
  envlogger::Status AddStep(std::string_view data, bool is_new_episode = false);

  // `data` is the serialized episode metadata (normally an envlogger.Data).
  void SetEpisodeMetadata(std::string data);

  envlogger::Status Flush();

  // Idempotent; returns OK when there is nothing open.
  envlogger::Status Close();

 private:
  // Writes `record` to the episode metadata file; returns its position.
  envlogger::StatusOr<int64_t> WriteEpisodeMetadata(const std::string& record);
  // Appends the [rows, 2] matrix of `starts` and `offsets` to episode_index.
  envlogger::Status WriteEpisodeRows(const std::vector<int64_t>& starts,
                                     const std::vector<int64_t>& offsets);
  // After steps.riegeli failed: indexes the episodes that started within
  // the already indexed steps.
  envlogger::Status SalvageIndex();
  // Remembers that nothing more may be indexed and returns `status`.
  envlogger::Status StopIndexing(envlogger::Status status, bool steps_file_failed);

  std::unique_ptr<riegeli::RecordWriter> steps_;
  std::unique_ptr<riegeli::RecordWriter> step_offsets_;
  std::unique_ptr<riegeli::RecordWriter> episode_metadata_;
  std::unique_ptr<riegeli::RecordWriter> episode_index_;

  int64_t num_steps_at_flush_ = 0;                 // Steps already indexed.
  std::vector<int64_t> step_positions_;            // Positions since the last flush.
  std::vector<int64_t> episode_starts_;            // Starts not yet indexed.
  std::vector<int64_t> episode_metadata_offsets_;  // One per finished pending episode.
  std::optional<std::string> current_episode_metadata_;
  // A write failed: nothing after num_steps_at_flush_ will be indexed. The
  // first failure is kept in indexing_status_.
  bool steps_failed_ = false;
  envlogger::Status indexing_status_;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_RIEGELI_SHARD_WRITER_H_
