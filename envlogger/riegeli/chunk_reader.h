// Reads chunks from a ByteSource, verifying block headers, chunk header and
// data hashes, and finds its way back after corruption
// (docs/format.md, "Chunks" and "Reading damaged files").
//
// Contract:
// * ReadChunk() returns chunks in file order, signature and padding chunks
//   included (the record layer skips chunks without records).
// * The end of the source at a chunk boundary is a clean end: ReadChunk()
//   returns false with status() OK and truncated() false.
// * A source that ends inside a chunk is "truncated": ReadChunk() returns
//   false, status() stays OK, truncated() is true. A later ReadChunk() retries
//   from the same chunk, so a reader keeps up with a file that is still being
//   written.
// * Corruption (bad hash, impossible boundary, inconsistent block header):
//   ReadChunk() returns false and status() is not OK (INVALID_ARGUMENT /
//   DATA_LOSS naming the source and the position). Recover() then moves past
//   the damage and reports the skipped byte range; reading may continue.
// * Never reads out of bounds or loops forever on hostile input.

#ifndef ENVLOGGER_RIEGELI_CHUNK_READER_H_
#define ENVLOGGER_RIEGELI_CHUNK_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/chunk.h"

namespace envlogger {
namespace riegeli {

// A byte range [begin, end) that reading skipped, and why.
struct SkippedRegion {
  uint64_t begin = 0;
  uint64_t end = 0;
  std::string message;
};

class ChunkReader {
 public:
  // Reads from `source` (not owned), starting at position 0.
  explicit ChunkReader(ByteSource* source);

  // Reads the chunk beginning at pos() into `*chunk` and sets `*chunk_begin`.
  // On success pos() moves to the chunk's end. See the contract above.
  bool ReadChunk(Chunk* chunk, uint64_t* chunk_begin);

  // Reads only the header of the chunk at pos() (for skipping and seeking),
  // leaving pos() unchanged. Same failure conventions as ReadChunk().
  bool PeekChunkHeader(ChunkHeader* header);

  // After ReadChunk()/Seek*() failed with a non-OK status() or truncated(),
  // skips to the next chunk boundary (after a damaged chunk header: the next
  // intact chunk header, see FindChunk()), clears the failure and
  // describes the skipped range in `*region` ([position of the failed
  // operation, resume position); empty only after seeking beyond the end).
  // Returns false if there is nothing to recover from: no failure, an I/O
  // error, or truncation at the very end of the source. Every successful
  // Recover() moves forward, so read/recover loops terminate.
  bool Recover(SkippedRegion* region);

  // Positions at `pos`, which must be a possible chunk boundary (otherwise
  // fails with INVALID_ARGUMENT; Recover() then finds the next chunk).
  bool Seek(uint64_t pos);

  // Positions at `pos`, the end of a chunk that ReadChunk() delivered
  // earlier (hence a verified chunk boundary), without I/O; clears any
  // failure like Seek().
  void SeekToKnownBoundary(uint64_t pos);

  // Positions at the chunk containing numeric record position `pos`
  // (chunk_begin <= pos < chunk_begin + num_records) or, if none does, at the
  // first chunk boundary >= pos. Uses the block header of pos's block, then
  // walks chunk headers. Positions beyond the end of the source fail with
  // OUT_OF_RANGE.
  bool SeekToChunkContaining(uint64_t pos);

  // Positions at the last chunk that begins before `pos` (0 if none).
  bool SeekToChunkBefore(uint64_t pos);

  uint64_t pos() const { return pos_; }
  const Status& status() const { return status_; }
  bool truncated() const { return truncated_; }
  StatusOr<uint64_t> Size() { return source_->Size(); }
  ByteSource* source() const { return source_; }

 private:
  // How Recover() moves on from the current failure.
  enum class Recovery {
    kNone,       // Nothing to recover from (or an I/O error).
    kResumeAt,   // Continue at failure_pos_, a trusted chunk boundary.
    kFindChunk,  // Search block headers after failure_pos_ for a chunk.
    kToEnd,      // Skip to the end of the source.
  };
  enum class Outcome { kOk, kEnd, kTruncated, kFailed };

  // Reads and verifies the chunk header at `chunk_begin` and the block
  // headers interleaved in it; sets `*chunk_end` and `*header_end` (the
  // physical end of the header).
  Outcome ReadHeader(uint64_t chunk_begin, uint64_t size, ChunkHeader* header, uint64_t* chunk_end,
                     uint64_t* header_end);
  // Reads the chunk data that follows the header.
  Outcome ReadData(uint64_t chunk_begin, uint64_t chunk_end, uint64_t header_end,
                   const ChunkHeader& header, std::string* data);
  // Splits the physical bytes `physical` read at `begin` into logical bytes
  // (appended to `*logical`), verifying each block header met against the
  // chunk [chunk_begin, chunk_end) (chunk_end == 0: not known yet, the
  // next_chunk check is left to the caller).
  Outcome SplitBlocks(uint64_t begin, std::string_view physical, uint64_t chunk_begin,
                      uint64_t chunk_end, std::string* logical);
  // Verifies one block header against its chunk.
  Outcome CheckBlockHeader(uint64_t block_begin, const char* bytes, uint64_t chunk_begin,
                           uint64_t chunk_end);
  // Reads the block header at `block_begin`: false if it is incomplete or its
  // hash is wrong.
  bool ReadBlockHeader(uint64_t block_begin, uint64_t* previous_chunk, uint64_t* next_chunk);
  // Both seeks: the chunk containing `pos` (containing) or the last chunk
  // beginning before `pos` (!containing).
  bool SeekToChunk(uint64_t pos, bool containing);
  // Finds where reading resumes after damage at `after`: the first position
  // > `after` where a chunk header with a valid hash begins, or the chunk
  // boundary named by an intact block header if that comes first, or the end
  // of the source. Reads a window of at most one block (+64 bytes) at a
  // time, never beyond the source; hashes only candidates passing cheap checks.
  uint64_t FindChunk(uint64_t after, uint64_t size);
  // Whether a chunk header with a valid hash and a plausible data size begins
  // at `pos`, judged from `window` (the bytes at `window_begin`; false if it
  // does not hold the whole header).
  static bool IsChunkHeaderAt(std::string_view window, uint64_t window_begin, uint64_t pos,
                              uint64_t size);

  // Records a failure of the operation at pos_.
  Outcome Fail(Status status, Recovery recovery, uint64_t failure_pos);
  Outcome Truncated();

  ByteSource* source_;
  uint64_t pos_ = 0;
  Status status_;
  bool truncated_ = false;
  // Where a failure was detected, for Recover(): the search start for
  // kFindChunk, the resume position for kResumeAt.
  uint64_t failure_pos_ = 0;
  Recovery recovery_ = Recovery::kNone;
  // Scratch buffer for physical bytes.
  std::string buffer_;
  // Scratch for FindChunk(): the window searched for a chunk header.
  std::string window_;
  // Scratch for ReadData(): the block headers inside the chunk data and the
  // spans of its scatter read.
  std::string block_headers_;
  std::vector<ReadSpan> spans_;
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_CHUNK_READER_H_
