#include "envlogger/riegeli/record_writer_options.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <vector>

namespace envlogger {
namespace riegeli {
namespace {

constexpr uint64_t kDefaultPadding = uint64_t{1} << 16;

// Splits `text` at commas.
std::vector<std::string_view> SplitItems(std::string_view text) {
  std::vector<std::string_view> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

// Parses a decimal integer (optional leading '-') that must lie in [min, max].
bool ParseInt(std::string_view text, long long min, long long max, long long* value) {
  if (text.empty()) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i == text.size()) return false;
  long long result = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    if (result > (std::numeric_limits<long long>::max() - 9) / 10) return false;
    result = result * 10 + (text[i] - '0');
  }
  if (negative) result = -result;
  if (result < min || result > max) return false;
  *value = result;
  return true;
}

// Parses a non-negative decimal real: digits with at most one '.', at least
// one digit.
bool ParseReal(std::string_view text, double* value) {
  bool seen_digit = false;
  bool seen_dot = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      return false;
    }
  }
  if (!seen_digit) return false;
  *value = std::strtod(std::string(text).c_str(), nullptr);
  return true;
}

// Parses "bytes": a non-negative real with an optional binary suffix
// (B, k/K, M, G, T, P, E), rounded to the nearest integer.
bool ParseBytes(std::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  double multiplier = 1.0;
  switch (text.back()) {
    case 'B':
      multiplier = 1.0;
      break;
    case 'k':
    case 'K':
      multiplier = std::ldexp(1.0, 10);
      break;
    case 'M':
      multiplier = std::ldexp(1.0, 20);
      break;
    case 'G':
      multiplier = std::ldexp(1.0, 30);
      break;
    case 'T':
      multiplier = std::ldexp(1.0, 40);
      break;
    case 'P':
      multiplier = std::ldexp(1.0, 50);
      break;
    case 'E':
      multiplier = std::ldexp(1.0, 60);
      break;
    default:
      multiplier = 0.0;
      break;
  }
  if (multiplier != 0.0) {
    text.remove_suffix(1);
  } else {
    multiplier = 1.0;
  }
  double number;
  if (!ParseReal(text, &number)) return false;
  const double bytes = std::round(number * multiplier);
  if (!(bytes < std::ldexp(1.0, 64))) return false;
  *value = static_cast<uint64_t>(bytes);
  return true;
}

}  // namespace

StatusOr<RecordWriterOptions> RecordWriterOptions::FromString(std::string_view text) {
  RecordWriterOptions options;
  const std::string context = "Invalid RecordWriterOptions \"" + std::string(text) + "\": ";
  auto error = [&](std::string_view item, const std::string& what) {
    return InvalidArgumentError(context + "option \"" + std::string(item) + "\": " + what);
  };

  std::set<std::string, std::less<>> seen_keys;
  std::string codec_key;  // The codec option seen so far, if any.
  bool window_log_given = false;
  std::string_view window_log_item;
  std::string_view padding_item;  // First padding-related option, if any.
  bool padding_alias_seen = false;
  bool first_item = true;

  for (const std::string_view item : SplitItems(text)) {
    const bool is_first = first_item;
    first_item = false;
    if (item.empty()) continue;
    const size_t colon = item.find(':');
    const std::string_view key = item.substr(0, colon);
    const bool has_value = colon != std::string_view::npos;
    const std::string_view value = has_value ? item.substr(colon + 1) : std::string_view();

    if (seen_keys.count(key) != 0) {
      return error(item, "option \"" + std::string(key) + "\" given twice");
    }
    seen_keys.emplace(key);

    if (key == "default") {
      if (has_value) return error(item, "\"default\" takes no value");
      if (!is_first) return error(item, "\"default\" must be the first option");
    } else if (key == "transpose") {
      if (value.empty() || value == "true") {
        options.transpose = true;
      } else if (value == "false") {
        options.transpose = false;
      } else {
        return error(item, "expected transpose, transpose:true or transpose:false");
      }
    } else if (key == "uncompressed" || key == "brotli" || key == "zstd" || key == "snappy") {
      if (!codec_key.empty()) {
        return error(item, "conflicts with \"" + codec_key +
                               "\"; at most one of uncompressed, brotli, zstd, snappy is allowed");
      }
      codec_key = std::string(key);
      long long level = 0;
      if (key == "uncompressed") {
        if (has_value) return error(item, "\"uncompressed\" takes no value");
        options.compression.type = CompressionType::kNone;
        options.compression.level = 0;
      } else if (key == "brotli") {
        level = kDefaultBrotliLevel;
        if (!value.empty() && !ParseInt(value, 0, 11, &level)) {
          return error(item, "Brotli level must be an integer in 0..11");
        }
        options.compression.type = CompressionType::kBrotli;
      } else if (key == "zstd") {
        level = kDefaultZstdLevel;
        if (!value.empty() && !ParseInt(value, -131072, 22, &level)) {
          return error(item, "Zstd level must be an integer in -131072..22");
        }
        options.compression.type = CompressionType::kZstd;
      } else {
        level = kDefaultSnappyLevel;
        if (!value.empty() && !ParseInt(value, 1, 2, &level)) {
          return error(item, "Snappy level must be an integer in 1..2");
        }
        options.compression.type = CompressionType::kSnappy;
      }
      if (key != "uncompressed") options.compression.level = static_cast<int>(level);
    } else if (key == "window_log") {
      long long window_log = 0;
      if (value == "auto") {
        options.compression.window_log = kAutoWindowLog;
      } else if (ParseInt(value, 10, 31, &window_log)) {
        options.compression.window_log = static_cast<int>(window_log);
      } else {
        return error(item, "expected window_log:auto or an integer in 10..31");
      }
      window_log_given = true;
      window_log_item = item;
    } else if (key == "brotli_encoder") {
      if (value == "rbrotli_or_cbrotli") {
        options.brotli_encoder = BrotliEncoder::kRBrotliOrCBrotli;
      } else if (value == "cbrotli") {
        options.brotli_encoder = BrotliEncoder::kCBrotli;
      } else if (value == "rbrotli") {
        options.brotli_encoder = BrotliEncoder::kRBrotli;
      } else {
        return error(item, "expected rbrotli_or_cbrotli, cbrotli or rbrotli");
      }
    } else if (key == "chunk_size") {
      uint64_t bytes = 0;
      if (value == "auto") {
        options.chunk_size = std::nullopt;
      } else if (ParseBytes(value, &bytes) && bytes >= 1) {
        options.chunk_size = bytes;
      } else {
        return error(item,
                     "expected chunk_size:auto or a size of at least 1 byte (a number with an "
                     "optional suffix B, K, M, G, T, P, E)");
      }
    } else if (key == "bucket_fraction") {
      double fraction = 0;
      if (!ParseReal(value, &fraction) || fraction > 1.0) {
        return error(item, "expected a real number in 0..1");
      }
      options.bucket_fraction = fraction;
    } else if (key == "padding" || key == "initial_padding" || key == "final_padding" ||
               key == "pad_to_block_boundary") {
      // The historical alias cannot be combined with the options that
      // replaced it; padding, initial_padding and final_padding apply in order.
      const bool alias = key == "pad_to_block_boundary";
      if (!padding_item.empty() && (alias || padding_alias_seen)) {
        return error(item, "conflicts with \"" + std::string(padding_item) + "\"");
      }
      padding_alias_seen = padding_alias_seen || alias;
      if (padding_item.empty()) padding_item = item;
      if (key == "pad_to_block_boundary") {
        if (value.empty() || value == "true") {
          options.initial_padding = options.final_padding = kDefaultPadding;
        } else if (value == "initially") {
          options.initial_padding = kDefaultPadding;
          options.final_padding = 1;
        } else if (value == "false") {
          options.initial_padding = options.final_padding = 1;
        } else {
          return error(item, "expected pad_to_block_boundary[:true|false|initially]");
        }
        continue;
      }
      uint64_t bytes = kDefaultPadding;
      if (!value.empty() && !(ParseBytes(value, &bytes) && bytes >= 1)) {
        return error(item,
                     "expected a size of at least 1 byte (a number with an optional suffix B, K, "
                     "M, G, T, P, E), or no value for 64K");
      }
      if (key != "final_padding") options.initial_padding = bytes;
      if (key != "initial_padding") options.final_padding = bytes;
    } else if (key == "parallelism") {
      long long parallelism = 0;
      if (!ParseInt(value, 0, std::numeric_limits<int>::max(), &parallelism)) {
        return error(item, "expected a non-negative integer");
      }
      options.parallelism = static_cast<int>(parallelism);
    } else {
      return error(item,
                   "unknown option; allowed: default, transpose, uncompressed, brotli, zstd, "
                   "snappy, window_log, brotli_encoder, chunk_size, bucket_fraction, padding, "
                   "initial_padding, final_padding, pad_to_block_boundary, parallelism");
    }
  }

  if (window_log_given) {
    switch (options.compression.type) {
      case CompressionType::kBrotli:
        if (options.compression.window_log > 30) {
          return error(window_log_item, "Brotli window_log must be auto or in 10..30");
        }
        break;
      case CompressionType::kZstd:
        break;  // auto or 10..31, checked while parsing.
      case CompressionType::kNone:
      case CompressionType::kSnappy:
        return error(window_log_item, std::string("window_log does not apply to ") +
                                          CompressionName(options.compression.type) +
                                          "; it needs brotli or zstd");
    }
  }
  return options;
}

std::string RecordWriterOptions::ToString() const {
  std::string text;
  auto add = [&](const std::string& item) {
    if (!text.empty()) text += ',';
    text += item;
  };
  if (transpose) add("transpose");
  if (compression.type == CompressionType::kNone) {
    add("uncompressed");
  } else {
    add(std::string(CompressionName(compression.type)) + ":" + std::to_string(compression.level));
    if (compression.window_log != kAutoWindowLog) {
      add("window_log:" + std::to_string(compression.window_log));
    }
  }
  if (brotli_encoder == BrotliEncoder::kCBrotli) add("brotli_encoder:cbrotli");
  if (brotli_encoder == BrotliEncoder::kRBrotli) add("brotli_encoder:rbrotli");
  if (chunk_size.has_value()) add("chunk_size:" + std::to_string(*chunk_size));
  if (bucket_fraction != 1.0) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.17f", bucket_fraction);
    std::string number(buffer);
    while (number.size() > 1 && number.back() == '0') number.pop_back();
    add("bucket_fraction:" + number);
  }
  if (initial_padding != 1) add("initial_padding:" + std::to_string(initial_padding));
  if (final_padding != 1) add("final_padding:" + std::to_string(final_padding));
  if (parallelism != 0) add("parallelism:" + std::to_string(parallelism));
  return text;
}

uint64_t RecordWriterOptions::effective_chunk_size() const {
  if (chunk_size.has_value()) return *chunk_size;
  return compression.type == CompressionType::kNone ? uint64_t{4} << 10 : uint64_t{1} << 20;
}

uint64_t RecordWriterOptions::bucket_size() const {
  if (compression.type == CompressionType::kNone) return std::numeric_limits<uint64_t>::max();
  const double size = std::round(static_cast<double>(effective_chunk_size()) * bucket_fraction);
  if (size < 1.0) return 1;
  if (!(size < std::ldexp(1.0, 64))) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(size);
}

}  // namespace riegeli
}  // namespace envlogger
