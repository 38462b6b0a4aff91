// Columnar decoding of step records: the envlogger.Data wire bytes of many
// steps written straight into preallocated arrays, one array per leaf, with
// no intermediate value per step (the fast path of Reader.step_arrays and
// Reader.sample, envlogger/backends/step_stacking.py states the rules).
//
// A StepColumns is built from a plan: the tree that every record is expected
// to have (tuples, lists and dicts with str keys, leaves) and, per leaf, the
// element type, shape and the output row buffer. DecodeRow(record, row)
// walks one record along the plan and copies each leaf's values into row
// `row` of its buffer. It accepts exactly what the per-step codec decodes to
// the leaf's dtype and shape, so the arrays equal np.stack of the per-step
// values:
//   * a Datum with exactly one value field set, whose element type is the
//     leaf's (int64 leaves also take a scalar bigint of at most 8 bytes: a
//     Python int; step-type leaves take any integer field and a value in
//     [0, 2], which the per-step reader turns into a StepType);
//   * the Datum's shape equal to the leaf's ([] and the scalar mark for
//     0-d leaves) and as many values as the shape holds;
//   * an empty Data (None) at a leaf marks the row in the leaf's none mask
//     and leaves the row untouched (the caller fills it);
//   * containers of the plan's kind and length, dicts with exactly the
//     plan's str keys (and no non-str keys); a kNone plan node only takes
//     what decodes as None: an empty Data or a Datum without values.
// Anything else returns FAILED_PRECONDITION ("does not fit the plan":
// the caller then stacks per-step values, which raises the proper error or
// handles the case); malformed bytes return INVALID_ARGUMENT. After an error
// the row's content is unspecified.
//
// Records of a fixed-layout dataset usually differ only in their values.
// DecodeRow therefore keeps a few templates: the bytes of a fully parsed
// record and, per leaf, where its values lie and how they are decoded. A
// record of the same size whose bytes outside the value spans equal the
// template's has the same structure (every tag, length and shape byte is
// the same), so only its values are decoded and checked (varint counts and
// termination, step-type ranges, bigint sizes) with the template's rules;
// anything that fails falls back to the full parse, so results and errors are
// the same either way.
//
// Not thread-safe; one StepColumns per thread.

#ifndef ENVLOGGER_CONVERTERS_STEP_COLUMNS_H_
#define ENVLOGGER_CONVERTERS_STEP_COLUMNS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/converters/data_wire.h"

namespace envlogger {

enum class ColumnType {
  kFloat32,
  kFloat64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kBool
};

// Bytes per element of a ColumnType.
size_t ColumnTypeSize(ColumnType type);

struct ColumnLeaf {
  ColumnType type = ColumnType::kFloat64;
  std::vector<int64_t> shape;  // Per row; empty for a 0-d leaf.
  bool step_type = false;      // A StepType: any integer field, value in [0, 2], stored as int64.
  char* data = nullptr;        // Row r at data + r * row_bytes().
  uint8_t* none = nullptr;     // none[r] = 1 where row r is None.

  size_t num_elements() const;
  size_t row_bytes() const { return num_elements() * ColumnTypeSize(type); }
};

struct ColumnNode {
  enum class Kind { kNone, kLeaf, kList, kTuple, kDict };
  Kind kind = Kind::kNone;
  int leaf = -1;                     // kLeaf: index into the leaves.
  std::vector<ColumnNode> children;  // kList/kTuple: by position; kDict: by keys[i].
  std::vector<std::string> keys;     // kDict.
};

class StepColumns {
 public:
  StepColumns(ColumnNode root, std::vector<ColumnLeaf> leaves);

  // Decodes `record` into row `row` of every leaf (see the top comment).
  Status DecodeRow(std::string_view record, size_t row);

 private:
  // How one leaf's values are decoded from a span of a templated record.
  struct ValueOp {
    enum class Kind : uint8_t { kNone, kCopy, kSwap16, kVarint, kBigint, kStepByte };
    Kind kind = Kind::kNone;
    ColumnType decode = ColumnType::kInt64;  // kVarint: the field's type.
    uint32_t leaf = 0;
    uint32_t offset = 0;  // Span in the record.
    uint32_t size = 0;
    uint32_t count = 0;  // kVarint: values expected.
  };
  struct Template {
    std::string bytes;
    std::vector<ValueOp> ops;  // By offset, spans disjoint.
  };

  Status DecodeNode(const ColumnNode& node, const MessageParts& data, size_t row, int depth);
  Status DecodeLeaf(const ColumnLeaf& leaf, const MessageParts& datum, size_t row);
  // Notes how the current leaf was decoded (while recording a template).
  void Note(ValueOp::Kind kind, const ColumnLeaf& leaf, std::string_view span,
            ColumnType decode = ColumnType::kInt64, size_t count = 0);
  void NoteRuns(ValueOp::Kind kind, const ColumnLeaf& leaf, const DatumWire::Runs& runs,
                ColumnType decode = ColumnType::kInt64, size_t count = 0);
  // Decodes `record` with template `t`; false if it does not fit (nothing
  // the full parse would not redo).
  bool DecodeWithTemplate(const Template& t, std::string_view record, size_t row);

  ColumnNode root_;
  std::vector<ColumnLeaf> leaves_;
  const char* origin_ = nullptr;  // Start of the record being decoded, for error offsets.
  const char* record_end_ = nullptr;
  DatumWire datum_;
  std::vector<DictWire> dicts_;      // By depth, reused across rows.
  std::vector<int> seen_;            // Dict keys met, reused.
  std::vector<Template> templates_;  // Most recently used first.
  std::vector<ValueOp> recording_;
  bool templatable_ = false;  // Whether the record being parsed can become a template.
};

}  // namespace envlogger

#endif  // ENVLOGGER_CONVERTERS_STEP_COLUMNS_H_
