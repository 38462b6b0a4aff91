#include "envlogger/riegeli/record_reader.h"

#include <algorithm>
#include <utility>

#include "envlogger/riegeli/chunk_decoder.h"
#include "envlogger/riegeli/fd_io.h"
#include "envlogger/riegeli/transpose_decoder.h"

namespace envlogger {
namespace riegeli {

StatusOr<std::unique_ptr<RecordReader>> RecordReader::Open(const std::string& path,
                                                           RecordReaderOptions options,
                                                           const SourceOpener& open) {
  std::unique_ptr<ByteSource> source;
  if (open) {
    ASSIGN_OR_RETURN(source, open(path));
  } else {
    ASSIGN_OR_RETURN(source, OpenFdSource(path));
  }
  return std::make_unique<RecordReader>(std::move(source), std::move(options));
}

RecordReader::RecordReader(std::unique_ptr<ByteSource> source, RecordReaderOptions options)
    : source_(std::move(source)),
      name_(source_->name()),
      options_(std::move(options)),
      chunk_reader_(source_.get()),
      cache_(options_.chunk_cache_bytes) {}

RecordPosition RecordReader::Pos() const {
  if (chunk_ != nullptr && index_ < chunk_->num_records()) {
    return RecordPosition{chunk_->begin, index_};
  }
  return RecordPosition{chunk_reader_.pos(), 0};
}

void RecordReader::UnloadChunk() {
  // A chunk the cache does not hold lends its buffers to the next decode.
  cache_.GiveSpare(std::move(chunk_));
  chunk_ = nullptr;
  index_ = 0;
}

bool RecordReader::Fail(const Status& status) {
  if (status_.ok()) status_ = status;
  return false;
}

bool RecordReader::CheckOpen() {
  if (!closed_) return true;
  return Fail(FailedPreconditionError("Riegeli/records file " + name_ + " is closed"));
}

bool RecordReader::HandleFailure(Failure failure, const Status& status) {
  UnloadChunk();
  if (!options_.recovery) {
    failure_ = failure;
    return Fail(status);
  }
  SkippedRegion region;
  if (failure == Failure::kChunkReader) {
    if (!chunk_reader_.Recover(&region)) return Fail(status);
  } else {
    // The chunk reader already stands at the end of the undecodable chunk.
    region = SkippedRegion{failed_chunk_begin_, failed_chunk_end_, status.message()};
  }
  return options_.recovery(region);
}

bool RecordReader::LoadChunk(bool cache) {
  Chunk& chunk = raw_chunk_;
  while (true) {
    uint64_t chunk_begin = 0;
    if (!chunk_reader_.ReadChunk(&chunk, &chunk_begin)) {
      // OK status: a clean end or a truncated chunk, neither is an error here.
      if (chunk_reader_.status().ok()) return false;
      if (!HandleFailure(Failure::kChunkReader, chunk_reader_.status())) return false;
      continue;
    }
    // The current chunk is replaced now (kept above if nothing followed).
    UnloadChunk();
    std::shared_ptr<DecodedChunk> decoded = cache_.TakeSpare();
    size_t values_in_data = kValuesNotInData;
    Status status = DecodeChunk(chunk, &decoded->values, &decoded->limits, &values_in_data);
    if (status.ok() && decoded->limits.size() != chunk.header.num_records) {
      status = InternalError("decoder returned " + std::to_string(decoded->limits.size()) +
                             " records instead of " + std::to_string(chunk.header.num_records));
    }
    if (!status.ok()) {
      cache_.GiveSpare(std::move(decoded));
      failed_chunk_begin_ = chunk_begin;
      failed_chunk_end_ = chunk_reader_.pos();
      if (!HandleFailure(Failure::kDecode, status.WithContext("Riegeli/records file " + name_ +
                                                              ": decoding chunk at " +
                                                              std::to_string(chunk_begin)))) {
        return false;
      }
      continue;
    }
    decoded->values_begin = 0;
    if (values_in_data != kValuesNotInData) {
      // Uncompressed: the records stay in the chunk data, which the decoded
      // chunk takes over (the chunk reader reads the next chunk into the
      // buffer it gives back).
      decoded->values.swap(chunk.data);
      decoded->values_begin = values_in_data;
    }
    decoded->begin = chunk_begin;
    decoded->end = chunk_reader_.pos();
    if (cache && decoded->num_records() > 0) cache_.Insert(decoded);
    chunk_ = std::move(decoded);
    index_ = 0;
    return true;
  }
}

bool RecordReader::UseCachedChunk(uint64_t pos, bool exact_begin) {
  std::shared_ptr<DecodedChunk> cached = cache_.Find(pos);
  if (cached == nullptr || (exact_begin && cached->begin != pos)) return false;
  UnloadChunk();
  chunk_reader_.SeekToKnownBoundary(cached->end);
  index_ = pos - cached->begin;
  chunk_ = std::move(cached);
  return true;
}

bool RecordReader::ReadRecord(std::string_view* record) {
  // Runs per record, so CheckOpen() (which records the failure) is called
  // only when closed.
  if (!status_.ok() || closed_) {
    CheckOpen();
    return false;
  }
  while (chunk_ == nullptr || index_ >= chunk_->num_records()) {
    // The next chunk begins where the chunk reader stands; it may be cached.
    if (UseCachedChunk(chunk_reader_.pos(), /*exact_begin=*/true)) continue;
    if (!LoadChunk(/*cache=*/random_access_)) return false;
  }
  *record = chunk_->record(index_);
  last_pos_ = RecordPosition{chunk_->begin, index_};
  ++index_;
  return true;
}

bool RecordReader::ReadRecordAt(uint64_t numeric_pos, std::string_view* record) {
  if (!status_.ok() || !CheckOpen()) return false;
  if (chunk_ != nullptr && chunk_->Contains(numeric_pos)) {
    index_ = numeric_pos - chunk_->begin;
    return ReadRecord(record);
  }
  // Just past the current chunk's records is where sequential reading
  // continues: the next chunk is read like ReadRecord() would, uncached.
  const bool sequential =
      chunk_ != nullptr && numeric_pos >= chunk_->begin && numeric_pos <= chunk_->end;
  // SeekNumeric() looks in the cache before reading.
  if (!SeekNumeric(numeric_pos)) return false;
  random_access_ = !sequential;
  const bool found = ReadRecord(record);
  random_access_ = false;
  return found;
}

bool RecordReader::Seek(RecordPosition pos) {
  if (!status_.ok() || !CheckOpen()) return false;
  UnloadChunk();
  if (!chunk_reader_.Seek(pos.chunk_begin)) {
    if (chunk_reader_.status().ok()) return true;
    // With recovery: positioned after the damage (or stopped there).
    return HandleFailure(Failure::kChunkReader, chunk_reader_.status()) || status_.ok();
  }
  if (pos.record_index == 0) return true;               // The chunk is read when needed.
  if (!LoadChunk(/*cache=*/true)) return status_.ok();  // The end of the file.
  if (chunk_->begin == pos.chunk_begin) {
    index_ = std::min<uint64_t>(pos.record_index, chunk_->num_records());
  }
  return true;
}

bool RecordReader::SeekNumeric(uint64_t pos) {
  if (!status_.ok() || !CheckOpen()) return false;
  if (chunk_ != nullptr && pos >= chunk_->begin && pos <= chunk_->end) {
    index_ = std::min<uint64_t>(pos - chunk_->begin, chunk_->num_records());
    return true;
  }
  if (UseCachedChunk(pos, /*exact_begin=*/false)) return true;
  UnloadChunk();
  if (!chunk_reader_.SeekToChunkContaining(pos)) {
    // OK status: positioned at a chunk the file does not hold completely yet.
    if (chunk_reader_.status().ok()) return true;
    // Beyond the end of the file is the caller's error, not damage.
    if (chunk_reader_.status().code() == StatusCode::kOutOfRange) {
      failure_ = Failure::kChunkReader;
      return Fail(chunk_reader_.status());
    }
    // With recovery: positioned after the damage (or stopped there), which
    // may lie before pos (the next intact chunk): read on to pos.
    if (!HandleFailure(Failure::kChunkReader, chunk_reader_.status())) return status_.ok();
    while (chunk_reader_.pos() < pos) {
      if (!LoadChunk(/*cache=*/true)) return status_.ok();
      if (chunk_->end > pos) break;
      index_ = chunk_->num_records();  // The whole chunk lies before pos.
    }
    if (chunk_ != nullptr && chunk_->end > pos && chunk_->begin <= pos) {
      index_ = std::min<uint64_t>(pos - chunk_->begin, chunk_->num_records());
    }
    return true;
  }
  if (chunk_reader_.pos() >= pos) return true;  // Between records: the next one.
  if (!LoadChunk(/*cache=*/true)) return status_.ok();
  if (chunk_->begin <= pos) index_ = std::min<uint64_t>(pos - chunk_->begin, chunk_->num_records());
  return true;
}

bool RecordReader::SeekBack() {
  if (!status_.ok() || !CheckOpen()) return false;
  if (chunk_ != nullptr && index_ > 0 && chunk_->num_records() > 0) {
    index_ = std::min<uint64_t>(index_, chunk_->num_records()) - 1;
    return true;
  }
  uint64_t pos = chunk_ != nullptr ? chunk_->begin : chunk_reader_.pos();
  while (pos > 0) {
    UnloadChunk();
    if (!chunk_reader_.SeekToChunkBefore(pos)) {
      failure_ = Failure::kChunkReader;
      return Fail(chunk_reader_.status());
    }
    const uint64_t chunk_begin = chunk_reader_.pos();
    if (chunk_begin >= pos || !LoadChunk(/*cache=*/true)) return false;
    if (chunk_->num_records() > 0) {
      index_ = chunk_->num_records() - 1;
      return true;
    }
    pos = chunk_begin;
  }
  return false;
}

StatusOr<uint64_t> RecordReader::Size() {
  if (closed_) return FailedPreconditionError("Riegeli/records file " + name_ + " is closed");
  return source_->Size();
}

StatusOr<std::optional<std::string>> RecordReader::ReadMetadata() {
  if (closed_) return FailedPreconditionError("Riegeli/records file " + name_ + " is closed");
  // A separate chunk reader leaves the reading position alone.
  ChunkReader reader(source_.get());
  Chunk chunk;
  uint64_t chunk_begin = 0;
  for (int i = 0; i < 2; ++i) {  // The signature, then the chunk after it.
    if (!reader.ReadChunk(&chunk, &chunk_begin)) {
      if (!reader.status().ok()) return reader.status();
      return std::optional<std::string>();
    }
  }
  if (chunk.header.chunk_type != ChunkType::kFileMetadata) return std::optional<std::string>("");
  std::string values;
  std::vector<uint64_t> limits;
  Status status =
      DecodeTransposedChunk(chunk.data, 1, chunk.header.decoded_data_size, &values, &limits);
  if (status.ok() && values.size() != chunk.header.decoded_data_size) {
    status = InvalidArgumentError("metadata has " + std::to_string(values.size()) +
                                  " bytes, the chunk header says " +
                                  std::to_string(chunk.header.decoded_data_size));
  }
  if (!status.ok()) {
    status = status.WithContext("Riegeli/records file " + name_ +
                                ": decoding the metadata chunk at " + std::to_string(chunk_begin));
    if (!options_.recovery) return status;
    options_.recovery(SkippedRegion{chunk_begin, reader.pos(), status.message()});
    return std::optional<std::string>("");
  }
  return std::optional<std::string>(std::move(values));
}

bool RecordReader::Recover(SkippedRegion* region) {
  if (closed_ || failure_ == Failure::kNone) return false;
  if (failure_ == Failure::kChunkReader) {
    if (!chunk_reader_.Recover(region)) return false;
  } else {
    *region = SkippedRegion{failed_chunk_begin_, failed_chunk_end_, status_.message()};
  }
  failure_ = Failure::kNone;
  status_ = OkStatus();
  return true;
}

Status RecordReader::Close() {
  if (closed_) return close_status_;
  UnloadChunk();
  cache_.Clear();
  if (status_.ok() && chunk_reader_.truncated()) {
    const uint64_t chunk_begin = chunk_reader_.pos();
    StatusOr<uint64_t> size = source_->Size();
    if (!size.ok()) {
      status_ = size.status();
    } else if (chunk_begin < *size) {
      const std::string message = "Truncated Riegeli/records file, incomplete chunk at " +
                                  std::to_string(chunk_begin) + " with length " +
                                  std::to_string(*size - chunk_begin);
      if (options_.recovery) {
        options_.recovery(SkippedRegion{chunk_begin, *size, message});
      } else {
        status_ = InvalidArgumentError(name_ + ": " + message);
      }
    } else if (!options_.recovery) {
      // Recovery resumed at a chunk that an intact block header places beyond
      // the end: the skipped region reported then already reaches past the
      // end, so no byte is left for the recovery callback.
      status_ = InvalidArgumentError(name_ + ": Truncated Riegeli/records file: it ends at " +
                                     std::to_string(*size) + ", before the next chunk at " +
                                     std::to_string(chunk_begin));
    }
  }
  closed_ = true;
  close_status_ = status_;
  source_.reset();
  return close_status_;
}

}  // namespace riegeli
}  // namespace envlogger
