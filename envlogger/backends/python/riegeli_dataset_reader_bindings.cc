// pybind11 bindings of the Riegeli dataset reader:
// envlogger._native.dataset_io.RiegeliDatasetReader (registered into the same
// submodule as the writers of riegeli_dataset_bindings.cc).
//
// Contracts (as riegeli_dataset_bindings.cc): a failed Status is raised in
// the RuntimeError subclass of its code (status_errors.h), naming the path
// and position; the GIL is released around all file I/O, decompression and
// decoding, and the reader's mutex is taken only after it is released.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "envlogger/backends/cc/riegeli_dataset_reader.h"
#include "envlogger/backends/python/native_dataset_reader.h"
#include "envlogger/backends/python/status_errors.h"
#include "envlogger/python/decode_step.h"
#include "envlogger/python/register.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

py::object BytesOrNone(const std::optional<std::string>& value) {
  if (!value.has_value()) return py::none();
  return py::bytes(*value);
}

// RiegeliDatasetReader behind a mutex.
class PyDatasetReader {
 public:
  PyDatasetReader() = default;
  explicit PyDatasetReader(RiegeliDatasetReader reader) : reader_(std::move(reader)) {}

  // Raises the first error, but (as upstream) leaves the reader usable with
  // the shards that loaded.
  void Init(const std::string& data_dir) {
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = reader_.Init(data_dir);
    }
    CheckStatus(status);
  }

  std::unique_ptr<PyDatasetReader> Clone() {
    StatusOr<RiegeliDatasetReader> clone = [&] {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      return reader_.Clone();
    }();
    CheckStatus(clone.status());
    return std::make_unique<PyDatasetReader>(std::move(clone).value());
  }

  py::object SerializedMetadata() {
    std::lock_guard<std::mutex> lock(mutex_);
    return BytesOrNone(reader_.Metadata());
  }

  int64_t NumSteps() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reader_.NumSteps();
  }
  void SetStepCacheBytes(uint64_t max_bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    reader_.SetStepCacheBytes(max_bytes);
  }
  py::dict StepCacheStats() {
    envlogger::StepCacheStats stats;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats = reader_.GetStepCacheStats();
    }
    py::dict out;
    out["max_bytes"] = stats.max_bytes;
    out["bytes"] = stats.bytes;
    out["chunks"] = stats.chunks;
    out["hits"] = stats.hits;
    out["misses"] = stats.misses;
    out["evictions"] = stats.evictions;
    return out;
  }
  std::vector<std::string> RecoveryReports() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reader_.RecoveryReports();
  }
  // (path, begin, end, message, first_step, last_step) per damaged region.
  std::vector<std::tuple<std::string, uint64_t, uint64_t, std::string, int64_t, int64_t>>
  SkippedRegions() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::tuple<std::string, uint64_t, uint64_t, std::string, int64_t, int64_t>> regions;
    for (const SkippedRegion& region : reader_.SkippedRegions()) {
      regions.emplace_back(region.path, region.begin, region.end, region.message, region.first_step,
                           region.last_step);
    }
    return regions;
  }
  int64_t NumEpisodes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reader_.NumEpisodes();
  }
  std::vector<int64_t> ShardEpisodeStarts() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reader_.ShardEpisodeStarts();
  }
  std::string DataDir() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reader_.DataDir();
  }

  // None outside [0, num_steps); raises on read errors.
  py::object SerializedStep(int64_t index) {
    std::optional<std::string> record;
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      if (index >= 0 && index < reader_.NumSteps()) {
        std::string_view view;
        status = reader_.ReadStep(index, &view);
        if (status.ok()) record = std::string(view);
      }
    }
    CheckStatus(status);
    return BytesOrNone(record);
  }

  // Steps start, start + 1, ... before `stop` as StepData built from
  // `classes` (see decode_step.h), read under one lock with the GIL released
  // and then decoded: at most `max_count` steps and, past the first,
  // about `max_bytes` of records. The list ends early, without an error,
  // before the first step that cannot be read or decoded (a damaged chunk,
  // a malformed record), so that the caller can read that step alone and
  // get its error; it is empty if `start` itself fails or is out of range.
  py::list ReadSteps(int64_t start, int64_t stop, int64_t max_count, size_t max_bytes,
                     const StepClasses& classes) {
    // Per call, not per reader: another thread may fill its own batch while
    // this one decodes with the GIL held.
    std::string batch;
    std::vector<size_t> ends;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      stop = start < 0
                 ? start
                 : std::min({stop, reader_.NumSteps(), start + std::max<int64_t>(max_count, 0)});
      for (int64_t index = start; index < stop; ++index) {
        if (!ends.empty() && batch.size() >= max_bytes) break;
        std::string_view record;
        if (!reader_.ReadStep(index, &record).ok()) break;
        if (ends.empty()) {
          // Steps tend to have the same size: room for the batch at once
          // instead of growing (and copying) it step by step.
          const size_t steps_left = static_cast<size_t>(stop - index);
          batch.reserve(std::min(max_bytes / std::max<size_t>(record.size(), 1) + 1, steps_left) *
                        record.size());
        }
        batch.append(record.data(), record.size());
        ends.push_back(batch.size());
      }
    }
    py::list steps(ends.size());
    size_t begin = 0;
    for (size_t i = 0; i < ends.size(); ++i) {
      PyObject* step =
          DecodeStepRecord(std::string_view(batch).substr(begin, ends[i] - begin), classes);
      if (step == nullptr) {
        // A malformed record (ValueError/TypeError) is reported by the
        // caller's single-step read; anything else (MemoryError,
        // KeyboardInterrupt from a signal) propagates now, since a re-read
        // would not raise it again.
        if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError)) {
          throw py::error_already_set();
        }
        PyErr_Clear();
        return py::list(steps[py::slice(0, static_cast<py::ssize_t>(i), 1)]);
      }
      PyList_SET_ITEM(steps.ptr(), static_cast<Py_ssize_t>(i), step);
      begin = ends[i];
    }
    return steps;
  }

  // (start, num_steps, serialized metadata or None), or None outside
  // [0, num_episodes); raises on read errors.
  py::object Episode(int64_t index, bool include_metadata) {
    std::optional<EpisodeInfo> info;
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      if (index >= 0 && index < reader_.NumEpisodes()) {
        StatusOr<EpisodeInfo> result = reader_.Episode(index, include_metadata);
        status = result.status();
        if (result.ok()) info = std::move(result).value();
      }
    }
    CheckStatus(status);
    if (!info.has_value()) return py::none();
    return py::make_tuple(info->start, info->num_steps, BytesOrNone(info->metadata));
  }

  void Close() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    reader_.Close();
  }

 private:
  friend NativeDatasetReader envlogger::python::GetNativeDatasetReader(py::handle reader);
  std::mutex mutex_;
  RiegeliDatasetReader reader_;
};

// The StepClasses of read_steps()'s arguments; raises TypeError unless they
// are tuple subclasses and a dict.
StepClasses ToStepClasses(py::handle step_data, py::handle timestep, py::handle step_types) {
  for (py::handle type : {step_data, timestep}) {
    if (!PyType_Check(type.ptr()) ||
        !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(type.ptr()), &PyTuple_Type)) {
      throw py::type_error("read_steps() needs namedtuple classes for StepData and TimeStep");
    }
  }
  if (!PyDict_Check(step_types.ptr()))
    throw py::type_error("read_steps() needs a dict of step types");
  StepClasses classes;
  classes.step_data = reinterpret_cast<PyTypeObject*>(step_data.ptr());
  classes.timestep = reinterpret_cast<PyTypeObject*>(timestep.ptr());
  classes.step_types = step_types.ptr();
  return classes;
}

}  // namespace

NativeDatasetReader GetNativeDatasetReader(py::handle reader) {
  if (!py::isinstance<PyDatasetReader>(reader)) {
    throw py::type_error("Expected an envlogger._native.dataset_io.RiegeliDatasetReader, got " +
                         std::string(py::str(py::type::of(reader).attr("__name__"))));
  }
  PyDatasetReader& native = py::cast<PyDatasetReader&>(reader);
  return NativeDatasetReader{&native.reader_, &native.mutex_};
}

void RegisterDatasetReader(py::module_ m) {
  py::class_<PyDatasetReader>(
      m, "RiegeliDatasetReader",
      "Reads a Riegeli dataset (serialized records); see riegeli_dataset_reader.h.")
      .def(py::init<>())
      .def("init", &PyDatasetReader::Init, py::arg("data_dir"))
      .def("clone", &PyDatasetReader::Clone)
      .def("serialized_metadata", &PyDatasetReader::SerializedMetadata)
      .def_property_readonly("num_steps", &PyDatasetReader::NumSteps)
      .def_property_readonly("num_episodes", &PyDatasetReader::NumEpisodes)
      .def("data_dir", &PyDatasetReader::DataDir)
      .def("recovery_reports", &PyDatasetReader::RecoveryReports)
      .def("shard_episode_starts", &PyDatasetReader::ShardEpisodeStarts)
      .def("skipped_regions", &PyDatasetReader::SkippedRegions)
      .def("set_step_cache_bytes", &PyDatasetReader::SetStepCacheBytes, py::arg("max_bytes"),
           "Bounds the decoded-chunk caches of the steps files (in total, split over shards).")
      .def("step_cache_stats", &PyDatasetReader::StepCacheStats,
           "max_bytes, bytes, chunks, hits, misses, evictions of the steps files' chunk caches.")
      .def("serialized_step", &PyDatasetReader::SerializedStep, py::arg("step_index"))
      .def(
          "read_steps",
          [](PyDatasetReader& reader, int64_t start, int64_t stop, int64_t max_count,
             size_t max_bytes, py::handle step_data, py::handle timestep, py::handle step_types) {
            return reader.ReadSteps(start, stop, max_count, max_bytes,
                                    ToStepClasses(step_data, timestep, step_types));
          },
          py::arg("start"), py::arg("stop"), py::arg("max_count"), py::arg("max_bytes"),
          py::arg("step_data"), py::arg("timestep"), py::arg("step_types"),
          "Steps [start, stop) decoded to StepData, as many as one batch holds; ends early before "
          "a step "
          "that cannot be read or decoded (read it alone for its error).")
      .def("episode", &PyDatasetReader::Episode, py::arg("episode_index"),
           py::arg("include_metadata") = false)
      .def("close", &PyDatasetReader::Close);
}

}  // namespace python
}  // namespace envlogger
