// Test helper: loads envlogger/testdata/upstream-1.3-index/<dataset>.index.txt,
// the description of an upstream-written fixture dataset produced by
// generate.py in that directory from the fixtures' own records.

#ifndef ENVLOGGER_BACKENDS_CC_UPSTREAM_FIXTURE_INDEX_H_
#define ENVLOGGER_BACKENDS_CC_UPSTREAM_FIXTURE_INDEX_H_

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace testing {

// 64-bit FNV-1a, the hash generate.py stores for large records.
inline uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : data) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

struct FixtureRecord {
  uint64_t position = 0;
  std::string bytes;  // Index records only.
  uint64_t length = 0;
  uint64_t fnv = 0;
};

struct FixtureShard {
  std::string name;
  std::vector<FixtureRecord> step_offsets;
  std::vector<FixtureRecord> episode_index;
  std::vector<FixtureRecord> episode_metadata;
  std::vector<FixtureRecord> steps;
};

struct FixtureDataset {
  int64_t num_steps = 0;
  int64_t num_episodes = 0;
  std::vector<std::pair<int64_t, int64_t>> episodes;  // (global start, num_steps)
  bool has_metadata = false;
  FixtureRecord metadata;
  std::vector<FixtureShard> shards;
};

inline std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::vector<std::string> UpstreamFixtureNames() {
  return {"all_types",
          "catch_default",
          "catch_options_brotli9_chunk4k",
          "catch_options_snappy",
          "catch_options_transpose_snappy_chunk16k",
          "catch_options_transpose_uncompressed",
          "catch_options_transpose_zstd3",
          "catch_options_uncompressed",
          "catch_options_zstd",
          "empty",
          "flushed_often",
          "images",
          "multishard",
          "single_step"};
}

// Returns false if the file cannot be read or a line is malformed.
inline bool LoadUpstreamFixtureIndex(const std::string& dataset, FixtureDataset* out) {
  std::ifstream in(TestDataPath("upstream-1.3-index/" + dataset + ".index.txt"));
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "num_steps") {
      fields >> out->num_steps;
    } else if (kind == "num_episodes") {
      fields >> out->num_episodes;
    } else if (kind == "episode") {
      int64_t start, n;
      fields >> start >> n;
      out->episodes.emplace_back(start, n);
    } else if (kind == "metadata") {
      out->has_metadata = true;
      fields >> out->metadata.length >> std::hex >> out->metadata.fnv;
    } else if (kind == "shard") {
      out->shards.emplace_back();
      fields >> out->shards.back().name;
    } else if (kind == "step_offsets" || kind == "episode_index") {
      if (out->shards.empty()) return false;
      FixtureRecord record;
      std::string hex;
      fields >> record.position >> hex;
      record.bytes = HexToBytes(hex);
      record.length = record.bytes.size();
      (kind == "step_offsets" ? out->shards.back().step_offsets : out->shards.back().episode_index)
          .push_back(std::move(record));
    } else if (kind == "episode_metadata" || kind == "step") {
      if (out->shards.empty()) return false;
      FixtureRecord record;
      fields >> record.position >> record.length >> std::hex >> record.fnv;
      (kind == "step" ? out->shards.back().steps : out->shards.back().episode_metadata)
          .push_back(record);
    } else {
      return false;
    }
    if (fields.fail()) return false;
  }
  return true;
}

}  // namespace testing
}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_UPSTREAM_FIXTURE_INDEX_H_
