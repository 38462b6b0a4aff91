// Step-shaped helpers of envlogger._native.codec: encode_step (one step
// tuple, as the writers store it) and DecodeStepRecord (a stored step record
// straight into envlogger's step namedtuples, envlogger/python/decode_step.h).

#include <string_view>

#include "envlogger/converters/python/codec_internal.h"
#include "envlogger/python/decode_step.h"

namespace envlogger {
namespace python {
namespace codec_internal {

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

}  // namespace codec_internal

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
  codec_internal::Ref step(codec_internal::DecodeValue(record));
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

}  // namespace python
}  // namespace envlogger
