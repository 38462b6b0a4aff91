#include "envlogger/converters/typed_codec.h"

#include <cstring>
#include <string>

namespace envlogger {

using envlogger::FailedPreconditionError;
using envlogger::InvalidArgumentError;
using envlogger::NotFoundError;
using envlogger::OkStatus;
using envlogger::OutOfRangeError;
using envlogger::Status;
using envlogger::StatusOr;

mpz_class MpzFromBigintBytes(std::string_view bytes) {
  mpz_class value;
  if (bytes.empty()) return value;
  mpz_import(value.get_mpz_t(), bytes.size(), /*order=*/1, /*size=*/1, /*endian=*/1, /*nails=*/0,
             bytes.data());
  if (static_cast<uint8_t>(bytes[0]) & 0x80) {
    mpz_class modulus;
    mpz_ui_pow_ui(modulus.get_mpz_t(), 2, 8 * bytes.size());
    value -= modulus;
  }
  return value;
}

std::string BigintBytesFromMpz(const mpz_class& value) {
  const mpz_class magnitude = abs(value);
  const size_t bit_length = magnitude == 0 ? 0 : mpz_sizeinbase(magnitude.get_mpz_t(), 2);
  const size_t n = bit_length / 8 + 1;
  mpz_class twos_complement = value;
  if (value < 0) {
    mpz_class modulus;
    mpz_ui_pow_ui(modulus.get_mpz_t(), 2, 8 * n);
    twos_complement += modulus;  // In [2**(8n-1), 2**(8n)): fits n bytes, top bit set.
  }
  std::string bytes(n, '\0');
  size_t written = 0;
  // Export into the tail so that the leading bytes stay as zero padding.
  std::string exported((mpz_sizeinbase(twos_complement.get_mpz_t(), 2) + 7) / 8, '\0');
  mpz_export(exported.data(), &written, /*order=*/1, /*size=*/1, /*endian=*/1, /*nails=*/0,
             twos_complement.get_mpz_t());
  std::memcpy(&bytes[n - written], exported.data(), written);
  return bytes;
}

namespace {

template <typename T>
std::vector<T> FromVarints(const DatumWire::Runs& runs) {
  std::vector<T> values(CountVarints(runs));
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> raw(values.size());
    DecodeVarints(runs, reinterpret_cast<bool*>(raw.data()));
    for (size_t i = 0; i < raw.size(); ++i) values[i] = raw[i] != 0;
  } else {
    DecodeVarints(runs, values.data());
  }
  return values;
}

template <typename T>
std::vector<T> FromFixed(const DatumWire::Runs& runs) {
  std::vector<T> values(CountFixed(runs, sizeof(T)));
  DecodeFixed(runs, values.data());
  return values;
}

template <typename T>
StatusOr<std::vector<T>> FromBigEndian(std::string_view bytes) {
  if (bytes.size() % sizeof(T) != 0) {
    return InvalidArgumentError("Malformed envlogger.Datum: packed field of " +
                                std::to_string(bytes.size()) + " bytes is not a whole number of " +
                                std::to_string(sizeof(T)) + "-byte values");
  }
  std::vector<T> values(bytes.size() / sizeof(T));
  for (size_t i = 0; i < values.size(); ++i) {
    std::make_unsigned_t<std::conditional_t<std::is_same_v<T, float>, uint32_t, T>> bits = 0;
    for (size_t b = 0; b < sizeof(T); ++b)
      bits = (bits << 8) | static_cast<uint8_t>(bytes[i * sizeof(T) + b]);
    std::memcpy(&values[i], &bits, sizeof(T));
  }
  return values;
}

// Wraps decoded values as a scalar or as an Array of the Datum's shape.
template <typename T>
StatusOr<std::optional<BasicType>> Shaped(const DatumWire& datum, std::vector<T> values) {
  if (datum.IsScalar()) {
    if (values.size() != 1) {
      return InvalidArgumentError("Malformed envlogger.Datum: scalar with " +
                                  std::to_string(values.size()) + " values");
    }
    return std::optional<BasicType>(BasicType(std::move(values[0])));
  }
  uint64_t count = 1;
  for (int64_t d : datum.shape) {
    if (d < 0)
      return InvalidArgumentError("Malformed envlogger.Datum: negative dim " + std::to_string(d));
    if (d != 0 && count > UINT64_MAX / static_cast<uint64_t>(d)) {
      return InvalidArgumentError("Malformed envlogger.Datum: shape too large");
    }
    count *= static_cast<uint64_t>(d);
  }
  if (count != values.size()) {
    return InvalidArgumentError("Malformed envlogger.Datum: shape holds " + std::to_string(count) +
                                " elements but there are " + std::to_string(values.size()) +
                                " values");
  }
  return std::optional<BasicType>(BasicType(Array<T>{datum.shape, std::move(values)}));
}

template <typename T>
StatusOr<std::optional<BasicType>> ShapedOr(const DatumWire& datum,
                                            StatusOr<std::vector<T>> values) {
  if (!values.ok()) return values.status();
  return Shaped(datum, std::move(values).value());
}

}  // namespace

StatusOr<std::optional<BasicType>> DecodeDatum(std::string_view serialized) {
  DatumWire d;
  RETURN_IF_ERROR(ParseDatum(MessageParts(serialized), serialized.data(), &d));
  if (!d.float_values_buffer.empty())
    return ShapedOr(d, FromBigEndian<float>(d.float_values_buffer));
  if (!d.float_values.empty()) return Shaped(d, FromFixed<float>(d.float_values));
  if (!d.double_values.empty()) return Shaped(d, FromFixed<double>(d.double_values));
  if (!d.int32_values.empty()) return Shaped(d, FromVarints<int32_t>(d.int32_values));
  if (!d.int64_values.empty()) return Shaped(d, FromVarints<int64_t>(d.int64_values));
  if (!d.uint32_values.empty()) return Shaped(d, FromVarints<uint32_t>(d.uint32_values));
  if (!d.uint64_values.empty()) return Shaped(d, FromVarints<uint64_t>(d.uint64_values));
  if (!d.bool_values.empty()) return Shaped(d, FromVarints<bool>(d.bool_values));
  if (!d.string_values.empty()) {
    return Shaped(d, std::vector<std::string>(d.string_values.begin(), d.string_values.end()));
  }
  if (!d.bytes_values.empty()) {
    std::vector<Bytes> values;
    for (std::string_view b : d.bytes_values) values.push_back(Bytes{std::string(b)});
    return Shaped(d, std::move(values));
  }
  if (!d.bigint_values.empty()) {
    std::vector<mpz_class> values;
    for (std::string_view b : d.bigint_values) values.push_back(MpzFromBigintBytes(b));
    return Shaped(d, std::move(values));
  }
  if (!d.int8_values.empty()) return ShapedOr(d, FromBigEndian<int8_t>(d.int8_values));
  if (!d.int16_values.empty()) return ShapedOr(d, FromBigEndian<int16_t>(d.int16_values));
  if (!d.uint8_values.empty()) return ShapedOr(d, FromBigEndian<uint8_t>(d.uint8_values));
  if (!d.uint16_values.empty()) return ShapedOr(d, FromBigEndian<uint16_t>(d.uint16_values));
  return std::optional<BasicType>();
}

StatusOr<DataView> DataView::Parse(std::string_view data) {
  return Make(MessageParts(data), data.data());
}

StatusOr<DataView> DataView::Make(MessageParts data, const char* origin) {
  DataView view(std::move(data), origin);
  RETURN_IF_ERROR(view.Init());
  return view;
}

Status DataView::RequireKind(bool ok, const char* what) const {
  if (ok) return OkStatus();
  return FailedPreconditionError(std::string("envlogger.Data is not ") + what);
}

StatusOr<std::vector<DataView>> DataView::elements() const {
  RETURN_IF_ERROR(
      RequireKind(kind() == DataKind::kArray || kind() == DataKind::kTuple, "an array or tuple"));
  std::vector<DataView> result;
  RETURN_IF_ERROR(ForEachElement(wire_.payload, origin_, [&](std::string_view element) {
    ASSIGN_OR_RETURN(DataView view, Make(MessageParts(element), origin_));
    result.push_back(std::move(view));
    return OkStatus();
  }));
  return result;
}

StatusOr<std::vector<std::pair<std::string, DataView>>> DataView::items() const {
  RETURN_IF_ERROR(RequireKind(kind() == DataKind::kDict, "a dict"));
  DictWire dict;
  RETURN_IF_ERROR(ParseDict(wire_.payload, origin_, &dict));
  std::vector<std::pair<std::string, DataView>> result;
  for (DictWire::Entry& entry : dict.entries) {
    ASSIGN_OR_RETURN(DataView value, Make(std::move(entry.value), origin_));
    result.emplace_back(std::string(entry.key), std::move(value));
  }
  return result;
}

StatusOr<std::vector<std::pair<DataView, DataView>>> DataView::kvs() const {
  RETURN_IF_ERROR(RequireKind(kind() == DataKind::kDict, "a dict"));
  DictWire dict;
  RETURN_IF_ERROR(ParseDict(wire_.payload, origin_, &dict));
  std::vector<std::pair<DataView, DataView>> result;
  RETURN_IF_ERROR(ForEachElement(dict.kvs, origin_, [&](std::string_view element) {
    ASSIGN_OR_RETURN(DataView pair, Make(MessageParts(element), origin_));
    if (pair.kind() != DataKind::kTuple) {
      return InvalidArgumentError("Malformed envlogger.Data: a Dict.kvs element is not a tuple");
    }
    ASSIGN_OR_RETURN(std::vector<DataView> parts, pair.elements());
    if (parts.size() != 2) {
      return InvalidArgumentError("Malformed envlogger.Data: a Dict.kvs tuple has " +
                                  std::to_string(parts.size()) + " elements, not 2");
    }
    result.emplace_back(std::move(parts[0]), std::move(parts[1]));
    return OkStatus();
  }));
  return result;
}

StatusOr<size_t> DataView::size() const {
  switch (kind()) {
    case DataKind::kArray:
    case DataKind::kTuple: {
      ASSIGN_OR_RETURN(std::vector<DataView> all, elements());
      return all.size();
    }
    case DataKind::kDict: {
      ASSIGN_OR_RETURN(auto string_items, items());
      ASSIGN_OR_RETURN(auto other_items, kvs());
      return string_items.size() + other_items.size();
    }
    default:
      return size_t{0};
  }
}

namespace {

// The integer value of a decoded key, if it is an integer scalar.
std::optional<mpz_class> IntegerKey(const BasicType& key) {
  return std::visit(
      [](const auto& v) -> std::optional<mpz_class> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, mpz_class>) {
          return v;
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int32_t> ||
                             std::is_same_v<T, int16_t> || std::is_same_v<T, int8_t>) {
          return mpz_class(static_cast<long>(v));
        } else if constexpr (std::is_same_v<T, uint64_t> || std::is_same_v<T, uint32_t> ||
                             std::is_same_v<T, uint16_t> || std::is_same_v<T, uint8_t>) {
          return mpz_class(static_cast<unsigned long>(v));
        } else {
          return std::nullopt;
        }
      },
      key);
}

}  // namespace

StatusOr<DataView> DataView::operator[](int64_t index) const {
  if (kind() == DataKind::kDict) {
    ASSIGN_OR_RETURN(auto entries, kvs());
    const mpz_class wanted(static_cast<long>(index));
    std::optional<DataView> found;
    for (auto& [key, value] : entries) {
      if (key.kind() != DataKind::kDatum) continue;
      ASSIGN_OR_RETURN(std::optional<BasicType> decoded, key.datum());
      if (!decoded) continue;
      const std::optional<mpz_class> integer = IntegerKey(*decoded);
      if (integer && *integer == wanted) found = value;  // Later entries win, as in a Python dict.
    }
    if (!found)
      return NotFoundError("No integer key " + std::to_string(index) + " in envlogger.Data dict");
    return *found;
  }
  ASSIGN_OR_RETURN(std::vector<DataView> all, elements());
  if (index < 0 || static_cast<uint64_t>(index) >= all.size()) {
    return OutOfRangeError("Index " + std::to_string(index) + " out of range for " +
                           std::to_string(all.size()) + " elements");
  }
  return all[static_cast<size_t>(index)];
}

StatusOr<DataView> DataView::operator[](const std::string& key) const {
  ASSIGN_OR_RETURN(auto entries, items());
  std::optional<DataView> found;
  for (auto& [k, value] : entries) {
    if (k == key) found = value;  // The last entry with the key wins, as protobuf parsing does.
  }
  if (!found) return NotFoundError("No key '" + key + "' in envlogger.Data dict");
  return *found;
}

StatusOr<std::optional<BasicType>> DataView::datum() const {
  RETURN_IF_ERROR(RequireKind(kind() == DataKind::kDatum, "a datum"));
  if (wire_.payload.size() == 1) return DecodeDatum(wire_.payload[0]);
  std::string merged;  // Several occurrences merge: parse their concatenation.
  for (size_t i = 0; i < wire_.payload.size(); ++i) merged.append(wire_.payload[i]);
  return DecodeDatum(merged);
}

}  // namespace envlogger
