// envlogger._native.codec's decoding of Datum messages (the leaves of
// envlogger.Data): which field holds the value (upstream's precedence, see
// codec_bindings.cc), then a numpy scalar, Python str/bytes/int, or an array
// of the Datum's shape.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "envlogger/converters/python/codec_internal.h"

namespace envlogger {
namespace python {
namespace codec_internal {
namespace {

// Where a Datum's value comes from (upstream's precedence, see top comment).
enum class Source {
  kNone,
  kFloat,
  kDouble,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kBool,
  kFloatBuffer,
  kInt8,
  kInt16,
  kUint8,
  kUint16,
  kString,
  kBytes,
  kBigint,
};

// Size in bytes of the numpy scalar types NewScalar() is called with.
size_t ScalarWidth(int type_num) {
  switch (type_num) {
    case NPY_INT8:
    case NPY_UINT8:
      return 1;
    case NPY_INT16:
    case NPY_UINT16:
      return 2;
    case NPY_INT32:
    case NPY_UINT32:
    case NPY_FLOAT32:
      return 4;
    default:
      return 8;
  }
}

// A numpy scalar of `type_num` holding the bytes at `value`. Numpy scalars
// are immutable, so the few most recently made ones are kept and handed out
// again for the same type and bytes: a dataset's rewards, discounts and step
// counters repeat from step to step. The cache lives and is used under the
// GIL and nothing in it calls into Python code.
PyObject* NewScalar(int type_num, const void* value) {
  struct Entry {
    int type_num = -1;
    uint64_t bits = 0;
    PyObject* scalar = nullptr;  // Strong reference; kept for the process' lifetime.
  };
  constexpr size_t kEntries = 8;
  static Entry cache[kEntries];
  static size_t next_victim = 0;
  uint64_t bits = 0;
  std::memcpy(&bits, value, ScalarWidth(type_num));
  for (const Entry& entry : cache) {
    if (entry.type_num == type_num && entry.bits == bits) {
      Py_INCREF(entry.scalar);
      return entry.scalar;
    }
  }
  PyArray_Descr* descr = PyArray_DescrFromType(type_num);
  PyObject* scalar = PyArray_Scalar(const_cast<void*>(value), descr, nullptr);
  Py_DECREF(descr);
  if (scalar == nullptr) return nullptr;
  Entry& victim = cache[next_victim];
  next_victim = (next_victim + 1) % kEntries;
  Py_INCREF(scalar);
  PyObject* evicted = victim.scalar;
  victim = Entry{type_num, bits, scalar};
  Py_XDECREF(evicted);  // A numpy scalar; its deallocation runs no Python code.
  return scalar;
}

PyObject* PyIntFromBigint(std::string_view bytes) {
  if (bytes.size() <= 8) {
    int64_t value = bytes.empty() ? 0 : static_cast<int8_t>(bytes[0]);  // Sign-extended first byte.
    for (size_t i = 1; i < bytes.size(); ++i) {
      value = static_cast<int64_t>((static_cast<uint64_t>(value) << 8) |
                                   static_cast<uint8_t>(bytes[i]));
    }
    return PyLong_FromLongLong(value);
  }
  Ref buffer(PyBytes_FromStringAndSize(bytes.data(), static_cast<Py_ssize_t>(bytes.size())));
  Ref method(PyObject_GetAttrString(reinterpret_cast<PyObject*>(&PyLong_Type), "from_bytes"));
  Ref args(buffer ? Py_BuildValue("(Os)", buffer.get(), "big") : nullptr);
  Ref kwargs(Py_BuildValue("{s:O}", "signed", Py_True));
  if (!method || !args || !kwargs) return nullptr;
  return PyObject_Call(method.get(), args.get(), kwargs.get());
}

// The field a Datum's value comes from; for an array, whether a packed field
// of the wrong length makes it malformed. Returns false with a Python
// exception set.
bool ChooseSource(const DatumWire& datum, bool scalar, Source* chosen) {
  Source source = Source::kNone;
  if (!datum.float_values.empty())
    source = Source::kFloat;
  else if (!datum.double_values.empty())
    source = Source::kDouble;
  else if (!datum.int32_values.empty())
    source = Source::kInt32;
  else if (!datum.int64_values.empty())
    source = Source::kInt64;
  else if (!datum.uint32_values.empty())
    source = Source::kUint32;
  else if (!datum.uint64_values.empty())
    source = Source::kUint64;
  else if (!datum.bool_values.empty())
    source = Source::kBool;
  // As the reference codec: a scalar found in the repeated numerics is the
  // answer; otherwise each group below overrides what came before it (the
  // packed fields, then strings, bytes or bigints), for scalars too.
  const bool scalar_found = scalar && source != Source::kNone;

  const struct {
    std::string_view bytes;
    Source source;
    size_t width;
  } packed[] = {{datum.float_values_buffer, Source::kFloatBuffer, 4},
                {datum.int8_values, Source::kInt8, 1},
                {datum.int16_values, Source::kInt16, 2},
                {datum.uint8_values, Source::kUint8, 1},
                {datum.uint16_values, Source::kUint16, 2}};
  if (!scalar_found) {
    for (const auto& field : packed) {
      if (field.bytes.empty()) continue;
      // As the reference codec: whole elements (a scalar is the first one),
      // and a later packed field wins over an earlier one.
      if (field.bytes.size() % field.width != 0) {
        PyErr_Format(
            PyExc_ValueError,
            "Malformed envlogger.Datum: packed values field of %zu bytes is not a whole number of "
            "%zu-byte elements",
            field.bytes.size(), field.width);
        return false;
      }
      source = field.source;
    }
  }
  if (!scalar_found) {
    if (!datum.string_values.empty()) {
      source = Source::kString;
    } else if (!datum.bytes_values.empty()) {
      source = Source::kBytes;
    } else if (!datum.bigint_values.empty()) {
      if (!scalar) {
        PyErr_Format(
            PyExc_TypeError,
            "Unsupported Datum of arbitrarily big ints: %zu bigint_values with shape of %zu dims",
            datum.bigint_values.size(), datum.shape.size());
        return false;
      }
      source = Source::kBigint;
    }
  }
  *chosen = source;
  return true;
}

// The scalar of a scalar Datum: its first element in `source`.
PyObject* DecodeScalarDatum(const DatumWire& datum, Source source) {
  switch (source) {
    case Source::kFloat: {
      uint32_t bits;
      std::memcpy(&bits, datum.float_values[0].data(), 4);
      bits = QuietNan(bits);
      return NewScalar(NPY_FLOAT32, &bits);
    }
    case Source::kDouble: {
      double value;
      std::memcpy(&value, datum.double_values[0].data(), 8);
      return NewScalar(NPY_FLOAT64, &value);
    }
    case Source::kInt32:
    case Source::kInt64:
    case Source::kUint32:
    case Source::kUint64:
    case Source::kBool: {
      const DatumWire::Runs& runs = source == Source::kInt32    ? datum.int32_values
                                    : source == Source::kInt64  ? datum.int64_values
                                    : source == Source::kUint32 ? datum.uint32_values
                                    : source == Source::kUint64 ? datum.uint64_values
                                                                : datum.bool_values;
      std::string_view first = runs[0];
      uint64_t value = 0;
      ReadWireVarint(&first, &value);
      if (source == Source::kBool) return PyBool_FromLong(value != 0);
      if (source == Source::kInt32) {
        const int32_t v = static_cast<int32_t>(value);
        return NewScalar(NPY_INT32, &v);
      }
      if (source == Source::kUint32) {
        const uint32_t v = static_cast<uint32_t>(value);
        return NewScalar(NPY_UINT32, &v);
      }
      return NewScalar(source == Source::kInt64 ? NPY_INT64 : NPY_UINT64, &value);
    }
    case Source::kFloatBuffer: {
      const auto* b = reinterpret_cast<const uint8_t*>(datum.float_values_buffer.data());
      const uint32_t bits =
          uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
      return NewScalar(NPY_FLOAT32, &bits);
    }
    case Source::kInt8:
      return NewScalar(NPY_INT8, datum.int8_values.data());
    case Source::kUint8:
      return NewScalar(NPY_UINT8, datum.uint8_values.data());
    case Source::kInt16:
    case Source::kUint16: {
      const auto* b = reinterpret_cast<const uint8_t*>(
          (source == Source::kInt16 ? datum.int16_values : datum.uint16_values).data());
      const uint16_t v = static_cast<uint16_t>(b[0] << 8 | b[1]);
      return NewScalar(source == Source::kInt16 ? NPY_INT16 : NPY_UINT16, &v);
    }
    case Source::kString:
      return PyUnicode_DecodeUTF8(datum.string_values[0].data(),
                                  static_cast<Py_ssize_t>(datum.string_values[0].size()), "strict");
    case Source::kBytes:
      return PyBytes_FromStringAndSize(datum.bytes_values[0].data(),
                                       static_cast<Py_ssize_t>(datum.bytes_values[0].size()));
    case Source::kBigint:
      return PyIntFromBigint(datum.bigint_values[0]);
    case Source::kNone:
      break;
  }
  Py_RETURN_NONE;
}

// The numpy type and element count of an array Datum's values in `source`.
void ArrayTypeAndCount(const DatumWire& datum, Source source, int* type_num, size_t* count) {
  *type_num = NPY_OBJECT;
  *count = 0;
  switch (source) {
    case Source::kFloat:
      *type_num = NPY_FLOAT32;
      *count = CountFixed(datum.float_values, 4);
      break;
    case Source::kDouble:
      *type_num = NPY_FLOAT64;
      *count = CountFixed(datum.double_values, 8);
      break;
    case Source::kInt32:
      *type_num = NPY_INT32;
      *count = CountVarints(datum.int32_values);
      break;
    case Source::kInt64:
      *type_num = NPY_INT64;
      *count = CountVarints(datum.int64_values);
      break;
    case Source::kUint32:
      *type_num = NPY_UINT32;
      *count = CountVarints(datum.uint32_values);
      break;
    case Source::kUint64:
      *type_num = NPY_UINT64;
      *count = CountVarints(datum.uint64_values);
      break;
    case Source::kBool:
      *type_num = NPY_BOOL;
      *count = CountVarints(datum.bool_values);
      break;
    case Source::kFloatBuffer:
      *type_num = NPY_FLOAT32;
      *count = datum.float_values_buffer.size() / 4;
      break;
    case Source::kInt8:
      *type_num = NPY_INT8;
      *count = datum.int8_values.size();
      break;
    case Source::kUint8:
      *type_num = NPY_UINT8;
      *count = datum.uint8_values.size();
      break;
    case Source::kInt16:
      *type_num = NPY_INT16;
      *count = datum.int16_values.size() / 2;
      break;
    case Source::kUint16:
      *type_num = NPY_UINT16;
      *count = datum.uint16_values.size() / 2;
      break;
    case Source::kString:
      *count = datum.string_values.size();
      break;
    case Source::kBytes:
      *count = datum.bytes_values.size();
      break;
    case Source::kBigint:
    case Source::kNone:
      break;
  }
}

// Copies `count` big-endian elements of `width` bytes (1, 2 or 4) from the
// packed field of `source` into native order at `dest`.
void CopyPacked(const DatumWire& datum, Source source, size_t count, uint8_t* dest) {
  const std::string_view bytes = source == Source::kFloatBuffer ? datum.float_values_buffer
                                 : source == Source::kInt16     ? datum.int16_values
                                 : source == Source::kUint16    ? datum.uint16_values
                                 : source == Source::kInt8      ? datum.int8_values
                                                                : datum.uint8_values;
  const size_t width = source == Source::kFloatBuffer                          ? 4
                       : source == Source::kInt16 || source == Source::kUint16 ? 2
                                                                               : 1;
  if (width == 1) {
    std::memcpy(dest, bytes.data(), count);
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    for (size_t b = 0; b < width; ++b)
      dest[i * width + b] = static_cast<uint8_t>(bytes[i * width + width - 1 - b]);
  }
}

// Writes the `count` values of `source` into the array memory `out`. Returns
// false with a Python exception set (a string that is not UTF-8).
bool FillArray(const DatumWire& datum, Source source, size_t count, void* out) {
  switch (source) {
    case Source::kFloat: {
      auto* bits = static_cast<uint32_t*>(out);
      DecodeFixed(datum.float_values, bits);
      for (size_t i = 0; i < count; ++i) bits[i] = QuietNan(bits[i]);
      break;
    }
    case Source::kDouble:
      DecodeFixed(datum.double_values, static_cast<double*>(out));
      break;
    case Source::kInt32:
      DecodeVarints(datum.int32_values, static_cast<int32_t*>(out));
      break;
    case Source::kInt64:
      DecodeVarints(datum.int64_values, static_cast<int64_t*>(out));
      break;
    case Source::kUint32:
      DecodeVarints(datum.uint32_values, static_cast<uint32_t*>(out));
      break;
    case Source::kUint64:
      DecodeVarints(datum.uint64_values, static_cast<uint64_t*>(out));
      break;
    case Source::kBool:
      DecodeVarints(datum.bool_values, static_cast<bool*>(out));
      break;
    case Source::kFloatBuffer:
    case Source::kInt16:
    case Source::kUint16:
    case Source::kInt8:
    case Source::kUint8:
      CopyPacked(datum, source, count, static_cast<uint8_t*>(out));
      break;
    case Source::kString:
    case Source::kBytes: {
      auto** objects = static_cast<PyObject**>(out);
      for (size_t i = 0; i < count; ++i) {
        const std::string_view item =
            source == Source::kString ? datum.string_values[i] : datum.bytes_values[i];
        PyObject* object =
            source == Source::kString
                ? PyUnicode_DecodeUTF8(item.data(), static_cast<Py_ssize_t>(item.size()), "strict")
                : PyBytes_FromStringAndSize(item.data(), static_cast<Py_ssize_t>(item.size()));
        if (object == nullptr) return false;
        Py_XSETREF(objects[i], object);
      }
      break;
    }
    case Source::kBigint:
    case Source::kNone:
      break;
  }
  return true;
}

// The array of an array Datum, shaped by its shape.
PyObject* DecodeArrayDatum(const DatumWire& datum, Source source) {
  int type_num;
  size_t count;
  ArrayTypeAndCount(datum, source, &type_num, &count);

  // Allocate with the Datum's shape when it fits; otherwise let numpy's
  // reshape decide (it infers a -1 dim and raises ValueError on mismatch).
  std::vector<npy_intp> dims(datum.shape.begin(), datum.shape.end());
  bool direct = dims.size() <= NPY_MAXDIMS;
  size_t product = 1;
  for (npy_intp d : dims) {
    if (d < 0 || (d != 0 && product > static_cast<size_t>(PTRDIFF_MAX) / static_cast<size_t>(d))) {
      direct = false;
      break;
    }
    product *= static_cast<size_t>(d);
  }
  direct = direct && product == count;
  npy_intp flat = static_cast<npy_intp>(count);
  Ref array(direct ? PyArray_SimpleNew(static_cast<int>(dims.size()), dims.data(), type_num)
                   : PyArray_SimpleNew(1, &flat, type_num));
  if (!array) return nullptr;
  if (!FillArray(datum, source, count, PyArray_DATA(reinterpret_cast<PyArrayObject*>(array.get()))))
    return nullptr;
  if (direct) return array.release();
  PyArray_Dims shape = {dims.data(), static_cast<int>(dims.size())};
  return PyArray_Newshape(reinterpret_cast<PyArrayObject*>(array.get()), &shape, NPY_CORDER);
}

}  // namespace

PyObject* DecodeDatum(const MessageParts& parts, const char* origin, DatumWire* scratch) {
  DatumWire& datum = *scratch;
  datum.Clear();
  const Status status = ParseDatum(parts, origin, &datum);
  if (!status.ok()) return RaiseValueError(status);
  const bool scalar = datum.IsScalar();
  Source source;
  if (!ChooseSource(datum, scalar, &source)) return nullptr;
  if (source == Source::kNone) Py_RETURN_NONE;
  return scalar ? DecodeScalarDatum(datum, source) : DecodeArrayDatum(datum, source);
}

}  // namespace codec_internal
}  // namespace python
}  // namespace envlogger
