#include "envlogger/converters/data_wire.h"

#include <string>
#include <unordered_map>

namespace envlogger {

using envlogger::InvalidArgumentError;
using envlogger::OkStatus;
using envlogger::Status;

void WireWriter::BeginHinted() {
  const uint32_t ordinal = hints_->next_ordinal_++;
  const uint32_t width = ordinal < hints_->widths_.size() ? hints_->widths_[ordinal] : 1;
  dest_->append(width, '\0');
  hints_->open_.push_back({ordinal, width});
}

size_t WireWriter::PlaceLength(size_t token, size_t width, size_t length) {
  if (width == 1 && length < 0x80) {
    (*dest_)[token - 1] = static_cast<char>(length);
    return 1;
  }
  char buffer[envlogger::kMaxLengthVarint64];
  const size_t n = envlogger::EncodeVarint64(length, buffer);
  if (n > width) {
    dest_->insert(token, n - width, '\0');
  } else if (n < width) {
    dest_->erase(token - (width - n), width - n);
  }
  std::memcpy(&(*dest_)[token - width], buffer, n);
  return n;
}

void WireWriter::EndMessage(size_t token) {
  const size_t length = dest_->size() - token;
  if (hints_ == nullptr) {
    PlaceLength(token, 1, length);
    return;
  }
  const LengthHints::Open open = hints_->open_.back();
  hints_->open_.pop_back();
  const size_t width = PlaceLength(token, open.width, length);
  if (open.ordinal < LengthHints::kMaxHinted) {
    if (open.ordinal >= hints_->widths_.size()) hints_->widths_.resize(open.ordinal + 1, 1);
    hints_->widths_[open.ordinal] = static_cast<uint8_t>(width);
  }
}

void WireWriter::PackedFixed(uint32_t field, const void* little_endian, size_t count,
                             size_t width) {
  if (count == 0) return;
  Tag(field, wire::kLengthDelimited);
  Varint(count * width);
  dest_->append(static_cast<const char*>(little_endian), count * width);
}

std::string BigintBytesFromInt64(int64_t value) {
  const uint64_t magnitude =
      value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  int bit_length = 0;
  while (bit_length < 64 && (magnitude >> bit_length) != 0) ++bit_length;
  const int n = bit_length / 8 + 1;  // 1..9 bytes.
  std::string bytes(n, '\0');
  for (int i = 0; i < n; ++i) {
    const int shift = 8 * (n - 1 - i);
    bytes[i] = static_cast<char>(shift >= 64 ? (value < 0 ? 0xff : 0) : (value >> shift));
  }
  return bytes;
}

bool AppendUtf8FromUcs4(const uint32_t* code_points, size_t count, std::string* dest) {
  for (size_t i = 0; i < count; ++i) {
    const uint32_t c = code_points[i];
    if (c < 0x80) {
      dest->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      dest->push_back(static_cast<char>(0xc0 | (c >> 6)));
      dest->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      if (c >= 0xd800 && c <= 0xdfff) return false;
      dest->push_back(static_cast<char>(0xe0 | (c >> 12)));
      dest->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      dest->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c <= 0x10ffff) {
      dest->push_back(static_cast<char>(0xf0 | (c >> 18)));
      dest->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      dest->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      dest->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      return false;
    }
  }
  return true;
}

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    const uint8_t b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t c;
    if ((b & 0xe0) == 0xc0) {
      n = 1;
      c = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
      n = 2;
      c = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
      n = 3;
      c = b & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      c = (c << 6) | (p[i] & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (c < kMin[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

bool WireReader::Fail(const char* what, const char* where) {
  status_ = InvalidArgumentError(std::string("Malformed envlogger.Data wire bytes: ") + what +
                                 " at byte " + std::to_string(where - origin_));
  rest_ = {};
  return false;
}

bool WireReader::NextSlow(WireField* field) {
  while (!rest_.empty()) {
    const char* start = rest_.data();
    uint32_t tag;
    if (!envlogger::ReadVarint32(&rest_, &tag)) return Fail("bad field tag", start);
    const uint32_t number = tag >> 3;
    if (number == 0) return Fail("field number 0", start);
    field->number = number;
    field->offset = static_cast<size_t>(start - origin_);
    switch (tag & 7) {
      case wire::kVarint: {
        const char* value_start = rest_.data();
        if (!ReadWireVarint(&rest_, &field->varint)) return Fail("truncated varint", value_start);
        field->type = wire::kVarint;
        field->bytes = std::string_view(value_start, rest_.data() - value_start);
        return true;
      }
      case wire::kFixed64:
      case wire::kFixed32: {
        const size_t width = (tag & 7) == wire::kFixed64 ? 8 : 4;
        if (rest_.size() < width) return Fail("truncated fixed-width value", rest_.data());
        field->type = static_cast<wire::WireType>(tag & 7);
        field->bytes = rest_.substr(0, width);
        rest_.remove_prefix(width);
        return true;
      }
      case wire::kLengthDelimited: {
        const char* length_start = rest_.data();
        uint64_t length;
        if (!ReadWireVarint(&rest_, &length)) return Fail("truncated length", length_start);
        if (length > rest_.size()) return Fail("length-delimited field past the end", length_start);
        field->type = wire::kLengthDelimited;
        field->bytes = rest_.substr(0, length);
        rest_.remove_prefix(length);
        return true;
      }
      case wire::kStartGroup:
        if (!SkipGroup(number, start)) return false;
        continue;
      case wire::kEndGroup:
        return Fail("unmatched end-group tag", start);
      default:
        return Fail("invalid wire type", start);
    }
  }
  return false;
}

bool WireReader::SkipGroup(uint32_t number, const char* where) {
  // Groups only occur as unknown fields here; nest iteratively with a stack
  // of open group numbers so that deep nesting cannot overflow the C++ stack.
  std::vector<uint32_t> open = {number};
  while (!open.empty()) {
    if (rest_.empty()) return Fail("unterminated group", where);
    const char* start = rest_.data();
    uint32_t tag;
    if (!envlogger::ReadVarint32(&rest_, &tag)) return Fail("bad field tag", start);
    const uint32_t n = tag >> 3;
    if (n == 0) return Fail("field number 0", start);
    uint64_t ignored;
    switch (tag & 7) {
      case wire::kVarint:
        if (!ReadWireVarint(&rest_, &ignored)) return Fail("truncated varint", start);
        break;
      case wire::kFixed64:
      case wire::kFixed32: {
        const size_t width = (tag & 7) == wire::kFixed64 ? 8 : 4;
        if (rest_.size() < width) return Fail("truncated fixed-width value", start);
        rest_.remove_prefix(width);
        break;
      }
      case wire::kLengthDelimited:
        if (!ReadWireVarint(&rest_, &ignored) || ignored > rest_.size()) {
          return Fail("bad length-delimited field", start);
        }
        rest_.remove_prefix(ignored);
        break;
      case wire::kStartGroup:
        open.push_back(n);
        break;
      case wire::kEndGroup:
        if (open.back() != n) return Fail("mismatched end-group tag", start);
        open.pop_back();
        break;
      default:
        return Fail("invalid wire type", start);
    }
  }
  return true;
}

namespace {

Status CheckDiscarded(DataKind kind, const MessageParts& payload, const char* origin, int depth);

// Checks that `data` (Data wire bytes) parses, all the way down.
Status CheckData(const MessageParts& data, const char* origin, int depth) {
  DataWire parsed;
  RETURN_IF_ERROR(ParseData(data, origin, &parsed));
  return CheckDiscarded(parsed.kind, parsed.payload, origin, depth + 1);
}

// Checks a oneof member that a later member of `Data.value` replaces: it is
// never decoded, but protobuf parses it, so malformed bytes in it make the
// whole message malformed.
Status CheckDiscarded(DataKind kind, const MessageParts& payload, const char* origin, int depth) {
  if (depth > wire::kMaxDataDepth) {
    return InvalidArgumentError("Malformed envlogger.Data wire bytes: nested deeper than " +
                                std::to_string(wire::kMaxDataDepth) + " levels");
  }
  switch (kind) {
    case DataKind::kNone:
      return OkStatus();
    case DataKind::kDatum: {
      DatumWire datum;
      return ParseDatum(payload, origin, &datum);
    }
    case DataKind::kArray:
    case DataKind::kTuple:
      return ForEachElement(payload, origin, [&](std::string_view element) {
        return CheckData(MessageParts(element), origin, depth);
      });
    case DataKind::kDict: {
      DictWire dict;
      RETURN_IF_ERROR(ParseDict(payload, origin, &dict));
      for (const DictWire::Entry& entry : dict.entries)
        RETURN_IF_ERROR(CheckData(entry.value, origin, depth));
      for (const MessageParts& value : dict.replaced)
        RETURN_IF_ERROR(CheckData(value, origin, depth));
      return CheckDiscarded(DataKind::kArray, dict.kvs, origin, depth + 1);
    }
  }
  return OkStatus();
}

}  // namespace

Status CheckDataParses(const MessageParts& data, const char* origin, int depth) {
  return CheckData(data, origin, depth);
}

Status ParseData(const MessageParts& data, const char* origin, DataWire* out) {
  out->kind = DataKind::kNone;
  out->payload.Clear();
  for (size_t i = 0; i < data.size(); ++i) {
    WireReader reader(data[i], origin);
    WireField field;
    while (reader.Next(&field)) {
      if (field.type != wire::kLengthDelimited || field.number < wire::kDataDatum ||
          field.number > wire::kDataDict) {
        continue;
      }
      const auto kind = static_cast<DataKind>(field.number);  // Enumerators follow field numbers.
      if (kind != out->kind) {
        RETURN_IF_ERROR(CheckDiscarded(out->kind, out->payload, origin, 0));
        out->kind = kind;
        out->payload.Clear();
      }
      out->payload.Add(field.bytes);
    }
    RETURN_IF_ERROR(reader.status());
  }
  return OkStatus();
}

static_assert(static_cast<int>(DataKind::kDatum) == wire::kDataDatum &&
                  static_cast<int>(DataKind::kArray) == wire::kDataArray &&
                  static_cast<int>(DataKind::kTuple) == wire::kDataTuple &&
                  static_cast<int>(DataKind::kDict) == wire::kDataDict,
              "DataKind enumerators must equal the Data.value field numbers");

namespace {

Status InvalidUtf8(size_t offset) {
  return InvalidArgumentError(
      "Malformed envlogger.Data wire bytes: string field with invalid UTF-8 at byte " +
      std::to_string(offset));
}

Status ParseMapEntry(std::string_view entry, const char* origin, DictWire::Entry* out) {
  WireReader reader(entry, origin);
  WireField field;
  while (reader.Next(&field)) {
    if (field.type != wire::kLengthDelimited) continue;
    if (field.number == wire::kMapEntryKey) {
      if (!IsValidUtf8(field.bytes)) return InvalidUtf8(field.offset);
      out->key = field.bytes;
    } else if (field.number == wire::kMapEntryValue) {
      out->value.Add(field.bytes);
    }
  }
  if (!reader.status().ok()) return reader.status();
  return OkStatus();
}

// Adds one numeric field occurrence to `runs`: a packed payload (validated) or
// a single unpacked element of the field's own wire type. Other wire types are
// unknown fields and ignored.
Status AddNumeric(const WireField& field, wire::WireType element_type, const char* origin,
                  DatumWire::Runs* runs) {
  if (field.type == element_type) {
    runs->push_back(field.bytes);
    return OkStatus();
  }
  if (field.type != wire::kLengthDelimited) return OkStatus();
  std::string_view payload = field.bytes;
  if (element_type == wire::kVarint) {
    while (!payload.empty()) {
      uint64_t ignored;
      if (!ReadWireVarint(&payload, &ignored)) {
        return InvalidArgumentError(
            "Malformed envlogger.Data wire bytes: truncated packed varint at byte " +
            std::to_string(payload.data() - origin));
      }
    }
  } else {
    const size_t width = element_type == wire::kFixed64 ? 8 : 4;
    if (field.bytes.size() % width != 0) {
      return InvalidArgumentError(
          "Malformed envlogger.Data wire bytes: packed fixed-width field of " +
          std::to_string(field.bytes.size()) + " bytes at byte " + std::to_string(field.offset));
    }
  }
  if (!field.bytes.empty()) runs->push_back(field.bytes);
  return OkStatus();
}

Status ParseShape(std::string_view shape, const char* origin, std::vector<int64_t>* dims) {
  WireReader reader(shape, origin);
  WireField field;
  while (reader.Next(&field)) {
    if (field.number != wire::kShapeDim || field.type != wire::kLengthDelimited) continue;
    int64_t size = 0;
    WireReader dim_reader(field.bytes, origin);
    WireField dim_field;
    while (dim_reader.Next(&dim_field)) {
      if (dim_field.number == wire::kDimSize && dim_field.type == wire::kVarint) {
        size = static_cast<int64_t>(dim_field.varint);
      }
    }
    RETURN_IF_ERROR(dim_reader.status());
    dims->push_back(size);
  }
  if (!reader.status().ok()) return reader.status();
  return OkStatus();
}

Status ParseValues(std::string_view values, const char* origin, DatumWire* out) {
  WireReader reader(values, origin);
  WireField field;
  while (reader.Next(&field)) {
    switch (field.number) {
      case wire::kFloatValues:
        RETURN_IF_ERROR(AddNumeric(field, wire::kFixed32, origin, &out->float_values));
        break;
      case wire::kDoubleValues:
        RETURN_IF_ERROR(AddNumeric(field, wire::kFixed64, origin, &out->double_values));
        break;
      case wire::kInt32Values:
        RETURN_IF_ERROR(AddNumeric(field, wire::kVarint, origin, &out->int32_values));
        break;
      case wire::kInt64Values:
        RETURN_IF_ERROR(AddNumeric(field, wire::kVarint, origin, &out->int64_values));
        break;
      case wire::kUint32Values:
        RETURN_IF_ERROR(AddNumeric(field, wire::kVarint, origin, &out->uint32_values));
        break;
      case wire::kUint64Values:
        RETURN_IF_ERROR(AddNumeric(field, wire::kVarint, origin, &out->uint64_values));
        break;
      case wire::kBoolValues:
        RETURN_IF_ERROR(AddNumeric(field, wire::kVarint, origin, &out->bool_values));
        break;
      default:
        if (field.type != wire::kLengthDelimited) break;
        switch (field.number) {
          case wire::kStringValues:
            if (!IsValidUtf8(field.bytes)) return InvalidUtf8(field.offset);
            out->string_values.push_back(field.bytes);
            break;
          case wire::kBytesValues:
            out->bytes_values.push_back(field.bytes);
            break;
          case wire::kBigintValues:
            out->bigint_values.push_back(field.bytes);
            break;
          case wire::kInt8Values:
            out->int8_values = field.bytes;
            break;
          case wire::kInt16Values:
            out->int16_values = field.bytes;
            break;
          case wire::kUint8Values:
            out->uint8_values = field.bytes;
            break;
          case wire::kUint16Values:
            out->uint16_values = field.bytes;
            break;
          case wire::kFloatValuesBuffer:
            out->float_values_buffer = field.bytes;
            break;
          default:
            break;
        }
    }
  }
  if (!reader.status().ok()) return reader.status();
  return OkStatus();
}

}  // namespace

namespace {

// Protobuf map semantics: a later entry of a key replaces an earlier one. The
// key keeps its first position and takes the last value; the replaced values
// go to `replaced` (protobuf parses them, but never decodes them).
void KeepLastOfEachKey(std::vector<DictWire::Entry>* entries, std::vector<MessageParts>* replaced) {
  if (entries->size() < 2) return;
  std::unordered_map<std::string_view, size_t> first_of_key;
  size_t kept = 0;
  for (size_t i = 0; i < entries->size(); ++i) {
    DictWire::Entry& entry = (*entries)[i];
    const auto [it, inserted] = first_of_key.emplace(entry.key, kept);
    if (!inserted) {
      replaced->push_back(std::move((*entries)[it->second].value));
      (*entries)[it->second].value = std::move(entry.value);
    } else if (kept++ != i) {
      (*entries)[kept - 1] = std::move(entry);
    }
  }
  entries->resize(kept);
}

}  // namespace

Status ParseDict(const MessageParts& dict, const char* origin, DictWire* out) {
  out->entries.clear();
  out->replaced.clear();
  out->kvs.Clear();
  for (size_t i = 0; i < dict.size(); ++i) {
    WireReader reader(dict[i], origin);
    WireField field;
    while (reader.Next(&field)) {
      if (field.type != wire::kLengthDelimited) continue;
      if (field.number == wire::kDictValues) {
        out->entries.emplace_back();
        RETURN_IF_ERROR(ParseMapEntry(field.bytes, origin, &out->entries.back()));
      } else if (field.number == wire::kDictKvs) {
        out->kvs.Add(field.bytes);
      }
    }
    RETURN_IF_ERROR(reader.status());
  }
  KeepLastOfEachKey(&out->entries, &out->replaced);
  return OkStatus();
}

Status ParseDatum(const MessageParts& datum, const char* origin, DatumWire* out) {
  for (size_t i = 0; i < datum.size(); ++i) {
    WireReader reader(datum[i], origin);
    WireField field;
    while (reader.Next(&field)) {
      if (field.type != wire::kLengthDelimited) continue;
      if (field.number == wire::kDatumShape) {
        // Most Datums are scalars, whose shape always has these bytes.
        if (field.bytes == wire::kScalarShapePayload) {
          out->shape.push_back(wire::kScalarDimSize);
          continue;
        }
        RETURN_IF_ERROR(ParseShape(field.bytes, origin, &out->shape));
      } else if (field.number == wire::kDatumValues) {
        RETURN_IF_ERROR(ParseValues(field.bytes, origin, out));
      }
    }
    RETURN_IF_ERROR(reader.status());
  }
  return OkStatus();
}

size_t CountVarints(const DatumWire::Runs& runs) {
  size_t count = 0;
  for (std::string_view run : runs) {
    for (char c : run) count += static_cast<uint8_t>(c) < 0x80;
  }
  return count;
}

size_t CountFixed(const DatumWire::Runs& runs, size_t width) {
  size_t bytes = 0;
  for (std::string_view run : runs) bytes += run.size();
  return bytes / width;
}

}  // namespace envlogger
