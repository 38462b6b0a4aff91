// envlogger._native.codec's encoder, for numpy arrays and scalars and Python
// numbers, bools, strings and bytes (the rules are listed in codec_bindings.cc).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "envlogger/converters/python/codec_encoder.h"
#include "envlogger/converters/python/codec_internal.h"

namespace envlogger {
namespace python {
namespace codec_internal {

namespace {

// The numpy type numbers upstream accepts for arrays (np.issubdtype against
// these exact scalar types; e.g. longlong arrays are not int64 arrays).
bool SupportedArrayType(int type_num) {
  switch (type_num) {
    case NPY_FLOAT32:
    case NPY_FLOAT64:
    case NPY_INT32:
    case NPY_INT64:
    case NPY_UINT32:
    case NPY_UINT64:
    case NPY_BOOL:
    case NPY_UNICODE:
    case NPY_STRING:
    case NPY_INT8:
    case NPY_INT16:
    case NPY_UINT8:
    case NPY_UINT16:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool Encoder::EncodeArray(PyArrayObject* array) {
  PyArray_Descr* descr = PyArray_DESCR(array);
  const int type_num = descr->type_num;
  if (!SupportedArrayType(type_num)) {
    return Fail(PyExc_TypeError,
                "Unsupported `array.dtype`: " + Str(reinterpret_cast<PyObject*>(descr)));
  }
  const int ndim = PyArray_NDIM(array);
  const npy_intp* dims = PyArray_DIMS(array);
  bool any_dim = false;
  for (int i = 0; i < ndim; ++i) any_dim |= dims[i] > 0;
  const bool small_int = type_num == NPY_INT8 || type_num == NPY_INT16 || type_num == NPY_UINT8 ||
                         type_num == NPY_UINT16;
  if (PyArray_SIZE(array) == 0 && !any_dim && !small_int) return true;  // An empty Data.
  const size_t token = writer_.BeginMessage(wire::kDataDatum);
  if (any_dim) {
    const size_t shape = writer_.BeginMessage(wire::kDatumShape);
    for (int i = 0; i < ndim; ++i) {
      if (dims[i] <= 0) continue;
      const size_t dim = writer_.BeginMessage(wire::kShapeDim);
      writer_.Tag(wire::kDimSize, wire::kVarint);
      writer_.Varint(static_cast<uint64_t>(dims[i]));
      writer_.EndMessage(dim);
    }
    writer_.EndMessage(shape);
  }
  if (PyArray_SIZE(array) > 0) {
    Ref contiguous;
    if (!(PyArray_IS_C_CONTIGUOUS(array) && PyArray_ISALIGNED(array) &&
          PyArray_ISNOTSWAPPED(array))) {
      PyArray_Descr* native = PyArray_DescrNewByteorder(descr, NPY_NATIVE);
      if (native == nullptr)
        return Fail(PyExc_TypeError,
                    "Cannot read array of dtype " + Repr(reinterpret_cast<PyObject*>(descr)));
      contiguous.reset(
          PyArray_FromArray(array, native, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED));
      if (!contiguous) {
        PyErr_Clear();
        return Fail(PyExc_TypeError,
                    "Cannot read array of dtype " + Repr(reinterpret_cast<PyObject*>(descr)));
      }
      array = reinterpret_cast<PyArrayObject*>(contiguous.get());
    }
    const size_t values = writer_.BeginMessage(wire::kDatumValues);
    if (!EncodeArrayValues(array, type_num)) return false;
    writer_.EndMessage(values);
  } else if (small_int) {
    writer_.Bytes(wire::kDatumValues, std::string_view());  // Upstream assigns b'' to the field.
  }
  writer_.EndMessage(token);
  return true;
}

namespace {

template <typename T>
void AppendBigEndian(const T* values, size_t count, std::string* out) {
  const size_t start = out->size();
  out->resize(start + count * sizeof(T));
  char* dest = &(*out)[start];
  for (size_t i = 0; i < count; ++i) {
    const auto v = static_cast<std::make_unsigned_t<T>>(values[i]);
    for (size_t b = 0; b < sizeof(T); ++b)
      dest[i * sizeof(T) + b] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - b)));
  }
}

}  // namespace

bool Encoder::EncodeArrayValues(PyArrayObject* array, int type_num) {
  const void* data = PyArray_DATA(array);
  const size_t n = static_cast<size_t>(PyArray_SIZE(array));
  switch (type_num) {
    case NPY_FLOAT32:
      writer_.PackedFixed(wire::kFloatValues, data, n, 4);
      return true;
    case NPY_FLOAT64:
      writer_.PackedFixed(wire::kDoubleValues, data, n, 8);
      return true;
    case NPY_INT32:
      writer_.PackedVarints(
          wire::kInt32Values, static_cast<const int32_t*>(data), n,
          [](int32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); });
      return true;
    case NPY_INT64:
      writer_.PackedVarints(wire::kInt64Values, static_cast<const int64_t*>(data), n,
                            [](int64_t v) { return static_cast<uint64_t>(v); });
      return true;
    case NPY_UINT32:
      writer_.PackedVarints(wire::kUint32Values, static_cast<const uint32_t*>(data), n,
                            [](uint32_t v) { return uint64_t{v}; });
      return true;
    case NPY_UINT64:
      writer_.PackedVarints(wire::kUint64Values, static_cast<const uint64_t*>(data), n,
                            [](uint64_t v) { return v; });
      return true;
    case NPY_BOOL:
      writer_.PackedVarints(wire::kBoolValues, static_cast<const uint8_t*>(data), n,
                            [](uint8_t v) { return uint64_t{v != 0}; });
      return true;
    case NPY_INT8:
    case NPY_UINT8:
      writer_.Bytes(type_num == NPY_INT8 ? wire::kInt8Values : wire::kUint8Values,
                    std::string_view(static_cast<const char*>(data), n));
      return true;
    case NPY_INT16:
    case NPY_UINT16:
      scratch_.clear();
      AppendBigEndian(static_cast<const uint16_t*>(data), n, &scratch_);
      writer_.Bytes(type_num == NPY_INT16 ? wire::kInt16Values : wire::kUint16Values, scratch_);
      return true;
    case NPY_UNICODE: {
      const size_t width = static_cast<size_t>(PyArray_ITEMSIZE(array)) / 4;
      const auto* chars = static_cast<const uint32_t*>(data);
      for (size_t i = 0; i < n; ++i) {
        const uint32_t* item = chars + i * width;
        size_t length = width;
        while (length > 0 && item[length - 1] == 0) --length;  // str(x) drops trailing NULs.
        scratch_.clear();
        if (!AppendUtf8FromUcs4(item, length, &scratch_)) {
          return Fail(PyExc_ValueError,
                      "Array element " + std::to_string(i) +
                          " (row-major) is not valid Unicode (surrogate or above U+10FFFF)");
        }
        writer_.Bytes(wire::kStringValues, scratch_);
      }
      return true;
    }
    case NPY_STRING: {
      const size_t width = static_cast<size_t>(PyArray_ITEMSIZE(array));
      const char* bytes = static_cast<const char*>(data);
      for (size_t i = 0; i < n; ++i) {
        const char* item = bytes + i * width;
        size_t length = width;
        while (length > 0 && item[length - 1] == 0) --length;  // bytes(x) drops trailing NULs.
        writer_.Bytes(wire::kBytesValues, std::string_view(item, length));
      }
      return true;
    }
    default:
      return Fail(PyExc_TypeError, "Unsupported array type number " + std::to_string(type_num));
  }
}

void Encoder::EncodeDouble(double value) {
  const size_t token = writer_.BeginMessage(wire::kDataDatum);
  ScalarShape();
  const size_t values = writer_.BeginMessage(wire::kDatumValues);
  writer_.PackedFixed(wire::kDoubleValues, &value, 1, 8);
  writer_.EndMessage(values);
  writer_.EndMessage(token);
}

void Encoder::EncodeInt64(int64_t value) {
  const size_t token = writer_.BeginMessage(wire::kDataDatum);
  ScalarShape();
  const size_t values = writer_.BeginMessage(wire::kDatumValues);
  writer_.Bytes(wire::kBigintValues, BigintBytesFromInt64(value));
  writer_.EndMessage(values);
  writer_.EndMessage(token);
}

bool Encoder::EncodeScalar(PyObject* value) {
  const size_t token = writer_.BeginMessage(wire::kDataDatum);
  ScalarShape();
  const size_t values = writer_.BeginMessage(wire::kDatumValues);
  if (!EncodeScalarValues(value)) return false;
  writer_.EndMessage(values);
  writer_.EndMessage(token);
  return true;
}

bool Encoder::EncodeScalarValues(PyObject* value) {
  if (PyUnicode_Check(value)) {
    // The string's own characters, whatever its type (np.str_, an Enum mixing
    // in str, ...): trailing NULs of an np.str_ included, no __str__ called,
    // as upstream's protobuf `string_values.append(x)` stores them.
    Py_ssize_t length;
    const char* utf8 = PyUnicode_AsUTF8AndSize(value, &length);
    if (utf8 == nullptr) {
      PyErr_Clear();
      return Fail(PyExc_ValueError, "String " + Repr(value) + " is not encodable as UTF-8");
    }
    writer_.Bytes(wire::kStringValues, std::string_view(utf8, length));
    return true;
  }
  if (PyBytes_Check(value)) {
    writer_.Bytes(wire::kBytesValues,
                  std::string_view(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value)));
    return true;
  }
  const bool is_bool = PyBool_Check(value);
  if (is_bool || PyArray_IsScalar(value, Bool)) {
    const bool truth = is_bool ? value == Py_True : PyArrayScalar_VAL(value, Bool) != 0;
    const uint8_t byte = truth;
    writer_.PackedVarints(wire::kBoolValues, &byte, 1, [](uint8_t v) { return uint64_t{v}; });
    return true;
  }
  if (PyLong_Check(value)) {
    int overflow = 0;
    const long long small = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (!overflow) {
      if (small == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return FailUnsupported(value);
      }
      writer_.Bytes(wire::kBigintValues, BigintBytesFromInt64(small));
      return true;
    }
    // |value| >= 2**63: int.to_bytes(bit_length() // 8 + 1, 'big', signed=True).
    // The methods of int itself, so that no subclass code runs mid-encode.
    PyObject* int_type = reinterpret_cast<PyObject*>(&PyLong_Type);
    Ref bits(PyObject_CallMethod(int_type, "bit_length", "O", value));
    const long long bit_length = bits ? PyLong_AsLongLong(bits.get()) : -1;
    Ref method(PyObject_GetAttrString(int_type, "to_bytes"));
    Ref args(Py_BuildValue("(OLs)", value, bit_length / 8 + 1, "big"));
    Ref kwargs(Py_BuildValue("{s:O}", "signed", Py_True));
    Ref bytes(method && args && kwargs && bit_length >= 0
                  ? PyObject_Call(method.get(), args.get(), kwargs.get())
                  : nullptr);
    if (!bytes || !PyBytes_Check(bytes.get())) {
      PyErr_Clear();
      return FailUnsupported(value);
    }
    writer_.Bytes(wire::kBigintValues,
                  std::string_view(PyBytes_AS_STRING(bytes.get()), PyBytes_GET_SIZE(bytes.get())));
    return true;
  }
  if (PyFloat_Check(value)) {
    const double d = PyFloat_AS_DOUBLE(value);
    writer_.PackedFixed(wire::kDoubleValues, &d, 1, 8);
    return true;
  }
  if (!PyArray_IsScalar(value, Generic)) return FailUnsupported(value);
  Ref descr_ref(reinterpret_cast<PyObject*>(PyArray_DescrFromScalar(value)));
  const auto* descr = reinterpret_cast<const PyArray_Descr*>(descr_ref.get());
  if (descr == nullptr) {
    PyErr_Clear();
    return FailUnsupported(value);
  }
  const char kind = descr->kind;
  const size_t size = static_cast<size_t>(PyDataType_ELSIZE(descr));
  alignas(8) unsigned char raw[16] = {};
  if ((kind == 'f' && (size == 4 || size == 8)) || ((kind == 'i' || kind == 'u') && size <= 8)) {
    PyArray_ScalarAsCtype(value, raw);
  }
  if (kind == 'f' && size == 4) {
    uint32_t bits;
    std::memcpy(&bits, raw, 4);
    bits = QuietNan(bits);  // float(x) then float32 again, as Python does.
    writer_.PackedFixed(wire::kFloatValues, &bits, 1, 4);
    return true;
  }
  if (kind == 'f' && size == 8) {
    writer_.PackedFixed(wire::kDoubleValues, raw, 1, 8);
    return true;
  }
  if (kind == 'i' || kind == 'u') {
    const bool is_signed = kind == 'i';
    switch (size) {
      case 1:
        writer_.Bytes(is_signed ? wire::kInt8Values : wire::kUint8Values,
                      std::string_view(reinterpret_cast<const char*>(raw), 1));
        return true;
      case 2: {
        uint16_t v;
        std::memcpy(&v, raw, 2);
        scratch_.clear();
        AppendBigEndian(&v, 1, &scratch_);
        writer_.Bytes(is_signed ? wire::kInt16Values : wire::kUint16Values, scratch_);
        return true;
      }
      case 4: {
        uint32_t v;
        std::memcpy(&v, raw, 4);
        const uint64_t widened =
            is_signed ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))) : v;
        writer_.PackedVarints(is_signed ? wire::kInt32Values : wire::kUint32Values, &widened, 1,
                              [](uint64_t x) { return x; });
        return true;
      }
      case 8: {
        uint64_t v;
        std::memcpy(&v, raw, 8);
        writer_.PackedVarints(is_signed ? wire::kInt64Values : wire::kUint64Values, &v, 1,
                              [](uint64_t x) { return x; });
        return true;
      }
      default:
        break;
    }
  }
  return Fail(PyExc_TypeError, "Unknown type: " + TypeName(value) + " (dtype " +
                                   Str(descr_ref.get()) + "): " + Repr(value));
}

}  // namespace codec_internal
}  // namespace python
}  // namespace envlogger
