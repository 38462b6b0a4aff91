// The C++ reader behind a Python envlogger._native.dataset_io.RiegeliDatasetReader,
// for other bindings that read a dataset natively (step_columns_bindings.cc).

#ifndef ENVLOGGER_BACKENDS_PYTHON_NATIVE_DATASET_READER_H_
#define ENVLOGGER_BACKENDS_PYTHON_NATIVE_DATASET_READER_H_

#include <pybind11/pybind11.h>

#include <mutex>

#include "envlogger/backends/cc/riegeli_dataset_reader.h"

namespace envlogger {
namespace python {

// Use `reader` only while holding `mutex`, taken after releasing the GIL (the
// binding's own methods do the same, so that calls from several Python
// threads are serialized and cannot deadlock). Both live as long as the
// Python object, which the caller keeps referenced.
struct NativeDatasetReader {
  RiegeliDatasetReader* reader;
  std::mutex* mutex;
};

// Raises TypeError unless `reader` is a dataset_io.RiegeliDatasetReader.
// Needs the GIL. Defined in riegeli_dataset_bindings.cc.
NativeDatasetReader GetNativeDatasetReader(pybind11::handle reader);

}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_PYTHON_NATIVE_DATASET_READER_H_
