#include "envlogger/riegeli/record_writer.h"

#include <utility>

#include "envlogger/riegeli/buffer_pool.h"
#include "envlogger/riegeli/fd_io.h"
#include "envlogger/riegeli/simple_encoder.h"
#include "envlogger/riegeli/transpose_encoder.h"

namespace envlogger {
namespace riegeli {
namespace {

// Per-record overhead counted against the desired chunk size (the size of
// the record's entry in the decoder's limits array).
constexpr uint64_t kRecordOverhead = sizeof(uint64_t);

std::unique_ptr<ChunkEncoder> MakeEncoder(const RecordWriterOptions& options) {
  if (options.transpose) {
    return std::make_unique<TransposeEncoder>(options.compression, options.bucket_size());
  }
  return std::make_unique<SimpleEncoder>(options.compression, options.effective_chunk_size());
}

}  // namespace

StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Open(
    const std::string& path, const RecordWriterOptions& options, bool append,
    std::optional<std::string> serialized_metadata) {
  ASSIGN_OR_RETURN(auto sink, OpenFdSink(path, append));
  return Create(std::unique_ptr<ByteSink>(std::move(sink)), options,
                std::move(serialized_metadata));
}

StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Create(
    std::unique_ptr<ByteSink> sink, const RecordWriterOptions& options,
    std::optional<std::string> serialized_metadata) {
  std::unique_ptr<RecordWriter> writer(new RecordWriter(std::move(sink), options));
  RETURN_IF_ERROR(writer->Initialize(std::move(serialized_metadata)));
  return writer;
}

RecordWriter::RecordWriter(std::unique_ptr<ByteSink> sink, const RecordWriterOptions& options)
    : sink_(std::move(sink)),
      options_(options),
      chunk_writer_(sink_.get()),
      encoder_(MakeEncoder(options)),
      simple_encoder_(options.transpose ? nullptr : static_cast<SimpleEncoder*>(encoder_.get())),
      desired_chunk_size_(options.effective_chunk_size()),
      encoded_(TakePooledBuffer()) {}

RecordWriter::~RecordWriter() {
  Close().IgnoreError();
  RecyclePooledBuffer(&encoded_);
}

Status RecordWriter::Initialize(std::optional<std::string> serialized_metadata) {
  if (chunk_writer_.pos() == 0) {
    if (Status status = chunk_writer_.WriteSignature(); !status.ok()) return Fail(status);
    if (serialized_metadata.has_value()) {
      if (Status status = WriteMetadata(*serialized_metadata); !status.ok()) return Fail(status);
    }
  } else {
    if (Status status = chunk_writer_.PrepareForAppend(); !status.ok()) return Fail(status);
    if (Status status = chunk_writer_.WritePadding(options_.initial_padding); !status.ok()) {
      return Fail(status);
    }
  }
  last_pos_ = RecordPosition{chunk_writer_.pos(), 0};
  return OkStatus();
}

Status RecordWriter::WriteMetadata(const std::string& serialized_metadata) {
  // The metadata chunk is a transposed chunk of one record whose header
  // claims no records, so that record readers skip it.
  TransposeEncoder encoder(options_.compression, options_.bucket_size());
  encoder.AddRecord(serialized_metadata);
  RETURN_IF_ERROR(encoder.Encode(&encoded_));
  return chunk_writer_.WriteChunk(ChunkType::kFileMetadata, 0, serialized_metadata.size(),
                                  encoded_);
}

Status RecordWriter::WriteRecord(std::string_view record) {
  if (!status_.ok()) return status_;
  if (closed_) return FailedPreconditionError("WriteRecord() after Close() of " + sink_->name());
  const uint64_t added_size = uint64_t{record.size()} + kRecordOverhead;
  if (chunk_size_so_far_ > 0 && (chunk_size_so_far_ > desired_chunk_size_ ||
                                 added_size > desired_chunk_size_ - chunk_size_so_far_)) {
    RETURN_IF_ERROR(CloseChunk());
  }
  chunk_size_so_far_ += added_size;
  if (simple_encoder_ != nullptr) {
    simple_encoder_->AddRecord(record);
  } else {
    encoder_->AddRecord(record);
  }
  last_pos_ = RecordPosition{chunk_writer_.pos(), records_in_chunk_++};
  if (chunk_size_so_far_ + kRecordOverhead > desired_chunk_size_) {
    // No other record fits: write the chunk now rather than keep it.
    RETURN_IF_ERROR(CloseChunk());
  }
  return OkStatus();
}

RecordPosition RecordWriter::Pos() const {
  return RecordPosition{chunk_writer_.pos(), encoder_->num_records()};
}

Status RecordWriter::CloseChunk() {
  chunk_size_so_far_ = 0;
  if (encoder_->num_records() == 0) return OkStatus();
  if (Status status = encoder_->Encode(&encoded_); !status.ok()) return Fail(status);
  if (Status status = chunk_writer_.WriteChunk(encoder_->chunk_type(), encoder_->num_records(),
                                               encoder_->decoded_data_size(), encoded_);
      !status.ok()) {
    return Fail(status);
  }
  encoder_->Reset();
  records_in_chunk_ = 0;
  return OkStatus();
}

Status RecordWriter::Flush(FlushType type) {
  if (!status_.ok()) return status_;
  if (closed_) return FailedPreconditionError("Flush() after Close() of " + sink_->name());
  RETURN_IF_ERROR(CloseChunk());
  if (Status status = chunk_writer_.WritePadding(options_.final_padding); !status.ok()) {
    return Fail(status);
  }
  if (Status status = chunk_writer_.Flush(type); !status.ok()) return Fail(status);
  return OkStatus();
}

Status RecordWriter::Close() {
  if (closed_) return status_;
  if (status_.ok()) {
    if (Status status = CloseChunk(); status.ok()) {
      if (Status padding = chunk_writer_.WritePadding(options_.final_padding); !padding.ok()) {
        Fail(padding).IgnoreError();
      }
    }
  }
  closed_ = true;
  // The sink is closed even after a failure, so that its descriptor is freed.
  if (Status status = sink_->Close(); !status.ok() && status_.ok()) Fail(status).IgnoreError();
  return status_;
}

Status RecordWriter::Fail(const Status& status) {
  if (status_.ok()) {
    status_ = status.WithContext("Writing Riegeli/records file " + sink_->name() + " at " +
                                 std::to_string(chunk_writer_.pos()));
  }
  return status_;
}

}  // namespace riegeli
}  // namespace envlogger
