// Measures transposed-chunk encode and decode throughput on chunks written by
// upstream envlogger (Catch steps, and 84x84x3 image steps), in MB/s of
// record data per CPU second. Run from the repository root:
//   build/cc/transpose_benchmark [seconds per measurement, default 1]

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "envlogger/riegeli/transpose_decoder.h"
#include "envlogger/riegeli/transpose_encoder.h"
#include "envlogger/riegeli/transpose_test_fixtures.h"

namespace envlogger {
namespace riegeli {
namespace {

using transpose_testing::FixtureChunk;

// Runs `body` repeatedly for about `seconds` of this process's CPU time (so
// that other load on the machine does not skew the figure); returns MB/s for
// `bytes` per run.
template <typename Body>
double Throughput(double seconds, uint64_t bytes, Body body) {
  const std::clock_t start = std::clock();
  uint64_t runs = 0;
  double elapsed = 0;
  do {
    body();
    ++runs;
    elapsed = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  } while (elapsed < seconds);
  return static_cast<double>(bytes) * static_cast<double>(runs) / elapsed / 1e6;
}

// The largest transposed chunk of `relative_path` (under envlogger/testdata).
FixtureChunk LargestChunk(const std::string& relative_path) {
  FixtureChunk largest;
  for (FixtureChunk& chunk : transpose_testing::WalkChunks(
           transpose_testing::ReadFileOrDie(envlogger::testing::TestDataPath(relative_path)))) {
    if (chunk.type == 't' && chunk.decoded_data_size > largest.decoded_data_size)
      largest = std::move(chunk);
  }
  return largest;
}

void Measure(const char* label, const FixtureChunk& chunk, double seconds) {
  std::string values;
  std::vector<uint64_t> limits;
  Status status = DecodeTransposedChunk(chunk.data, chunk.num_records, chunk.decoded_data_size,
                                        &values, &limits);
  if (!status.ok()) {
    fprintf(stderr, "%s: %s\n", label, status.ToString().c_str());
    exit(1);
  }
  const std::vector<std::string> records = transpose_testing::SplitRecords(values, limits);
  printf("%s: %llu records, %llu bytes -> chunk %zu bytes\n", label,
         static_cast<unsigned long long>(chunk.num_records),
         static_cast<unsigned long long>(chunk.decoded_data_size), chunk.data.size());
  const double decode = Throughput(seconds, chunk.decoded_data_size, [&] {
    DecodeTransposedChunk(chunk.data, chunk.num_records, chunk.decoded_data_size, &values, &limits)
        .IgnoreError();
  });
  printf("  decode (as stored): %8.1f MB/s\n", decode);
  const std::pair<const char*, CompressorOptions> codecs[] = {
      {"none", {CompressionType::kNone, 0, kAutoWindowLog}},
      {"brotli:6", {CompressionType::kBrotli, 6, kAutoWindowLog}},
      {"zstd:3", {CompressionType::kZstd, 3, kAutoWindowLog}},
      {"snappy", {CompressionType::kSnappy, 1, kAutoWindowLog}},
  };
  for (const auto& [name, options] : codecs) {
    TransposeEncoder encoder(
        options, options.type == CompressionType::kNone ? UINT64_MAX : uint64_t{1} << 20);
    std::string data;
    const double encode = Throughput(seconds, chunk.decoded_data_size, [&] {
      encoder.Reset();
      for (const std::string& record : records) encoder.AddRecord(record);
      encoder.Encode(&data).IgnoreError();
    });
    const double decode_ours = Throughput(seconds, chunk.decoded_data_size, [&] {
      DecodeTransposedChunk(data, chunk.num_records, chunk.decoded_data_size, &values, &limits)
          .IgnoreError();
    });
    printf("  %-9s encode %8.1f MB/s  decode %8.1f MB/s  (%zu bytes)\n", name, encode, decode_ours,
           data.size());
  }
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger

int main(int argc, char** argv) {
  using namespace envlogger::riegeli;
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  std::string catch_steps, images_steps;
  for (const auto& [riegeli, expected, options] : transpose_testing::ReadManifest()) {
    if (riegeli.rfind("upstream-1.3/catch_default/", 0) == 0 &&
        riegeli.find("/steps.riegeli") != std::string::npos) {
      catch_steps = riegeli;
    }
  }
  Measure("Catch steps (catch_default)", LargestChunk(catch_steps), seconds);
  const std::string images = envlogger::testing::TestDataPath("upstream-1.3/images");
  for (const auto& entry : std::filesystem::directory_iterator(images)) {
    if (std::filesystem::exists(entry.path() / "steps.riegeli")) {
      images_steps = "upstream-1.3/images/" + entry.path().filename().string() + "/steps.riegeli";
    }
  }
  Measure("Image steps (images)", LargestChunk(images_steps), seconds);
  return 0;
}
