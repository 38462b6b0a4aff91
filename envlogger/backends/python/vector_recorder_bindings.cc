// envlogger._native.vector_recording.VectorStepRecorder: records the steps of
// a Gymnasium vector environment, one dataset (writer) per sub-environment,
// in one native call per vector step.
//
// Each sub-environment i has its own AsyncDatasetWriter over its own
// directory (a writer subdirectory of a root, see docs/gymnasium.md), so its
// episodes are contiguous, complete and never mixed with another
// sub-environment's, and every step goes to disk as soon as the writer
// thread gets it (no buffering of whole episodes: bounded memory, and a
// crash loses at most the writers' flush interval).
//
// A call receives the batched arrays the vector env returned (observations
// and actions as arrays [N, ...] or dicts/tuples of them), slices sub-env i's
// values, builds its dm_env-shaped step (step_type, reward, discount,
// observation) and encodes it with the same encoder as
// AsyncRiegeliDatasetWriter.record_step (so the records are the ones
// EnvLogger would write). All steps of a call are encoded before any is
// queued: a step that cannot be encoded raises TypeError naming the
// sub-environment and nothing of the call is recorded.
//
// Autoreset modes (gymnasium.vector.AutoresetMode), per sub-environment:
// * NEXT_STEP (0): the step after a LAST returns the reset observation with
//   reward 0, the action ignored: recorded as a FIRST step (action, reward
//   and discount None).
// * SAME_STEP (1): a step that ends an episode returns the reset
//   observation; the final observation comes in `final_observations[i]`:
//   recorded as the LAST step, then the FIRST of the next episode.
// * DISABLED (2): a LAST step ends the episode; the sub-env must be reset
//   (record_reset with a mask) before it steps again.
// terminated -> LAST with discount 0.0; truncated -> LAST with discount 1.0;
// rewards are stored as float64 scalars.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "envlogger/backends/cc/async_dataset_writer.h"
#include "envlogger/backends/python/status_errors.h"
#include "envlogger/python/encode_step.h"
#include "envlogger/python/register.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

enum StepType : int { kFirst = 0, kMid = 1, kLast = 2 };
enum AutoresetMode : int { kNextStep = 0, kSameStep = 1, kDisabled = 2 };

// Sub-environment `i`'s part of a batched value: dicts and tuples are sliced
// leaf by leaf, anything else is indexed (an ndarray gives a view or a numpy
// scalar).
py::object Slice(py::handle batch, Py_ssize_t i) {
  PyObject* object = batch.ptr();
  if (PyDict_Check(object)) {
    py::dict sliced;
    PyObject* key;
    PyObject* value;
    Py_ssize_t position = 0;
    while (PyDict_Next(object, &position, &key, &value)) {
      sliced[key] = Slice(value, i);
    }
    return std::move(sliced);
  }
  if (PyTuple_CheckExact(object)) {
    const Py_ssize_t size = PyTuple_GET_SIZE(object);
    py::tuple sliced(size);
    for (Py_ssize_t j = 0; j < size; ++j) {
      py::object item = Slice(PyTuple_GET_ITEM(object, j), i);
      PyTuple_SET_ITEM(sliced.ptr(), j, item.release().ptr());
    }
    return std::move(sliced);
  }
  PyObject* item = PySequence_GetItem(object, i);
  if (item == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(item);
}

// Element i of an optional list (None -> None).
py::object Item(py::handle list, Py_ssize_t i) {
  if (list.is_none()) return py::none();
  PyObject* item = PySequence_GetItem(list.ptr(), i);
  if (item == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(item);
}

class VectorStepRecorder {
 public:
  VectorStepRecorder(const std::vector<std::string>& data_dirs,
                     const std::vector<py::bytes>& metadata, int64_t max_episodes_per_shard,
                     const std::string& writer_options, size_t max_queued_bytes,
                     double flush_interval_seconds) {
    if (metadata.size() != data_dirs.size()) {
      throw py::value_error("VectorStepRecorder needs one metadata record per directory");
    }
    std::vector<std::string> records;
    for (const py::bytes& record : metadata) records.push_back(record);
    const auto flush_interval = std::chrono::milliseconds(
        static_cast<int64_t>(std::max(0.0, flush_interval_seconds) * 1000));
    slots_.resize(data_dirs.size());
    envlogger::Status status;
    {
      py::gil_scoped_release release;
      for (size_t i = 0; i < data_dirs.size() && status.ok(); ++i) {
        auto writer = AsyncDatasetWriter::Create(data_dirs[i], records[i], max_episodes_per_shard,
                                                 writer_options, max_queued_bytes, flush_interval);
        if (writer.ok()) {
          slots_[i].writer = std::move(writer).value();
        } else {
          status = writer.status();
        }
      }
    }
    if (!status.ok()) {
      static_cast<void>(CloseAll());
      RaiseStatus(status);
    }
  }

  ~VectorStepRecorder() { static_cast<void>(CloseAll()); }

  size_t NumEnvs() const { return slots_.size(); }

  // FIRST steps of the sub-envs in `mask` (None: all) from the batched reset
  // observations; `custom_data` is None or a list of N values.
  void RecordReset(py::handle observations, py::handle custom_data, py::handle mask) {
    std::vector<bool> reset(slots_.size(), true);
    if (!mask.is_none()) {
      auto flags = Flags(mask, "reset mask");
      for (size_t i = 0; i < slots_.size(); ++i) reset[i] = flags.at(i);
    }
    std::vector<Pending> pending;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!reset[i]) continue;
      Encode(i, kFirst, py::none(), py::none(), Slice(observations, i), py::none(),
             Item(custom_data, i), &pending);
    }
    Enqueue(pending);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!reset[i]) continue;
      slots_[i].running = true;
      slots_[i].reset_due = false;
    }
  }

  void RecordStep(py::handle actions, py::handle observations, py::handle rewards,
                  py::handle terminations, py::handle truncations, int mode,
                  py::handle final_observations, py::handle custom_data,
                  py::handle final_custom_data) {
    if (mode != kNextStep && mode != kSameStep && mode != kDisabled) {
      throw py::value_error("Unknown autoreset mode " + std::to_string(mode));
    }
    const auto reward =
        py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(rewards);
    if (!reward || reward.ndim() != 1 || static_cast<size_t>(reward.shape(0)) != slots_.size()) {
      PyErr_Clear();
      throw py::value_error("rewards must be a float array of shape (" +
                            std::to_string(slots_.size()) + ",)");
    }
    const auto terminated = Flags(terminations, "terminations");
    const auto truncated = Flags(truncations, "truncations");
    const double* r = reward.data();
    std::vector<Pending> pending;
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& slot = slots_[i];
      const Py_ssize_t index = static_cast<Py_ssize_t>(i);
      if (mode == kNextStep && slot.reset_due) {
        Encode(i, kFirst, py::none(), py::none(), Slice(observations, index), py::none(),
               Item(custom_data, index), &pending);
        continue;
      }
      if (!slot.running) {
        throw py::value_error("Cannot record a step of sub-environment " + std::to_string(i) +
                              ": its episode ended and it was not reset");
      }
      const GymStepKind kind = GymStepKindOf(terminated[i], truncated[i]);
      const bool done = kind.step_type == kGymLast;
      const py::float_ discount(kind.discount);
      const py::float_ step_reward(r[i]);
      if (done && mode == kSameStep) {
        Encode(i, kLast, step_reward, discount, Item(final_observations, index),
               Slice(actions, index), Item(final_custom_data, index), &pending);
        Encode(i, kFirst, py::none(), py::none(), Slice(observations, index), py::none(),
               Item(custom_data, index), &pending);
      } else {
        Encode(i, done ? kLast : kMid, step_reward, discount, Slice(observations, index),
               Slice(actions, index), Item(custom_data, index), &pending);
      }
    }
    Enqueue(pending);
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      if (mode == kNextStep && slot.reset_due) {
        slot.reset_due = false;
        slot.running = true;
      } else if (terminated[i] || truncated[i]) {
        slot.running = mode == kSameStep;
        slot.reset_due = mode == kNextStep;
      }
    }
  }

  void SetEpisodeMetadata(size_t index, py::bytes data) {
    if (index >= slots_.size())
      throw py::index_error("no sub-environment " + std::to_string(index));
    std::string record = data;
    envlogger::Status status;
    {
      py::gil_scoped_release release;
      status = Writer(index).SetEpisodeMetadata(std::move(record));
    }
    if (!status.ok()) RaiseStatus(status);
  }

  void Flush() {
    envlogger::Status status;
    {
      py::gil_scoped_release release;
      for (size_t i = 0; i < slots_.size(); ++i) {
        envlogger::Status s = Writer(i).Flush();
        if (status.ok()) status = s;
      }
    }
    if (!status.ok()) RaiseStatus(status);
  }

  void Close() {
    envlogger::Status status = CloseAll();
    if (!status.ok()) RaiseStatus(status);
  }

 private:
  struct Slot {
    std::unique_ptr<AsyncDatasetWriter> writer;
    std::string spare;  // A recycled buffer for the next step.
    LengthHints hints;
    size_t last_step_size = 0;
    bool running = false;        // An episode is open: steps may follow.
    bool reset_due = false;      // NEXT_STEP: the next step is the reset one.
    bool start_pending = false;  // An episode's FIRST step was not recorded.
  };
  struct Pending {
    size_t env;
    std::string buffer;
    bool is_new_episode;
  };

  AsyncDatasetWriter& Writer(size_t i) {
    if (!slots_[i].writer) throw std::runtime_error("the VectorStepRecorder is closed");
    return *slots_[i].writer;
  }

  std::vector<bool> Flags(py::handle array, const char* name) const {
    const auto flags = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(array);
    if (!flags || flags.ndim() != 1 || static_cast<size_t>(flags.shape(0)) != slots_.size()) {
      PyErr_Clear();
      throw py::value_error(std::string(name) + " must be a bool array of shape (" +
                            std::to_string(slots_.size()) + ",)");
    }
    return std::vector<bool>(flags.data(), flags.data() + slots_.size());
  }

  // Encodes sub-env i's step into a recycled buffer, appended to `pending`.
  void Encode(size_t i, int step_type, py::handle reward, py::handle discount,
              py::handle observation, py::handle action, py::handle custom_data,
              std::vector<Pending>* pending) {
    Slot& slot = slots_[i];
    Writer(i);  // Raises if closed.
    py::tuple timestep = py::make_tuple(step_type, reward, discount, observation);
    std::string buffer = std::move(slot.spare);
    slot.spare = std::string();
    if (buffer.capacity() < slot.last_step_size) buffer.reserve(slot.last_step_size);
    LengthHints hints = std::move(slot.hints);
    const bool encoded =
        EncodeStepInto(timestep.ptr(), action.ptr(), custom_data.ptr(), &buffer, &hints);
    slot.hints = std::move(hints);
    if (!encoded) {
      py::error_already_set error;
      const std::string message = "Cannot record the step of sub-environment " + std::to_string(i) +
                                  ": " + std::string(py::str(error.value()));
      PyErr_SetString(error.type().ptr(), message.c_str());
      throw py::error_already_set();
    }
    slot.last_step_size = buffer.size();
    pending->push_back(Pending{i, std::move(buffer), step_type == kFirst});
  }

  // Queues the encoded steps in order, each on its sub-env's writer.
  void Enqueue(std::vector<Pending>& pending) {
    envlogger::Status first_error;
    for (Pending& step : pending) {
      Slot& slot = slots_[step.env];
      const bool is_new_episode = step.is_new_episode || slot.start_pending;
      envlogger::Status status;
      std::string next;
      if (!slot.writer->TryAddStep(step.buffer, is_new_episode, &next, &status)) {
        py::gil_scoped_release release;
        status = slot.writer->AddStep(std::move(step.buffer), is_new_episode, &next);
      }
      slot.spare = std::move(next);
      slot.start_pending = !status.ok() && is_new_episode;
      if (first_error.ok()) first_error = status;
    }
    if (!first_error.ok()) RaiseStatus(first_error);
  }

  envlogger::Status CloseAll() {
    envlogger::Status first_error;
    py::gil_scoped_release release;
    for (Slot& slot : slots_) {
      if (!slot.writer) continue;
      envlogger::Status status = slot.writer->Close();
      slot.writer.reset();
      if (first_error.ok()) first_error = status;
    }
    return first_error;
  }

  std::vector<Slot> slots_;
};

}  // namespace

void RegisterVectorRecording(py::module_ m) {
  py::class_<VectorStepRecorder>(
      m, "VectorStepRecorder",
      "Records a vector env's sub-environments, one dataset each, one call per step.")
      .def(py::init<const std::vector<std::string>&, const std::vector<py::bytes>&, int64_t,
                    const std::string&, size_t, double>(),
           py::arg("data_dirs"), py::arg("metadata"), py::arg("max_episodes_per_shard"),
           py::arg("writer_options"),
           py::arg("max_queued_bytes") = AsyncDatasetWriter::kDefaultMaxQueuedBytes,
           py::arg("flush_interval_seconds") =
               std::chrono::duration<double>(AsyncDatasetWriter::kDefaultFlushInterval).count())
      .def_property_readonly("num_envs", &VectorStepRecorder::NumEnvs)
      .def("record_reset", &VectorStepRecorder::RecordReset, py::arg("observations"),
           py::arg("custom_data") = py::none(), py::arg("mask") = py::none())
      .def("record_step", &VectorStepRecorder::RecordStep, py::arg("actions"),
           py::arg("observations"), py::arg("rewards"), py::arg("terminations"),
           py::arg("truncations"), py::arg("autoreset_mode"),
           py::arg("final_observations") = py::none(), py::arg("custom_data") = py::none(),
           py::arg("final_custom_data") = py::none())
      .def("set_episode_metadata", &VectorStepRecorder::SetEpisodeMetadata, py::arg("index"),
           py::arg("data"))
      .def("flush", &VectorStepRecorder::Flush)
      .def("close", &VectorStepRecorder::Close);
}

}  // namespace python
}  // namespace envlogger
