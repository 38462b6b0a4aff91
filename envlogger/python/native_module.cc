// The single compiled extension module, envlogger._native.
//
// Every C++ component registers its bindings into its own submodule here;
// the Python packages re-export them under upstream's module names (for
// example envlogger.backends.python.riegeli_dataset_writer). One shared
// object keeps the core compiled once and the import cheap.

#include <pybind11/pybind11.h>

#include "envlogger/python/register.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "envlogger's C++ core: Riegeli/records, the native codec and the dataset backend.";
  envlogger::python::RegisterRiegeli(m.def_submodule("riegeli", "Riegeli/records files."));
  envlogger::python::RegisterCodec(
      m.def_submodule("codec", "Python values <-> envlogger.Data wire bytes."));
  pybind11::module_ dataset_io = m.def_submodule("dataset_io", "The Riegeli dataset backend.");
  envlogger::python::RegisterDatasetIo(dataset_io);
  envlogger::python::RegisterDatasetReader(dataset_io);
  envlogger::python::RegisterVectorRecording(
      m.def_submodule("vector_recording", "Vector environments, one dataset per sub-environment."));
  envlogger::python::RegisterStepColumns(
      m.def_submodule("step_columns", "Steps of a dataset decoded straight into numpy arrays."));
  envlogger::python::RegisterShardRecovery(m.def_submodule(
      "shard_recovery", "Where episodes start in a steps file without a full index."));
}
