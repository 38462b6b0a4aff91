#include "envlogger/backends/cc/riegeli_dataset_writer.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

#include "envlogger/backends/cc/dataset_filesystem.h"
#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"
#include "envlogger/riegeli/record_reader.h"
#include "envlogger/riegeli/record_writer.h"
#include "envlogger/riegeli/record_writer_options.h"

namespace envlogger {

using envlogger::OkStatus;
using envlogger::Status;
using envlogger::StatusOr;
using riegeli::RecordReader;
using riegeli::RecordWriter;
using riegeli::RecordWriterOptions;

namespace {

// metadata.riegeli is always written with Riegeli's defaults plus transpose.
Status WriteMetadataFile(const std::string& path, std::string_view metadata) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString("transpose");
  if (!options.ok()) return options.status();
  ASSIGN_OR_RETURN(std::unique_ptr<RecordWriter> writer, RecordWriter::Open(path, *options));
  RETURN_IF_ERROR(writer->WriteRecord(metadata));
  return writer->Close();
}

// A name for a private temporary file beside `path`, unique across processes
// and hosts sharing the directory (pid, a per-process counter, random bits).
std::string TemporaryPath(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char suffix[96];
  std::snprintf(suffix, sizeof(suffix), ".tmp.%ld.%llu.%llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(counter++), static_cast<unsigned long long>(salt));
  return path + suffix;
}

// OK if the existing `path` holds `metadata` as its first record; otherwise
// FAILED_PRECONDITION naming the file.
Status CheckSameMetadata(const std::string& path, std::string_view metadata) {
  StatusOr<std::unique_ptr<RecordReader>> reader = RecordReader::Open(path);
  std::string_view record;
  if (reader.ok() && (*reader)->ReadRecord(&record) && record == metadata) return OkStatus();
  return envlogger::FailedPreconditionError(
      path +
      " already exists with different (or unreadable) dataset metadata: another writer "
      "started this dataset with other metadata. Use a new data_directory, or a writer_name per "
      "writer under a common root");
}

// Publishes metadata.riegeli atomically: written whole under a temporary name,
// then hard-linked to its final name, which fails if the name exists, so
// concurrent writers never see a torn file and never replace each other's.
// An existing file must hold the same metadata.
Status PublishMetadataFile(const std::string& path, std::string_view metadata) {
  if (PathExists(path)) return CheckSameMetadata(path, metadata);
  const std::string temporary = TemporaryPath(path);
  Status written = WriteMetadataFile(temporary, metadata);
  if (!written.ok()) {
    ::unlink(temporary.c_str());
    return written;
  }
  int error = ::link(temporary.c_str(), path.c_str()) == 0 ? 0 : errno;
  if (error == EPERM || error == ENOTSUP || error == EOPNOTSUPP || error == EXDEV) {
    // A file system without hard links: rename, which is atomic but could
    // replace a file published meanwhile, so it is checked just before.
    error =
        PathExists(path) ? EEXIST : (::rename(temporary.c_str(), path.c_str()) == 0 ? 0 : errno);
  }
  ::unlink(temporary.c_str());
  if (error == EEXIST) return CheckSameMetadata(path, metadata);
  if (error != 0) return envlogger::ErrnoToStatus(error, "Publishing " + path);
  return OkStatus();
}

}  // namespace

Status RiegeliDatasetWriter::Init(std::string data_dir, std::string_view metadata,
                                  int64_t max_episodes_per_shard, std::string writer_options,
                                  int64_t episode_counter) {
  RETURN_IF_ERROR(Close());
  has_shard_ = false;
  data_dir_ = std::move(data_dir);
  writer_options_ = std::move(writer_options);
  max_episodes_per_shard_ = max_episodes_per_shard;
  episode_counter_ = episode_counter;
  if (data_dir_.empty()) return envlogger::NotFoundError("Empty data_dir.");
  if (StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(writer_options_);
      !options.ok()) {
    return options.status().WithContext("Invalid writer_options \"" + writer_options_ + "\"");
  }
  RETURN_IF_ERROR(CreateDirectories(data_dir_));
  RETURN_IF_ERROR(CheckWritableDirectory(data_dir_));
  const std::string metadata_path = JoinPath(data_dir_, internal::kMetadataFilename);
  RETURN_IF_ERROR(PublishMetadataFile(metadata_path, metadata));
  if (max_episodes_per_shard_ <= 0) return StartShard();
  return OkStatus();
}

Status RiegeliDatasetWriter::AddStep(std::string_view data, bool is_new_episode) {
  if (is_new_episode && max_episodes_per_shard_ > 0 &&
      episode_counter_++ % max_episodes_per_shard_ == 0) {
    RETURN_IF_ERROR(StartShard());
  }
  if (!has_shard_) {
    return envlogger::FailedPreconditionError(
        "AddStep: no shard is open in " + data_dir_ +
        " (with max_episodes_per_shard > 0 the first step must start an episode, and Init() must "
        "have succeeded)");
  }
  return shard_writer_.AddStep(data, is_new_episode);
}

void RiegeliDatasetWriter::SetEpisodeMetadata(std::string data) {
  shard_writer_.SetEpisodeMetadata(std::move(data));
}

Status RiegeliDatasetWriter::Flush() { return shard_writer_.Flush(); }

Status RiegeliDatasetWriter::Close() { return shard_writer_.Close(); }

Status RiegeliDatasetWriter::StartShard() {
  has_shard_ = false;
  RETURN_IF_ERROR(shard_writer_.Close());
  ASSIGN_OR_RETURN(const std::string shard_dir,
                   CreateShardDirectory(data_dir_, std::chrono::system_clock::now()));
  RETURN_IF_ERROR(shard_writer_.Init(JoinPath(shard_dir, internal::kStepsFilename),
                                     JoinPath(shard_dir, internal::kStepOffsetsFilename),
                                     JoinPath(shard_dir, internal::kEpisodeMetadataFilename),
                                     JoinPath(shard_dir, internal::kEpisodeIndexFilename),
                                     writer_options_));
  has_shard_ = true;
  return OkStatus();
}

}  // namespace envlogger
