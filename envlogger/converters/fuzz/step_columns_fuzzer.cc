// libFuzzer target: the columnar step decoder (step_columns.h, behind
// Reader.step_arrays and Reader.sample), built by scripts/fuzz_build.sh.
//
// Input: two plan bytes, then step records, each a 2-byte little-endian
// length and that many bytes of envlogger.Data (the last one takes what is
// left). The plan is derived from the first record as the per-step typed
// decoder (typed_codec.h) sees it: containers become plan nodes, each Datum a
// leaf of its element type and shape, None a kNone node. The plan bytes may
// then change one leaf (byte 0 picks it): byte 1 below 0x20 sets its element
// type (low 4 bits, if a ColumnType) and whether it is a step-type leaf
// (0x10). Every record is then decoded into its own row.
//
// Contract checked: DecodeRow returns OK, INVALID_ARGUMENT (malformed bytes)
// or FAILED_PRECONDITION (does not fit the plan), and never crashes, reads or
// writes out of bounds, hits undefined behaviour, hangs or allocates what the
// input cannot justify; where it returns OK, every leaf's row holds what the
// typed decoder decodes from the same record (a None leaf is marked in the
// none mask and nowhere else), including rows decoded through a template of
// an earlier record.
// fuzz-options: -max_len=16384

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "envlogger/converters/step_columns.h"
#include "envlogger/converters/typed_codec.h"

namespace {

using envlogger::Array;
using envlogger::BasicType;
using envlogger::ColumnLeaf;
using envlogger::ColumnNode;
using envlogger::ColumnType;
using envlogger::DataKind;
using envlogger::DataView;
using envlogger::IsArray;
using envlogger::StatusCode;

constexpr size_t kMaxRecords = 32;
constexpr size_t kMaxLeaves = 64;
constexpr int kMaxPlanDepth = 16;
constexpr size_t kMaxRowBytes = 1 << 16;  // All leaves of one row together.

// The ColumnType of a typed element type; nullopt for str, bytes, bigint.
template <typename T>
std::optional<ColumnType> ColumnTypeOf() {
  if constexpr (std::is_same_v<T, float>) return ColumnType::kFloat32;
  if constexpr (std::is_same_v<T, double>) return ColumnType::kFloat64;
  if constexpr (std::is_same_v<T, int8_t>) return ColumnType::kInt8;
  if constexpr (std::is_same_v<T, int16_t>) return ColumnType::kInt16;
  if constexpr (std::is_same_v<T, int32_t>) return ColumnType::kInt32;
  if constexpr (std::is_same_v<T, int64_t>) return ColumnType::kInt64;
  if constexpr (std::is_same_v<T, uint8_t>) return ColumnType::kUint8;
  if constexpr (std::is_same_v<T, uint16_t>) return ColumnType::kUint16;
  if constexpr (std::is_same_v<T, uint32_t>) return ColumnType::kUint32;
  if constexpr (std::is_same_v<T, uint64_t>) return ColumnType::kUint64;
  if constexpr (std::is_same_v<T, bool>) return ColumnType::kBool;
  if constexpr (std::is_same_v<T, mpz_class>) return ColumnType::kInt64;  // A Python int.
  return std::nullopt;
}

// Builds the plan node of `view` (the first record), adding its leaves.
ColumnNode PlanOf(const DataView& view, int depth, std::vector<ColumnLeaf>* leaves) {
  ColumnNode node;
  if (depth > kMaxPlanDepth || leaves->size() >= kMaxLeaves) return node;  // kNone.
  switch (view.kind()) {
    case DataKind::kNone:
      return node;
    case DataKind::kDatum: {
      auto value = view.datum();
      if (!value.ok() || !value->has_value()) return node;
      ColumnLeaf leaf;
      bool representable = true;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            std::optional<ColumnType> type;
            if constexpr (IsArray<T>::value) {
              type = ColumnTypeOf<typename IsArray<T>::Element>();
              leaf.shape = v.shape;
              // A bigint array is not representable (only scalar Python ints).
              if (std::is_same_v<typename IsArray<T>::Element, mpz_class>) type.reset();
            } else {
              type = ColumnTypeOf<T>();
            }
            representable = type.has_value();
            if (type) leaf.type = *type;
          },
          **value);
      if (!representable) leaf.type = ColumnType::kFloat64;  // Records will not fit it.
      node.kind = ColumnNode::Kind::kLeaf;
      node.leaf = static_cast<int>(leaves->size());
      leaves->push_back(std::move(leaf));
      return node;
    }
    case DataKind::kArray:
    case DataKind::kTuple: {
      auto elements = view.elements();
      if (!elements.ok()) return node;
      node.kind =
          view.kind() == DataKind::kArray ? ColumnNode::Kind::kList : ColumnNode::Kind::kTuple;
      for (const DataView& element : *elements)
        node.children.push_back(PlanOf(element, depth + 1, leaves));
      return node;
    }
    case DataKind::kDict: {
      auto items = view.items();
      if (!items.ok()) return node;
      node.kind = ColumnNode::Kind::kDict;
      for (const auto& [key, value] : *items) {
        node.keys.push_back(key);
        node.children.push_back(PlanOf(value, depth + 1, leaves));
      }
      return node;
    }
  }
  return node;
}

// Bytes of one row of `leaf`, or nullopt if it exceeds `limit`.
std::optional<size_t> RowBytes(const ColumnLeaf& leaf, size_t limit) {
  size_t bytes = envlogger::ColumnTypeSize(leaf.type);
  for (int64_t dim : leaf.shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) return size_t{0};
  }
  for (int64_t dim : leaf.shape) {
    if (static_cast<uint64_t>(dim) > limit / bytes) return std::nullopt;
    bytes *= static_cast<size_t>(dim);
  }
  return bytes;
}

[[noreturn]] void Disagree() { std::abort(); }

// The typed decoder's elements of `value` as int64 (step types, bigints).
bool AsInt64(const BasicType& value, int64_t* out) {
  return std::visit(
      [&](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, mpz_class>) {
          if (!v.fits_slong_p()) return false;
          *out = v.get_si();
          return true;
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          *out = static_cast<int64_t>(v);
          return true;
        } else if constexpr (IsArray<T>::value) {
          using E = typename IsArray<T>::Element;
          if (v.values.size() != 1) return false;
          if constexpr (std::is_same_v<E, mpz_class>) {
            if (!v.values[0].fits_slong_p()) return false;
            *out = v.values[0].get_si();
            return true;
          } else if constexpr (std::is_integral_v<E> && !std::is_same_v<E, bool>) {
            *out = static_cast<int64_t>(v.values[0]);
            return true;
          }
        }
        return false;
      },
      value);
}

// Checks a leaf's row against the typed decoder's value of the same Datum.
void CheckLeaf(const ColumnLeaf& leaf, const BasicType& value, const char* row) {
  if (leaf.step_type || leaf.type == ColumnType::kInt64) {
    int64_t expected;
    if (std::holds_alternative<mpz_class>(value) || leaf.step_type) {
      if (!AsInt64(value, &expected)) Disagree();
      if (leaf.step_type && (expected < 0 || expected > 2)) Disagree();
      if (std::memcmp(row, &expected, sizeof(expected)) != 0) Disagree();
      return;
    }
  }
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (IsArray<T>::value) {
          using E = typename IsArray<T>::Element;
          if constexpr (std::is_arithmetic_v<E>) {
            if (ColumnTypeOf<E>() != leaf.type || v.shape != leaf.shape) Disagree();
            for (size_t i = 0; i < v.values.size(); ++i) {
              const E element = v.values[i];
              if (std::memcmp(row + i * sizeof(E), &element, sizeof(E)) != 0) Disagree();
            }
          } else {
            Disagree();
          }
        } else if constexpr (std::is_arithmetic_v<T>) {
          if (ColumnTypeOf<T>() != leaf.type || !leaf.shape.empty()) Disagree();
          if (std::memcmp(row, &v, sizeof(T)) != 0) Disagree();
        } else {
          Disagree();
        }
      },
      value);
}

// Checks that the row the columnar decoder filled equals what the typed
// decoder makes of the record.
void Check(const ColumnNode& node, const DataView& view, const std::vector<ColumnLeaf>& leaves,
           size_t row) {
  switch (node.kind) {
    case ColumnNode::Kind::kNone:
      if (view.kind() == DataKind::kNone) return;
      if (view.kind() != DataKind::kDatum) Disagree();
      {
        auto value = view.datum();
        if (!value.ok() || value->has_value()) Disagree();
      }
      return;
    case ColumnNode::Kind::kLeaf: {
      const ColumnLeaf& leaf = leaves[static_cast<size_t>(node.leaf)];
      std::optional<BasicType> value;
      if (view.kind() == DataKind::kDatum) {
        auto decoded = view.datum();
        if (!decoded.ok()) Disagree();
        value = std::move(decoded).value();
      } else if (view.kind() != DataKind::kNone) {
        Disagree();
      }
      if (leaf.none[row] != (value.has_value() ? 0 : 1)) Disagree();
      if (value) CheckLeaf(leaf, *value, leaf.data + row * leaf.row_bytes());
      return;
    }
    case ColumnNode::Kind::kList:
    case ColumnNode::Kind::kTuple: {
      const DataKind kind =
          node.kind == ColumnNode::Kind::kList ? DataKind::kArray : DataKind::kTuple;
      auto elements = view.elements();
      if (view.kind() != kind || !elements.ok() || elements->size() != node.children.size())
        Disagree();
      for (size_t i = 0; i < node.children.size(); ++i)
        Check(node.children[i], (*elements)[i], leaves, row);
      return;
    }
    case ColumnNode::Kind::kDict: {
      auto items = view.items();
      auto kvs = view.kvs();
      if (view.kind() != DataKind::kDict || !items.ok() || !kvs.ok() || !kvs->empty() ||
          items->size() != node.keys.size()) {
        Disagree();
      }
      for (const auto& [key, value] : *items) {
        size_t j = 0;
        while (j < node.keys.size() && node.keys[j] != key) ++j;
        if (j == node.keys.size()) Disagree();
        Check(node.children[j], value, leaves, row);
      }
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 2) return 0;
  const uint8_t pick = bytes[0], change = bytes[1];
  std::string_view rest(reinterpret_cast<const char*>(bytes) + 2, size - 2);
  std::vector<std::string_view> records;
  while (!rest.empty() && records.size() < kMaxRecords) {
    size_t length = static_cast<uint8_t>(rest[0]);
    if (rest.size() >= 2) length |= size_t{static_cast<uint8_t>(rest[1])} << 8;
    rest.remove_prefix(std::min<size_t>(2, rest.size()));
    length = std::min(length, rest.size());
    records.push_back(rest.substr(0, length));
    rest.remove_prefix(length);
  }
  if (records.empty()) return 0;

  auto first = DataView::Parse(records[0]);
  if (!first.ok()) return 0;
  std::vector<ColumnLeaf> leaves;
  ColumnNode root = PlanOf(*first, 0, &leaves);
  if (!leaves.empty() && change < 0x20) {
    ColumnLeaf& leaf = leaves[pick % leaves.size()];
    if ((change & 0x0f) <= static_cast<int>(ColumnType::kBool))
      leaf.type = static_cast<ColumnType>(change & 0x0f);
    if (change & 0x10) {
      leaf.step_type = true;
      leaf.type = ColumnType::kInt64;  // As the reader plans step types: 0-d int64.
      leaf.shape.clear();
    }
  }
  // The caller allocates the columns; plans whose rows are too big are not
  // what this target is about.
  size_t row_bytes = 0;
  for (const ColumnLeaf& leaf : leaves) {
    const auto bytes = RowBytes(leaf, kMaxRowBytes);
    if (!bytes || *bytes > kMaxRowBytes - row_bytes) return 0;
    row_bytes += *bytes;
  }
  const size_t rows = records.size();
  std::vector<std::vector<char>> data(leaves.size());
  std::vector<std::vector<uint8_t>> none(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    data[i].assign(rows * leaves[i].row_bytes(), '\0');
    none[i].assign(rows, 0);
    leaves[i].data = data[i].data();
    leaves[i].none = none[i].data();
  }
  const std::vector<ColumnLeaf> plan_leaves = leaves;  // Same buffers, for Check().
  const ColumnNode plan_root = root;
  envlogger::StepColumns columns(std::move(root), std::move(leaves));
  for (size_t row = 0; row < rows; ++row) {
    const envlogger::Status status = columns.DecodeRow(records[row], row);
    if (!status.ok()) {
      if (status.code() != StatusCode::kInvalidArgument &&
          status.code() != StatusCode::kFailedPrecondition) {
        std::abort();
      }
      continue;
    }
    auto view = DataView::Parse(records[row]);
    if (!view.ok()) Disagree();
    Check(plan_root, *view, plan_leaves, row);
  }
  return 0;
}
