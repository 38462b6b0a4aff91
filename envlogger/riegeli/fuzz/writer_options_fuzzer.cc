// libFuzzer target: the writer-options parser (RecordWriterOptions::
// FromString), built by scripts/fuzz_build.sh.
//
// Contract checked: any text parses or fails with a Status (never a crash,
// undefined behaviour or hang); parsed options print (ToString()) as text
// that parses back to options printing the same, and their derived sizes
// are sane.
// fuzz-options: -max_len=256

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "envlogger/riegeli/record_writer_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using envlogger::riegeli::RecordWriterOptions;
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto options = RecordWriterOptions::FromString(text);
  if (!options.ok()) {
    if (options.status().message().empty()) std::abort();  // Errors say what is wrong.
    return 0;
  }
  const std::string printed = options->ToString();
  auto reparsed = RecordWriterOptions::FromString(printed);
  if (!reparsed.ok() || reparsed->ToString() != printed) std::abort();
  if (options->effective_chunk_size() == 0 || options->bucket_size() == 0) std::abort();
  return 0;
}
