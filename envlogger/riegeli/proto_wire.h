// Canonical protocol-buffer wire format, as the transposed-chunk encoder
// needs it (docs/format.md, "Transposed chunks").
//
// A record is stored field by field only if it would be reproduced exactly
// by re-emitting its fields, i.e. only if every varint in it (tags, varint
// values, lengths) has its shortest encoding. Anything else is stored as a
// non-proto record.

#ifndef ENVLOGGER_RIEGELI_PROTO_WIRE_H_
#define ENVLOGGER_RIEGELI_PROTO_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace envlogger {
namespace riegeli {

// Reads a shortest-form varint of at most 64 bits starting at data[*pos],
// advancing *pos past it. Returns its length in bytes (1..10), or 0 (leaving
// *pos unchanged) if it is truncated, not shortest, or exceeds 64 bits.
inline size_t ReadCanonicalVarint64(std::string_view data, size_t* pos, uint64_t* value) {
  const size_t start = *pos;
  uint64_t result = 0;
  for (size_t i = 0; i < 10 && start + i < data.size(); ++i) {
    const uint64_t byte = static_cast<uint8_t>(data[start + i]);
    if (i == 9 && byte > 1) return 0;
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      // A multi-byte varint whose last byte is 0 has a shorter form.
      if (i > 0 && byte == 0) return 0;
      *pos = start + i + 1;
      *value = result;
      return i + 1;
    }
  }
  return 0;
}

// As ReadCanonicalVarint64, for a value that must fit in 32 bits.
inline size_t ReadCanonicalVarint32(std::string_view data, size_t* pos, uint32_t* value) {
  size_t p = *pos;
  uint64_t v;
  const size_t length = ReadCanonicalVarint64(data, &p, &v);
  if (length == 0 || v > UINT32_MAX) return 0;
  *pos = p;
  *value = static_cast<uint32_t>(v);
  return length;
}

// True if `message` parses completely as a protocol buffer message in
// canonical form: shortest varints everywhere, 32-bit tags with field number
// != 0, wire types 0..5, fixed values and length-delimited payloads fully
// present, and start/end groups properly nested and closed. Payloads of
// length-delimited fields are not inspected. The empty string qualifies.
bool IsCanonicalProtoMessage(std::string_view message);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_PROTO_WIRE_H_
