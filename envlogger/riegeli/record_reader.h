// Reads records from a Riegeli/records file (docs/format.md, "Riegeli/records"
// and "Reading damaged files").
//
// Contract:
// * ReadRecord() returns the records in file order, decoding each chunk once
//   and serving its records from memory. It returns false at the end of the
//   data (status() OK) or on failure (status() not OK).
// * A file that ends inside a chunk is not an error while reading: the
//   incomplete chunk is not delivered and ReadRecord() returns false. If the
//   file grows later (a writer is still appending), the next ReadRecord()
//   continues. Close() reports the truncation unless recovery is set.
// * Positions: LastPos() is the canonical position of the record just read;
//   Pos() is where the next read starts (the next record of the current
//   chunk, else (begin of the next chunk, 0)). Positions agree with
//   RecordWriter::LastPos().
// * Corruption: without recovery, the failing call returns false and
//   status() names the file and the position. With a recovery callback, the
//   damaged region is skipped, the callback receives it (numeric positions,
//   [first unread record, where reading resumes)) and reading continues if
//   the callback returns true; if it returns false, the call that met the
//   damage returns false as at the end of the file (status() OK) and a later
//   call continues after the damage. Recover() skips by hand after a failure.
// * Random access: chunks decoded for ReadRecordAt(), Seek*() are kept in a
//   cache bounded by options.chunk_cache_bytes (least recently used evicted
//   first), so ReadRecordAt(), SeekNumeric() and ReadRecord() reaching a
//   cached chunk use it without I/O or decoding. Chunks met by sequential
//   reading (ReadRecord(), or ReadRecordAt() of the record that follows the
//   current chunk) are not added to the cache: their buffers are reused.
// * Never crashes, reads out of bounds or loops forever on hostile input.

#ifndef ENVLOGGER_RIEGELI_RECORD_READER_H_
#define ENVLOGGER_RIEGELI_RECORD_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/chunk_cache.h"
#include "envlogger/riegeli/chunk_reader.h"
#include "envlogger/riegeli/record_position.h"

namespace envlogger {
namespace riegeli {

struct RecordReaderOptions {
  // Called for every region skipped because of corruption; return true to
  // continue reading, false to stop as if at the end of the file. Empty:
  // corruption is an error.
  std::function<bool(const SkippedRegion&)> recovery;
  // Bytes of decoded chunks kept for random access (chunk_cache.h). The
  // chunk being read is kept regardless, so 0 keeps only that one.
  uint64_t chunk_cache_bytes = uint64_t{64} << 20;
};

class RecordReader {
 public:
  // Reads the file at `path`, or what `open` (byte_io.h) returns for it.
  static StatusOr<std::unique_ptr<RecordReader>> Open(const std::string& path,
                                                      RecordReaderOptions options = {},
                                                      const SourceOpener& open = nullptr);
  explicit RecordReader(std::unique_ptr<ByteSource> source, RecordReaderOptions options = {});

  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // Reads the next record. `*record` stays valid until the next call that
  // reads, seeks or closes.
  bool ReadRecord(std::string_view* record);

  // Reads the record at numeric position `numeric_pos` (or, if that falls
  // between records, the next one), like SeekNumeric() + ReadRecord(), but
  // serves it from a decoded chunk (the current one or a cached one) when
  // one holds it.
  bool ReadRecordAt(uint64_t numeric_pos, std::string_view* record);

  // Records ReadRecord() can still return from the decoded chunk, i.e.
  // without reading or decoding (so without I/O).
  uint64_t RecordsLeftInChunk() const {
    return chunk_ != nullptr && index_ < chunk_->num_records() ? chunk_->num_records() - index_ : 0;
  }

  // Canonical position of the record last read.
  RecordPosition LastPos() const { return last_pos_; }
  // Position of the next record to read.
  RecordPosition Pos() const;

  // Positions at `pos`. chunk_begin must be a chunk boundary; a record_index
  // beyond the chunk's records means the end of that chunk.
  bool Seek(RecordPosition pos);
  // Positions at the record with numeric position `pos` or, if `pos` falls
  // between records, at the next record. Beyond the file size: OUT_OF_RANGE.
  bool SeekNumeric(uint64_t pos);
  // Positions at the record before Pos(). Returns false (status() OK) at the
  // start of the file.
  bool SeekBack();

  // The current file size.
  StatusOr<uint64_t> Size();

  // The serialized riegeli.RecordsMetadata of the file, independent of the
  // reading position: nullopt if the file ends before a chunk follows the
  // signature, "" if the chunk after the signature is not a metadata chunk.
  StatusOr<std::optional<std::string>> ReadMetadata();

  // After a failure, skips the damaged region and clears the failure.
  // Returns false if there is nothing to recover from.
  bool Recover(SkippedRegion* region);

  // Reports a truncated file (see above) and releases the source. Later
  // calls return the same status; other operations then fail with
  // FAILED_PRECONDITION.
  Status Close();

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const std::string& name() const { return name_; }

  // The cache of decoded chunks (its size and counters) and a new bound for
  // it (evicting at once).
  const ChunkCache& chunk_cache() const { return cache_; }
  void SetChunkCacheBytes(uint64_t max_bytes) {
    options_.chunk_cache_bytes = max_bytes;
    cache_.SetMaxBytes(max_bytes);
  }

 private:
  // Why the reader is in a failed state, for Recover().
  enum class Failure { kNone, kChunkReader, kDecode };

  // Reads the chunk at the chunk reader's position, decodes its records and
  // makes it the current chunk, cached if `cache` and it has records (chunks
  // met by sequential reading are not cached, so that their buffers are
  // reused). Returns false at the end of the data or on failure. Chunks
  // without records are loaded too (with no records).
  bool LoadChunk(bool cache);
  // Makes the cached chunk holding numeric position `pos` current, at that
  // record, without I/O. False if no cached chunk holds it (or, with
  // exact_begin, if the one holding it does not begin at `pos`).
  bool UseCachedChunk(uint64_t pos, bool exact_begin);
  // Handles a failure of the chunk reader or of decoding: with recovery,
  // skips and asks the callback (returning true to try again); otherwise
  // records the failure (returning false).
  bool HandleFailure(Failure failure, const Status& status);
  // Forgets the current chunk, positioning at the chunk reader's position.
  void UnloadChunk();
  bool Fail(const Status& status);
  // False, with a FAILED_PRECONDITION status, if the reader is closed.
  bool CheckOpen();

  std::unique_ptr<ByteSource> source_;
  std::string name_;
  RecordReaderOptions options_;
  ChunkReader chunk_reader_;

  // The chunk being decoded (a member so that its buffer is reused).
  Chunk raw_chunk_;
  // Decoded chunks with records, for random access.
  ChunkCache cache_;
  // The current chunk (nullptr: none); the chunk reader stands at its end.
  std::shared_ptr<DecodedChunk> chunk_;
  uint64_t index_ = 0;  // Next record of the current chunk.
  // Whether ReadRecord() runs for ReadRecordAt() (so a chunk it loads is
  // cached).
  bool random_access_ = false;

  RecordPosition last_pos_;
  Status status_;
  Failure failure_ = Failure::kNone;
  // For kDecode: the region [begin, end) a recovery would skip.
  uint64_t failed_chunk_begin_ = 0;
  uint64_t failed_chunk_end_ = 0;
  bool closed_ = false;
  Status close_status_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_RECORD_READER_H_
