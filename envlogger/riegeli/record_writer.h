// Writes records to a Riegeli/records file (docs/format.md, "Riegeli/records"),
// producing the same bytes as the reference RecordWriter.
//
// Contract:
// * A new file (the sink starts at position 0) begins with the signature
//   chunk, then the metadata chunk if `serialized_metadata` was given.
//   Appending (sink position > 0) writes neither: it completes a cut block
//   header with zeros if needed, then initial padding.
// * Records are gathered into a chunk. Each record costs its size + 8 bytes
//   against the desired chunk size: a record that does not fit closes the
//   open chunk first, and a chunk that has no room left for another record
//   is closed right after the record that filled it.
// * LastPos() of a record is (begin of its chunk, index in the chunk), the
//   same position a reader reports for it.
// * Flush() and Close() close the open chunk, write final padding, and push
//   the bytes as far as the FlushType says. After a Flush() the file ends at
//   a chunk boundary and is a valid file of all records so far.
// * After the first error every call fails with that status; it names the
//   destination and the position.

#ifndef ENVLOGGER_RIEGELI_RECORD_WRITER_H_
#define ENVLOGGER_RIEGELI_RECORD_WRITER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/chunk_encoder.h"
#include "envlogger/riegeli/chunk_writer.h"
#include "envlogger/riegeli/record_position.h"
#include "envlogger/riegeli/record_writer_options.h"

namespace envlogger {
namespace riegeli {

class SimpleEncoder;

class RecordWriter {
 public:
  // Creates (truncating) or, with `append`, appends to the file at `path`.
  // `serialized_metadata` (a serialized riegeli.RecordsMetadata) is written
  // only when the file starts empty.
  static StatusOr<std::unique_ptr<RecordWriter>> Open(
      const std::string& path, const RecordWriterOptions& options, bool append = false,
      std::optional<std::string> serialized_metadata = std::nullopt);

  // Writes to `sink`, whose pos() is where the file currently ends.
  static StatusOr<std::unique_ptr<RecordWriter>> Create(
      std::unique_ptr<ByteSink> sink, const RecordWriterOptions& options,
      std::optional<std::string> serialized_metadata = std::nullopt);

  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  // Closes the writer if Close() was not called; errors are then lost.
  ~RecordWriter();

  Status WriteRecord(std::string_view record);

  // Position of the last record written. Only meaningful after a successful
  // WriteRecord().
  RecordPosition LastPos() const { return last_pos_; }
  // Position the next record will get: (begin of the open chunk, records in
  // it).
  RecordPosition Pos() const;

  Status Flush(FlushType type = FlushType::kFromProcess);
  // Closes the open chunk, writes final padding and closes the sink.
  // Idempotent: later calls return the first result.
  Status Close();

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const RecordWriterOptions& options() const { return options_; }
  // Name of the destination (the path, or "<memory>").
  const std::string& name() const { return sink_->name(); }

 private:
  RecordWriter(std::unique_ptr<ByteSink> sink, const RecordWriterOptions& options);

  Status Initialize(std::optional<std::string> serialized_metadata);
  Status WriteMetadata(const std::string& serialized_metadata);
  // Encodes the pending records (if any) into a chunk and writes it.
  Status CloseChunk();
  // Records the first failure, with context, and returns it.
  Status Fail(const Status& status);

  std::unique_ptr<ByteSink> sink_;
  RecordWriterOptions options_;
  ChunkWriter chunk_writer_;
  std::unique_ptr<ChunkEncoder> encoder_;
  // encoder_ when it is a SimpleEncoder (not transposed), else nullptr: the
  // per-record call then needs no virtual dispatch.
  SimpleEncoder* simple_encoder_;
  uint64_t desired_chunk_size_;
  // Sum of (record size + 8) over the records of the open chunk.
  uint64_t chunk_size_so_far_ = 0;
  // Records in the open chunk (encoder_->num_records(), without a call).
  uint64_t records_in_chunk_ = 0;
  RecordPosition last_pos_;
  std::string encoded_;  // Scratch buffer for chunk data, from the buffer pool.
  Status status_;
  bool closed_ = false;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_RECORD_WRITER_H_
