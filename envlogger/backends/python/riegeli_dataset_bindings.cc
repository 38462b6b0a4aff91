// pybind11 bindings of the Riegeli dataset backend's writers:
// envlogger._native.dataset_io.{RiegeliDatasetWriter, AsyncRiegeliDatasetWriter}
// and the file-name constants; the reader is in
// riegeli_dataset_reader_bindings.cc.
//
// These take and return serialized records (bytes); the Python modules
// riegeli_dataset_writer.py / riegeli_dataset_reader.py beside this file add
// protobuf conversion and upstream's class shapes.
//
// Contracts:
// * A failed Status is raised as "<CODE>: <message>", the message naming the
//   path (and position for record errors), as upstream, in the RuntimeError
//   subclass of its code (status_errors.h). No C++ exception escapes.
// * The GIL is released around all file I/O and (de)compression. Objects
//   that are not thread-safe in C++ have a mutex, always taken after the GIL
//   is released, so that use from several Python threads is serialized and
//   cannot deadlock.
// * Records passed in may be any bytes-like object; they are copied (or, for
//   immutable bytes, read in place) before the GIL is released.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "envlogger/backends/cc/async_dataset_writer.h"
#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"
#include "envlogger/backends/cc/riegeli_dataset_writer.h"
#include "envlogger/backends/python/status_errors.h"
#include "envlogger/python/encode_step.h"
#include "envlogger/python/register.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

using envlogger::Status;
using envlogger::StatusCode;
using envlogger::StatusOr;

// A record handed in from Python. Immutable bytes are used in place (the
// caller's reference keeps them alive for the call); anything else
// supporting the buffer protocol is copied, since it could change while the
// GIL is released. Must be created with the GIL held.
class Record {
 public:
  explicit Record(py::handle object) {
    if (PyBytes_Check(object.ptr())) {
      view_ = std::string_view(PyBytes_AS_STRING(object.ptr()),
                               static_cast<size_t>(PyBytes_GET_SIZE(object.ptr())));
      return;
    }
    Py_buffer buffer;
    if (PyObject_GetBuffer(object.ptr(), &buffer, PyBUF_C_CONTIGUOUS) != 0) {
      PyErr_Clear();
      throw py::type_error("Expected a bytes-like object (a serialized record), got " +
                           std::string(py::str(py::type::of(object).attr("__name__"))));
    }
    copy_.assign(static_cast<const char*>(buffer.buf), static_cast<size_t>(buffer.len));
    PyBuffer_Release(&buffer);
    view_ = copy_;
  }
  std::string_view view() const { return view_; }
  // An owned copy (moves the copy out if one was made).
  std::string Take() { return copy_.empty() ? std::string(view_) : std::move(copy_); }

 private:
  std::string copy_;
  std::string_view view_;
};

// RiegeliDatasetWriter behind a mutex.
class PyDatasetWriter {
 public:
  void Init(const std::string& data_dir, py::handle metadata, int64_t max_episodes_per_shard,
            const std::string& writer_options) {
    Record record(metadata);
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = writer_.Init(data_dir, record.view(), max_episodes_per_shard, writer_options);
    }
    CheckStatus(status);
  }

  // False when the step is rejected (no shard open: the first step must
  // start an episode, or the writer is closed), as upstream; raises on I/O
  // errors.
  bool AddStep(py::handle data, bool is_new_episode) {
    Record record(data);
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = writer_.AddStep(record.view(), is_new_episode);
    }
    if (status.code() == StatusCode::kFailedPrecondition) return false;
    CheckStatus(status);
    return true;
  }

  void SetEpisodeMetadata(py::handle data) {
    Record record(data);
    std::string owned = record.Take();
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    writer_.SetEpisodeMetadata(std::move(owned));
  }

  void Flush() {
    Locked([](RiegeliDatasetWriter& w) { return w.Flush(); });
  }
  void Close() {
    Locked([](RiegeliDatasetWriter& w) { return w.Close(); });
  }

  std::string DataDir() {
    std::lock_guard<std::mutex> lock(mutex_);
    return writer_.DataDir();
  }
  std::string WriterOptions() {
    std::lock_guard<std::mutex> lock(mutex_);
    return writer_.WriterOptions();
  }
  int64_t MaxEpisodesPerShard() {
    std::lock_guard<std::mutex> lock(mutex_);
    return writer_.MaxEpisodesPerShard();
  }
  int64_t EpisodeCounter() {
    std::lock_guard<std::mutex> lock(mutex_);
    return writer_.EpisodeCounter();
  }

 private:
  template <typename Fn>
  void Locked(Fn fn) {
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = fn(writer_);
    }
    CheckStatus(status);
  }

  std::mutex mutex_;
  RiegeliDatasetWriter writer_;
};

// AsyncDatasetWriter is thread-safe itself; blocking calls (backpressure,
// barriers) release the GIL.
class PyAsyncDatasetWriter {
 public:
  PyAsyncDatasetWriter(const std::string& data_dir, py::handle metadata,
                       int64_t max_episodes_per_shard, const std::string& writer_options,
                       size_t max_queued_bytes, double flush_interval_seconds) {
    Record record(metadata);
    StatusOr<std::unique_ptr<AsyncDatasetWriter>> writer = [&] {
      py::gil_scoped_release release;
      return AsyncDatasetWriter::Create(
          data_dir, record.view(), max_episodes_per_shard, writer_options, max_queued_bytes,
          std::chrono::milliseconds(
              static_cast<int64_t>(std::max(0.0, flush_interval_seconds) * 1000)));
    }();
    CheckStatus(writer.status());
    writer_ = std::move(writer).value();
  }

  ~PyAsyncDatasetWriter() {
    // Closing waits for the writer thread; never hold the GIL meanwhile.
    py::gil_scoped_release release;
    writer_.reset();
  }

  void AddStep(py::handle data, bool is_new_episode) {
    Record record(data);
    std::string owned = record.Take();
    Status status;
    {
      py::gil_scoped_release release;
      status = writer_->AddStep(std::move(owned), is_new_episode);
    }
    CheckStatus(status);
  }

  // Serializes (timestep, action, custom_data) like codec.encode_step()
  // straight into a buffer recycled by the writer thread and queues it: one
  // copy of the data, no allocation per step in the steady state. Encoding
  // errors are raised as encode_step() raises them and queue nothing.
  void RecordStep(py::handle timestep, py::handle action, py::handle custom_data,
                  bool is_new_episode) {
    EncodeAndQueue(
        [&](std::string* buffer, LengthHints* hints) {
          return EncodeStepInto(timestep.ptr(), action.ptr(), custom_data.ptr(), buffer, hints);
        },
        is_new_episode);
  }

  // Records a Gymnasium step() `result` (observation, reward, terminated,
  // truncated, info) and its `action` as RecordStep() records
  // (TimeStep(step_type, float(reward), discount, observation), action, None)
  // with GymStepKindOf(terminated, truncated): the same bytes, without
  // building the TimeStep. Returns whether the step is LAST. Raises
  // TypeError, having queued nothing, if `result` is not a tuple of 5 or the
  // step cannot be encoded (float(reward)'s own error if that fails).
  bool RecordGymStep(py::handle result, py::handle action) {
    PyObject* items = result.ptr();
    if (!PyTuple_Check(items) || PyTuple_GET_SIZE(items) != 5) {
      throw py::type_error("A Gymnasium step() result must be a tuple of 5, not " +
                           std::string(Py_TYPE(items)->tp_name));
    }
    PyObject* reward_object = PyTuple_GET_ITEM(items, 1);
    double reward;
    if (PyFloat_CheckExact(reward_object)) {
      reward = PyFloat_AS_DOUBLE(reward_object);
    } else {
      py::object as_float = py::reinterpret_steal<py::object>(PyNumber_Float(reward_object));
      if (!as_float) throw py::error_already_set();
      reward = PyFloat_AS_DOUBLE(as_float.ptr());
    }
    const int terminated = PyObject_IsTrue(PyTuple_GET_ITEM(items, 2));
    if (terminated < 0) throw py::error_already_set();
    const int truncated = terminated ? 0 : PyObject_IsTrue(PyTuple_GET_ITEM(items, 3));
    if (truncated < 0) throw py::error_already_set();
    const GymStepKind kind = GymStepKindOf(terminated != 0, truncated != 0);
    PyObject* observation = PyTuple_GET_ITEM(items, 0);
    EncodeAndQueue(
        [&](std::string* buffer, LengthHints* hints) {
          return EncodeStepFieldsInto(kind.step_type, reward, kind.discount, observation,
                                      action.ptr(), Py_None, buffer, hints);
        },
        /*is_new_episode=*/false);
    return kind.step_type == kGymLast;
  }

  void SetEpisodeMetadata(py::handle data) {
    Record record(data);
    std::string owned = record.Take();
    Status status;
    {
      py::gil_scoped_release release;
      status = writer_->SetEpisodeMetadata(std::move(owned));
    }
    CheckStatus(status);
  }

  void Flush() {
    Status status;
    {
      py::gil_scoped_release release;
      status = writer_->Flush();
    }
    CheckStatus(status);
  }

  void Close() {
    Status status;
    {
      py::gil_scoped_release release;
      status = writer_->Close();
    }
    CheckStatus(status);
  }

  const AsyncDatasetWriter& writer() const { return *writer_; }

 private:
  // Encodes a step with `encode(std::string* buffer, LengthHints* hints)`
  // (false with a Python exception set on failure) into a recycled buffer
  // and queues it.
  template <typename Encode>
  void EncodeAndQueue(Encode encode, bool is_new_episode) {
    // The buffer AddStep() handed back last time (taken from the pool in the
    // same critical section as the enqueue), else a fresh one.
    std::string buffer = std::move(spare_);
    spare_ = std::string();
    // Taken for this call like the buffer: encoding can run Python code
    // (numpy's __array_finalize__, a finalizer during a garbage collection)
    // that records on this writer, on this thread or another; that nested
    // call then encodes without hints.
    LengthHints hints = std::move(length_hints_);
    // Steps tend to have the same size: with no recycled buffer at hand (the
    // thread is behind), one allocation instead of growing step by step.
    if (buffer.capacity() < last_step_size_) buffer.reserve(last_step_size_);
    const bool encoded = encode(&buffer, &hints);
    length_hints_ = std::move(hints);
    if (!encoded) throw py::error_already_set();
    last_step_size_ = buffer.size();
    Status status;
    std::string next;
    // Queuing takes a brief lock that the writer thread holds only briefly
    // and without the GIL: the GIL is released only to wait for room.
    if (!writer_->TryAddStep(buffer, is_new_episode, &next, &status)) {
      py::gil_scoped_release release;
      status = writer_->AddStep(std::move(buffer), is_new_episode, &next);
    }
    // Back under the GIL, which guards spare_ against other Python threads.
    spare_ = std::move(next);
    CheckStatus(status);
  }

  std::unique_ptr<AsyncDatasetWriter> writer_;
  // RecordStep() state, guarded by the GIL: the size of the last step
  // encoded, a recycled buffer for the next, and the last step's nested
  // message lengths.
  size_t last_step_size_ = 0;
  std::string spare_;
  LengthHints length_hints_;
};

}  // namespace

void RegisterDatasetIo(py::module_ m) {
  // The one definition of the dataset's file names and default options.
  m.attr("DEFAULT_WRITER_OPTIONS") = kDefaultRiegeliWriterOptions;
  m.attr("METADATA_FILENAME") = internal::kMetadataFilename;
  m.attr("STEPS_FILENAME") = internal::kStepsFilename;
  m.attr("STEP_OFFSETS_FILENAME") = internal::kStepOffsetsFilename;
  m.attr("EPISODE_METADATA_FILENAME") = internal::kEpisodeMetadataFilename;
  m.attr("EPISODE_INDEX_FILENAME") = internal::kEpisodeIndexFilename;
  m.def(
      "gym_step_kind",
      [](bool terminated, bool truncated) {
        const GymStepKind kind = GymStepKindOf(terminated, truncated);
        return py::make_tuple(static_cast<int>(kind.step_type), kind.discount);
      },
      py::arg("terminated"), py::arg("truncated"),
      "(step_type, discount) of a Gymnasium step: the rule of encode_step.h's GymStepKindOf.");
  m.def("_set_error_classes", &SetStatusErrorClasses, py::arg("by_code"), py::arg("by_reason"),
        "Sets the exception classes raised for each status code and each status reason.");

  py::class_<PyDatasetWriter>(
      m, "RiegeliDatasetWriter",
      "Writes a Riegeli dataset (serialized records); see riegeli_dataset_writer.h.")
      .def(py::init<>())
      .def("init", &PyDatasetWriter::Init, py::arg("data_dir"), py::arg("metadata") = py::bytes(),
           py::arg("max_episodes_per_shard") = 0,
           py::arg("writer_options") = kDefaultRiegeliWriterOptions)
      .def("add_step", &PyDatasetWriter::AddStep, py::arg("data"),
           py::arg("is_new_episode") = false)
      .def("set_episode_metadata", &PyDatasetWriter::SetEpisodeMetadata, py::arg("data"))
      .def("flush", &PyDatasetWriter::Flush)
      .def("close", &PyDatasetWriter::Close)
      .def("data_dir", &PyDatasetWriter::DataDir)
      .def("writer_options", &PyDatasetWriter::WriterOptions)
      .def("max_episodes_per_shard", &PyDatasetWriter::MaxEpisodesPerShard)
      .def("episode_counter", &PyDatasetWriter::EpisodeCounter);

  py::class_<PyAsyncDatasetWriter>(
      m, "AsyncRiegeliDatasetWriter",
      "Writes a Riegeli dataset on a background thread; see async_dataset_writer.h.")
      .def(py::init<const std::string&, py::handle, int64_t, const std::string&, size_t, double>(),
           py::arg("data_dir"), py::arg("metadata") = py::bytes(),
           py::arg("max_episodes_per_shard") = 0,
           py::arg("writer_options") = kDefaultRiegeliWriterOptions,
           py::arg("max_queued_bytes") = AsyncDatasetWriter::kDefaultMaxQueuedBytes,
           py::arg("flush_interval_seconds") =
               std::chrono::duration<double>(AsyncDatasetWriter::kDefaultFlushInterval).count())
      .def("add_step", &PyAsyncDatasetWriter::AddStep, py::arg("data"),
           py::arg("is_new_episode") = false)
      .def("record_step", &PyAsyncDatasetWriter::RecordStep, py::arg("timestep"), py::arg("action"),
           py::arg("custom_data"), py::arg("is_new_episode") = false)
      .def("record_gym_step", &PyAsyncDatasetWriter::RecordGymStep, py::arg("result"),
           py::arg("action"))
      .def("set_episode_metadata", &PyAsyncDatasetWriter::SetEpisodeMetadata, py::arg("data"))
      .def("flush", &PyAsyncDatasetWriter::Flush)
      .def("close", &PyAsyncDatasetWriter::Close)
      .def("data_dir", [](const PyAsyncDatasetWriter& w) { return w.writer().DataDir(); })
      .def("writer_options",
           [](const PyAsyncDatasetWriter& w) { return w.writer().WriterOptions(); })
      .def("max_episodes_per_shard",
           [](const PyAsyncDatasetWriter& w) { return w.writer().MaxEpisodesPerShard(); })
      .def("max_queued_bytes",
           [](const PyAsyncDatasetWriter& w) { return w.writer().MaxQueuedBytes(); })
      .def("queued_bytes", [](const PyAsyncDatasetWriter& w) { return w.writer().QueuedBytes(); })
      .def("pooled_buffers",
           [](const PyAsyncDatasetWriter& w) { return w.writer().PooledBuffers(); });
}

}  // namespace python
}  // namespace envlogger
