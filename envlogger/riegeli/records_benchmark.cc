// Measures what the Riegeli/records format layer costs on top of the
// compressors: for each compression, on the same records, the raw codec
// (CompressBlock/DecompressBlock of chunk-sized buffers, compression.h is a
// thin wrapper over the libraries) against RecordWriter writing all records
// to memory and RecordReader reading them all back; plus HighwayHash. MB/s
// are of record bytes per CPU second (so other load on the machine skews
// them less), medians over repeats; overhead = format time / raw time - 1.
// Transposed chunks split records into columns, which is work by design, so
// their overhead is reported against the same raw figures for information.
//
// Run from the repository root (reads a Catch fixture):
//   build/cc/records_benchmark [megabytes per data set, default 16] [repeats, default 3]

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/compression.h"
#include "envlogger/riegeli/highwayhash.h"
#include "envlogger/riegeli/highwayhash_internal.h"
#include "envlogger/riegeli/record_reader.h"
#include "envlogger/riegeli/record_writer.h"
#include "envlogger/riegeli/record_writer_options.h"
#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    exit(1);
  }
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// CPU seconds of one run of `body`.
template <typename Body>
double Seconds(Body body) {
  const double start = CpuSeconds();
  body();
  return CpuSeconds() - start;
}

double Median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Median CPU seconds of `repeats` runs of `body`.
template <typename Body>
double MedianSeconds(int repeats, Body body) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) times.push_back(Seconds(body));
  return Median(std::move(times));
}

// Serialized Catch steps written by upstream envlogger, repeated to `bytes`.
std::vector<std::string> CatchSteps(uint64_t bytes) {
  const std::string dir = testing::TestDataPath("upstream-1.3/catch_default");
  std::string path;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().filename() == "steps.riegeli") path = entry.path().string();
  }
  StatusOr<std::unique_ptr<RecordReader>> reader = RecordReader::Open(path);
  Check(reader.status(), path.c_str());
  std::vector<std::string> steps;
  std::string_view record;
  while ((*reader)->ReadRecord(&record)) steps.emplace_back(record);
  Check((*reader)->status(), path.c_str());
  std::vector<std::string> records;
  uint64_t size = 0;
  for (size_t i = 0; size < bytes; ++i) {
    records.push_back(steps[i % steps.size()]);
    size += records.back().size();
  }
  return records;
}

// 1 KiB records of bytes from a skewed distribution (compressible ~2x).
std::vector<std::string> SkewedRecords(uint64_t bytes) {
  std::mt19937_64 random(1);
  std::geometric_distribution<int> byte(0.03);
  std::vector<std::string> records;
  for (uint64_t size = 0; size < bytes; size += 1024) {
    std::string record(1024, '\0');
    for (char& c : record) c = static_cast<char>(byte(random));
    records.push_back(std::move(record));
  }
  return records;
}

// A source over bytes owned by the caller: ReadAt() copies like pread()
// from the page cache would, and opening it copies nothing (StringSource
// would copy the whole file into itself inside the timed region).
class ViewSource : public ByteSource {
 public:
  explicit ViewSource(std::string_view data) : data_(data) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    if (offset >= data_.size()) {
      dest->clear();
    } else {
      const std::string_view range = data_.substr(offset, length);
      dest->assign(range.data(), range.size());
    }
    return OkStatus();
  }
  StatusOr<uint64_t> Size() override { return uint64_t{data_.size()}; }
  const std::string& name() const override { return name_; }

 private:
  std::string_view data_;
  std::string name_ = "<benchmark file>";
};

struct Row {
  double raw_write, write, raw_read, read;
};

Row Measure(const std::vector<std::string>& records, const std::string& options_text,
            int repeats) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(options_text);
  Check(options.status(), options_text.c_str());
  // The raw codec on the same bytes, cut into chunk-sized pieces.
  std::vector<std::string> pieces(1);
  for (const std::string& record : records) {
    if (pieces.back().size() + record.size() > options->effective_chunk_size() &&
        !pieces.back().empty()) {
      pieces.emplace_back();
    }
    pieces.back() += record;
  }
  std::vector<std::string> compressed(pieces.size());
  const auto raw_write = [&] {
    for (size_t i = 0; i < pieces.size(); ++i) {
      compressed[i].clear();
      Check(CompressBlock(options->compression, pieces[i], &compressed[i]), "compress");
    }
  };
  std::string decompressed;
  const auto raw_read = [&] {
    for (const std::string& block : compressed) {
      decompressed.clear();
      Check(DecompressBlock(options->compression.type, block, &decompressed), "decompress");
    }
  };
  std::string file;
  const auto write = [&] {
    file.clear();
    StatusOr<std::unique_ptr<RecordWriter>> writer =
        RecordWriter::Create(std::make_unique<StringSink>(&file), *options);
    Check(writer.status(), "writer");
    for (const std::string& record : records) Check((*writer)->WriteRecord(record), "write");
    Check((*writer)->Close(), "close");
  };
  const auto read = [&] {
    RecordReader reader(std::make_unique<ViewSource>(file));
    std::string_view record;
    size_t count = 0;
    while (reader.ReadRecord(&record)) ++count;
    Check(reader.status(), "read");
    if (count != records.size()) {
      fprintf(stderr, "read %zu records, wrote %zu\n", count, records.size());
      exit(1);
    }
  };
  // Raw and format runs alternate, so that changing load on the machine
  // affects both alike.
  std::vector<double> raw_write_times, write_times, raw_read_times, read_times;
  for (int i = 0; i < repeats; ++i) {
    raw_write_times.push_back(Seconds(raw_write));
    write_times.push_back(Seconds(write));
    raw_read_times.push_back(Seconds(raw_read));
    read_times.push_back(Seconds(read));
  }
  Row row;
  row.raw_write = Median(raw_write_times);
  row.write = Median(write_times);
  row.raw_read = Median(raw_read_times);
  row.read = Median(read_times);
  return row;
}

void HashSpeed(int repeats) {
  std::string data(size_t{16} << 20, '\0');
  std::mt19937_64 random(2);
  for (char& c : data) c = static_cast<char>(random());
  const HighwayHashKey key = {1, 2, 3, 4};
  uint64_t sink = 0;
  const double dispatched = MedianSeconds(repeats, [&] { sink += RiegeliHash(data); });
  const double portable = MedianSeconds(
      repeats, [&] { sink += highwayhash_internal::HighwayHash64Portable(key, data); });
  printf("HighwayHash (RiegeliHash, runtime-selected): %.0f MB/s; portable: %.0f MB/s", 
         data.size() / dispatched / 1e6, data.size() / portable / 1e6);
#if ENVLOGGER_HIGHWAYHASH_HAVE_AVX2
  if (highwayhash_internal::CpuHasAvx2()) {
    const double avx2 = MedianSeconds(
        repeats, [&] { sink += highwayhash_internal::HighwayHash64Avx2(key, data); });
    printf("; AVX2: %.0f MB/s", data.size() / avx2 / 1e6);
  }
#endif
  // memcpy, for the speed of this machine's memory.
  std::string copy(data.size(), '\0');
  const double memcpy_seconds = MedianSeconds(repeats, [&] {
    std::copy(data.begin(), data.end(), copy.begin());
    sink += static_cast<uint8_t>(copy[sink % copy.size()]);
  });
  printf("; memcpy: %.0f MB/s  (%llu)\n", data.size() / memcpy_seconds / 1e6,
         static_cast<unsigned long long>(sink & 1));
}

int Main(int argc, char** argv) {
  const uint64_t megabytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 16;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  HashSpeed(repeats);
  const struct {
    const char* name;
    std::vector<std::string> records;
  } data_sets[] = {{"catch", CatchSteps(megabytes << 20)},
                   {"skewed", SkewedRecords(megabytes << 20)}};
  printf("%-7s %-22s %9s %9s %8s %9s %9s %8s\n", "data", "options", "raw_comp", "write",
         "w_over", "raw_dec", "read", "r_over");
  for (const auto& data_set : data_sets) {
    uint64_t bytes = 0;
    for (const std::string& record : data_set.records) bytes += record.size();
    for (const char* transpose : {"", "transpose,"}) {
      for (const char* codec : {"uncompressed", "brotli:6", "zstd:3", "snappy"}) {
        const std::string options = std::string(transpose) + codec;
        const Row row = Measure(data_set.records, options, repeats);
        const auto mbps = [&](double seconds) { return bytes / seconds / 1e6; };
        printf("%-7s %-22s %9.1f %9.1f %+7.0f%% %9.1f %9.1f %+7.0f%%\n", data_set.name,
               options.c_str(), mbps(row.raw_write), mbps(row.write),
               100 * (row.write / row.raw_write - 1), mbps(row.raw_read), mbps(row.read),
               100 * (row.read / row.raw_read - 1));
        fflush(stdout);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger

int main(int argc, char** argv) { return envlogger::riegeli::Main(argc, argv); }
