// Measures what the Riegeli/records format layer costs on top of the
// compressors: for each compression, on the same records, the raw codec
// (CompressBlock/DecompressBlock, compression.h is a thin wrapper over the
// libraries, of the very pieces the writer compresses: the records of each
// chunk it writes, concatenated) against RecordWriter writing all records
// to memory (a new writer per repeat) and RecordReader reading them all back;
// plus HighwayHash. MB/s are of record bytes per CPU second (so other load on
// the machine skews them less), medians over repeats; overhead = median over
// repeats of (format time / raw time in the same repeat) - 1, raw and format
// runs alternating, so that drifts in the machine's speed cancel out.
// Transposed chunks split records into columns, which is work by design, so
// their overhead is reported against the same raw figures for information.
// "uncompressed" has no codec: its raw figures are one memcpy of the pieces.
//
// After the bar, the work the format cannot avoid besides the codec, as a
// percentage of the raw codec's time (median of per-repeat ratios): w_hash/r_hash = HighwayHash of
// the compressed data, w_copy = gathering the records into chunk buffers plus one copy of the
// compressed data (into the file), r_copy = one copy of the compressed data (out of the file).
// Where the codec runs near memory speed (snappy on poorly compressible data, uncompressed) these
// alone exceed 25%.
//
// raw_fed / w_fed: for brotli and zstd, the library's streaming API fed the
// records one at a time (BrotliEncoderCompressStream, ZSTD_compressStream2),
// one stream per chunk: what compressing the records costs a caller who,
// like the writer, receives them one by one and does not first gather them
// into one buffer. w_over against the one-shot codec on pre-gathered pieces
// stays the strict figure; snappy and "uncompressed" have no such API ("-").
//
// Run from the repository root (reads a Catch fixture):
//   build/cc/records_benchmark [megabytes per data set, default 16] [repeats, default 3]
//       [--only=DATA:OPTIONS]
// --only restricts the run to one row (e.g. --only=catch:zstd:3 or
// --only=skewed:transpose,snappy) and skips the HighwayHash line, for
// profiling one row under callgrind.

#include <brotli/encode.h>
#include <zstd.h>

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
#include "envlogger/testing/view_source.h"

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

// CPU seconds of one run of `body`. Not inlined, so that under callgrind
// each measured body is one function (Seconds<lambda>) with its inclusive
// instruction count.
template <typename Body>
__attribute__((noinline)) double Seconds(Body body) {
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

// Median CPU seconds of each body, and medians of per-repeat ratios to the
// raw codec's time in the same repeat (robust to the machine's speed drifting
// between repeats, unlike a ratio of medians).
struct Row {
  double raw_write, write, raw_read, read;
  // write / raw_write and read / raw_read.
  double write_ratio, read_ratio;
  // The streaming codec fed record by record, and write / that; 0 if the
  // codec has no streaming API.
  double raw_fed, fed_ratio;
  // The work the format cannot avoid besides the codec, on the same pieces,
  // relative to the raw codec: HighwayHash of the compressed data (written
  // and verified on reading) against compression and decompression, copying
  // the records into chunk-sized buffers (the writer gathers them) plus
  // copying the compressed data once (into the file on writing) against
  // compression, and the latter copy (out of the file) against decompression.
  double hash_write_ratio, copy_write_ratio, hash_read_ratio, copy_read_ratio;
};

// Median of a[i] / b[i].
double MedianRatio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size(); ++i) ratios.push_back(a[i] / b[i]);
  return Median(std::move(ratios));
}

// Compresses `records` with the streaming API of brotli or zstd, one stream
// per piece (piece_records[i] consecutive records each), handing the library
// one record per call and appending its output to `*out`.
void FeedRecords(const CompressorOptions& options, const std::vector<std::string>& records,
                 const std::vector<size_t>& piece_records, std::string* out) {
  size_t next = 0;
  if (options.type == CompressionType::kZstd) {
    static ZSTD_CCtx* const cctx = ZSTD_createCCtx();
    std::string room(ZSTD_CStreamOutSize(), '\0');
    const auto drain = [&](ZSTD_inBuffer* in, ZSTD_EndDirective mode) {
      for (;;) {
        ZSTD_outBuffer buffer = {&room[0], room.size(), 0};
        const size_t left = ZSTD_compressStream2(cctx, &buffer, in, mode);
        if (ZSTD_isError(left)) {
          fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(left));
          exit(1);
        }
        out->append(room.data(), buffer.pos);
        if (mode == ZSTD_e_end ? left == 0 : in->pos == in->size) return;
      }
    };
    for (const size_t count : piece_records) {
      ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, options.level);
      if (options.window_log != kAutoWindowLog) {
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, options.window_log);
      }
      for (size_t i = 0; i < count; ++i, ++next) {
        ZSTD_inBuffer in = {records[next].data(), records[next].size(), 0};
        drain(&in, ZSTD_e_continue);
      }
      ZSTD_inBuffer end = {nullptr, 0, 0};
      drain(&end, ZSTD_e_end);
    }
    return;
  }
  for (const size_t count : piece_records) {
    BrotliEncoderState* const encoder = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    BrotliEncoderSetParameter(encoder, BROTLI_PARAM_QUALITY, static_cast<uint32_t>(options.level));
    BrotliEncoderSetParameter(
        encoder, BROTLI_PARAM_LGWIN,
        static_cast<uint32_t>(options.window_log == kAutoWindowLog ? kDefaultBrotliWindowLog
                                                                   : options.window_log));
    const auto feed = [&](std::string_view data, BrotliEncoderOperation operation) {
      size_t available_in = data.size();
      const uint8_t* next_in = reinterpret_cast<const uint8_t*>(data.data());
      do {
        size_t available_out = 0;
        if (!BrotliEncoderCompressStream(encoder, operation, &available_in, &next_in,
                                         &available_out, nullptr, nullptr)) {
          fprintf(stderr, "brotli: compression failed\n");
          exit(1);
        }
        size_t length = 0;
        const uint8_t* output = BrotliEncoderTakeOutput(encoder, &length);
        out->append(reinterpret_cast<const char*>(output), length);
      } while (available_in > 0 || BrotliEncoderHasMoreOutput(encoder) ||
               (operation == BROTLI_OPERATION_FINISH && !BrotliEncoderIsFinished(encoder)));
    };
    for (size_t i = 0; i < count; ++i, ++next) feed(records[next], BROTLI_OPERATION_PROCESS);
    feed({}, BROTLI_OPERATION_FINISH);
    BrotliEncoderDestroyInstance(encoder);
  }
}

Row Measure(const std::vector<std::string>& records, const std::string& options_text, int repeats) {
  StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(options_text);
  Check(options.status(), options_text.c_str());
  std::string file;
  const auto write = [&] {
    file.clear();
    StatusOr<std::unique_ptr<RecordWriter>> writer =
        RecordWriter::Create(std::make_unique<StringSink>(&file), *options);
    Check(writer.status(), "writer");
    for (const std::string& record : records) Check((*writer)->WriteRecord(record), "write");
    Check((*writer)->Close(), "close");
  };
  // The raw codec on the same bytes in the same pieces: the records of each
  // chunk the writer produces, concatenated (what a simple chunk compresses
  // as its values; the chunk cutting counts 8 bytes per record besides the
  // record bytes, so a piece holds less than the chunk size).
  write();
  std::vector<std::string> pieces;
  std::vector<size_t> piece_records;  // How many records each piece holds.
  {
    RecordReader reader(std::make_unique<testing::ViewSource>(file, "<benchmark file>"));
    std::string_view record;
    uint64_t chunk_begin = 0;
    while (reader.ReadRecord(&record)) {
      if (pieces.empty() || reader.LastPos().chunk_begin != chunk_begin) {
        chunk_begin = reader.LastPos().chunk_begin;
        pieces.emplace_back();
        piece_records.push_back(0);
      }
      pieces.back().append(record.data(), record.size());
      ++piece_records.back();
    }
    Check(reader.status(), "read");
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
  std::string fed_output;
  const auto raw_fed = [&] {
    fed_output.clear();
    FeedRecords(options->compression, records, piece_records, &fed_output);
  };
  const bool has_fed = options->compression.type == CompressionType::kBrotli ||
                       options->compression.type == CompressionType::kZstd;
  const auto read = [&] {
    RecordReader reader(std::make_unique<testing::ViewSource>(file, "<benchmark file>"));
    std::string_view record;
    size_t count = 0;
    while (reader.ReadRecord(&record)) ++count;
    Check(reader.status(), "read");
    if (count != records.size()) {
      fprintf(stderr, "read %zu records, wrote %zu\n", count, records.size());
      exit(1);
    }
  };
  uint64_t hash_sink = 0;
  const auto hash = [&] {
    for (const std::string& block : compressed) hash_sink += RiegeliHash(block);
  };
  std::string scratch;
  const auto copy_records = [&] {
    scratch.clear();
    size_t piece = 0;
    for (const std::string& record : records) {
      scratch.append(record);
      if (scratch.size() >= pieces[piece].size()) {
        hash_sink += static_cast<uint8_t>(scratch.back());
        scratch.clear();
        ++piece;
      }
    }
  };
  const auto copy_compressed = [&] {
    for (const std::string& block : compressed) {
      scratch.assign(block);
      hash_sink += static_cast<uint8_t>(scratch.back());
    }
  };
  // Raw and format runs alternate, so that changing load on the machine
  // affects both alike.
  std::vector<double> raw_write_times, write_times, raw_read_times, read_times, hash_times,
      copy_records_times, copy_compressed_times, copy_write_times, fed_times;
  raw_write();  // Fills `compressed`.
  read();       // Checks the file written above.
  for (int i = 0; i < repeats; ++i) {
    raw_write_times.push_back(Seconds(raw_write));
    write_times.push_back(Seconds(write));
    raw_read_times.push_back(Seconds(raw_read));
    read_times.push_back(Seconds(read));
    hash_times.push_back(Seconds(hash));
    copy_records_times.push_back(Seconds(copy_records));
    copy_compressed_times.push_back(Seconds(copy_compressed));
    copy_write_times.push_back(copy_records_times.back() + copy_compressed_times.back());
    if (has_fed) fed_times.push_back(Seconds(raw_fed));
  }
  if (hash_sink == 1) printf(" ");  // Keeps the measured work observable.
  Row row;
  row.raw_write = Median(raw_write_times);
  row.write = Median(write_times);
  row.raw_read = Median(raw_read_times);
  row.read = Median(read_times);
  row.write_ratio = MedianRatio(write_times, raw_write_times);
  row.read_ratio = MedianRatio(read_times, raw_read_times);
  row.hash_write_ratio = MedianRatio(hash_times, raw_write_times);
  row.copy_write_ratio = MedianRatio(copy_write_times, raw_write_times);
  row.hash_read_ratio = MedianRatio(hash_times, raw_read_times);
  row.copy_read_ratio = MedianRatio(copy_compressed_times, raw_read_times);
  row.raw_fed = has_fed ? Median(fed_times) : 0;
  row.fed_ratio = has_fed ? MedianRatio(write_times, fed_times) : 0;
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
    const double avx2 =
        MedianSeconds(repeats, [&] { sink += highwayhash_internal::HighwayHash64Avx2(key, data); });
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
  std::vector<std::string> positional;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--only=", 0) == 0) {
      only = arg.substr(7);
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return 2;
    } else {
      positional.push_back(arg);
    }
  }
  const uint64_t megabytes =
      positional.size() > 0 ? std::strtoull(positional[0].c_str(), nullptr, 10) : 16;
  const int repeats = positional.size() > 1 ? std::atoi(positional[1].c_str()) : 3;
  if (megabytes == 0 || repeats <= 0) {
    fprintf(stderr, "megabytes and repeats must be positive\n");
    return 2;
  }
  if (only.empty()) HashSpeed(repeats);
  const struct {
    const char* name;
    std::vector<std::string> (*make)(uint64_t bytes);
  } data_sets[] = {{"catch", CatchSteps}, {"skewed", SkewedRecords}};
  printf("%-7s %-22s %9s %9s %8s %9s %9s %8s | %7s %7s %7s %7s | %9s %7s\n", "data", "options",
         "raw_comp", "write", "w_over", "raw_dec", "read", "r_over", "w_hash", "w_copy", "r_hash",
         "r_copy", "raw_fed", "w_fed");
  bool matched = false;
  for (const auto& data_set : data_sets) {
    std::vector<std::string> records;
    uint64_t bytes = 0;
    for (const char* transpose : {"", "transpose,"}) {
      for (const char* codec : {"uncompressed", "brotli:6", "zstd:3", "snappy"}) {
        const std::string options = std::string(transpose) + codec;
        if (!only.empty() && only != std::string(data_set.name) + ":" + options) continue;
        matched = true;
        if (records.empty()) {
          records = data_set.make(megabytes << 20);
          for (const std::string& record : records) bytes += record.size();
        }
        const Row row = Measure(records, options, repeats);
        const auto mbps = [&](double seconds) { return bytes / seconds / 1e6; };
        printf(
            "%-7s %-22s %9.1f %9.1f %+7.0f%% %9.1f %9.1f %+7.0f%% | %6.0f%% %6.0f%% %6.0f%% "
            "%6.0f%%",
            data_set.name, options.c_str(), mbps(row.raw_write), mbps(row.write),
            100 * (row.write_ratio - 1), mbps(row.raw_read), mbps(row.read),
            100 * (row.read_ratio - 1), 100 * row.hash_write_ratio, 100 * row.copy_write_ratio,
            100 * row.hash_read_ratio, 100 * row.copy_read_ratio);
        if (row.raw_fed > 0) {
          printf(" | %9.1f %+6.0f%%\n", mbps(row.raw_fed), 100 * (row.fed_ratio - 1));
        } else {
          printf(" | %9s %7s\n", "-", "-");
        }
        fflush(stdout);
      }
    }
  }
  if (!matched) {
    fprintf(stderr, "--only=%s matches no row (DATA:OPTIONS, e.g. catch:zstd:3)\n", only.c_str());
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger

int main(int argc, char** argv) { return envlogger::riegeli::Main(argc, argv); }
