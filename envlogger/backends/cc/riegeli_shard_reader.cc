#include "envlogger/backends/cc/riegeli_shard_reader.h"

#include <filesystem>
#include <functional>
#include <utility>

#include "envlogger/backends/cc/int64_datum_codec.h"

namespace envlogger {

using envlogger::OkStatus;
using envlogger::Status;
using envlogger::StatusOr;
using riegeli::RecordReader;

namespace {

// Calls `visit` with every int64 Datum of the file at `path` (opened with
// `open`) and its position. Other Datum records are skipped; a missing file
// has none.
Status ForEachInt64Datum(const std::string& path, const riegeli::SourceOpener& open,
                         const std::function<Status(const Int64Datum&, uint64_t position)>& visit) {
  if (!open) {
    std::error_code error;
    if (!std::filesystem::exists(path, error) && !error) return OkStatus();
  }
  StatusOr<std::unique_ptr<RecordReader>> opened = RecordReader::Open(path, {}, open);
  if (open && opened.status().code() == envlogger::StatusCode::kNotFound) return OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, std::move(opened));
  std::string_view record;
  while (reader->ReadRecord(&record)) {
    const uint64_t position = reader->LastPos().numeric();
    StatusOr<Int64Datum> datum = DecodeInt64Datum(record);
    if (!datum.ok()) {
      return envlogger::DataLossError(datum.status().message() + " in record at position " +
                                      std::to_string(position) + " of " + path);
    }
    if (datum->has_other_values && datum->values.empty()) continue;
    RETURN_IF_ERROR(visit(*datum, position));
  }
  return reader->status();
}

// A RecordReader that stays failed (nothing to recover from, e.g. an I/O
// error) is replaced by a fresh one so that one bad position does not spoil
// later reads.
void Reopen(const std::string& path, const riegeli::SourceOpener& open, uint64_t cache_bytes,
            std::unique_ptr<RecordReader>* reader) {
  riegeli::RecordReaderOptions options;
  options.chunk_cache_bytes = cache_bytes;
  StatusOr<std::unique_ptr<RecordReader>> reopened = RecordReader::Open(path, options, open);
  if (reopened.ok()) {
    *reader = std::move(reopened).value();
  } else {
    reader->reset();  // Later reads report the reader as closed.
  }
}

}  // namespace

Status RiegeliShardReader::Init(const std::string& steps_filepath,
                                const std::string& step_offsets_filepath,
                                const std::string& episode_metadata_filepath,
                                const std::string& episode_index_filepath,
                                riegeli::SourceOpener open) {
  Close();
  index_.reset();
  if (step_offsets_filepath.empty())
    return envlogger::NotFoundError("Empty step_offsets filepath.");
  auto index = std::make_shared<Index>();
  index->steps_filepath = steps_filepath;
  index->episode_metadata_filepath = episode_metadata_filepath;
  index->open = std::move(open);

  RETURN_IF_ERROR(
      ForEachInt64Datum(step_offsets_filepath, index->open, [&](const Int64Datum& datum, uint64_t) {
        index->step_offsets.insert(index->step_offsets.end(), datum.values.begin(),
                                   datum.values.end());
        return OkStatus();
      }));
  RETURN_IF_ERROR(ForEachInt64Datum(
      episode_index_filepath, index->open, [&](const Int64Datum& datum, uint64_t position) {
        if (datum.shape.size() != 2 || datum.shape[1] != 2 ||
            datum.shape[0] * 2 != static_cast<int64_t>(datum.values.size())) {
          return envlogger::DataLossError(
              "Episode index record at position " + std::to_string(position) + " of " +
              episode_index_filepath + " is not an int64 array of shape [k, 2]");
        }
        for (size_t i = 0; i < datum.values.size(); i += 2) {
          const int64_t start = datum.values[i];
          // Starts beyond the indexed steps are checked after recovery: a reader
          // that loaded step_offsets just before a writer's flush appended to
          // both files sees episode_index ahead of it.
          if (start < 0) {
            return envlogger::DataLossError(
                "Episode index record at position " + std::to_string(position) + " of " +
                episode_index_filepath + " starts an episode at step " + std::to_string(start));
          }
          index->episode_starts.push_back(start);
          index->episode_metadata_offsets.push_back(datum.values[i + 1]);
        }
        return OkStatus();
      }));
  // Steps and episode starts the index files lack (a killed writer).
  ShardIndexLists lists{std::move(index->step_offsets), std::move(index->episode_starts),
                        std::move(index->episode_metadata_offsets)};
  StatusOr<ShardIndexRecovery> recovery = RecoverShardIndex(steps_filepath, &lists, index->open);
  index->step_offsets = std::move(lists.step_offsets);
  index->episode_starts = std::move(lists.episode_starts);
  index->episode_metadata_offsets = std::move(lists.episode_metadata_offsets);
  // Without a readable steps file there is nothing to recover; OpenFiles()
  // reports it.
  if (recovery.ok()) index->recovery = std::move(recovery).value();
  // Episodes are consecutive runs of steps: their starts never decrease and
  // lie within the steps (an episode's length is the next start minus its own).
  const int64_t num_steps = static_cast<int64_t>(index->step_offsets.size());
  int64_t previous_start = 0;
  for (size_t i = 0; i < index->episode_starts.size(); ++i) {
    const int64_t start = index->episode_starts[i];
    if (start < 0 || start > num_steps) {
      return envlogger::DataLossError(episode_index_filepath + " starts an episode at step " +
                                      std::to_string(start) + ", outside the " +
                                      std::to_string(num_steps) + " steps of " + steps_filepath);
    }
    if (start < previous_start) {
      return envlogger::DataLossError(episode_index_filepath + " starts episode " +
                                      std::to_string(i) + " at step " + std::to_string(start) +
                                      ", before episode " + std::to_string(i - 1) + " (step " +
                                      std::to_string(previous_start) + ")");
    }
    previous_start = start;
  }
  if (index->step_offsets.empty()) {
    return envlogger::NotFoundError("Empty steps in " + step_offsets_filepath)
        .WithReason(kEmptyShardReason);
  }
  index_ = std::move(index);
  Status status = OpenFiles();
  if (!status.ok()) index_.reset();
  return status;
}

Status RiegeliShardReader::OpenFiles() {
  riegeli::RecordReaderOptions step_options;
  step_options.chunk_cache_bytes = step_cache_bytes_;
  ASSIGN_OR_RETURN(steps_, RecordReader::Open(index_->steps_filepath, step_options, index_->open));
  ASSIGN_OR_RETURN(episode_metadata_,
                   RecordReader::Open(index_->episode_metadata_filepath, {}, index_->open));
  return OkStatus();
}

void RiegeliShardReader::SetStepCacheBytes(uint64_t max_bytes) {
  step_cache_bytes_ = max_bytes;
  if (steps_ != nullptr) steps_->SetChunkCacheBytes(max_bytes);
}

const riegeli::ChunkCache* RiegeliShardReader::StepCache() const {
  return steps_ == nullptr ? nullptr : &steps_->chunk_cache();
}

StatusOr<RiegeliShardReader> RiegeliShardReader::Clone() const {
  RiegeliShardReader clone;
  clone.index_ = index_;
  clone.step_cache_bytes_ = step_cache_bytes_;
  if (index_ != nullptr) RETURN_IF_ERROR(clone.OpenFiles());
  return clone;
}

int64_t RiegeliShardReader::NumSteps() const {
  return index_ == nullptr ? 0 : static_cast<int64_t>(index_->step_offsets.size());
}

int64_t RiegeliShardReader::NumEpisodes() const {
  return index_ == nullptr ? 0 : static_cast<int64_t>(index_->episode_starts.size());
}

Status RiegeliShardReader::ReadStep(int64_t index, std::string_view* record) {
  if (index < 0 || index >= NumSteps()) {
    return envlogger::OutOfRangeError("Step " + std::to_string(index) + " is not in [0, " +
                                      std::to_string(NumSteps()) + ")");
  }
  return ReadRecord(/*is_step=*/true, index, static_cast<uint64_t>(index_->step_offsets[index]),
                    record);
}

Status RiegeliShardReader::ReadRecord(bool is_step, int64_t index, uint64_t position,
                                      std::string_view* record) {
  std::unique_ptr<RecordReader>& reader = is_step ? steps_ : episode_metadata_;
  const std::string& path = is_step ? index_->steps_filepath : index_->episode_metadata_filepath;
  if (reader == nullptr) return envlogger::FailedPreconditionError("Reading a closed shard reader");
  // Built only for errors: a successful read allocates nothing.
  const auto what = [&] {
    return (is_step ? "Step " : "Metadata of episode ") + std::to_string(index);
  };
  if (!damaged_.empty()) {
    if (const SkippedRegion* region = FindDamage(path, position))
      return DamageError(what(), position, *region);
  }
  if (!reader->ReadRecordAt(position, record))
    return ReadFailure(path, what(), position, is_step, &reader);
  if (reader->LastPos().numeric() != position) {
    return envlogger::DataLossError(std::string("No ") + (is_step ? "step" : "episode metadata") +
                                    " record at position " + std::to_string(position) + " of " +
                                    path);
  }
  return OkStatus();
}

const SkippedRegion* RiegeliShardReader::FindDamage(const std::string& path,
                                                    uint64_t position) const {
  for (const SkippedRegion& region : damaged_) {
    if (region.begin <= position && position < region.end && region.path == path) return &region;
  }
  return nullptr;
}

bool RiegeliShardReader::IsDamageError(const Status& status) {
  return status.code() == StatusCode::kDataLoss && status.reason() == kDamagedChunkReason;
}

Status RiegeliShardReader::DamageError(const std::string& what, uint64_t position,
                                       const SkippedRegion& region) {
  return envlogger::DataLossError(what + " at position " + std::to_string(position) + " of " +
                                  region.path + " is in a damaged chunk: bytes [" +
                                  std::to_string(region.begin) + ", " + std::to_string(region.end) +
                                  ") are unreadable (" + region.message + ")")
      .WithReason(kDamagedChunkReason);
}

Status RiegeliShardReader::ReadFailure(const std::string& path, const std::string& what,
                                       uint64_t position, bool is_step,
                                       std::unique_ptr<RecordReader>* reader) {
  riegeli::SkippedRegion skipped;
  bool damaged = false;
  Status error;
  if (!(*reader)->ok()) {
    error = (*reader)->status();
    damaged = (*reader)->Recover(&skipped);
    if (!damaged) {
      Reopen(path, index_->open,
             is_step ? step_cache_bytes_ : riegeli::RecordReaderOptions().chunk_cache_bytes,
             reader);
    }
  } else {
    // No error and no record: the end of the file, or (if the position lies
    // before the end) a chunk cut off by the end of the file.
    error =
        envlogger::DataLossError("No " + std::string(is_step ? "step" : "episode metadata") +
                                 " record at position " + std::to_string(position) + " of " + path);
    const uint64_t chunk_begin = (*reader)->Pos().chunk_begin;
    StatusOr<uint64_t> size = (*reader)->Size();
    if (size.ok() && chunk_begin <= position && position < *size) {
      damaged = true;
      skipped = riegeli::SkippedRegion{
          chunk_begin, *size, "truncated file: incomplete chunk at " + std::to_string(chunk_begin)};
    }
  }
  if (!damaged || position < skipped.begin || position >= skipped.end) return error;
  SkippedRegion region;
  region.path = path;
  region.begin = skipped.begin;
  region.end = skipped.end;
  region.message = std::move(skipped.message);
  if (is_step) {
    const std::vector<int64_t>& offsets = index_->step_offsets;
    for (size_t i = 0; i < offsets.size(); ++i) {
      const uint64_t offset = static_cast<uint64_t>(offsets[i]);
      if (offset < region.begin || offset >= region.end) continue;
      if (region.first_step < 0) region.first_step = static_cast<int64_t>(i);
      region.last_step = static_cast<int64_t>(i);
    }
  }
  damaged_.push_back(std::move(region));
  return DamageError(what, position, damaged_.back());
}

StatusOr<EpisodeInfo> RiegeliShardReader::Episode(int64_t index, bool include_metadata) {
  if (index < 0 || index >= NumEpisodes()) {
    return envlogger::OutOfRangeError("Episode " + std::to_string(index) + " is not in [0, " +
                                      std::to_string(NumEpisodes()) + ")");
  }
  EpisodeInfo info;
  info.start = index_->episode_starts[index];
  const int64_t end = index + 1 < NumEpisodes() ? index_->episode_starts[index + 1] : NumSteps();
  info.num_steps = end - info.start;
  const int64_t metadata_offset = index_->episode_metadata_offsets[index];
  // Position 0 holds the file signature, so only positive offsets are records.
  if (include_metadata && metadata_offset > 0) {
    std::string_view record;
    RETURN_IF_ERROR(
        ReadRecord(/*is_step=*/false, index, static_cast<uint64_t>(metadata_offset), &record));
    info.metadata = std::string(record);
  }
  return info;
}

const ShardIndexRecovery& RiegeliShardReader::Recovery() const {
  static const ShardIndexRecovery* const kNothing = new ShardIndexRecovery();
  return index_ == nullptr ? *kNothing : index_->recovery;
}

std::string RiegeliShardReader::RecoverySummary() const {
  if (index_ == nullptr || !index_->recovery.changed()) return "";
  return index_->recovery.Summary(index_->steps_filepath);
}

void RiegeliShardReader::Close() {
  if (steps_ != nullptr) steps_->Close().IgnoreError();
  if (episode_metadata_ != nullptr) episode_metadata_->Close().IgnoreError();
  steps_.reset();
  episode_metadata_.reset();
}

}  // namespace envlogger
