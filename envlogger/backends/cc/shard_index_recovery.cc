#include "envlogger/backends/cc/shard_index_recovery.h"

#include <memory>
#include <utility>

#include "envlogger/converters/data_wire.h"
#include "envlogger/riegeli/record_reader.h"

namespace envlogger {

namespace {

// The first element of the Tuple in `data`, or nullopt.
std::optional<std::string_view> FirstTupleElement(std::string_view data, const char* origin) {
  DataWire parsed;
  if (!ParseData(MessageParts(data), origin, &parsed).ok() || parsed.kind != DataKind::kTuple) {
    return std::nullopt;
  }
  std::optional<std::string_view> first;
  ForEachElement(parsed.payload, origin, [&](std::string_view element) {
    first = element;
    return envlogger::OutOfRangeError("stop after the first element");
  }).IgnoreError();
  return first;
}

// The integer a one-element integer Datum holds, or nullopt.
std::optional<int64_t> SingleInteger(std::string_view data, const char* origin) {
  DataWire parsed;
  DatumWire datum;
  if (!ParseData(MessageParts(data), origin, &parsed).ok() || parsed.kind != DataKind::kDatum ||
      !ParseDatum(parsed.payload, origin, &datum).ok()) {
    return std::nullopt;
  }
  if (datum.bigint_values.size() == 1) {
    // Big-endian two's complement (Python ints); step types fit in one byte,
    // longer values are not step types.
    const std::string_view bytes = datum.bigint_values[0];
    if (bytes.empty() || bytes.size() > 8) return std::nullopt;
    int64_t value = static_cast<int8_t>(bytes[0]);
    for (size_t i = 1; i < bytes.size(); ++i) value = value * 256 + static_cast<uint8_t>(bytes[i]);
    return value;
  }
  for (const DatumWire::Runs* runs : {&datum.int64_values, &datum.int32_values}) {
    if (CountVarints(*runs) == 1) {
      int64_t value;
      DecodeVarints(*runs, &value);
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<StepType> StepTypeOfRecord(std::string_view record) {
  const char* origin = record.data();
  std::optional<std::string_view> timestep = FirstTupleElement(record, origin);
  if (!timestep) return std::nullopt;
  std::optional<std::string_view> step_type = FirstTupleElement(*timestep, origin);
  if (!step_type) return std::nullopt;
  std::optional<int64_t> value = SingleInteger(*step_type, origin);
  if (!value || *value < 0 || *value > 2) return std::nullopt;
  return static_cast<StepType>(*value);
}

bool StartsEpisode(std::optional<StepType> type, std::optional<StepType> previous,
                   bool damage_before) {
  return type == StepType::kFirst || previous == StepType::kLast || damage_before;
}

std::vector<int64_t> EpisodeStartsOf(const std::vector<ScannedStep>& steps) {
  std::vector<int64_t> starts;
  std::optional<StepType> previous;
  for (size_t i = 0; i < steps.size(); ++i) {
    const ScannedStep& step = steps[i];
    if (step.known_start || StartsEpisode(step.type, previous, step.damage_before)) {
      starts.push_back(static_cast<int64_t>(i));
    }
    previous = step.type;
  }
  return starts;
}

std::string ShardIndexRecovery::Summary(const std::string& steps_filepath) const {
  std::string summary = "recovered " + std::to_string(recovered_steps) + " steps and " +
                        std::to_string(recovered_episodes) +
                        " episode starts missing from the index of " + steps_filepath;
  if (torn_tail_bytes > 0) {
    summary += "; lost an incomplete chunk of " + std::to_string(torn_tail_bytes) +
               " bytes at the end (its writer stopped while writing it)";
  }
  for (const riegeli::SkippedRegion& region : skipped) {
    summary += "; skipped damaged bytes [" + std::to_string(region.begin) + ", " +
               std::to_string(region.end) + "): " + region.message;
  }
  return summary;
}

envlogger::StatusOr<ShardIndexRecovery> RecoverShardIndex(const std::string& steps_filepath,
                                                          ShardIndexLists* index,
                                                          const riegeli::SourceOpener& open) {
  ShardIndexRecovery result;
  std::vector<int64_t>& offsets = index->step_offsets;
  std::vector<int64_t>& starts = index->episode_starts;
  const size_t num_indexed = offsets.size();
  // The scan starts at the first step of the last indexed episode: its end,
  // and any episode after it, may be missing from the index.
  size_t k = starts.empty() ? 0 : static_cast<size_t>(starts.back());
  if (k > num_indexed) k = num_indexed;
  const uint64_t scan_from =
      k < num_indexed ? static_cast<uint64_t>(offsets[k])
                      : (num_indexed == 0 ? 0 : static_cast<uint64_t>(offsets.back()) + 1);

  bool damage_before = false;
  riegeli::RecordReaderOptions options;
  options.recovery = [&](const riegeli::SkippedRegion& region) {
    result.skipped.push_back(region);
    damage_before = true;
    return true;
  };
  ASSIGN_OR_RETURN(std::unique_ptr<riegeli::RecordReader> reader,
                   riegeli::RecordReader::Open(steps_filepath, std::move(options), open));
  std::optional<StepType> previous;
  std::string_view record;
  // An index position beyond the file: nothing to scan (reads of such steps
  // report the error).
  if (!reader->SeekNumeric(scan_from)) return result;
  {
    while (reader->ReadRecord(&record)) {
      const int64_t position = static_cast<int64_t>(reader->LastPos().numeric());
      while (k < num_indexed && offsets[k] < position) ++k;  // Indexed but unreadable: kept as is.
      const bool indexed = k < num_indexed && offsets[k] == position;
      if (!indexed && k < num_indexed) continue;  // Between indexed steps: not a step of the index.
      const int64_t step = indexed ? static_cast<int64_t>(k) : static_cast<int64_t>(offsets.size());
      const std::optional<StepType> type = StepTypeOfRecord(record);
      if (StartsEpisode(type, previous, damage_before) &&
          (starts.empty() || step > starts.back())) {
        starts.push_back(step);
        index->episode_metadata_offsets.push_back(-1);
        ++result.recovered_episodes;
      }
      if (indexed) {
        ++k;
      } else {
        offsets.push_back(position);
        ++result.recovered_steps;
      }
      previous = type;
      damage_before = false;
    }
  }
  // A file that ends inside a chunk is what a killed writer leaves: not an
  // error, but its bytes are lost. Other failures (I/O) are errors.
  if (!reader->ok()) return reader->status();
  ASSIGN_OR_RETURN(const uint64_t size, reader->Size());
  const uint64_t end = reader->Pos().chunk_begin;
  if (end < size) result.torn_tail_bytes = size - end;
  return result;
}

}  // namespace envlogger
