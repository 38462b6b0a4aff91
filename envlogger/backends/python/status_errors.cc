// See status_errors.h.

#include "envlogger/backends/python/status_errors.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

// Set by SetStatusErrorClasses. Leaked on purpose: they must outlive every
// binding object, including during interpreter shutdown.
py::dict* classes_by_code = nullptr;
py::dict* classes_by_reason = nullptr;

}  // namespace

void SetStatusErrorClasses(py::dict by_code, py::dict by_reason) {
  if (classes_by_code == nullptr) classes_by_code = new py::dict();
  if (classes_by_reason == nullptr) classes_by_reason = new py::dict();
  *classes_by_code = py::dict(by_code);
  *classes_by_reason = py::dict(by_reason);
}

[[noreturn]] void RaiseStatus(const Status& status) {
  PyObject* type = PyExc_RuntimeError;
  const py::str reason(status.reason());
  const py::int_ code(static_cast<int>(status.code()));
  if (classes_by_reason != nullptr && !status.reason().empty() &&
      classes_by_reason->contains(reason)) {
    type = (*classes_by_reason)[reason].ptr();
  } else if (classes_by_code != nullptr && classes_by_code->contains(code)) {
    type = (*classes_by_code)[code].ptr();
  }
  PyErr_SetString(type, status.ToString().c_str());
  throw py::error_already_set();
}

}  // namespace python
}  // namespace envlogger
