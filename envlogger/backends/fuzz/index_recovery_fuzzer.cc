// libFuzzer target: shard index recovery (shard_index_recovery.h) over an
// in-memory steps.riegeli (built by scripts/fuzz_build.sh).
//
// Input: an index part, the 4-byte marker "\xffEL\n", then the steps file.
// The index part is little-endian int64s: the low byte of the first says how
// many of the following are episode starts, the rest are step offsets (as
// the index files would list them, hostile values included). Contract
// checked: recovery returns a result or an error Status (never a crash,
// undefined behaviour or hang); it only appends to the index, the steps it
// adds lie at increasing positions beyond the indexed ones, the episode
// starts it adds increase and lie within the steps, and its counts match
// what it appended.
//
// The custom mutator fixes the Riegeli hashes of the steps file after
// mutating (riegeli_fuzz_util.h).
// fuzz-options: -max_len=65536

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/backends/cc/shard_index_recovery.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/fuzz/riegeli_fuzz_util.h"

namespace {

using envlogger::StatusOr;
using envlogger::riegeli::ByteSource;
using envlogger::riegeli::fuzz::kPartMarker;

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed % 8 == 0) return size;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parts = envlogger::riegeli::fuzz::SplitParts(input, kPartMarker, 2);
  if (parts.size() == 2) {
    envlogger::riegeli::fuzz::FixRiegeliHashes(data + (parts[1].data() - input.data()),
                                               parts[1].size());
  }
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const auto parts = envlogger::riegeli::fuzz::SplitParts(
      std::string_view(reinterpret_cast<const char*>(bytes), size), kPartMarker, 2);
  if (parts.size() != 2) return 0;
  std::vector<int64_t> numbers(parts[0].size() / 8);
  if (!numbers.empty()) std::memcpy(numbers.data(), parts[0].data(), numbers.size() * 8);
  envlogger::ShardIndexLists index;
  const size_t num_starts =
      numbers.empty() ? 0 : std::min<size_t>(numbers[0] & 0xff, numbers.size() - 1);
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (i <= num_starts) {
      index.episode_starts.push_back(
          numbers[i] < 0 ? 0 : numbers[i]);  // The shard reader refuses negatives.
      index.episode_metadata_offsets.push_back(-1);
    } else {
      index.step_offsets.push_back(numbers[i]);
    }
  }
  const envlogger::ShardIndexLists before = index;
  const std::string_view steps = parts[1];
  const envlogger::riegeli::SourceOpener open =
      [&steps](const std::string&) -> StatusOr<std::unique_ptr<ByteSource>> {
    return std::unique_ptr<ByteSource>(new envlogger::riegeli::fuzz::ViewSource(steps));
  };
  auto recovery = envlogger::RecoverShardIndex("/mem/steps.riegeli", &index, open);
  if (!recovery.ok()) return 0;
  recovery->Summary("/mem/steps.riegeli");
  // Only appended to.
  if (index.step_offsets.size() < before.step_offsets.size() ||
      index.episode_starts.size() < before.episode_starts.size() ||
      index.episode_starts.size() != index.episode_metadata_offsets.size()) {
    std::abort();
  }
  for (size_t i = 0; i < before.step_offsets.size(); ++i) {
    if (index.step_offsets[i] != before.step_offsets[i]) std::abort();
  }
  for (size_t i = 0; i < before.episode_starts.size(); ++i) {
    if (index.episode_starts[i] != before.episode_starts[i]) std::abort();
  }
  if (recovery->recovered_steps !=
          static_cast<int64_t>(index.step_offsets.size() - before.step_offsets.size()) ||
      recovery->recovered_episodes !=
          static_cast<int64_t>(index.episode_starts.size() - before.episode_starts.size())) {
    std::abort();
  }
  // Added steps: increasing positions after the last indexed one.
  for (size_t i = before.step_offsets.size(); i < index.step_offsets.size(); ++i) {
    if (i > 0 && index.step_offsets[i] <= index.step_offsets[i - 1]) std::abort();
  }
  // Added episode starts: increasing, within the steps.
  for (size_t i = before.episode_starts.size(); i < index.episode_starts.size(); ++i) {
    if (i > 0 && index.episode_starts[i] <= index.episode_starts[i - 1]) std::abort();
    if (index.episode_starts[i] > static_cast<int64_t>(index.step_offsets.size())) std::abort();
  }
  return 0;
}
