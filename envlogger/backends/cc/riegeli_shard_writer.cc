#include "envlogger/backends/cc/riegeli_shard_writer.h"

#include <utility>

#include "envlogger/backends/cc/int64_datum_codec.h"
#include "envlogger/riegeli/record_writer_options.h"

namespace envlogger {

using envlogger::OkStatus;
using envlogger::Status;
using envlogger::StatusOr;
using riegeli::FlushType;
using riegeli::RecordWriter;
using riegeli::RecordWriterOptions;

RiegeliShardWriter::~RiegeliShardWriter() { Close().IgnoreError(); }

Status RiegeliShardWriter::Init(const std::string& steps_filepath,
                                const std::string& step_offsets_filepath,
                                const std::string& episode_metadata_filepath,
                                const std::string& episode_index_filepath,
                                const std::string& writer_options) {
  RETURN_IF_ERROR(Close());
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(writer_options);
  if (!options.ok())
    return options.status().WithContext("Invalid writer_options \"" + writer_options + "\"");

  std::unique_ptr<RecordWriter>* const writers[] = {&steps_, &step_offsets_, &episode_metadata_,
                                                    &episode_index_};
  const std::string* const paths[] = {&steps_filepath, &step_offsets_filepath,
                                      &episode_metadata_filepath, &episode_index_filepath};
  for (int i = 0; i < 4; ++i) {
    StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Open(*paths[i], *options);
    if (!writer.ok()) {
      for (auto* opened : writers) opened->reset();
      return writer.status();
    }
    *writers[i] = std::move(writer).value();
  }
  return OkStatus();
}

Status RiegeliShardWriter::AddStep(std::string_view data, bool is_new_episode) {
  Status metadata_status;
  if (is_new_episode) {
    int64_t metadata_offset = -1;
    if (current_episode_metadata_.has_value()) {
      StatusOr<int64_t> position = WriteEpisodeMetadata(*current_episode_metadata_);
      current_episode_metadata_.reset();
      if (position.ok()) {
        metadata_offset = *position;
      } else {
        metadata_status = position.status();
      }
    }
    if (!episode_starts_.empty()) episode_metadata_offsets_.push_back(metadata_offset);
    episode_starts_.push_back(num_steps_at_flush_ + static_cast<int64_t>(step_positions_.size()));
  }
  if (steps_ == nullptr)
    return envlogger::FailedPreconditionError("AddStep: the shard writer is not open");
  if (!indexing_status_.ok()) return indexing_status_;
  if (Status status = steps_->WriteRecord(data); !status.ok()) return StopIndexing(status, true);
  step_positions_.push_back(static_cast<int64_t>(steps_->LastPos().numeric()));
  return metadata_status;
}

void RiegeliShardWriter::SetEpisodeMetadata(std::string data) {
  if (episode_metadata_ == nullptr || episode_starts_.empty()) return;
  current_episode_metadata_ = std::move(data);
}

Status RiegeliShardWriter::Flush() {
  if (!indexing_status_.ok()) return indexing_status_;
  if (step_positions_.empty()) return OkStatus();
  if (Status status = steps_->Flush(FlushType::kFromMachine); !status.ok())
    return StopIndexing(status, true);
  const int64_t n = static_cast<int64_t>(step_positions_.size());
  num_steps_at_flush_ += n;
  Status status = step_offsets_->WriteRecord(EncodeInt64Datum({n}, step_positions_));
  if (status.ok()) status = step_offsets_->Flush(FlushType::kFromMachine);
  if (!status.ok()) return StopIndexing(status, false);
  step_positions_.clear();
  if (episode_starts_.size() > 1) {
    status = episode_metadata_->Flush(FlushType::kFromMachine);
    const std::vector<int64_t> finished(episode_starts_.begin(), episode_starts_.end() - 1);
    if (status.ok()) status = WriteEpisodeRows(finished, episode_metadata_offsets_);
    if (!status.ok()) return StopIndexing(status, false);
    episode_starts_.erase(episode_starts_.begin(), episode_starts_.end() - 1);
    episode_metadata_offsets_.clear();
  }
  return OkStatus();
}

Status RiegeliShardWriter::Close() {
  if (steps_ == nullptr) return OkStatus();
  Status result = Flush();
  if (indexing_status_.ok()) {
    if (!episode_starts_.empty()) {
      std::vector<int64_t> offsets = episode_metadata_offsets_;
      int64_t last_offset = -1;
      if (current_episode_metadata_.has_value()) {
        StatusOr<int64_t> position = WriteEpisodeMetadata(*current_episode_metadata_);
        Status status =
            position.ok() ? episode_metadata_->Flush(FlushType::kFromMachine) : position.status();
        if (status.ok()) {
          last_offset = *position;
        } else if (result.ok()) {
          result = status;
        }
      }
      offsets.push_back(last_offset);
      if (Status status = WriteEpisodeRows(episode_starts_, offsets); !status.ok() && result.ok())
        result = status;
    }
  } else if (steps_failed_) {
    if (Status status = SalvageIndex(); !status.ok() && result.ok()) result = status;
  }
  for (auto* writer : {&steps_, &step_offsets_, &episode_metadata_, &episode_index_}) {
    if (Status status = (*writer)->Close(); !status.ok() && result.ok()) result = status;
    writer->reset();
  }
  num_steps_at_flush_ = 0;
  step_positions_.clear();
  episode_starts_.clear();
  episode_metadata_offsets_.clear();
  current_episode_metadata_.reset();
  steps_failed_ = false;
  indexing_status_ = OkStatus();
  return result;
}

StatusOr<int64_t> RiegeliShardWriter::WriteEpisodeMetadata(const std::string& record) {
  if (episode_metadata_ == nullptr)
    return envlogger::FailedPreconditionError("The shard writer is not open");
  RETURN_IF_ERROR(episode_metadata_->WriteRecord(record));
  return static_cast<int64_t>(episode_metadata_->LastPos().numeric());
}

Status RiegeliShardWriter::WriteEpisodeRows(const std::vector<int64_t>& starts,
                                            const std::vector<int64_t>& offsets) {
  std::vector<int64_t> matrix;
  matrix.reserve(2 * starts.size());
  for (size_t i = 0; i < starts.size(); ++i) {
    matrix.push_back(starts[i]);
    matrix.push_back(offsets[i]);
  }
  RETURN_IF_ERROR(episode_index_->WriteRecord(
      EncodeInt64Datum({static_cast<int64_t>(starts.size()), 2}, matrix)));
  return episode_index_->Flush(FlushType::kFromMachine);
}

Status RiegeliShardWriter::SalvageIndex() {
  std::vector<int64_t> starts;
  std::vector<int64_t> offsets;
  for (size_t i = 0; i < episode_starts_.size() && episode_starts_[i] < num_steps_at_flush_; ++i) {
    starts.push_back(episode_starts_[i]);
    offsets.push_back(i < episode_metadata_offsets_.size() ? episode_metadata_offsets_[i] : -1);
  }
  if (starts.empty()) return OkStatus();
  return WriteEpisodeRows(starts, offsets);
}

Status RiegeliShardWriter::StopIndexing(Status status, bool steps_file_failed) {
  if (indexing_status_.ok()) {
    indexing_status_ = status;
    steps_failed_ = steps_file_failed;
  }
  return status;
}

}  // namespace envlogger
