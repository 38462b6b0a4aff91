// Encoding a step straight into a caller's buffer: the native codec's entry
// point for the dataset writer bindings, so that a recorded step is
// serialized once, into memory the writer recycles, with no intermediate
// bytes object. Defined in envlogger/converters/python/codec_encode.cc.

#ifndef ENVLOGGER_PYTHON_ENCODE_STEP_H_
#define ENVLOGGER_PYTHON_ENCODE_STEP_H_

#include <Python.h>

#include <string>

#include "envlogger/converters/data_wire.h"

namespace envlogger {
namespace python {

// Replaces the contents of `*out` with the serialized envlogger.Data of the
// tuple (timestep, action, custom_data), the bytes codec.encode_step()
// returns, keeping `*out`'s capacity. On failure returns false with the
// Python exception encode_step() raises set (TypeError, ValueError,
// RecursionError), and `*out` holds unspecified bytes. Needs the GIL.
// `hints` (optional, see data_wire.h) carries the nested lengths of one step
// to the next, so that a large array in a step is copied once.
bool EncodeStepInto(PyObject* timestep, PyObject* action, PyObject* custom_data, std::string* out,
                    LengthHints* hints = nullptr);

// The dm_env step type and discount of a Gymnasium step, the one place of
// this rule: terminated -> LAST with discount 0.0; truncated (and not
// terminated) -> LAST with discount 1.0; otherwise MID with discount 1.0.
enum GymStepType : int { kGymFirst = 0, kGymMid = 1, kGymLast = 2 };
struct GymStepKind {
  GymStepType step_type;
  double discount;
};
inline GymStepKind GymStepKindOf(bool terminated, bool truncated) {
  if (terminated) return {kGymLast, 0.0};
  if (truncated) return {kGymLast, 1.0};
  return {kGymMid, 1.0};
}

// EncodeStepInto() of the step (TimeStep(step_type, reward, discount,
// observation), action, custom_data) with int step_type and float reward and
// discount, without building those Python objects: the same bytes. Same
// contract as EncodeStepInto().
bool EncodeStepFieldsInto(int step_type, double reward, double discount, PyObject* observation,
                          PyObject* action, PyObject* custom_data, std::string* out,
                          LengthHints* hints = nullptr);

}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_PYTHON_ENCODE_STEP_H_
