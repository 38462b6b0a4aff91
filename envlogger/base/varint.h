// Protobuf-style unsigned LEB128 varints and little-endian fixed-width
// integers, as used by every layer of the Riegeli/records format.
//
// Writers always produce the shortest encoding. Readers accept non-shortest
// encodings but reject a varint64 longer than 10 bytes or with value bits
// beyond bit 63, and a varint32 longer than 5 bytes or beyond bit 31.

#ifndef ENVLOGGER_BASE_VARINT_H_
#define ENVLOGGER_BASE_VARINT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace envlogger {

constexpr size_t kMaxLengthVarint32 = 5;
constexpr size_t kMaxLengthVarint64 = 10;

// Number of bytes the shortest varint encoding of `value` takes (1..10).
inline size_t LengthVarint64(uint64_t value) {
  size_t length = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++length;
  }
  return length;
}

// Writes the shortest encoding of `value` to `dest`; returns the byte count.
// `dest` must have room for kMaxLengthVarint64 bytes.
inline size_t EncodeVarint64(uint64_t value, char* dest) {
  size_t i = 0;
  while (value >= 0x80) {
    dest[i++] = static_cast<char>(static_cast<uint8_t>(value) | 0x80);
    value >>= 7;
  }
  dest[i++] = static_cast<char>(value);
  return i;
}

inline void AppendVarint64(uint64_t value, std::string* dest) {
  char buffer[kMaxLengthVarint64];
  dest->append(buffer, EncodeVarint64(value, buffer));
}

// Decodes a varint64 at the front of `*src` and removes it from `*src`.
// Returns false (leaving `*src` unchanged) if it is missing, truncated, too
// long or overflows 64 bits.
inline bool ReadVarint64(std::string_view* src, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxLengthVarint64 && i < src->size(); ++i) {
    const uint64_t byte = static_cast<uint8_t>((*src)[i]);
    if (i == kMaxLengthVarint64 - 1 && byte > 1) return false;
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      src->remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;
}

// As ReadVarint64, for a value that must fit in 32 bits (at most 5 bytes).
inline bool ReadVarint32(std::string_view* src, uint32_t* value) {
  uint32_t result = 0;
  for (size_t i = 0; i < kMaxLengthVarint32 && i < src->size(); ++i) {
    const uint32_t byte = static_cast<uint8_t>((*src)[i]);
    if (i == kMaxLengthVarint32 - 1 && byte > 0x0f) return false;
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      src->remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;
}

inline void EncodeFixed64(uint64_t value, char* dest) {
  for (int i = 0; i < 8; ++i) dest[i] = static_cast<char>(value >> (8 * i));
}

inline uint64_t DecodeFixed64(const char* src) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{static_cast<uint8_t>(src[i])} << (8 * i);
  return value;
}

inline void AppendFixed64(uint64_t value, std::string* dest) {
  char buffer[8];
  EncodeFixed64(value, buffer);
  dest->append(buffer, 8);
}

}  // namespace envlogger

#endif  // ENVLOGGER_BASE_VARINT_H_
