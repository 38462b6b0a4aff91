#include "envlogger/riegeli/chunk_writer.h"

#include <algorithm>
#include <string>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/highwayhash.h"

namespace envlogger {
namespace riegeli {
namespace {

// A source of zero bytes for padding, written in slices.
const std::string& Zeros() {
  static const std::string* const zeros = new std::string(kBlockSize, '\0');
  return *zeros;
}

}  // namespace

ChunkWriter::ChunkWriter(ByteSink* sink) : sink_(sink), pos_(sink->pos()) {}

Status ChunkWriter::WriteSignature() {
  if (pos_ != 0) {
    return FailedPreconditionError("the file signature belongs at position 0, not " +
                                   std::to_string(pos_) + " of " + sink_->name());
  }
  return WriteChunk(ChunkType::kFileSignature, 0, 0, std::string_view());
}

Status ChunkWriter::PrepareForAppend() {
  if (IsPossibleChunkBoundary(pos_)) return OkStatus();
  const uint64_t fill = kBlockSize - pos_ % kBlockSize;
  RETURN_IF_ERROR(sink_->Write(std::string_view(Zeros().data(), fill)));
  pos_ += fill;
  return OkStatus();
}

Status ChunkWriter::WriteChunk(ChunkType type, uint64_t num_records, uint64_t decoded_data_size,
                               std::string_view data) {
  if (!IsPossibleChunkBoundary(pos_)) {
    return FailedPreconditionError("a chunk cannot begin at " + std::to_string(pos_) + " of " +
                                   sink_->name() + " (call PrepareForAppend() first)");
  }
  if (num_records > kMaxNumRecords) {
    return InvalidArgumentError("too many records in one chunk: " + std::to_string(num_records));
  }
  ChunkHeader header;
  header.data_size = data.size();
  header.data_hash = RiegeliHash(data);
  header.chunk_type = type;
  header.num_records = num_records;
  header.decoded_data_size = decoded_data_size;
  char header_bytes[kChunkHeaderSize];
  header.Encode(header_bytes);

  const uint64_t chunk_begin = pos_;
  const uint64_t chunk_end = ChunkEnd(chunk_begin, data.size(), num_records);
  RETURN_IF_ERROR(
      WritePhysical(chunk_begin, chunk_end, std::string_view(header_bytes, kChunkHeaderSize)));
  RETURN_IF_ERROR(WritePhysical(chunk_begin, chunk_end, data));
  // Padding: zeros up to chunk_end, with block headers while bytes follow.
  while (pos_ < chunk_end) {
    const uint64_t length = DistanceWithoutOverhead(pos_, chunk_end);
    const uint64_t slice = std::min<uint64_t>(length, kBlockSize);
    RETURN_IF_ERROR(WritePhysical(chunk_begin, chunk_end, std::string_view(Zeros().data(), slice)));
  }
  return OkStatus();
}

Status ChunkWriter::WritePhysical(uint64_t chunk_begin, uint64_t chunk_end, std::string_view data) {
  while (!data.empty()) {
    if (pos_ % kBlockSize == 0) {
      char block_header[kBlockHeaderSize];
      EncodeFixed64(pos_ - chunk_begin, block_header + 8);
      EncodeFixed64(chunk_end - pos_, block_header + 16);
      EncodeFixed64(RiegeliHash(std::string_view(block_header + 8, 16)), block_header);
      RETURN_IF_ERROR(sink_->Write(std::string_view(block_header, kBlockHeaderSize)));
      pos_ += kBlockHeaderSize;
    }
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(data.size(), kBlockSize - pos_ % kBlockSize));
    RETURN_IF_ERROR(sink_->Write(data.substr(0, length)));
    data.remove_prefix(length);
    pos_ += length;
  }
  return OkStatus();
}

Status ChunkWriter::WritePadding(uint64_t padding) {
  if (padding <= 1 || pos_ % padding == 0) return OkStatus();
  // The gap must hold a chunk header (block headers excluded) and end where
  // a chunk may begin.
  uint64_t end = pos_ + (padding - pos_ % padding);
  while (DistanceWithoutOverhead(pos_, end) < kChunkHeaderSize || !IsPossibleChunkBoundary(end)) {
    end += padding;
  }
  const uint64_t data_size = DistanceWithoutOverhead(pos_, end) - kChunkHeaderSize;
  RETURN_IF_ERROR(WriteChunk(ChunkType::kPadding, 0, 0, std::string(data_size, '\0')));
  if (pos_ != end) {
    return InternalError("padding chunk ended at " + std::to_string(pos_) + " instead of " +
                         std::to_string(end));
  }
  return OkStatus();
}

Status ChunkWriter::Flush(FlushType type) { return sink_->Flush(type); }

}  // namespace riegeli
}  // namespace envlogger
