// The encoder of envlogger._native.codec (Python values -> envlogger.Data
// wire bytes), shared by codec_encode.cc (containers, steps, the entry
// points) and codec_encode_values.cc (numpy arrays and scalars).

#ifndef ENVLOGGER_CONVERTERS_PYTHON_CODEC_ENCODER_H_
#define ENVLOGGER_CONVERTERS_PYTHON_CODEC_ENCODER_H_

#include <string>
#include <utility>
#include <vector>

#include "envlogger/converters/python/codec_internal.h"

namespace envlogger {
namespace python {
namespace codec_internal {

class Encoder {
 public:
  explicit Encoder(std::string* out, LengthHints* hints = nullptr) : writer_(out, hints) {}

  // Appends the fields of the Data message encoding `value`. On failure
  // returns false and leaves the error in error_type_/error_message_/path_.
  bool EncodeData(PyObject* value, int depth);

  // EncodeData() of the tuple ((step_type, reward, discount, observation),
  // action, custom_data) with an int step_type and float reward and discount.
  bool EncodeStepFields(int step_type, double reward, double discount, PyObject* observation,
                        PyObject* action, PyObject* custom_data);

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
  // The Data of a Python float and of a Python int in int64's range.
  void EncodeDouble(double value);
  void EncodeInt64(int64_t value);
  // Datum.shape = {dim {size: kScalarDimSize}}: the same bytes for every
  // scalar.
  void ScalarShape() { writer_.Bytes(wire::kDatumShape, wire::kScalarShapePayload); }

  WireWriter writer_;
  PyObject* error_type_ = nullptr;
  std::string error_message_;
  std::vector<std::string> path_;  // Innermost component first.
  std::string scratch_;
};

}  // namespace codec_internal
}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_CONVERTERS_PYTHON_CODEC_ENCODER_H_
