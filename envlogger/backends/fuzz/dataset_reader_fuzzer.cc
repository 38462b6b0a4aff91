// libFuzzer target: RiegeliDatasetReader on an arbitrary dataset (built by
// scripts/fuzz.sh).
//
// The input is the dataset's five files separated by the 4-byte marker
// "\xffEL\n", in this order: metadata.riegeli, then one shard's
// steps.riegeli, step_offsets.riegeli, episode_metadata.riegeli and
// episode_index.riegeli; missing parts mean missing files. They are written
// to a private directory, then the reader is opened and every step and
// episode (with metadata) read. Contract checked: every outcome is a Status;
// no crash, out-of-bounds access, undefined behaviour or hang.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/backends/cc/riegeli_dataset_reader.h"

namespace {

constexpr std::string_view kMarker("\xff" "EL\n", 4);
constexpr const char* kFiles[] = {"metadata.riegeli", "shard/steps.riegeli", "shard/step_offsets.riegeli",
                                  "shard/episode_metadata.riegeli", "shard/episode_index.riegeli"};

const std::filesystem::path& WorkDir() {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("envlogger_dataset_fuzz_" + std::to_string(getpid()));
  return dir;
}

void WriteDataset(std::string_view input) {
  const std::filesystem::path& dir = WorkDir();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "shard");
  for (const char* name : kFiles) {
    const size_t end = input.find(kMarker);
    const std::string_view part = input.substr(0, end);
    if (!input.empty()) {
      std::ofstream(dir / name, std::ios::binary).write(part.data(), static_cast<std::streamsize>(part.size()));
    }
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + kMarker.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  WriteDataset(std::string_view(reinterpret_cast<const char*>(bytes), size));
  envlogger::RiegeliDatasetReader reader;
  reader.Init(WorkDir().string()).IgnoreError();  // Damaged shards still leave a usable reader.
  std::string_view record;
  const int64_t num_steps = reader.NumSteps();
  for (int64_t i = 0; i < num_steps && i < 10000; ++i) reader.ReadStep(i, &record).IgnoreError();
  reader.ReadStep(num_steps, &record).IgnoreError();
  reader.ReadStep(-1, &record).IgnoreError();
  const int64_t num_episodes = reader.NumEpisodes();
  for (int64_t i = 0; i < num_episodes && i < 10000; ++i) {
    auto episode = reader.Episode(i, /*include_metadata=*/true);
    if (episode.ok() && (episode->num_steps < 0 || episode->start < 0 || episode->start > num_steps)) {
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
  auto clone = reader.Clone();
  if (clone.ok() && clone->NumSteps() != num_steps) std::abort();
  reader.Close();
  return 0;
}
