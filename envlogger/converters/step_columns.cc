#include "envlogger/converters/step_columns.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace envlogger {

namespace {

Status Mismatch() {
  return FailedPreconditionError("The step does not fit the plan of the columns");
}

size_t TotalBytes(const DatumWire::Runs& runs) {
  size_t bytes = 0;
  for (std::string_view run : runs) bytes += run.size();
  return bytes;
}

// The deepest nesting of containers under `node` (0 for a leaf).
int Depth(const ColumnNode& node) {
  int depth = 0;
  for (const ColumnNode& child : node.children) depth = std::max(depth, Depth(child) + 1);
  return depth;
}

template <typename T>
void SwapInto(std::string_view big_endian, char* out) {
  const size_t n = big_endian.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) {
    T value;
    std::memcpy(&value, big_endian.data() + i * sizeof(T), sizeof(T));
    value = static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(value)));
    std::memcpy(out + i * sizeof(T), &value, sizeof(T));
  }
}

// How many value fields of `d` hold values, as the per-step codec counts them
// (none: the Datum decodes as None).
int ValueFieldsSet(const DatumWire& d) {
  return (TotalBytes(d.float_values) > 0) + (TotalBytes(d.double_values) > 0) +
         (TotalBytes(d.int32_values) > 0) + (TotalBytes(d.int64_values) > 0) +
         (TotalBytes(d.uint32_values) > 0) + (TotalBytes(d.uint64_values) > 0) +
         (TotalBytes(d.bool_values) > 0) + !d.float_values_buffer.empty() + !d.int8_values.empty() +
         !d.int16_values.empty() + !d.uint8_values.empty() + !d.uint16_values.empty() +
         !d.string_values.empty() + !d.bytes_values.empty() + !d.bigint_values.empty();
}

// A scalar bigint of at most 8 bytes (big-endian two's complement) as int64.
bool BigintToInt64(std::string_view bytes, int64_t* out) {
  if (bytes.size() > 8) return false;
  uint64_t value = bytes.empty() || static_cast<uint8_t>(bytes[0]) < 0x80 ? 0 : ~uint64_t{0};
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  *out = static_cast<int64_t>(value);
  return true;
}

constexpr size_t kMaxTemplates = 4;

// Reads the varints of `span` (which must hold exactly `count` well-formed
// ones) as protobuf reads a field of type `field`, into `out`: a row of that
// type, or for a step type one int64 in [0, 2].
bool DecodeVarintSpan(std::string_view span, ColumnType field, size_t count, bool step_type,
                      char* out) {
  size_t n = 0;
  while (!span.empty()) {
    uint64_t value = 0;
    if (!ReadVarint64(&span, &value) || ++n > count) return false;
    if (step_type) {
      const int64_t v = field == ColumnType::kInt32 ? static_cast<int32_t>(value)
                        : field == ColumnType::kUint32
                            ? static_cast<int64_t>(static_cast<uint32_t>(value))
                            : static_cast<int64_t>(value);
      if (v < 0 || v > 2) return false;
      std::memcpy(out, &v, sizeof(v));
      continue;
    }
    switch (field) {
      case ColumnType::kInt32: {
        const int32_t v = static_cast<int32_t>(value);
        std::memcpy(out, &v, sizeof(v));
        out += sizeof(v);
        break;
      }
      case ColumnType::kUint32: {
        const uint32_t v = static_cast<uint32_t>(value);
        std::memcpy(out, &v, sizeof(v));
        out += sizeof(v);
        break;
      }
      case ColumnType::kBool:
        *out++ = value != 0;
        break;
      default:  // int64, uint64
        std::memcpy(out, &value, sizeof(value));
        out += sizeof(value);
        break;
    }
  }
  return n == count;
}

}  // namespace

size_t ColumnTypeSize(ColumnType type) {
  switch (type) {
    case ColumnType::kInt8:
    case ColumnType::kUint8:
    case ColumnType::kBool:
      return 1;
    case ColumnType::kInt16:
    case ColumnType::kUint16:
      return 2;
    case ColumnType::kFloat32:
    case ColumnType::kInt32:
    case ColumnType::kUint32:
      return 4;
    case ColumnType::kFloat64:
    case ColumnType::kInt64:
    case ColumnType::kUint64:
      return 8;
  }
  return 0;
}

size_t ColumnLeaf::num_elements() const {
  size_t n = 1;
  for (int64_t dim : shape) n *= static_cast<size_t>(dim);
  return n;
}

StepColumns::StepColumns(ColumnNode root, std::vector<ColumnLeaf> leaves)
    : root_(std::move(root)), leaves_(std::move(leaves)) {
  dicts_.resize(static_cast<size_t>(Depth(root_)) + 1);
}

Status StepColumns::DecodeRow(std::string_view record, size_t row) {
  for (size_t i = 0; i < templates_.size(); ++i) {
    if (!DecodeWithTemplate(templates_[i], record, row)) continue;
    if (i != 0) std::swap(templates_[0], templates_[i]);
    return OkStatus();
  }
  origin_ = record.data();
  record_end_ = record.data() + record.size();
  recording_.clear();
  templatable_ = record.size() <= UINT32_MAX;
  const Status status = DecodeNode(root_, MessageParts(record), row, 0);
  if (status.ok() && templatable_) {
    std::sort(recording_.begin(), recording_.end(),
              [](const ValueOp& a, const ValueOp& b) { return a.offset < b.offset; });
    for (size_t i = 1; i < recording_.size(); ++i) {
      if (recording_[i].offset < recording_[i - 1].offset + recording_[i - 1].size) return status;
    }
    if (templates_.size() == kMaxTemplates) templates_.pop_back();
    templates_.insert(templates_.begin(), Template{std::string(record), recording_});
  }
  return status;
}

void StepColumns::Note(ValueOp::Kind kind, const ColumnLeaf& leaf, std::string_view span,
                       ColumnType decode, size_t count) {
  ValueOp op;
  op.kind = kind;
  op.decode = decode;
  op.leaf = static_cast<uint32_t>(&leaf - leaves_.data());
  op.count = static_cast<uint32_t>(count);
  if (kind != ValueOp::Kind::kNone) {
    if (span.data() < origin_ || span.data() + span.size() > record_end_) {
      templatable_ = false;
      return;
    }
    op.offset = static_cast<uint32_t>(span.data() - origin_);
    op.size = static_cast<uint32_t>(span.size());
  }
  recording_.push_back(op);
}

void StepColumns::NoteRuns(ValueOp::Kind kind, const ColumnLeaf& leaf, const DatumWire::Runs& runs,
                           ColumnType decode, size_t count) {
  if (runs.size() != 1) {
    templatable_ = false;  // Values split over several fields: no single span.
    return;
  }
  Note(kind, leaf, runs[0], decode, count);
}

bool StepColumns::DecodeWithTemplate(const Template& t, std::string_view record, size_t row) {
  if (record.size() != t.bytes.size()) return false;
  const char* in = record.data();
  const char* like = t.bytes.data();
  size_t pos = 0;
  for (const ValueOp& op : t.ops) {
    if (op.kind == ValueOp::Kind::kNone) continue;
    if (std::memcmp(in + pos, like + pos, op.offset - pos) != 0) return false;
    pos = op.offset + op.size;
  }
  if (std::memcmp(in + pos, like + pos, record.size() - pos) != 0) return false;
  // The structure is the template's: decode the values.
  for (size_t i = 0; i < t.ops.size(); ++i) {
    const ValueOp& op = t.ops[i];
    const ColumnLeaf& leaf = leaves_[op.leaf];
    char* out = leaf.data + row * leaf.row_bytes();
    std::string_view span(in + op.offset, op.size);
    bool ok = true;
    switch (op.kind) {
      case ValueOp::Kind::kNone:
        leaf.none[row] = 1;
        break;
      case ValueOp::Kind::kCopy:
        std::memcpy(out, span.data(), span.size());
        break;
      case ValueOp::Kind::kSwap16:
        SwapInto<uint16_t>(span, out);
        break;
      case ValueOp::Kind::kStepByte: {
        const int64_t value = static_cast<uint8_t>(span[0]);
        ok = value <= 2;
        if (ok) std::memcpy(out, &value, sizeof(value));
        break;
      }
      case ValueOp::Kind::kBigint: {
        int64_t value;
        ok = BigintToInt64(span, &value) && (!leaf.step_type || (value >= 0 && value <= 2));
        if (ok) std::memcpy(out, &value, sizeof(value));
        break;
      }
      case ValueOp::Kind::kVarint:
        ok = DecodeVarintSpan(span, op.decode, op.count, leaf.step_type, out);
        break;
    }
    if (!ok) {
      for (size_t j = 0; j < i; ++j) {
        if (t.ops[j].kind == ValueOp::Kind::kNone) leaves_[t.ops[j].leaf].none[row] = 0;
      }
      return false;
    }
  }
  return true;
}

Status StepColumns::DecodeNode(const ColumnNode& node, const MessageParts& data, size_t row,
                               int depth) {
  DataWire value;
  RETURN_IF_ERROR(ParseData(data, origin_, &value));
  switch (node.kind) {
    case ColumnNode::Kind::kNone:
      if (value.kind == DataKind::kNone) return OkStatus();
      if (value.kind != DataKind::kDatum) return Mismatch();
      // A Datum without values (an empty array) decodes as None too.
      datum_.Clear();
      RETURN_IF_ERROR(ParseDatum(value.payload, origin_, &datum_));
      return ValueFieldsSet(datum_) == 0 ? OkStatus() : Mismatch();
    case ColumnNode::Kind::kLeaf: {
      const ColumnLeaf& leaf = leaves_[static_cast<size_t>(node.leaf)];
      if (value.kind == DataKind::kNone) {
        leaf.none[row] = 1;
        Note(ValueOp::Kind::kNone, leaf, {});
        return OkStatus();
      }
      if (value.kind != DataKind::kDatum) return Mismatch();
      return DecodeLeaf(leaf, value.payload, row);
    }
    case ColumnNode::Kind::kList:
    case ColumnNode::Kind::kTuple: {
      const DataKind kind =
          node.kind == ColumnNode::Kind::kList ? DataKind::kArray : DataKind::kTuple;
      if (value.kind != kind) return Mismatch();
      size_t i = 0;
      RETURN_IF_ERROR(
          ForEachElement(value.payload, origin_, [&](std::string_view element) -> Status {
            if (i >= node.children.size()) return Mismatch();
            return DecodeNode(node.children[i++], MessageParts(element), row, depth + 1);
          }));
      return i == node.children.size() ? OkStatus() : Mismatch();
    }
    case ColumnNode::Kind::kDict: {
      if (value.kind != DataKind::kDict) return Mismatch();
      DictWire& dict = dicts_[static_cast<size_t>(depth)];
      RETURN_IF_ERROR(ParseDict(value.payload, origin_, &dict));
      size_t non_str_keys = 0;
      RETURN_IF_ERROR(ForEachElement(dict.kvs, origin_, [&](std::string_view) {
        ++non_str_keys;
        return OkStatus();
      }));
      if (non_str_keys != 0 || dict.entries.size() != node.keys.size()) return Mismatch();
      std::vector<bool> seen(node.keys.size(), false);
      for (const DictWire::Entry& entry : dict.entries) {
        const auto it = std::find(node.keys.begin(), node.keys.end(), entry.key);
        if (it == node.keys.end()) return Mismatch();
        const size_t j = static_cast<size_t>(it - node.keys.begin());
        if (seen[j]) return Mismatch();
        seen[j] = true;
        RETURN_IF_ERROR(DecodeNode(node.children[j], entry.value, row, depth + 1));
      }
      return OkStatus();
    }
  }
  return Mismatch();
}

Status StepColumns::DecodeLeaf(const ColumnLeaf& leaf, const MessageParts& parts, size_t row) {
  datum_.Clear();
  RETURN_IF_ERROR(ParseDatum(parts, origin_, &datum_));
  const DatumWire& d = datum_;
  // Which value fields hold values (as the per-step codec sees them).
  const bool has_float = TotalBytes(d.float_values) > 0,
             has_double = TotalBytes(d.double_values) > 0,
             has_int32 = TotalBytes(d.int32_values) > 0, has_int64 = TotalBytes(d.int64_values) > 0,
             has_uint32 = TotalBytes(d.uint32_values) > 0,
             has_uint64 = TotalBytes(d.uint64_values) > 0, has_bool = TotalBytes(d.bool_values) > 0;
  const bool has_bigint = !d.bigint_values.empty();
  const int set = ValueFieldsSet(d);
  if (set == 0) {
    leaf.none[row] = 1;  // A Datum without values decodes as None.
    Note(ValueOp::Kind::kNone, leaf, {});
    return OkStatus();
  }
  if (set != 1) return Mismatch();
  if (leaf.shape.empty() ? !(d.IsScalar() || d.shape.empty()) : d.shape != leaf.shape)
    return Mismatch();
  const size_t n = leaf.num_elements();
  char* out = leaf.data + row * leaf.row_bytes();

  if (leaf.step_type) {
    int64_t value = -1;
    if (has_bigint) {
      if (d.bigint_values.size() != 1 || !BigintToInt64(d.bigint_values[0], &value))
        return Mismatch();
      Note(ValueOp::Kind::kBigint, leaf, d.bigint_values[0]);
    } else if (has_int32 || has_int64 || has_uint32 || has_uint64) {
      const DatumWire::Runs& runs = has_int32    ? d.int32_values
                                    : has_int64  ? d.int64_values
                                    : has_uint32 ? d.uint32_values
                                                 : d.uint64_values;
      if (CountVarints(runs) != 1) return Mismatch();
      if (has_int32) {
        int32_t v;
        DecodeVarints(runs, &v);
        value = v;
      } else if (has_uint32) {
        uint32_t v;
        DecodeVarints(runs, &v);
        value = v;
      } else {
        DecodeVarints(runs, &value);
      }
      NoteRuns(ValueOp::Kind::kVarint, leaf, runs,
               has_int32    ? ColumnType::kInt32
               : has_uint32 ? ColumnType::kUint32
                            : ColumnType::kInt64,
               1);
    } else if (!d.int8_values.empty() || !d.uint8_values.empty()) {
      std::string_view bytes = d.int8_values.empty() ? d.uint8_values : d.int8_values;
      if (bytes.size() != 1) return Mismatch();
      value = static_cast<uint8_t>(bytes[0]);
      Note(ValueOp::Kind::kStepByte, leaf, bytes);
    } else {
      return Mismatch();
    }
    if (value < 0 || value > 2) return Mismatch();
    std::memcpy(out, &value, sizeof(value));
    return OkStatus();
  }

  switch (leaf.type) {
    case ColumnType::kFloat32:
      if (!has_float || CountFixed(d.float_values, 4) != n) return Mismatch();
      DecodeFixed(d.float_values, reinterpret_cast<float*>(out));
      NoteRuns(ValueOp::Kind::kCopy, leaf, d.float_values);
      return OkStatus();
    case ColumnType::kFloat64:
      if (!has_double || CountFixed(d.double_values, 8) != n) return Mismatch();
      DecodeFixed(d.double_values, reinterpret_cast<double*>(out));
      NoteRuns(ValueOp::Kind::kCopy, leaf, d.double_values);
      return OkStatus();
    case ColumnType::kInt32:
      if (!has_int32 || CountVarints(d.int32_values) != n) return Mismatch();
      DecodeVarints(d.int32_values, reinterpret_cast<int32_t*>(out));
      NoteRuns(ValueOp::Kind::kVarint, leaf, d.int32_values, ColumnType::kInt32, n);
      return OkStatus();
    case ColumnType::kInt64:
      if (has_bigint) {
        int64_t value;
        if (n != 1 || !d.IsScalar() || d.bigint_values.size() != 1 ||
            !BigintToInt64(d.bigint_values[0], &value)) {
          return Mismatch();
        }
        std::memcpy(out, &value, sizeof(value));
        Note(ValueOp::Kind::kBigint, leaf, d.bigint_values[0]);
        return OkStatus();
      }
      if (!has_int64 || CountVarints(d.int64_values) != n) return Mismatch();
      DecodeVarints(d.int64_values, reinterpret_cast<int64_t*>(out));
      NoteRuns(ValueOp::Kind::kVarint, leaf, d.int64_values, ColumnType::kInt64, n);
      return OkStatus();
    case ColumnType::kUint32:
      if (!has_uint32 || CountVarints(d.uint32_values) != n) return Mismatch();
      DecodeVarints(d.uint32_values, reinterpret_cast<uint32_t*>(out));
      NoteRuns(ValueOp::Kind::kVarint, leaf, d.uint32_values, ColumnType::kUint32, n);
      return OkStatus();
    case ColumnType::kUint64:
      if (!has_uint64 || CountVarints(d.uint64_values) != n) return Mismatch();
      DecodeVarints(d.uint64_values, reinterpret_cast<uint64_t*>(out));
      NoteRuns(ValueOp::Kind::kVarint, leaf, d.uint64_values, ColumnType::kUint64, n);
      return OkStatus();
    case ColumnType::kBool:
      if (!has_bool || CountVarints(d.bool_values) != n) return Mismatch();
      DecodeVarints(d.bool_values, reinterpret_cast<bool*>(out));
      NoteRuns(ValueOp::Kind::kVarint, leaf, d.bool_values, ColumnType::kBool, n);
      return OkStatus();
    case ColumnType::kInt8:
    case ColumnType::kUint8: {
      std::string_view bytes = leaf.type == ColumnType::kInt8 ? d.int8_values : d.uint8_values;
      if (bytes.size() != n) return Mismatch();
      std::memcpy(out, bytes.data(), n);
      Note(ValueOp::Kind::kCopy, leaf, bytes);
      return OkStatus();
    }
    case ColumnType::kInt16:
    case ColumnType::kUint16: {
      std::string_view bytes = leaf.type == ColumnType::kInt16 ? d.int16_values : d.uint16_values;
      if (bytes.size() != 2 * n) return Mismatch();
      SwapInto<uint16_t>(bytes, out);
      Note(ValueOp::Kind::kSwap16, leaf, bytes);
      return OkStatus();
    }
  }
  return Mismatch();
}

}  // namespace envlogger
