// envlogger._native.codec: Python values <-> envlogger.Data wire bytes,
// directly from/to Python objects and numpy buffers (no protobuf objects).
//
// The mapping is that of envlogger/converters/codec.py (upstream envlogger's
// codec); `encode(x)` returns exactly
// `codec.encode(x).SerializeToString(deterministic=True)`:
//   * dispatch order None, list, tuple (incl. namedtuples), dict, ndarray,
//     scalar; lists must be homogeneous (`isinstance(x, type(first))`);
//   * string-keyed dict entries are written in the order of protobuf's (upb)
//     deterministic serialization: by UTF-8 bytes, except that a key comes
//     after the longer keys it is a prefix of; other keys as
//     Tuple{key, value} elements of `kvs` in insertion order;
//   * arrays set `datum` with dims > 0 only and `values` only when non-empty,
//     except that a zero-size array with no such dim is an empty Data, and a
//     zero-size int8/int16/uint8/uint16 array has an empty `values`;
//     float32/float64 arrays are copied bit-exactly, int8/int16/uint8/uint16
//     are packed big-endian into bytes fields;
//   * scalars get the dim -438; Python int -> bigint (two's complement,
//     bit_length()//8+1 bytes); Python float and float subclasses -> double;
//     str/bytes (and subclasses, np.str_/np.bytes_) -> their own characters/
//     bytes, trailing NULs included;
//     numpy scalars by dtype kind and size (like `np.result_type(x) == ...`);
//     float32 scalars go through a double as in Python, which quiets
//     signalling NaNs.
// `decode(b)` follows upstream's decoder (codec.decode_datum): for a scalar
// Datum the first non-empty repeated numeric field wins, then the first
// non-empty packed bytes field, then string, bytes, bigint; for an array the
// last non-empty packed field overrides the numeric one and strings/bytes
// override both, a non-scalar bigint Datum is a TypeError. Arrays are
// returned owning their (writable) memory; float_values are read through a
// double as in Python (quieting signalling NaNs), float_values_buffer
// bit-exactly.
//
// Errors: unsupported values raise TypeError "<what> at value<path>", with
// the path in codec.py's notation (value[0]['obs'], value<key 3> for a dict
// key); nesting deeper than wire::kMaxDataDepth raises RecursionError;
// malformed wire bytes raise ValueError naming the problem and byte offset.
// Nothing is returned on error.

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <pybind11/pybind11.h>

#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/converters/data_wire.h"
#include "envlogger/python/decode_step.h"
#include "envlogger/python/encode_step.h"
#include "envlogger/python/register.h"

namespace envlogger {
namespace python {
namespace {

namespace py = pybind11;

// A new reference that is released when it goes out of scope.
class Ref {
 public:
  explicit Ref(PyObject* object = nullptr) : object_(object) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  // Takes over `object`, releasing the reference held so far.
  void reset(PyObject* object) { Py_XSETREF(object_, object); }
  ~Ref() { Py_XDECREF(object_); }
  PyObject* get() const { return object_; }
  PyObject* release() {
    PyObject* object = object_;
    object_ = nullptr;
    return object;
  }
  explicit operator bool() const { return object_ != nullptr; }

 private:
  PyObject* object_;
};

// Strong references kept until the end of a scope.
class HeldReferences {
 public:
  HeldReferences() = default;
  HeldReferences(const HeldReferences&) = delete;
  HeldReferences& operator=(const HeldReferences&) = delete;
  ~HeldReferences() {
    for (PyObject* object : objects_) Py_DECREF(object);
  }
  void Hold(PyObject* object) {
    Py_INCREF(object);
    objects_.push_back(object);
  }

 private:
  std::vector<PyObject*> objects_;
};

std::string TypeName(PyObject* value) { return Py_TYPE(value)->tp_name; }

// repr(value) or str(value), never failing.
std::string Text(PyObject* value, bool use_repr) {
  Ref repr(use_repr ? PyObject_Repr(value) : PyObject_Str(value));
  if (!repr) {
    PyErr_Clear();
    return "<unrepresentable " + TypeName(value) + ">";
  }
  const char* text = PyUnicode_AsUTF8(repr.get());
  if (text == nullptr) {
    PyErr_Clear();
    return "<unrepresentable " + TypeName(value) + ">";
  }
  return text;
}
std::string Repr(PyObject* value) { return Text(value, true); }
std::string Str(PyObject* value) { return Text(value, false); }

uint32_t QuietNan(uint32_t bits) {
  const bool nan = (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0;
  return nan ? bits | 0x00400000u : bits;
}

// ---------------------------------------------------------------------------
// Encoding.

class Encoder {
 public:
  explicit Encoder(std::string* out, LengthHints* hints = nullptr) : writer_(out, hints) {}

  // Appends the fields of the Data message encoding `value`. On failure
  // returns false and leaves the error in error_type_/error_message_/path_.
  bool EncodeData(PyObject* value, int depth);

  // Raises the recorded error as a Python exception.
  void RaiseError() const {
    std::string path = "value";
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) path += *it;
    PyErr_SetString(error_type_, (error_message_ + " at " + path).c_str());
  }

 private:
  bool Fail(PyObject* type, std::string message) {
    error_type_ = type;
    error_message_ = std::move(message);
    return false;
  }
  bool FailUnsupported(PyObject* value) {
    return Fail(PyExc_TypeError, "Unsupported type " + TypeName(value) + ": " + Repr(value));
  }
  // Encodes `value` as one element (field `field`) of the enclosing message.
  bool EncodeElement(uint32_t field, PyObject* value, int depth) {
    const size_t token = writer_.BeginMessage(field);
    if (!EncodeData(value, depth)) return false;
    writer_.EndMessage(token);
    return true;
  }
  bool EncodeList(PyObject* list, int depth);
  bool EncodeTuple(PyObject* tuple, int depth);
  bool EncodeDict(PyObject* dict, int depth);
  bool EncodeArray(PyArrayObject* array);
  bool EncodeArrayValues(PyArrayObject* array, int type_num);
  bool EncodeScalar(PyObject* value);
  bool EncodeScalarValues(PyObject* value);
  // Datum.shape = {dim {size: kScalarDimSize}}: the same bytes for every
  // scalar.
  void ScalarShape() { writer_.Bytes(wire::kDatumShape, wire::kScalarShapePayload); }

  WireWriter writer_;
  PyObject* error_type_ = nullptr;
  std::string error_message_;
  std::vector<std::string> path_;  // Innermost component first.
  std::string scratch_;
};

bool Encoder::EncodeData(PyObject* value, int depth) {
  if (value == Py_None) return true;
  if (depth > wire::kMaxDataDepth) {
    return Fail(PyExc_RecursionError,
                "Value nested deeper than " + std::to_string(wire::kMaxDataDepth) + " levels");
  }
  if (PyList_Check(value)) return EncodeList(value, depth);
  if (PyTuple_Check(value)) return EncodeTuple(value, depth);
  if (PyDict_Check(value)) return EncodeDict(value, depth);
  if (PyArray_Check(value)) return EncodeArray(reinterpret_cast<PyArrayObject*>(value));
  return EncodeScalar(value);
}

bool Encoder::EncodeList(PyObject* list, int depth) {
  const Py_ssize_t size = PyList_GET_SIZE(list);
  if (size == 0) return true;
  PyTypeObject* first_type = Py_TYPE(PyList_GET_ITEM(list, 0));
  const size_t token = writer_.BeginMessage(wire::kDataArray);
  for (Py_ssize_t i = 0; i < size; ++i) {
    PyObject* element = PyList_GET_ITEM(list, i);
    if (Py_TYPE(element) != first_type && !PyType_IsSubtype(Py_TYPE(element), first_type)) {
      return Fail(
          PyExc_TypeError,
          std::string(
              "We assume list is homogeneous, i.e. every element has the type of the first one (") +
              first_type->tp_name + "); element [" + std::to_string(i) + "] is a " +
              TypeName(element));
    }
    if (!EncodeElement(wire::kListValues, element, depth + 1)) {
      path_.push_back("[" + std::to_string(i) + "]");
      return false;
    }
  }
  writer_.EndMessage(token);
  return true;
}

bool Encoder::EncodeTuple(PyObject* tuple, int depth) {
  const Py_ssize_t size = PyTuple_GET_SIZE(tuple);
  if (size == 0) return true;
  const size_t token = writer_.BeginMessage(wire::kDataTuple);
  for (Py_ssize_t i = 0; i < size; ++i) {
    if (!EncodeElement(wire::kListValues, PyTuple_GET_ITEM(tuple, i), depth + 1)) {
      path_.push_back("[" + std::to_string(i) + "]");
      return false;
    }
  }
  writer_.EndMessage(token);
  return true;
}

bool Encoder::EncodeDict(PyObject* dict, int depth) {
  if (PyDict_GET_SIZE(dict) == 0) return true;
  struct StrEntry {
    std::string_view key;
    PyObject* key_object;
    PyObject* value;
  };
  std::vector<StrEntry> str_entries;
  std::vector<std::pair<PyObject*, PyObject*>> other_entries;
  // Keys and values are held for the whole call: error messages call repr(),
  // which could run code that changes the dict.
  HeldReferences held;
  Py_ssize_t position = 0;
  PyObject* key;
  PyObject* value;
  while (PyDict_Next(dict, &position, &key, &value)) {
    held.Hold(key);
    held.Hold(value);
    if (PyUnicode_Check(key)) {
      Py_ssize_t length;
      const char* utf8 = PyUnicode_AsUTF8AndSize(key, &length);
      if (utf8 == nullptr) {
        PyErr_Clear();
        return Fail(PyExc_ValueError, "Dict key " + Repr(key) + " is not encodable as UTF-8");
      }
      str_entries.push_back({std::string_view(utf8, length), key, value});
    } else {
      other_entries.emplace_back(key, value);
    }
  }
  // The order of protobuf's (upb's) deterministic serialization: bytewise on
  // the common prefix, and a key sorts after the keys it is a prefix of
  // ("ab" < "a" < "").
  std::sort(str_entries.begin(), str_entries.end(), [](const StrEntry& a, const StrEntry& b) {
    const int common = a.key.compare(0, b.key.size(), b.key.substr(0, a.key.size()));
    if (common != 0) return common < 0;
    return a.key.size() > b.key.size();
  });
  const size_t token = writer_.BeginMessage(wire::kDataDict);
  for (const StrEntry& entry : str_entries) {
    const size_t entry_token = writer_.BeginMessage(wire::kDictValues);
    writer_.Bytes(wire::kMapEntryKey, entry.key);
    if (!EncodeElement(wire::kMapEntryValue, entry.value, depth + 1)) {
      path_.push_back("[" + Repr(entry.key_object) + "]");
      return false;
    }
    writer_.EndMessage(entry_token);
  }
  if (!other_entries.empty()) {
    const size_t kvs_token = writer_.BeginMessage(wire::kDictKvs);
    for (const auto& [k, v] : other_entries) {
      const size_t element_token = writer_.BeginMessage(wire::kListValues);
      const size_t tuple_token = writer_.BeginMessage(wire::kDataTuple);
      if (!EncodeElement(wire::kListValues, k, depth + 1)) {
        path_.push_back("<key " + Repr(k) + ">");
        return false;
      }
      if (!EncodeElement(wire::kListValues, v, depth + 1)) {
        path_.push_back("[" + Repr(k) + "]");
        return false;
      }
      writer_.EndMessage(tuple_token);
      writer_.EndMessage(element_token);
    }
    writer_.EndMessage(kvs_token);
  }
  writer_.EndMessage(token);
  return true;
}

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

// Per-thread output buffer, reused so that encoding a step allocates only the
// returned bytes object. A buffer grown by one huge value is given back.
std::string& EncodeBuffer() {
  constexpr size_t kMaxKeptCapacity = size_t{16} << 20;
  thread_local std::string buffer;
  if (buffer.capacity() > kMaxKeptCapacity) std::string().swap(buffer);
  buffer.clear();
  return buffer;
}

PyObject* FinishEncode(Encoder& encoder, bool ok, const std::string& buffer) {
  if (!ok) {
    encoder.RaiseError();
    return nullptr;
  }
  return PyBytes_FromStringAndSize(buffer.data(), static_cast<Py_ssize_t>(buffer.size()));
}

PyObject* Encode(PyObject* /*module*/, PyObject* value) {
  std::string& buffer = EncodeBuffer();
  Encoder encoder(&buffer);
  const bool ok = encoder.EncodeData(value, 0);
  return FinishEncode(encoder, ok, buffer);
}

// encode_step(timestep, action, custom_data) == encode((timestep, action, custom_data)).
PyObject* EncodeStep(PyObject* /*module*/, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError,
                    "encode_step() takes exactly 3 arguments (timestep, action, custom_data)");
    return nullptr;
  }
  Ref step(PyTuple_Pack(3, args[0], args[1], args[2]));
  if (!step) return nullptr;
  return Encode(nullptr, step.get());
}

}  // namespace

bool EncodeStepInto(PyObject* timestep, PyObject* action, PyObject* custom_data, std::string* out,
                    LengthHints* hints) {
  Ref step(PyTuple_Pack(3, timestep, action, custom_data));
  if (!step) return false;
  out->clear();
  Encoder encoder(out, hints);
  if (!encoder.EncodeData(step.get(), 0)) {
    encoder.RaiseError();
    return false;
  }
  return true;
}

namespace {

// ---------------------------------------------------------------------------
// Decoding.

// Wire-level structures of one decode, reused across decodes so that the
// steady state allocates nothing but the returned Python objects. Datums are
// leaves (DecodeDatum never recurses), so one DatumWire serves all of them;
// dicts and lists are decoded recursively and get one slot per depth
// (deques: growing them keeps references to shallower slots valid).
struct DecodeScratch {
  DatumWire datum;
  std::deque<DictWire> dicts;
  std::deque<std::vector<PyObject*>> items;
  bool in_use = false;

  // Drops capacity grown by an unusually large value.
  void Trim() {
    constexpr size_t kMaxKept = 4096;
    if (datum.string_values.capacity() > kMaxKept || datum.bytes_values.capacity() > kMaxKept ||
        datum.shape.capacity() > kMaxKept) {
      datum = DatumWire();
    }
    for (std::vector<PyObject*>& list : items) {
      if (list.capacity() > kMaxKept) std::vector<PyObject*>().swap(list);
    }
    for (DictWire& dict : dicts) {
      if (dict.entries.capacity() > kMaxKept) dict = DictWire();
    }
  }
};

// The calling thread's DecodeScratch, or a private one when it is already in
// use: decoding calls into Python (allocations can run the garbage collector
// and so finalizers), which may decode again on the same thread.
class ScratchLease {
 public:
  ScratchLease() {
    thread_local DecodeScratch shared;
    if (shared.in_use) {
      own_ = std::make_unique<DecodeScratch>();
      scratch_ = own_.get();
    } else {
      scratch_ = &shared;
    }
    scratch_->in_use = true;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  ~ScratchLease() {
    scratch_->Trim();
    scratch_->in_use = false;
  }
  DecodeScratch* get() const { return scratch_; }

 private:
  std::unique_ptr<DecodeScratch> own_;
  DecodeScratch* scratch_;
};

class Decoder {
 public:
  Decoder(const char* origin, DecodeScratch* scratch) : origin_(origin), scratch_(scratch) {}

  // Returns a new reference, or nullptr with a Python exception set.
  PyObject* DecodeData(const MessageParts& data, int depth);

 private:
  PyObject* SetStatus(const envlogger::Status& status) {
    PyErr_SetString(PyExc_ValueError, status.message().c_str());
    return nullptr;
  }
  PyObject* DecodeList(const MessageParts& list, int depth, bool as_tuple);
  PyObject* DecodeDict(const MessageParts& dict, int depth);
  PyObject* DecodeDatum(const MessageParts& datum);

  const char* origin_;
  DecodeScratch* scratch_;
};

PyObject* Decoder::DecodeData(const MessageParts& data, int depth) {
  if (depth > wire::kMaxDataDepth) {
    PyErr_Format(PyExc_ValueError,
                 "Malformed envlogger.Data wire bytes: nested deeper than %d levels",
                 wire::kMaxDataDepth);
    return nullptr;
  }
  DataWire parsed;
  const envlogger::Status status = ParseData(data, origin_, &parsed);
  if (!status.ok()) return SetStatus(status);
  switch (parsed.kind) {
    case DataKind::kDatum:
      return DecodeDatum(parsed.payload);
    case DataKind::kArray:
      return DecodeList(parsed.payload, depth, /*as_tuple=*/false);
    case DataKind::kTuple:
      return DecodeList(parsed.payload, depth, /*as_tuple=*/true);
    case DataKind::kDict:
      return DecodeDict(parsed.payload, depth);
    case DataKind::kNone:
      break;
  }
  Py_RETURN_NONE;
}

// Sentinel status meaning "a Python exception is already set".
envlogger::Status PythonError() { return envlogger::UnknownError("python error"); }

PyObject* Decoder::DecodeList(const MessageParts& list, int depth, bool as_tuple) {
  if (scratch_->items.size() <= static_cast<size_t>(depth)) scratch_->items.resize(depth + 1);
  std::vector<PyObject*>& items = scratch_->items[depth];
  items.clear();
  // Releases the items decoded so far unless they were handed to the result.
  struct Release {
    std::vector<PyObject*>* items;
    ~Release() {
      for (PyObject* item : *items) Py_DECREF(item);
      items->clear();
    }
  } release{&items};
  bool python_error = false;
  const envlogger::Status status = ForEachElement(list, origin_, [&](std::string_view element) {
    PyObject* item = DecodeData(MessageParts(element), depth + 1);
    if (item == nullptr) {
      python_error = true;
      return PythonError();
    }
    items.push_back(item);
    return envlogger::OkStatus();
  });
  if (python_error) return nullptr;
  if (!status.ok()) return SetStatus(status);
  const Py_ssize_t size = static_cast<Py_ssize_t>(items.size());
  PyObject* result = as_tuple ? PyTuple_New(size) : PyList_New(size);
  if (result == nullptr) return nullptr;
  for (Py_ssize_t i = 0; i < size; ++i) {
    if (as_tuple) {
      PyTuple_SET_ITEM(result, i, items[i]);
    } else {
      PyList_SET_ITEM(result, i, items[i]);
    }
  }
  items.clear();  // The result owns them now.
  return result;
}

PyObject* Decoder::DecodeDict(const MessageParts& dict, int depth) {
  if (scratch_->dicts.size() <= static_cast<size_t>(depth)) scratch_->dicts.resize(depth + 1);
  DictWire& parsed = scratch_->dicts[depth];
  const envlogger::Status status = ParseDict(dict, origin_, &parsed);
  if (!status.ok()) return SetStatus(status);
  Ref result(PyDict_New());
  if (!result) return nullptr;
  for (const DictWire::Entry& entry : parsed.entries) {
    Ref key(PyUnicode_DecodeUTF8(entry.key.data(), static_cast<Py_ssize_t>(entry.key.size()),
                                 "strict"));
    if (!key) return nullptr;
    Ref value(DecodeData(entry.value, depth + 1));
    if (!value || PyDict_SetItem(result.get(), key.get(), value.get()) < 0) return nullptr;
  }
  bool python_error = false;
  const envlogger::Status kvs_status =
      ForEachElement(parsed.kvs, origin_, [&](std::string_view element) {
        DataWire pair;
        RETURN_IF_ERROR(ParseData(MessageParts(element), origin_, &pair));
        std::vector<std::string_view> parts;
        if (pair.kind == DataKind::kTuple) {
          RETURN_IF_ERROR(ForEachElement(pair.payload, origin_, [&](std::string_view part) {
            parts.push_back(part);
            return envlogger::OkStatus();
          }));
        }
        if (parts.size() != 2) {
          return envlogger::InvalidArgumentError(
              "Malformed envlogger.Data: a Dict.kvs element is not a (key, value) tuple at byte " +
              std::to_string(element.data() - origin_));
        }
        Ref key(DecodeData(MessageParts(parts[0]), depth + 2));
        if (!key) {
          python_error = true;
          return PythonError();
        }
        Ref value(DecodeData(MessageParts(parts[1]), depth + 2));
        if (!value || PyDict_SetItem(result.get(), key.get(), value.get()) < 0) {
          python_error = true;
          return PythonError();
        }
        return envlogger::OkStatus();
      });
  if (python_error) return nullptr;
  if (!kvs_status.ok()) return SetStatus(kvs_status);
  return result.release();
}

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

PyObject* Decoder::DecodeDatum(const MessageParts& parts) {
  DatumWire& datum = scratch_->datum;
  datum.Clear();
  const envlogger::Status status = ParseDatum(parts, origin_, &datum);
  if (!status.ok()) return SetStatus(status);
  const bool scalar = datum.IsScalar();

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

  const struct {
    std::string_view bytes;
    Source source;
    size_t width;
  } packed[] = {{datum.float_values_buffer, Source::kFloatBuffer, 4},
                {datum.int8_values, Source::kInt8, 1},
                {datum.int16_values, Source::kInt16, 2},
                {datum.uint8_values, Source::kUint8, 1},
                {datum.uint16_values, Source::kUint16, 2}};
  if (!(scalar && source != Source::kNone)) {
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
        return nullptr;
      }
      source = field.source;
    }
  }
  if (!(scalar && source != Source::kNone)) {
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
        return nullptr;
      }
      source = Source::kBigint;
    }
  }
  if (source == Source::kNone) Py_RETURN_NONE;

  if (scalar) {
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
                                    static_cast<Py_ssize_t>(datum.string_values[0].size()),
                                    "strict");
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

  int type_num = NPY_OBJECT;
  size_t count = 0;
  switch (source) {
    case Source::kFloat:
      type_num = NPY_FLOAT32;
      count = CountFixed(datum.float_values, 4);
      break;
    case Source::kDouble:
      type_num = NPY_FLOAT64;
      count = CountFixed(datum.double_values, 8);
      break;
    case Source::kInt32:
      type_num = NPY_INT32;
      count = CountVarints(datum.int32_values);
      break;
    case Source::kInt64:
      type_num = NPY_INT64;
      count = CountVarints(datum.int64_values);
      break;
    case Source::kUint32:
      type_num = NPY_UINT32;
      count = CountVarints(datum.uint32_values);
      break;
    case Source::kUint64:
      type_num = NPY_UINT64;
      count = CountVarints(datum.uint64_values);
      break;
    case Source::kBool:
      type_num = NPY_BOOL;
      count = CountVarints(datum.bool_values);
      break;
    case Source::kFloatBuffer:
      type_num = NPY_FLOAT32;
      count = datum.float_values_buffer.size() / 4;
      break;
    case Source::kInt8:
      type_num = NPY_INT8;
      count = datum.int8_values.size();
      break;
    case Source::kUint8:
      type_num = NPY_UINT8;
      count = datum.uint8_values.size();
      break;
    case Source::kInt16:
      type_num = NPY_INT16;
      count = datum.int16_values.size() / 2;
      break;
    case Source::kUint16:
      type_num = NPY_UINT16;
      count = datum.uint16_values.size() / 2;
      break;
    case Source::kString:
      count = datum.string_values.size();
      break;
    case Source::kBytes:
      count = datum.bytes_values.size();
      break;
    case Source::kBigint:
    case Source::kNone:
      break;
  }

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
  void* out = PyArray_DATA(reinterpret_cast<PyArrayObject*>(array.get()));
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
    case Source::kUint8: {
      const std::string_view bytes = source == Source::kFloatBuffer ? datum.float_values_buffer
                                     : source == Source::kInt16     ? datum.int16_values
                                     : source == Source::kUint16    ? datum.uint16_values
                                     : source == Source::kInt8      ? datum.int8_values
                                                                    : datum.uint8_values;
      const size_t width = source == Source::kFloatBuffer                          ? 4
                           : source == Source::kInt16 || source == Source::kUint16 ? 2
                                                                                   : 1;
      auto* dest = static_cast<uint8_t*>(out);
      if (width == 1) {
        std::memcpy(dest, bytes.data(), count);
        break;
      }
      for (size_t i = 0; i < count; ++i) {
        for (size_t b = 0; b < width; ++b)
          dest[i * width + b] = static_cast<uint8_t>(bytes[i * width + width - 1 - b]);
      }
      break;
    }
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
        if (object == nullptr) return nullptr;
        Py_XSETREF(objects[i], object);
      }
      break;
    }
    case Source::kBigint:
    case Source::kNone:
      break;
  }
  if (direct) return array.release();
  PyArray_Dims shape = {dims.data(), static_cast<int>(dims.size())};
  return PyArray_Newshape(reinterpret_cast<PyArrayObject*>(array.get()), &shape, NPY_CORDER);
}

PyObject* Decode(PyObject* /*module*/, PyObject* data) {
  Py_buffer view;
  if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return nullptr;
  const std::string_view bytes(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  ScratchLease scratch;
  Decoder decoder(bytes.data(), scratch.get());
  PyObject* result = decoder.DecodeData(MessageParts(bytes), 0);
  PyBuffer_Release(&view);
  return result;
}

}  // namespace

namespace {

// A new instance of the tuple subclass `type` (a namedtuple) holding the
// `size` references `items`, which it steals; nullptr on failure (the items
// are then released).
PyObject* NewNamedTuple(PyTypeObject* type, PyObject* const* items, Py_ssize_t size) {
  PyObject* result = type->tp_alloc(type, size);
  if (result == nullptr) {
    for (Py_ssize_t i = 0; i < size; ++i) Py_DECREF(items[i]);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < size; ++i) PyTuple_SET_ITEM(result, i, items[i]);
  return result;
}

// Borrowed items of an exact list or tuple of `size` elements, else nullptr.
PyObject** ItemsOf(PyObject* sequence, Py_ssize_t size) {
  if (PyTuple_CheckExact(sequence) && PyTuple_GET_SIZE(sequence) == size) {
    return &PyTuple_GET_ITEM(sequence, 0);
  }
  if (PyList_CheckExact(sequence) && PyList_GET_SIZE(sequence) == size) {
    return PySequence_Fast_ITEMS(sequence);
  }
  return nullptr;
}

PyObject* NotAStep(const char* what) {
  PyErr_Format(PyExc_ValueError, "Not a step record: %s", what);
  return nullptr;
}

}  // namespace

PyObject* DecodeStepRecord(std::string_view record, const StepClasses& classes) {
  Ref step;
  {
    ScratchLease scratch;
    Decoder decoder(record.data(), scratch.get());
    step.reset(decoder.DecodeData(MessageParts(record), 0));
  }
  if (!step) return nullptr;
  PyObject** parts = ItemsOf(step.get(), 3);
  if (parts == nullptr) return NotAStep("not a (timestep, action, custom_data) sequence");
  PyObject** fields = ItemsOf(parts[0], 4);
  if (fields == nullptr) return NotAStep("its timestep is not a 4-element sequence");
  PyObject* step_type = PyDict_GetItemWithError(classes.step_types, fields[0]);  // Borrowed.
  if (step_type == nullptr) {
    return PyErr_Occurred() ? nullptr : NotAStep("unknown step type");
  }
  PyObject* timestep_items[4] = {step_type, fields[1], fields[2], fields[3]};
  for (PyObject* item : timestep_items) Py_INCREF(item);
  PyObject* step_items[3] = {NewNamedTuple(classes.timestep, timestep_items, 4), parts[1],
                             parts[2]};
  if (step_items[0] == nullptr) return nullptr;
  Py_INCREF(parts[1]);
  Py_INCREF(parts[2]);
  return NewNamedTuple(classes.step_data, step_items, 3);
}

namespace {

PyMethodDef kMethods[] = {
    {"encode", reinterpret_cast<PyCFunction>(Encode), METH_O,
     "encode(value) -> bytes: the serialized envlogger.Data of a Python value."},
    {"encode_step", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(EncodeStep)),
     METH_FASTCALL,
     "encode_step(timestep, action, custom_data) -> bytes: encode((timestep, action, "
     "custom_data))."},
    {"decode", reinterpret_cast<PyCFunction>(Decode), METH_O,
     "decode(data: bytes-like) -> value: decodes serialized envlogger.Data."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void RegisterCodec(py::module_ m) {
  if (_import_array() < 0) throw py::error_already_set();
  for (PyMethodDef* def = kMethods; def->ml_name != nullptr; ++def) {
    PyObject* function = PyCFunction_NewEx(def, nullptr, m.ptr());
    if (function == nullptr) throw py::error_already_set();
    m.add_object(def->ml_name, py::reinterpret_steal<py::object>(function));
  }
}

}  // namespace python
}  // namespace envlogger
