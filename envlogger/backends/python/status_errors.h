// Typed Python exceptions for a failed envlogger::Status, shared by every
// binding of the dataset layer (riegeli_dataset_bindings.cc,
// riegeli_dataset_reader_bindings.cc, vector_recorder_bindings.cc).
//
// The classes themselves are Python (envlogger/backends/python/
// dataset_errors.py) and are handed in once through
// envlogger._native.dataset_io._set_error_classes. Until then, and for a code
// without a class, RuntimeError is raised, which every class subclasses.

#ifndef ENVLOGGER_BACKENDS_PYTHON_STATUS_ERRORS_H_
#define ENVLOGGER_BACKENDS_PYTHON_STATUS_ERRORS_H_

#include <pybind11/pybind11.h>

#include "envlogger/base/status.h"

namespace envlogger {
namespace python {

// Replaces the {code: class} and {reason: class} tables. Needs the GIL.
void SetStatusErrorClasses(pybind11::dict by_code, pybind11::dict by_reason);

// Raises "<CODE>: <message>" as the class registered for the status's reason,
// else for its code, else RuntimeError. `status` must not be OK. Needs the GIL.
[[noreturn]] void RaiseStatus(const Status& status);

// RaiseStatus(status) unless it is OK. Needs the GIL.
inline void CheckStatus(const Status& status) {
  if (!status.ok()) RaiseStatus(status);
}

}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_PYTHON_STATUS_ERRORS_H_
