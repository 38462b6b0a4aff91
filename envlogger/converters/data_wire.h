// Proto3 wire-format primitives for envlogger.Data and envlogger.Datum
// (envlogger/proto/storage.proto), without a protobuf runtime.
//
// Writing: WireWriter appends fields to a std::string in the exact byte form
// protobuf produces (shortest varints, packed repeated numerics, nested
// messages length-prefixed with their shortest varint length). Callers write
// fields in field-number order to reproduce protobuf's serialization.
//
// Reading: WireReader walks the fields of one serialized message and skips
// nothing silently except what protobuf itself skips (unknown fields,
// including groups). ParseData / ParseDatum / ForEachElement / ParseDict
// apply protobuf's parse semantics to storage.proto:
//   * a message field that occurs several times is the merge of all its
//     occurrences, which is the same as parsing the concatenation of their
//     payloads; such fields are therefore kept as a list of payload parts;
//   * for the `Data.value` oneof the last member seen wins (occurrences of the
//     same member merge);
//   * singular bytes fields are last-wins; repeated numerics may be packed or
//     not, in any number of runs; a field with a wire type that fits neither
//     form is an unknown field and is skipped.
// Malformed input yields an INVALID_ARGUMENT Status naming the problem and its
// byte offset from the start of the outermost message.

#ifndef ENVLOGGER_CONVERTERS_DATA_WIRE_H_
#define ENVLOGGER_CONVERTERS_DATA_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/base/varint.h"

// The decoders below copy little-endian wire values with memcpy.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "envlogger's codec assumes a little-endian host");

namespace envlogger {
namespace wire {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Field numbers of storage.proto.
constexpr uint32_t kDataDatum = 1;
constexpr uint32_t kDataArray = 2;
constexpr uint32_t kDataTuple = 3;
constexpr uint32_t kDataDict = 4;
constexpr uint32_t kListValues = 1;  // Data.Array.values and Data.Tuple.values.
constexpr uint32_t kDictValues = 1;  // map<string, Data>: entries key=1, value=2.
constexpr uint32_t kDictKvs = 2;     // Data.Array of Tuple{key, value}.
constexpr uint32_t kMapEntryKey = 1;
constexpr uint32_t kMapEntryValue = 2;
constexpr uint32_t kDatumShape = 1;
constexpr uint32_t kDatumValues = 2;
constexpr uint32_t kShapeDim = 2;
constexpr uint32_t kDimSize = 1;
constexpr uint32_t kFloatValues = 1;
constexpr uint32_t kDoubleValues = 2;
constexpr uint32_t kInt32Values = 3;
constexpr uint32_t kInt64Values = 4;
constexpr uint32_t kUint32Values = 5;
constexpr uint32_t kUint64Values = 6;
constexpr uint32_t kBoolValues = 7;
constexpr uint32_t kStringValues = 8;
constexpr uint32_t kBytesValues = 9;
constexpr uint32_t kBigintValues = 10;
constexpr uint32_t kInt8Values = 11;
constexpr uint32_t kInt16Values = 12;
constexpr uint32_t kUint8Values = 13;
constexpr uint32_t kUint16Values = 14;
constexpr uint32_t kFloatValuesBuffer = 15;

// The single dim size that marks a scalar Datum ("SCALAR").
constexpr int64_t kScalarDimSize = -438;

// The payload of a scalar Datum's shape field, as protobuf serializes
// Shape{dim {size: kScalarDimSize}}: dim (field 2, 11 bytes) holding size
// (field 1) as a 10-byte varint.
inline constexpr std::string_view kScalarShapePayload(
    "\x12\x0b\x08\xca\xfc\xff\xff\xff\xff\xff\xff\xff\x01", 13);

// Nesting limit of Data messages (list in list in ...) for readers and for
// encoders, so that hostile or cyclic input cannot exhaust the stack.
constexpr int kMaxDataDepth = 200;

}  // namespace wire

// What a WireWriter learned about the lengths of the nested messages it
// wrote, for the next value of the same shape: the width of each length
// varint, by the order in which the messages were begun. A writer that has
// hints reserves that many bytes for each length up front, so that a large
// payload (an image) is not moved once per enclosing message to widen a
// one-byte placeholder. A wrong hint (the value changed shape) costs a move of
// that message's payload, as a one-byte placeholder does; the bytes written
// are the same either way. Reused across values by one thread at a time (the
// dataset writer's Python binding keeps one per writer).
class LengthHints {
 public:
  LengthHints() = default;
  LengthHints(const LengthHints&) = delete;
  LengthHints& operator=(const LengthHints&) = delete;
  // Moving hands the hints over; the moved-from object has none.
  LengthHints(LengthHints&&) = default;
  LengthHints& operator=(LengthHints&&) = default;

 private:
  friend class WireWriter;
  // Messages after the first kMaxHinted of a value get no hint, so that a
  // value made of millions of messages does not leave as many bytes behind.
  static constexpr uint32_t kMaxHinted = 4096;
  struct Open {
    uint32_t ordinal;  // Order in which the message was begun.
    uint32_t width;    // Bytes reserved for its length.
  };
  std::vector<uint8_t> widths_;  // By ordinal, from the last value written.
  std::vector<Open> open_;       // Messages begun and not yet ended.
  uint32_t next_ordinal_ = 0;
};

// Appends protobuf wire format to a string it does not own.
class WireWriter {
 public:
  // With `hints`, nested message lengths are sized from (and recorded in)
  // them; the output is the same as without. `hints` must outlive the writer
  // and serve one writer at a time.
  explicit WireWriter(std::string* dest, LengthHints* hints = nullptr)
      : dest_(dest), hints_(hints) {
    if (hints_ != nullptr) {
      hints_->next_ordinal_ = 0;
      hints_->open_.clear();
    }
  }

  void Varint(uint64_t value) {
    // Tags and most lengths take one byte: no out-of-line append for those.
    if (value < 0x80) {
      dest_->push_back(static_cast<char>(value));
      return;
    }
    envlogger::AppendVarint64(value, dest_);
  }
  void Tag(uint32_t field, wire::WireType type) { Varint((uint64_t{field} << 3) | type); }

  // A length-delimited field with the given payload.
  void Bytes(uint32_t field, std::string_view payload) {
    Tag(field, wire::kLengthDelimited);
    Varint(payload.size());
    dest_->append(payload.data(), payload.size());
  }

  // Starts a nested message field; returns a token for EndMessage. Fields
  // appended in between form the message payload. Messages are ended in the
  // reverse order of their beginning.
  size_t BeginMessage(uint32_t field) {
    Tag(field, wire::kLengthDelimited);
    if (hints_ == nullptr) {
      dest_->push_back('\0');  // One-byte length placeholder, resized if needed.
    } else {
      BeginHinted();
    }
    return dest_->size();
  }
  // Writes the length of the message begun at `token`.
  void EndMessage(size_t token);

  // Packed repeated fixed-width field from little-endian element bytes
  // (`count` elements of `width` bytes). Nothing is written for count == 0.
  void PackedFixed(uint32_t field, const void* little_endian, size_t count, size_t width);

  // Packed repeated varint field; `values` are already widened to 64 bits the
  // way protobuf does (int32 sign-extended, uint32/bool zero-extended).
  // Nothing is written for count == 0.
  template <typename T, typename Widen>
  void PackedVarints(uint32_t field, const T* values, size_t count, Widen widen) {
    if (count == 0) return;
    size_t length = 0;
    for (size_t i = 0; i < count; ++i) length += envlogger::LengthVarint64(widen(values[i]));
    Tag(field, wire::kLengthDelimited);
    Varint(length);
    const size_t start = dest_->size();
    dest_->resize(start + length);
    char* out = &(*dest_)[start];
    for (size_t i = 0; i < count; ++i) out += envlogger::EncodeVarint64(widen(values[i]), out);
  }

 private:
  // BeginMessage's placeholder when there are hints: the hinted width.
  void BeginHinted();
  // Writes `length` as the varint of a placeholder of `width` bytes ending at
  // `token`, resizing the placeholder (moving the payload) if needed. Returns
  // the varint's width.
  size_t PlaceLength(size_t token, size_t width, size_t length);

  std::string* dest_;
  LengthHints* hints_;
};

// Signed Python-style integers as bigint_values bytes: big-endian two's
// complement with bit_length(|x| as Python defines it) / 8 + 1 bytes.
std::string BigintBytesFromInt64(int64_t value);

// Appends the UTF-8 encoding of UCS-4 code points; returns false (leaving
// `dest` partially written) on a surrogate or a value above U+10FFFF.
bool AppendUtf8FromUcs4(const uint32_t* code_points, size_t count, std::string* dest);

// True if `bytes` is valid UTF-8 as protobuf requires of proto3 strings.
bool IsValidUtf8(std::string_view bytes);

// Reads a varint field value as protobuf does: up to 10 bytes, bits beyond
// the 64th dropped (envlogger::ReadVarint64, for Riegeli's own varints, refuses
// them). Lengths are read the same way; tags with envlogger::ReadVarint32, as
// protobuf reads them (at most 5 bytes, at most 2^32 - 1).
inline bool ReadWireVarint(std::string_view* src, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < envlogger::kMaxLengthVarint64 && i < src->size(); ++i) {
    const uint64_t byte = static_cast<uint8_t>((*src)[i]);
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      src->remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;
}

// One field of a message being read.
struct WireField {
  uint32_t number = 0;
  wire::WireType type = wire::kVarint;
  uint64_t varint = 0;     // kVarint: the value.
  std::string_view bytes;  // kLengthDelimited: the payload; kFixed32/64: the raw bytes;
                           // kVarint: the raw varint bytes.
  size_t offset = 0;       // Offset of the field's tag in the outermost message.
};

// Iterates over the fields of one serialized message.
class WireReader {
 public:
  // `origin` is the start of the outermost message, for error offsets.
  WireReader(std::string_view message, const char* origin) : rest_(message), origin_(origin) {}

  // Reads the next field into `*field`. Returns false at the end of the
  // message or on malformed input; status() tells which. Groups (wire types 3
  // and 4) are skipped as a whole and never returned.
  bool Next(WireField* field);
  // Check ok() before copying: a copy of a Status copies its message, which
  // is measurable per field of a step.
  const envlogger::Status& status() const { return status_; }

 private:
  // Next() for any field: multi-byte tags, lengths and varints, fixed-width
  // values, groups, malformed input.
  bool NextSlow(WireField* field);
  bool Fail(const char* what, const char* where);
  bool SkipGroup(uint32_t number, const char* where);

  std::string_view rest_;
  const char* origin_;
  envlogger::Status status_;
};

// Inline for the fields that make up envlogger.Data messages: a one-byte tag
// (field numbers up to 15) of a varint or length-delimited field. Everything
// else, and every error, goes through NextSlow(), which gives the same
// result for these too.
inline bool WireReader::Next(WireField* field) {
  if (rest_.empty()) return false;
  const char* start = rest_.data();
  const auto tag = static_cast<uint8_t>(start[0]);
  const uint32_t type = tag & 7;
  if (tag >= 0x80 || (tag >> 3) == 0 || (type != wire::kVarint && type != wire::kLengthDelimited)) {
    return NextSlow(field);
  }
  std::string_view rest = rest_.substr(1);
  if (type == wire::kVarint) {
    if (!ReadWireVarint(&rest, &field->varint)) return NextSlow(field);
    field->bytes = std::string_view(start + 1, static_cast<size_t>(rest.data() - start - 1));
  } else {
    uint64_t value;
    if (!ReadWireVarint(&rest, &value) || value > rest.size()) return NextSlow(field);
    field->bytes = rest.substr(0, static_cast<size_t>(value));
    rest.remove_prefix(static_cast<size_t>(value));
  }
  field->number = tag >> 3;
  field->type = static_cast<wire::WireType>(type);
  field->offset = static_cast<size_t>(start - origin_);
  rest_ = rest;
  return true;
}

// A message given as the concatenation of payload parts (see top comment).
// Parts point into the caller's buffers. Usually there is exactly one.
class MessageParts {
 public:
  MessageParts() = default;
  explicit MessageParts(std::string_view only) : first_(only), count_(1) {}

  void Add(std::string_view part) {
    if (count_ == 0) {
      first_ = part;
    } else {
      more_.push_back(part);
    }
    ++count_;
  }
  void Clear() {
    count_ = 0;
    more_.clear();
  }
  size_t size() const { return count_; }
  std::string_view operator[](size_t i) const { return i == 0 ? first_ : more_[i - 1]; }

 private:
  std::string_view first_;
  std::vector<std::string_view> more_;
  size_t count_ = 0;
};

enum class DataKind { kNone, kDatum, kArray, kTuple, kDict };

// Which member of the Data.value oneof is set, and its (merged) payload.
struct DataWire {
  DataKind kind = DataKind::kNone;
  MessageParts payload;
};

envlogger::Status ParseData(const MessageParts& data, const char* origin, DataWire* out);

// Calls `visit(std::string_view element)` for each Data element of an Array
// or Tuple payload, in order; `visit` returns a Status and stops the walk on
// error.
template <typename Visit>
envlogger::Status ForEachElement(const MessageParts& list, const char* origin, Visit visit) {
  for (size_t i = 0; i < list.size(); ++i) {
    WireReader reader(list[i], origin);
    WireField field;
    while (reader.Next(&field)) {
      if (field.number == wire::kListValues && field.type == wire::kLengthDelimited) {
        RETURN_IF_ERROR(visit(field.bytes));
      }
    }
    if (!reader.status().ok()) return reader.status();
  }
  return envlogger::OkStatus();
}

// Entries of a Data.Dict, in wire order.
struct DictWire {
  struct Entry {
    std::string_view key;  // Validated UTF-8; "" if absent.
    MessageParts value;    // Data; no parts if absent.
  };
  std::vector<Entry> entries;          // One per key: a later entry of a key replaces the earlier.
  std::vector<MessageParts> replaced;  // Replaced values: never decoded, but must parse.
  MessageParts kvs;                    // Data.Array payload of Data{tuple{key, value}} elements.
};

envlogger::Status ParseDict(const MessageParts& dict, const char* origin, DictWire* out);

// Checks that `data` (Data wire bytes) parses all the way down, as protobuf
// parses values it then discards (`depth`: levels above, for kMaxDataDepth).
envlogger::Status CheckDataParses(const MessageParts& data, const char* origin, int depth);

// Datum fields. Repeated numerics are runs of raw element bytes: varints back
// to back, or little-endian fixed-width values; packed and unpacked
// occurrences both become runs. Bytes fields are last-wins ("" = unset).
struct DatumWire {
  using Runs = std::vector<std::string_view>;
  std::vector<int64_t> shape;
  Runs float_values, double_values, int32_values, int64_values, uint32_values, uint64_values,
      bool_values;
  std::vector<std::string_view> string_values, bytes_values, bigint_values;
  std::string_view float_values_buffer, int8_values, int16_values, uint8_values, uint16_values;

  bool IsScalar() const { return shape.size() == 1 && shape[0] == wire::kScalarDimSize; }

  // Back to the freshly constructed state, keeping the vectors' capacity so
  // that a DatumWire reused across Datums allocates nothing in the steady
  // state.
  void Clear() {
    shape.clear();
    for (Runs* runs :
         {&float_values, &double_values, &int32_values, &int64_values, &uint32_values,
          &uint64_values, &bool_values, &string_values, &bytes_values, &bigint_values}) {
      runs->clear();
    }
    float_values_buffer = int8_values = int16_values = uint8_values = uint16_values =
        std::string_view();
  }
};

// Parses (merges) every part of a Datum into `*out`.
envlogger::Status ParseDatum(const MessageParts& datum, const char* origin, DatumWire* out);

// Number of elements in varint runs / fixed-width runs.
size_t CountVarints(const DatumWire::Runs& runs);
size_t CountFixed(const DatumWire::Runs& runs, size_t width);

// Decodes varint runs into `out` (CountVarints elements), truncating each
// 64-bit value to T as protobuf does for int32/uint32; bool maps non-zero to
// true.
template <typename T>
void DecodeVarints(const DatumWire::Runs& runs, T* out) {
  for (std::string_view run : runs) {
    while (!run.empty()) {
      uint64_t value = 0;
      ReadWireVarint(&run, &value);  // Runs were validated by ParseDatum.
      if constexpr (std::is_same_v<T, bool>) {
        *out++ = value != 0;
      } else {
        *out++ = static_cast<T>(value);
      }
    }
  }
}

// Decodes little-endian fixed-width runs into `out` (CountFixed elements).
template <typename T>
void DecodeFixed(const DatumWire::Runs& runs, T* out) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "fixed32 or fixed64");
  for (std::string_view run : runs) {
    const size_t n = run.size() / sizeof(T);
    std::memcpy(out, run.data(), n * sizeof(T));
    out += n;
  }
}

}  // namespace envlogger

#endif  // ENVLOGGER_CONVERTERS_DATA_WIRE_H_
