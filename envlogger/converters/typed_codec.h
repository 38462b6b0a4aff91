// Typed C++ access to envlogger.Data / envlogger.Datum wire bytes, for C++
// users of envlogger datasets (no protobuf runtime; Python ints as GMP
// integers). Not part of the Python extension (setup.py leaves it out, since
// it needs libgmp/libgmpxx).
//
// DecodeDatum turns a serialized Datum into a scalar or an N-d array:
//   * the value comes from the first non-empty field in the order of
//     upstream's C++ decoder: float_values_buffer, float, double, int32,
//     int64, uint32, uint64, bool, string, bytes, bigint, int8, int16, uint8,
//     uint16 (an encoder writes exactly one of them);
//   * a Datum whose shape is the single dim -438 is a scalar; otherwise the
//     values form an Array with the Datum's shape (row-major), which must
//     hold exactly as many elements as the values;
//   * bigint_values (big-endian two's complement) become mpz_class, correct
//     for every negative value (upstream's C++ codec mishandles magnitudes
//     with a multiple-of-8 bit length, e.g. -129, -32768, -2**63);
//   * a Datum without values decodes to std::nullopt.
//
// DataView is a non-owning view of serialized Data: the bytes it was made
// from must outlive it and every view obtained from it. Accessors return a
// Status (never abort) when the Data is of another kind, an index or key is
// missing, or the bytes are malformed.

#ifndef ENVLOGGER_CONVERTERS_TYPED_CODEC_H_
#define ENVLOGGER_CONVERTERS_TYPED_CODEC_H_

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/converters/data_wire.h"

namespace envlogger {

// A bytes_values element (distinct from std::string, which is a string_values
// element, i.e. UTF-8 text).
struct Bytes {
  std::string value;
  bool operator==(const Bytes& other) const { return value == other.value; }
};

// A row-major N-d array. shape is empty for a 0-d array.
template <typename T>
struct Array {
  std::vector<int64_t> shape;
  std::vector<T> values;
  bool operator==(const Array& other) const {
    return shape == other.shape && values == other.values;
  }
};

// IsArray<T>::value: whether T is an Array; IsArray<Array<E>>::Element is E.
template <typename T>
struct IsArray : std::false_type {};
template <typename T>
struct IsArray<Array<T>> : std::true_type {
  using Element = T;
};

using BasicType =
    std::variant<float, double, int32_t, int64_t, uint32_t, uint64_t, bool, std::string, Bytes,
                 mpz_class, int8_t, int16_t, uint8_t, uint16_t, Array<float>, Array<double>,
                 Array<int32_t>, Array<int64_t>, Array<uint32_t>, Array<uint64_t>, Array<bool>,
                 Array<std::string>, Array<Bytes>, Array<mpz_class>, Array<int8_t>, Array<int16_t>,
                 Array<uint8_t>, Array<uint16_t>>;

// bigint_values bytes <-> integers: big-endian two's complement of
// bit_length(|x|) / 8 + 1 bytes (Python's int.to_bytes as envlogger uses it).
// Empty bytes decode to 0.
mpz_class MpzFromBigintBytes(std::string_view bytes);
std::string BigintBytesFromMpz(const mpz_class& value);

// Decodes a serialized Datum (see top comment).
envlogger::StatusOr<std::optional<BasicType>> DecodeDatum(std::string_view datum);

class DataView {
 public:
  // A view of serialized Data; fails if its top level is malformed.
  static envlogger::StatusOr<DataView> Parse(std::string_view data);

  DataKind kind() const { return wire_.kind; }

  // Array/tuple: number of elements; dict: number of map entries plus kvs
  // entries (as written); otherwise 0.
  envlogger::StatusOr<size_t> size() const;

  // Array/tuple: the element at `index` (0-based). Dict: the value of the kvs
  // entry whose key is an integer (any integer Datum, incl. bigint) equal to
  // `index`.
  envlogger::StatusOr<DataView> operator[](int64_t index) const;
  // Dict: the value of the string-keyed entry `key` (the last one written).
  envlogger::StatusOr<DataView> operator[](const std::string& key) const;

  // Array/tuple elements in order.
  envlogger::StatusOr<std::vector<DataView>> elements() const;
  // Dict: the string-keyed entries, in wire order.
  envlogger::StatusOr<std::vector<std::pair<std::string, DataView>>> items() const;
  // Dict: the (key, value) entries with non-string keys, in wire order.
  envlogger::StatusOr<std::vector<std::pair<DataView, DataView>>> kvs() const;

  // Datum: the decoded value (nullopt for a Datum without values). Fails for
  // other kinds.
  envlogger::StatusOr<std::optional<BasicType>> datum() const;

 private:
  DataView(MessageParts data, const char* origin) : origin_(origin) { data_ = std::move(data); }
  envlogger::Status Init() { return ParseData(data_, origin_, &wire_); }
  static envlogger::StatusOr<DataView> Make(MessageParts data, const char* origin);
  envlogger::Status RequireKind(bool ok, const char* what) const;

  MessageParts data_;
  const char* origin_;
  DataWire wire_;
};

}  // namespace envlogger

#endif  // ENVLOGGER_CONVERTERS_TYPED_CODEC_H_
