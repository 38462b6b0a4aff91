// libFuzzer target: RiegeliDatasetReader on an arbitrary dataset held in
// memory (built by scripts/fuzz_build.sh).
//
// The input is the dataset's files separated by the 4-byte marker
// "\xffEL\n": metadata.riegeli, then for each of up to kMaxShards shards its
// steps.riegeli, step_offsets.riegeli, episode_metadata.riegeli and
// episode_index.riegeli; missing parts mean missing files. The reader opens
// them through an in-memory SourceOpener (no file system), then every step
// and episode (with metadata) is read. Contract checked: every outcome is a
// Status; no crash, out-of-bounds access, undefined behaviour or hang;
// episodes lie within the steps; damaged regions are proper ranges; a clone
// sees the same steps.
//
// The custom mutator fixes the Riegeli hashes of every part after mutating
// (riegeli_fuzz_util.h), so the shard index, recovery and step reads see
// malformed contents.
// fuzz-options: -max_len=65536 -entropic=0

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/backends/cc/riegeli_dataset_reader.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/fuzz/riegeli_fuzz_util.h"

namespace {

using envlogger::StatusOr;
using envlogger::riegeli::ByteSource;
using envlogger::riegeli::fuzz::kPartMarker;

constexpr size_t kMaxShards = 3;
constexpr const char* kShardFiles[] = {"steps.riegeli", "step_offsets.riegeli",
                                       "episode_metadata.riegeli", "episode_index.riegeli"};
constexpr size_t kMaxParts = 1 + 4 * kMaxShards;

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed % 8 == 0) return size;  // Some inputs keep broken hashes.
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view part :
       envlogger::riegeli::fuzz::SplitParts(input, kPartMarker, kMaxParts)) {
    envlogger::riegeli::fuzz::FixRiegeliHashes(data + (part.data() - input.data()), part.size());
  }
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::vector<std::string_view> parts = envlogger::riegeli::fuzz::SplitParts(
      std::string_view(reinterpret_cast<const char*>(bytes), size), kPartMarker, kMaxParts);
  std::map<std::string, std::string_view> files;
  std::vector<std::string> shard_dirs;
  if (size > 0) files["/mem/metadata.riegeli"] = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string dir = "/mem/shard" + std::to_string((i - 1) / 4);
    if ((i - 1) % 4 == 0) shard_dirs.push_back(dir);
    files[dir + "/" + kShardFiles[(i - 1) % 4]] = parts[i];
  }
  const envlogger::riegeli::SourceOpener open =
      [&files](const std::string& path) -> StatusOr<std::unique_ptr<ByteSource>> {
    const auto it = files.find(path);
    if (it == files.end()) return envlogger::NotFoundError(path + " does not exist");
    return std::unique_ptr<ByteSource>(new envlogger::riegeli::fuzz::ViewSource(it->second));
  };

  envlogger::RiegeliDatasetReader reader;
  // Shards load on this thread: threads started for every input cost more
  // than they save (on a busy machine, 40% of the executions per second).
  reader.InitFromShards("/mem", shard_dirs, open, /*max_threads=*/1)
      .IgnoreError();  // Damaged shards leave a usable reader.
  std::string_view record;
  const int64_t num_steps = reader.NumSteps();
  for (int64_t i = 0; i < num_steps && i < 10000; ++i) reader.ReadStep(i, &record).IgnoreError();
  reader.ReadStep(num_steps, &record).IgnoreError();
  reader.ReadStep(-1, &record).IgnoreError();
  const int64_t num_episodes = reader.NumEpisodes();
  for (int64_t i = 0; i < num_episodes && i < 10000; ++i) {
    auto episode = reader.Episode(i, /*include_metadata=*/true);
    if (episode.ok() &&
        (episode->num_steps < 0 || episode->start < 0 || episode->start > num_steps)) {
      std::abort();  // An episode the reader reports must lie within its steps.
    }
  }
  // Damage met by the reads above: proper byte ranges, lost steps in range.
  for (const envlogger::SkippedRegion& region : reader.SkippedRegions()) {
    if (region.begin >= region.end || region.first_step > region.last_step ||
        region.last_step >= num_steps) {
      std::abort();
    }
  }
  reader.RecoveryReports();
  auto clone = reader.Clone();
  if (clone.ok() && clone->NumSteps() != num_steps) std::abort();
  reader.Close();
  return 0;
}
