// Internals shared by the files of envlogger._native.codec (see
// codec_bindings.cc for the module's contract): reference helpers, the
// numpy C API set-up, and the entry points each file provides to the others.
//
// numpy's C API table is shared by all these files under one name
// (PY_ARRAY_UNIQUE_SYMBOL); codec_bindings.cc defines it and fills it
// (import_array) by defining ENVLOGGER_CODEC_IMPORT_ARRAY before including
// this header, every other file only refers to it (NO_IMPORT_ARRAY).

#ifndef ENVLOGGER_CONVERTERS_PYTHON_CODEC_INTERNAL_H_
#define ENVLOGGER_CONVERTERS_PYTHON_CODEC_INTERNAL_H_

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL envlogger_codec_PyArray_API
#ifndef ENVLOGGER_CODEC_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <pybind11/pybind11.h>

#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/base/status.h"
#include "envlogger/converters/data_wire.h"

namespace envlogger {
namespace python {
namespace codec_internal {

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

inline std::string TypeName(PyObject* value) { return Py_TYPE(value)->tp_name; }

// repr(value) or str(value), never failing.
inline std::string Text(PyObject* value, bool use_repr) {
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
inline std::string Repr(PyObject* value) { return Text(value, true); }
inline std::string Str(PyObject* value) { return Text(value, false); }

inline uint32_t QuietNan(uint32_t bits) {
  const bool nan = (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0;
  return nan ? bits | 0x00400000u : bits;
}

// Sets ValueError(status.message()) and returns nullptr.
inline PyObject* RaiseValueError(const Status& status) {
  PyErr_SetString(PyExc_ValueError, status.message().c_str());
  return nullptr;
}

// codec_encode.cc: encode(value) -> bytes (METH_O).
PyObject* Encode(PyObject* module, PyObject* value);

// codec_decode.cc: decode(data) -> value (METH_O), and the same for bytes
// already in hand. New reference, or nullptr with a Python exception set.
PyObject* Decode(PyObject* module, PyObject* data);
PyObject* DecodeValue(std::string_view bytes);

// codec_decode_datum.cc: the Python value of the Datum message `parts`
// (offsets in errors are relative to `origin`), parsed into `scratch`.
PyObject* DecodeDatum(const MessageParts& parts, const char* origin, DatumWire* scratch);

// codec_step_helpers.cc: encode_step(timestep, action, custom_data) (METH_FASTCALL).
PyObject* EncodeStep(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

}  // namespace codec_internal
}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_CONVERTERS_PYTHON_CODEC_INTERNAL_H_
