#include "envlogger/riegeli/chunk_reader.h"

#include <algorithm>
#include <cstring>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/highwayhash.h"
#include "envlogger/riegeli/records_format.h"

namespace envlogger {
namespace riegeli {
namespace {

std::string At(const ByteSource& source, uint64_t pos) {
  return source.name() + " at position " + std::to_string(pos);
}

bool IsSignature(const ChunkHeader& header) {
  return header.chunk_type == ChunkType::kFileSignature && header.data_size == 0 &&
         header.num_records == 0 && header.decoded_data_size == 0;
}

}  // namespace

ChunkReader::ChunkReader(ByteSource* source) : source_(source) {}

ChunkReader::Outcome ChunkReader::Fail(Status status, Recovery recovery, uint64_t failure_pos) {
  status_ = std::move(status);
  recovery_ = recovery;
  failure_pos_ = failure_pos;
  return Outcome::kFailed;
}

ChunkReader::Outcome ChunkReader::Truncated() {
  truncated_ = true;
  return Outcome::kTruncated;
}

bool ChunkReader::ReadBlockHeader(uint64_t block_begin, uint64_t* previous_chunk,
                                  uint64_t* next_chunk) {
  std::string bytes;
  if (!source_->ReadAt(block_begin, kBlockHeaderSize, &bytes).ok() ||
      bytes.size() < kBlockHeaderSize) {
    return false;
  }
  if (DecodeFixed64(bytes.data()) != RiegeliHash(std::string_view(bytes).substr(8, 16))) {
    return false;
  }
  *previous_chunk = DecodeFixed64(bytes.data() + 8);
  *next_chunk = DecodeFixed64(bytes.data() + 16);
  return true;
}

ChunkReader::Outcome ChunkReader::CheckBlockHeader(uint64_t block_begin, const char* bytes,
                                                   uint64_t chunk_begin, uint64_t chunk_end) {
  if (DecodeFixed64(bytes) != RiegeliHash(std::string_view(bytes + 8, 16))) {
    return Fail(
        DataLossError("corrupted block header (hash mismatch) in " + At(*source_, block_begin)),
        Recovery::kFindChunk, block_begin);
  }
  const uint64_t previous_chunk = DecodeFixed64(bytes + 8);
  const uint64_t next_chunk = DecodeFixed64(bytes + 16);
  if (previous_chunk != block_begin - chunk_begin) {
    Status status =
        DataLossError("block header in " + At(*source_, block_begin) + " says the chunk begins " +
                      std::to_string(previous_chunk) + " bytes earlier, but it begins at " +
                      std::to_string(chunk_begin));
    // The header itself is intact, so its pointer to the next chunk is
    // trusted if it stays within the block.
    if (next_chunk > 0 && next_chunk <= kBlockSize &&
        IsPossibleChunkBoundary(block_begin + next_chunk)) {
      return Fail(std::move(status), Recovery::kResumeAt, block_begin + next_chunk);
    }
    return Fail(std::move(status), Recovery::kFindChunk, block_begin);
  }
  if (chunk_end != 0 && next_chunk != chunk_end - block_begin) {
    return Fail(
        DataLossError("block header in " + At(*source_, block_begin) + " says the chunk ends at " +
                      std::to_string(block_begin + next_chunk) + ", but its header says " +
                      std::to_string(chunk_end)),
        Recovery::kFindChunk, block_begin);
  }
  return Outcome::kOk;
}

ChunkReader::Outcome ChunkReader::SplitBlocks(uint64_t begin, std::string_view physical,
                                              uint64_t chunk_begin, uint64_t chunk_end,
                                              std::string* logical) {
  size_t i = 0;
  while (i < physical.size()) {
    const uint64_t pos = begin + i;
    if (pos % kBlockSize == 0) {
      // Callers read whole ranges ending at possible chunk boundaries, so a
      // block header is never cut off here.
      if (physical.size() - i < kBlockHeaderSize) return Truncated();
      const Outcome outcome = CheckBlockHeader(pos, physical.data() + i, chunk_begin, chunk_end);
      if (outcome != Outcome::kOk) return outcome;
      i += kBlockHeaderSize;
      continue;
    }
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(physical.size() - i, kBlockSize - pos % kBlockSize));
    logical->append(physical.data() + i, length);
    i += length;
  }
  return Outcome::kOk;
}

ChunkReader::Outcome ChunkReader::ReadHeader(uint64_t chunk_begin, uint64_t size,
                                             ChunkHeader* header, uint64_t* chunk_end,
                                             uint64_t* header_end) {
  if (chunk_begin == size) return Outcome::kEnd;
  if (chunk_begin > size) return Truncated();
  if (!IsPossibleChunkBoundary(chunk_begin)) {
    return Fail(InvalidArgumentError("invalid chunk boundary: " + At(*source_, chunk_begin)),
                Recovery::kFindChunk, chunk_begin);
  }
  *header_end = AddWithOverhead(chunk_begin, kChunkHeaderSize);
  if (*header_end > size) return Truncated();
  Status status = source_->ReadAt(chunk_begin, *header_end - chunk_begin, &buffer_);
  if (!status.ok()) return Fail(std::move(status), Recovery::kNone, chunk_begin);
  if (buffer_.size() < *header_end - chunk_begin) return Truncated();

  // Block headers first (previous_chunk checked now, next_chunk once the
  // chunk end is known), then the chunk header hash.
  std::string logical;
  Outcome outcome = SplitBlocks(chunk_begin, buffer_, chunk_begin, 0, &logical);
  if (outcome != Outcome::kOk) return outcome;
  if (!header->Decode(logical.data())) {
    return Fail(
        DataLossError("corrupted chunk header (hash mismatch) in " + At(*source_, chunk_begin)),
        Recovery::kFindChunk, chunk_begin);
  }
  if (chunk_begin == 0 && !IsSignature(*header)) {
    return Fail(DataLossError("missing file signature: the chunk in " + At(*source_, 0) +
                              " is not a Riegeli/records file signature"),
                Recovery::kFindChunk, 0);
  }
  // A genuine header (its hash matched) whose data reach past the end of the
  // source describes a chunk that is not complete yet.
  if (header->data_size > size) return Truncated();
  *chunk_end = ChunkEnd(chunk_begin, header->data_size, header->num_records);
  // Now the next_chunk fields of the block headers inside the chunk header.
  for (uint64_t block = chunk_begin + (kBlockSize - chunk_begin % kBlockSize) % kBlockSize;
       block < *header_end; block += kBlockSize) {
    outcome =
        CheckBlockHeader(block, buffer_.data() + (block - chunk_begin), chunk_begin, *chunk_end);
    if (outcome != Outcome::kOk) return outcome;
  }
  return Outcome::kOk;
}

ChunkReader::Outcome ChunkReader::ReadData(uint64_t chunk_begin, uint64_t chunk_end,
                                           uint64_t header_end, const ChunkHeader& header,
                                           std::string* data) {
  const uint64_t data_end = AddWithOverhead(chunk_begin, kChunkHeaderSize + header.data_size);
  // One scatter read puts the logical bytes straight into *data and the
  // block headers between them into block_headers_, so the data are not
  // copied after reading. (resize() zero-fills only beyond the size *data
  // had for the previous chunk.)
  data->resize(header.data_size);
  const uint64_t first_block = header_end + (kBlockSize - header_end % kBlockSize) % kBlockSize;
  const uint64_t num_block_headers =
      first_block < data_end ? (data_end - first_block - 1) / kBlockSize + 1 : 0;
  block_headers_.resize(num_block_headers * kBlockHeaderSize);
  spans_.clear();
  size_t logical = 0;
  size_t block_header_bytes = 0;
  for (uint64_t pos = header_end; pos < data_end;) {
    if (pos % kBlockSize == 0) {
      // Ranges end at possible chunk boundaries, so a block header is never
      // cut off by data_end.
      if (data_end - pos < kBlockHeaderSize || block_header_bytes >= block_headers_.size()) {
        return Fail(InternalError("chunk data in " + At(*source_, chunk_begin) +
                                  " end inside a block header"),
                    Recovery::kNone, chunk_begin);
      }
      spans_.push_back({&block_headers_[block_header_bytes], kBlockHeaderSize});
      block_header_bytes += kBlockHeaderSize;
      pos += kBlockHeaderSize;
      continue;
    }
    const size_t length = static_cast<size_t>(std::min<uint64_t>(
        {data_end - pos, kBlockSize - pos % kBlockSize, data->size() - logical}));
    if (length == 0) {
      return Fail(InternalError("chunk data in " + At(*source_, chunk_begin) +
                                " longer than data_size " + std::to_string(header.data_size)),
                  Recovery::kNone, chunk_begin);
    }
    spans_.push_back({&(*data)[logical], length});
    logical += length;
    pos += length;
  }
  size_t read = 0;
  Status status = source_->ReadScattered(header_end, spans_.data(), spans_.size(), &read);
  if (!status.ok()) return Fail(std::move(status), Recovery::kNone, chunk_begin);
  if (read < data_end - header_end) return Truncated();
  for (uint64_t i = 0; i < num_block_headers; ++i) {
    const Outcome outcome =
        CheckBlockHeader(first_block + i * kBlockSize, &block_headers_[i * kBlockHeaderSize],
                         chunk_begin, chunk_end);
    if (outcome != Outcome::kOk) return outcome;
  }
  if (RiegeliHash(*data) != header.data_hash) {
    return Fail(DataLossError("corrupted chunk data (hash mismatch) in the chunk at " +
                              At(*source_, chunk_begin)),
                Recovery::kResumeAt, chunk_end);
  }
  return Outcome::kOk;
}

bool ChunkReader::ReadChunk(Chunk* chunk, uint64_t* chunk_begin) {
  if (!status_.ok()) return false;
  truncated_ = false;
  StatusOr<uint64_t> size = source_->Size();
  if (!size.ok()) {
    Fail(size.status(), Recovery::kNone, pos_);
    return false;
  }
  uint64_t chunk_end = 0;
  uint64_t header_end = 0;
  if (ReadHeader(pos_, *size, &chunk->header, &chunk_end, &header_end) != Outcome::kOk) {
    return false;
  }
  // The chunk, padding included, must be complete to be delivered.
  if (chunk_end > *size) {
    Truncated();
    return false;
  }
  if (ReadData(pos_, chunk_end, header_end, chunk->header, &chunk->data) != Outcome::kOk) {
    return false;
  }
  *chunk_begin = pos_;
  pos_ = chunk_end;
  return true;
}

bool ChunkReader::PeekChunkHeader(ChunkHeader* header) {
  if (!status_.ok()) return false;
  truncated_ = false;
  StatusOr<uint64_t> size = source_->Size();
  if (!size.ok()) {
    Fail(size.status(), Recovery::kNone, pos_);
    return false;
  }
  uint64_t chunk_end = 0;
  uint64_t header_end = 0;
  return ReadHeader(pos_, *size, header, &chunk_end, &header_end) == Outcome::kOk;
}

bool ChunkReader::IsChunkHeaderAt(std::string_view window, uint64_t window_begin, uint64_t pos,
                                  uint64_t size) {
  const uint64_t window_end = window_begin + window.size();
  // Cheap checks first: a known chunk type, found without copying.
  const uint64_t in_block = pos % kBlockSize;
  const uint64_t type_pos =
      pos + 24 + (in_block == 0 || in_block + 24 >= kBlockSize ? kBlockHeaderSize : 0);
  if (type_pos >= window_end) return false;
  switch (static_cast<ChunkType>(window[type_pos - window_begin])) {
    case ChunkType::kFileSignature:
    case ChunkType::kFileMetadata:
    case ChunkType::kPadding:
    case ChunkType::kSimple:
    case ChunkType::kTransposed:
      break;
    default:
      return false;
  }
  // The 40 logical bytes of a header at `pos`, block headers left out.
  char logical[kChunkHeaderSize];
  size_t filled = 0;
  uint64_t physical = pos;
  while (filled < kChunkHeaderSize) {
    if (physical % kBlockSize == 0) physical += kBlockHeaderSize;
    const size_t length = static_cast<size_t>(
        std::min<uint64_t>(kChunkHeaderSize - filled, kBlockSize - physical % kBlockSize));
    // Callers make the window cover every complete header it may hold.
    if (physical + length > window_end) return false;
    std::memcpy(logical + filled, window.data() + (physical - window_begin), length);
    filled += length;
    physical += length;
  }
  // Data that cannot fit in the source: not a header (nor worth hashing).
  if (DecodeFixed64(logical + 8) > size) return false;
  ChunkHeader header;
  return header.Decode(logical);
}

uint64_t ChunkReader::FindChunk(uint64_t after, uint64_t size) {
  // Block by block: first every possible chunk boundary before the next
  // block boundary (a header with a valid hash begins a chunk, up to a 2^-64
  // false positive rate), then the block header, whose intact pointers name
  // the next chunk for certain. So at most one block is searched after an
  // intact block header, and nothing is searched inside a chunk that an
  // intact block header says spans it.
  std::string& window = window_;
  uint64_t start = after + 1;
  while (start < size) {
    const uint64_t block = (start / kBlockSize + 1) * kBlockSize;
    // Enough bytes for a header beginning just before `block` to cross it.
    const uint64_t window_end = std::min(size, block + kBlockHeaderSize + kChunkHeaderSize);
    if (!source_->ReadAt(start, static_cast<size_t>(window_end - start), &window).ok()) break;
    const uint64_t available = start + window.size();
    for (uint64_t pos = start; pos < block && pos < available; ++pos) {
      if (!IsPossibleChunkBoundary(pos)) continue;
      if (AddWithOverhead(pos, kChunkHeaderSize) > available) {
        return std::max(size, after);  // No complete header can follow.
      }
      if (IsChunkHeaderAt(window, start, pos, size)) return pos;
    }
    if (block >= size) break;
    uint64_t previous_chunk = 0;
    uint64_t next_chunk = 0;
    if (ReadBlockHeader(block, &previous_chunk, &next_chunk)) {
      if (previous_chunk == 0) return block;
      if (next_chunk > 0 && next_chunk <= size - block &&
          IsPossibleChunkBoundary(block + next_chunk)) {
        return block + next_chunk;
      }
    }
    start = block;  // block itself was a candidate of the header check.
  }
  return std::max(size, after);
}

bool ChunkReader::Recover(SkippedRegion* region) {
  if (status_.ok() && !truncated_) return false;
  StatusOr<uint64_t> size = source_->Size();
  if (!size.ok()) return false;
  const uint64_t begin = pos_;
  // Truncated at or beyond the end: nothing to skip until the source grows.
  if (status_.ok() && begin >= *size) return false;
  uint64_t resume = begin;
  std::string message;
  if (!status_.ok()) {
    switch (recovery_) {
      case Recovery::kNone:
        return false;
      case Recovery::kResumeAt:
        resume = failure_pos_;
        break;
      case Recovery::kFindChunk:
        resume = FindChunk(failure_pos_, *size);
        break;
      case Recovery::kToEnd:
        resume = std::max(*size, begin);
        break;
    }
    message = status_.message();
  } else {
    resume = std::max(*size, begin);
    message = "truncated Riegeli/records file, incomplete chunk at " + std::to_string(begin) +
              " with length " + std::to_string(*size - std::min(*size, begin));
  }
  resume = std::max(resume, begin);
  region->begin = begin;
  region->end = resume;
  region->message = std::move(message);
  pos_ = resume;
  status_ = OkStatus();
  truncated_ = false;
  recovery_ = Recovery::kNone;
  return true;
}

bool ChunkReader::Seek(uint64_t pos) {
  status_ = OkStatus();
  truncated_ = false;
  recovery_ = Recovery::kNone;
  pos_ = pos;
  StatusOr<uint64_t> size = source_->Size();
  if (!size.ok()) {
    Fail(size.status(), Recovery::kNone, pos);
    return false;
  }
  if (pos > *size) {
    Fail(OutOfRangeError("position " + std::to_string(pos) + " exceeds the size " +
                         std::to_string(*size) + " of " + source_->name()),
         Recovery::kToEnd, pos);
    return false;
  }
  if (pos < *size && !IsPossibleChunkBoundary(pos)) {
    Fail(InvalidArgumentError("invalid chunk boundary: " + At(*source_, pos)), Recovery::kFindChunk,
         pos);
    return false;
  }
  return true;
}

void ChunkReader::SeekToKnownBoundary(uint64_t pos) {
  status_ = OkStatus();
  truncated_ = false;
  recovery_ = Recovery::kNone;
  pos_ = pos;
}

bool ChunkReader::SeekToChunkContaining(uint64_t pos) {
  return SeekToChunk(pos, /*containing=*/true);
}

bool ChunkReader::SeekToChunkBefore(uint64_t pos) { return SeekToChunk(pos, /*containing=*/false); }

bool ChunkReader::SeekToChunk(uint64_t pos, bool containing) {
  status_ = OkStatus();
  truncated_ = false;
  recovery_ = Recovery::kNone;
  StatusOr<uint64_t> size = source_->Size();
  if (!size.ok()) {
    Fail(size.status(), Recovery::kNone, pos_);
    return false;
  }
  if (pos > *size) {
    pos_ = pos;
    Fail(OutOfRangeError("position " + std::to_string(pos) + " exceeds the size " +
                         std::to_string(*size) + " of " + source_->name()),
         Recovery::kToEnd, pos);
    return false;
  }
  // "Before pos" looks for the chunk containing pos - 1, then stops at the
  // last chunk beginning before pos.
  if (!containing && pos == 0) {
    pos_ = 0;
    return true;
  }
  const uint64_t target = containing ? pos : pos - 1;
  uint64_t block = target - target % kBlockSize;
  if (containing && block == *size) {
    pos_ = block;  // The file ends exactly at this block boundary.
    return true;
  }
  // A block header cut off by the end of the source: start one block earlier.
  uint64_t previous_chunk = 0;
  uint64_t next_chunk = 0;
  if (block > 0 && block + kBlockHeaderSize > *size) block -= kBlockSize;
  if (block + kBlockHeaderSize > *size) {  // Only a cut-off first block header.
    pos_ = block;
    Truncated();
    return false;
  }
  // A damaged block header: walk from an earlier intact one instead (the
  // walk reads chunk headers only, so it passes the damaged one unless a
  // chunk header straddles it).
  bool intact = ReadBlockHeader(block, &previous_chunk, &next_chunk);
  uint64_t earlier = block;
  while (!intact && earlier > 0) {
    earlier -= kBlockSize;
    intact = ReadBlockHeader(earlier, &previous_chunk, &next_chunk);
  }
  if (!intact) {
    pos_ = block;
    Fail(DataLossError("corrupted block header (hash mismatch) in " + At(*source_, block)),
         Recovery::kFindChunk, block);
    return false;
  }
  block = earlier;
  if (previous_chunk > block || !IsPossibleChunkBoundary(block - previous_chunk) ||
      (previous_chunk != 0 && next_chunk == 0)) {
    pos_ = block;
    Fail(DataLossError("block header in " + At(*source_, block) + " points outside the file"),
         Recovery::kFindChunk, block);
    return false;
  }
  uint64_t chunk_begin = block - previous_chunk;
  if (containing && previous_chunk != 0 && block + next_chunk <= target &&
      IsPossibleChunkBoundary(block + next_chunk)) {
    chunk_begin = block + next_chunk;
  }
  // Walk chunk headers forward.
  for (;;) {
    pos_ = chunk_begin;
    if (containing && chunk_begin >= pos) return true;
    ChunkHeader header;
    uint64_t chunk_end = 0;
    uint64_t header_end = 0;
    const Outcome outcome = ReadHeader(chunk_begin, *size, &header, &chunk_end, &header_end);
    if (outcome == Outcome::kEnd) return true;
    if (outcome == Outcome::kFailed && recovery_ == Recovery::kFindChunk) {
      // A damaged header hides its chunk's extent, but the chunk ends at or
      // before the next intact chunk header; if that is not beyond the
      // target, the target is not in the damaged chunk: walk on from there.
      const uint64_t next = FindChunk(failure_pos_, *size);
      if (next < *size && (containing ? next <= pos : next < pos)) {
        status_ = OkStatus();
        recovery_ = Recovery::kNone;
        chunk_begin = next;
        continue;
      }
    }
    if (outcome != Outcome::kOk) return false;
    if (containing) {
      if (chunk_begin + header.num_records > pos) return true;
    } else if (chunk_end >= pos || chunk_end >= *size) {
      return true;
    }
    chunk_begin = chunk_end;
  }
}

}  // namespace riegeli
}  // namespace envlogger
