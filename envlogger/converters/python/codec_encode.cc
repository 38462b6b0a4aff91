// envlogger._native.codec's encoder: Python values -> envlogger.Data wire
// bytes (the rules are listed in codec_bindings.cc), and EncodeStepInto and
// EncodeStepFieldsInto for the dataset writers (envlogger/python/encode_step.h).
// The containers and steps are here; arrays and scalars in
// codec_encode_values.cc.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "envlogger/converters/python/codec_encoder.h"
#include "envlogger/converters/python/codec_internal.h"
#include "envlogger/python/encode_step.h"

namespace envlogger {
namespace python {
namespace codec_internal {
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

bool Encoder::EncodeStepFields(int step_type, double reward, double discount, PyObject* observation,
                               PyObject* action, PyObject* custom_data) {
  // The messages EncodeData() begins for the Python tuples, in its order
  // (LengthHints count on it), at its depths: the step is depth 0.
  const size_t step = writer_.BeginMessage(wire::kDataTuple);
  const size_t timestep_element = writer_.BeginMessage(wire::kListValues);
  const size_t timestep = writer_.BeginMessage(wire::kDataTuple);
  const size_t step_type_element = writer_.BeginMessage(wire::kListValues);
  EncodeInt64(step_type);
  writer_.EndMessage(step_type_element);
  const size_t reward_element = writer_.BeginMessage(wire::kListValues);
  EncodeDouble(reward);
  writer_.EndMessage(reward_element);
  const size_t discount_element = writer_.BeginMessage(wire::kListValues);
  EncodeDouble(discount);
  writer_.EndMessage(discount_element);
  if (!EncodeElement(wire::kListValues, observation, 2)) {
    path_.push_back("[3]");
    path_.push_back("[0]");
    return false;
  }
  writer_.EndMessage(timestep);
  writer_.EndMessage(timestep_element);
  if (!EncodeElement(wire::kListValues, action, 1)) {
    path_.push_back("[1]");
    return false;
  }
  if (!EncodeElement(wire::kListValues, custom_data, 1)) {
    path_.push_back("[2]");
    return false;
  }
  writer_.EndMessage(step);
  return true;
}

namespace {

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

}  // namespace

PyObject* Encode(PyObject* /*module*/, PyObject* value) {
  std::string& buffer = EncodeBuffer();
  Encoder encoder(&buffer);
  const bool ok = encoder.EncodeData(value, 0);
  return FinishEncode(encoder, ok, buffer);
}

}  // namespace codec_internal

bool EncodeStepFieldsInto(int step_type, double reward, double discount, PyObject* observation,
                          PyObject* action, PyObject* custom_data, std::string* out,
                          LengthHints* hints) {
  out->clear();
  codec_internal::Encoder encoder(out, hints);
  if (!encoder.EncodeStepFields(step_type, reward, discount, observation, action, custom_data)) {
    encoder.RaiseError();
    return false;
  }
  return true;
}

bool EncodeStepInto(PyObject* timestep, PyObject* action, PyObject* custom_data, std::string* out,
                    LengthHints* hints) {
  codec_internal::Ref step(PyTuple_Pack(3, timestep, action, custom_data));
  if (!step) return false;
  out->clear();
  codec_internal::Encoder encoder(out, hints);
  if (!encoder.EncodeData(step.get(), 0)) {
    encoder.RaiseError();
    return false;
  }
  return true;
}

}  // namespace python
}  // namespace envlogger
