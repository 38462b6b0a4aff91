// libFuzzer target: the C++ decoders of envlogger.Data wire bytes (built by
// scripts/fuzz_build.sh): the typed decoder (typed_codec.h: DataView and
// DecodeDatum, walked recursively), the int64 Datum decoder of the shard
// index (int64_datum_codec.h) and the step-type probe of index recovery
// (StepTypeOfRecord).
//
// Contract checked: malformed bytes give an error Status (or nullopt), never
// a crash, out-of-bounds access, undefined behaviour, hang or an allocation
// the input cannot justify (a shape claiming 2**62 elements is refused, not
// allocated); a decoded Array holds as many values as its shape says; a
// decoded int64 Datum re-encodes to bytes that decode to the same arrays.
// fuzz-options: -max_len=16384

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "envlogger/backends/cc/int64_datum_codec.h"
#include "envlogger/backends/cc/shard_index_recovery.h"
#include "envlogger/converters/typed_codec.h"

namespace {

using envlogger::BasicType;
using envlogger::DataKind;
using envlogger::DataView;
using envlogger::IsArray;

void CheckValue(const BasicType& value) {
  std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (IsArray<T>::value) {
          uint64_t elements = 1;
          for (int64_t dim : v.shape) {
            if (dim < 0) std::abort();
            elements *= static_cast<uint64_t>(dim);
          }
          if (elements != v.values.size()) std::abort();
        }
      },
      value);
}

void Walk(const DataView& view, int depth) {
  if (depth > 64) return;
  switch (view.kind()) {
    case DataKind::kNone:
      break;
    case DataKind::kDatum: {
      auto value = view.datum();
      if (value.ok() && value->has_value()) CheckValue(**value);
      break;
    }
    case DataKind::kArray:
    case DataKind::kTuple: {
      auto size = view.size();
      auto elements = view.elements();
      if (elements.ok()) {
        if (size.ok() && *size != elements->size()) std::abort();
        for (const DataView& element : *elements) Walk(element, depth + 1);
        if (!elements->empty()) view[0].status().IgnoreError();
      }
      break;
    }
    case DataKind::kDict: {
      auto items = view.items();
      if (items.ok()) {
        for (const auto& [key, value] : *items) {
          Walk(value, depth + 1);
          view[key].status().IgnoreError();
        }
      }
      auto kvs = view.kvs();
      if (kvs.ok()) {
        for (const auto& [key, value] : *kvs) {
          Walk(key, depth + 1);
          Walk(value, depth + 1);
        }
      }
      view[int64_t{0}].status().IgnoreError();
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  auto view = DataView::Parse(input);
  if (view.ok()) Walk(*view, 0);
  auto datum = envlogger::DecodeDatum(input);
  if (datum.ok() && datum->has_value()) CheckValue(**datum);
  auto int64_datum = envlogger::DecodeInt64Datum(input);
  if (int64_datum.ok()) {
    // What it decoded re-encodes to bytes that decode to the same arrays.
    auto again = envlogger::DecodeInt64Datum(
        envlogger::EncodeInt64Datum(int64_datum->shape, int64_datum->values));
    if (!again.ok() || again->shape != int64_datum->shape || again->values != int64_datum->values)
      std::abort();
  }
  envlogger::StepTypeOfRecord(input);
  return 0;
}
