// libFuzzer target: RecordReader on arbitrary bytes (built by scripts/fuzz.sh).
//
// Contract checked: whatever the input, reading, seeking and recovery return
// or fail with a Status; they never crash, read out of bounds (ASan), invoke
// undefined behaviour (UBSan) or loop forever (libFuzzer's -timeout).
// Record positions strictly increase while reading; a skipped region is a
// well-formed range; a record read at a position, or after seeking to one,
// is at or after it.
//
// The custom mutator fixes the hashes after mutating (riegeli_fuzz_util.h),
// so most inputs reach the chunk decoders with malformed contents.
// Inputs may exceed one 64 KiB block, so that block headers inside chunks
// are reached (the block_boundary seed is 71 KB).
// fuzz-options: -max_len=72000 -entropic=0

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/fuzz/riegeli_fuzz_util.h"
#include "envlogger/riegeli/record_position.h"
#include "envlogger/riegeli/record_reader.h"

namespace {

using envlogger::riegeli::RecordPosition;
using envlogger::riegeli::RecordReader;
using envlogger::riegeli::RecordReaderOptions;
using envlogger::riegeli::SkippedRegion;
using envlogger::riegeli::fuzz::ViewSource;

// Options under which every damaged region is skipped and reading goes on;
// each region reported must be a well-formed range.
RecordReaderOptions SkipDamage() {
  RecordReaderOptions options;
  options.recovery = [](const SkippedRegion& region) {
    if (region.end < region.begin) std::abort();
    return true;
  };
  return options;
}

void ReadAll(std::string_view data, bool recover) {
  RecordReader reader(std::make_unique<ViewSource>(data),
                      recover ? SkipDamage() : RecordReaderOptions());
  std::string_view record;
  uint64_t previous = 0;
  bool first = true;
  // Every record returned lies after the previous one: positions increase.
  for (int i = 0; i < 100000 && reader.ReadRecord(&record); ++i) {
    const uint64_t pos = reader.LastPos().numeric();
    if (!first && pos <= previous) std::abort();
    previous = pos;
    first = false;
  }
  reader.Close().IgnoreError();
}

// A position in [0, size] that the input's last byte picks, so that
// mutations move it.
uint64_t PickedPosition(std::string_view data) {
  return data.empty() ? 0 : static_cast<uint8_t>(data.back()) * data.size() / 255;
}

void SeekAround(std::string_view data) {
  RecordReader reader(std::make_unique<ViewSource>(data), SkipDamage());
  std::string_view record;
  const uint64_t size = data.size();
  // Three seeks (each may scan a block for a chunk header): the middle, the
  // picked position, past the end.
  for (uint64_t pos : {size / 2, PickedPosition(data), size + 1}) {
    if (reader.ReadRecordAt(pos, &record)) {
      if (reader.LastPos().numeric() < pos) std::abort();  // At or after the asked position.
    }
    reader.SeekBack();
  }
  reader.Close().IgnoreError();
}

// Seek() to a position a user supplies (riegeli/reader.py's seek()): its
// chunk_begin need not be a chunk boundary, nor its record_index in range.
// A fresh reader, as the seek past the end above leaves `reader` failed.
void SeekToPosition(std::string_view data) {
  RecordReader reader(std::make_unique<ViewSource>(data), SkipDamage());
  const uint64_t size = data.size();
  const RecordPosition asked{PickedPosition(data),
                             size < 2 ? 0 : static_cast<uint8_t>(data[size - 2]) % 8u};
  std::string_view record;
  if (reader.Seek(asked) && reader.ReadRecord(&record) &&
      reader.LastPos().chunk_begin < asked.chunk_begin) {
    std::abort();  // Recovery from a bad position only moves forward.
  }
  reader.Close().IgnoreError();
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
  return envlogger::riegeli::fuzz::RiegeliMutate(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  ReadAll(data, /*recover=*/false);
  ReadAll(data, /*recover=*/true);
  SeekAround(data);
  SeekToPosition(data);
  return 0;
}
