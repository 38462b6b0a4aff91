#include "envlogger/backends/cc/int64_datum_codec.h"

#include <string>
#include <utility>

#include "envlogger/base/varint.h"

namespace envlogger {
namespace {

using envlogger::AppendVarint64;
using envlogger::InvalidArgumentError;
using envlogger::ReadVarint64;
using envlogger::Status;
using envlogger::StatusOr;

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void AppendTag(uint32_t field, WireType type, std::string* dest) {
  AppendVarint64((uint64_t{field} << 3) | type, dest);
}

void AppendLengthDelimited(uint32_t field, std::string_view payload, std::string* dest) {
  AppendTag(field, kLengthDelimited, dest);
  AppendVarint64(payload.size(), dest);
  dest->append(payload);
}

// Reads protobuf fields from a message body, tracking the absolute offset of
// the outer buffer for error messages.
class FieldReader {
 public:
  FieldReader(std::string_view body, size_t base_offset) : rest_(body), base_(base_offset), size_(body.size()) {}

  bool done() const { return rest_.empty(); }
  size_t offset() const { return base_ + (size_ - rest_.size()); }

  Status ReadTag(uint32_t* field, uint32_t* wire_type) {
    const size_t at = offset();
    last_tag_offset_ = at;
    uint64_t tag;
    if (!ReadVarint64(&rest_, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) {
      return Error("invalid field tag", at);
    }
    *field = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    return envlogger::OkStatus();
  }

  Status ReadVarint(uint64_t* value) {
    const size_t at = offset();
    if (!ReadVarint64(&rest_, value)) return Error("invalid varint", at);
    return envlogger::OkStatus();
  }

  // Reads a length-delimited payload; `*payload_offset` is its absolute start.
  Status ReadLengthDelimited(std::string_view* payload, size_t* payload_offset) {
    const size_t at = offset();
    uint64_t length;
    if (!ReadVarint64(&rest_, &length)) return Error("invalid length", at);
    if (length > rest_.size()) return Error("length-delimited field runs past the end", at);
    *payload_offset = offset();
    *payload = rest_.substr(0, length);
    rest_.remove_prefix(length);
    return envlogger::OkStatus();
  }

  Status Skip(uint32_t wire_type) {
    const size_t at = offset();
    switch (wire_type) {
      case kVarint: {
        uint64_t ignored;
        return ReadVarint(&ignored);
      }
      case kFixed64:
      case kFixed32: {
        const size_t n = wire_type == kFixed64 ? 8 : 4;
        if (rest_.size() < n) return Error("fixed-width field runs past the end", at);
        rest_.remove_prefix(n);
        return envlogger::OkStatus();
      }
      case kLengthDelimited: {
        std::string_view ignored;
        size_t ignored_offset;
        return ReadLengthDelimited(&ignored, &ignored_offset);
      }
      default:
        return Error("unsupported wire type " + std::to_string(wire_type), last_tag_offset_);
    }
  }

  static Status Error(const std::string& what, size_t at) {
    return InvalidArgumentError("Malformed envlogger.Datum: " + what + " at byte " + std::to_string(at));
  }

 private:
  std::string_view rest_;
  size_t base_;
  size_t size_;
  size_t last_tag_offset_ = 0;
};

Status DecodeShape(std::string_view body, size_t base, std::vector<int64_t>* shape) {
  FieldReader shape_reader(body, base);
  while (!shape_reader.done()) {
    uint32_t field = 0, wire_type = 0;
    RETURN_IF_ERROR(shape_reader.ReadTag(&field, &wire_type));
    if (field != 2 || wire_type != kLengthDelimited) {
      RETURN_IF_ERROR(shape_reader.Skip(wire_type));
      continue;
    }
    std::string_view dim_body;
    size_t dim_base;
    RETURN_IF_ERROR(shape_reader.ReadLengthDelimited(&dim_body, &dim_base));
    int64_t size = 0;
    FieldReader dim_reader(dim_body, dim_base);
    while (!dim_reader.done()) {
      uint32_t dim_field = 0, dim_wire_type = 0;
      RETURN_IF_ERROR(dim_reader.ReadTag(&dim_field, &dim_wire_type));
      if (dim_field == 1 && dim_wire_type == kVarint) {
        uint64_t raw = 0;
        RETURN_IF_ERROR(dim_reader.ReadVarint(&raw));
        size = static_cast<int64_t>(raw);
      } else {
        RETURN_IF_ERROR(dim_reader.Skip(dim_wire_type));
      }
    }
    shape->push_back(size);
  }
  return envlogger::OkStatus();
}

Status DecodeValues(std::string_view body, size_t base, Int64Datum* datum) {
  FieldReader reader(body, base);
  while (!reader.done()) {
    uint32_t field = 0, wire_type = 0;
    RETURN_IF_ERROR(reader.ReadTag(&field, &wire_type));
    if (field == 4 && wire_type == kLengthDelimited) {
      std::string_view packed;
      size_t packed_base;
      RETURN_IF_ERROR(reader.ReadLengthDelimited(&packed, &packed_base));
      FieldReader packed_reader(packed, packed_base);
      while (!packed_reader.done()) {
        uint64_t raw = 0;
        RETURN_IF_ERROR(packed_reader.ReadVarint(&raw));
        datum->values.push_back(static_cast<int64_t>(raw));
      }
    } else if (field == 4 && wire_type == kVarint) {
      uint64_t raw = 0;
      RETURN_IF_ERROR(reader.ReadVarint(&raw));
      datum->values.push_back(static_cast<int64_t>(raw));
    } else {
      datum->has_other_values = true;
      RETURN_IF_ERROR(reader.Skip(wire_type));
    }
  }
  return envlogger::OkStatus();
}

}  // namespace

std::string EncodeInt64Datum(const std::vector<int64_t>& shape, const std::vector<int64_t>& values) {
  std::string shape_body;
  for (const int64_t size : shape) {
    std::string dim_body;
    if (size != 0) {  // proto3 omits a scalar field holding its default.
      AppendTag(1, kVarint, &dim_body);
      AppendVarint64(static_cast<uint64_t>(size), &dim_body);
    }
    AppendLengthDelimited(2, dim_body, &shape_body);
  }
  std::string packed;
  for (const int64_t value : values) AppendVarint64(static_cast<uint64_t>(value), &packed);
  std::string values_body;
  if (!packed.empty()) AppendLengthDelimited(4, packed, &values_body);

  std::string datum;
  AppendLengthDelimited(1, shape_body, &datum);
  AppendLengthDelimited(2, values_body, &datum);
  return datum;
}

StatusOr<Int64Datum> DecodeInt64Datum(std::string_view serialized) {
  Int64Datum datum;
  FieldReader reader(serialized, 0);
  while (!reader.done()) {
    uint32_t field = 0, wire_type = 0;
    RETURN_IF_ERROR(reader.ReadTag(&field, &wire_type));
    if ((field == 1 || field == 2) && wire_type == kLengthDelimited) {
      std::string_view body;
      size_t base;
      RETURN_IF_ERROR(reader.ReadLengthDelimited(&body, &base));
      if (field == 1) {
        // A repeated occurrence of a message field merges into the first.
        RETURN_IF_ERROR(DecodeShape(body, base, &datum.shape));
      } else {
        RETURN_IF_ERROR(DecodeValues(body, base, &datum));
      }
    } else {
      RETURN_IF_ERROR(reader.Skip(wire_type));
    }
  }
  return datum;
}

}  // namespace envlogger
