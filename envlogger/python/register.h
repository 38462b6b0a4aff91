// Registration entry points of the pybind11 bindings, one per component.
// Each is defined beside its component (in a python/ directory) and called
// from native_module.cc with a fresh submodule of envlogger._native.

#ifndef ENVLOGGER_PYTHON_REGISTER_H_
#define ENVLOGGER_PYTHON_REGISTER_H_

#include <pybind11/pybind11.h>

namespace envlogger {
namespace python {

// envlogger/riegeli/python/: RecordWriter, RecordReader, RecordPosition, ...
void RegisterRiegeli(pybind11::module_ m);

// envlogger/converters/python/codec_bindings.cc (the codec_*.cc files beside
// it implement them): encode, encode_step, decode (Python values <->
// envlogger.Data wire bytes).
void RegisterCodec(pybind11::module_ m);

// envlogger/backends/python/riegeli_dataset_bindings.cc: RiegeliDatasetWriter,
// AsyncRiegeliDatasetWriter, the dataset's file names.
void RegisterDatasetIo(pybind11::module_ m);

// envlogger/backends/python/riegeli_dataset_reader_bindings.cc:
// RiegeliDatasetReader (serialized records and decoded steps), into the same
// submodule as RegisterDatasetIo.
void RegisterDatasetReader(pybind11::module_ m);

// envlogger/backends/python/vector_recorder_bindings.cc: VectorStepRecorder
// (a Gymnasium vector env's steps, one dataset per sub-environment).
void RegisterVectorRecording(pybind11::module_ m);

// envlogger/backends/python/step_columns_bindings.cc: read_columns (steps
// decoded straight into numpy arrays).
void RegisterStepColumns(pybind11::module_ m);

// envlogger/backends/python/shard_recovery_bindings.cc: step_type_of,
// episode_starts (the episode-boundary rule of shard_index_recovery.h).
void RegisterShardRecovery(pybind11::module_ m);

}  // namespace python
}  // namespace envlogger

#endif  // ENVLOGGER_PYTHON_REGISTER_H_
