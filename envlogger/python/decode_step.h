// Decoding a step record straight into the reader's StepData: the native
// codec's entry point for the dataset reader bindings, so that a batch of
// steps is fetched and decoded in one call. Defined in
// envlogger/converters/python/codec_step_helpers.cc.

#ifndef ENVLOGGER_PYTHON_DECODE_STEP_H_
#define ENVLOGGER_PYTHON_DECODE_STEP_H_

#include <Python.h>

#include <string_view>

namespace envlogger {
namespace python {

// What a step record becomes:
// step_data(timestep(step_types[step_type], reward, discount, observation),
//           action, custom_data), the classes being namedtuples (tuple
// subclasses with exactly these fields, filled like tuple.__new__ does).
struct StepClasses {
  PyTypeObject* step_data = nullptr;  // 3 fields.
  PyTypeObject* timestep = nullptr;   // 4 fields.
  PyObject* step_types = nullptr;     // dict: stored step type -> StepType member.
};

// Decodes a serialized (timestep, action, custom_data) record, the bytes
// codec.encode_step() returns, into a new StepData reference. On failure
// returns nullptr with a Python exception set: the ValueError/TypeError of
// codec.decode() for malformed bytes, or ValueError if the record is not a
// (4-tuple, action, custom_data) triple or its step type is not in
// `step_types`. Needs the GIL.
PyObject* DecodeStepRecord(std::string_view record, const StepClasses& classes);

}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_PYTHON_DECODE_STEP_H_
