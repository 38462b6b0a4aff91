// pybind11 bindings of the episode-boundary rule: envlogger._native.shard_recovery.
//
// The rule that decides where episodes start in a steps file whose index is
// missing or incomplete lives in C++ (backends/cc/shard_index_recovery.h),
// where the reader applies it; `envlogger recover` (tools/recover.py) calls it
// through these bindings so that both always agree.
//
//   FIRST, MID, LAST: the step types (dm_env.StepType values).
//   step_type_of(record: bytes) -> int | None: the step type of a serialized
//     envlogger step, None if the record is not one.
//   episode_starts(step_types, damage_before=(), known_starts=()) -> list[int]:
//     indices into `step_types` (one per readable record, in file order; None
//     for a record that is not a step) of the steps that start an episode.
//     `damage_before` and `known_starts` are indices of steps preceded by
//     skipped damage and of steps an index already starts an episode at.
//     A step type other than None, 0, 1, 2 or an index out of range raises
//     ValueError naming it.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/backends/cc/shard_index_recovery.h"
#include "envlogger/python/register.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

std::optional<int> StepTypeOf(const py::bytes& record) {
  char* data;
  Py_ssize_t size;
  if (PyBytes_AsStringAndSize(record.ptr(), &data, &size) != 0) throw py::error_already_set();
  const std::string_view view(data, static_cast<size_t>(size));
  std::optional<StepType> type;
  {
    py::gil_scoped_release release;
    type = StepTypeOfRecord(view);
  }
  if (!type) return std::nullopt;
  return static_cast<int>(*type);
}

void MarkSteps(const std::vector<int64_t>& indices, const char* what,
               std::vector<ScannedStep>* steps, bool ScannedStep::* flag) {
  for (const int64_t i : indices) {
    if (i < 0 || static_cast<size_t>(i) >= steps->size()) {
      throw py::value_error(std::string(what) + " index " + std::to_string(i) + " is outside the " +
                            std::to_string(steps->size()) + " steps");
    }
    (*steps)[static_cast<size_t>(i)].*flag = true;
  }
}

std::vector<int64_t> EpisodeStarts(const std::vector<std::optional<int64_t>>& step_types,
                                   const std::vector<int64_t>& damage_before,
                                   const std::vector<int64_t>& known_starts) {
  std::vector<ScannedStep> steps(step_types.size());
  for (size_t i = 0; i < step_types.size(); ++i) {
    const std::optional<int64_t>& type = step_types[i];
    if (!type) continue;
    if (*type < 0 || *type > 2) {
      throw py::value_error("step type " + std::to_string(*type) + " of step " + std::to_string(i) +
                            " is not FIRST (0), MID (1) or LAST (2)");
    }
    steps[i].type = static_cast<StepType>(*type);
  }
  MarkSteps(damage_before, "damage_before", &steps, &ScannedStep::damage_before);
  MarkSteps(known_starts, "known_starts", &steps, &ScannedStep::known_start);
  return EpisodeStartsOf(steps);
}

}  // namespace

void RegisterShardRecovery(py::module_ m) {
  m.attr("FIRST") = static_cast<int>(StepType::kFirst);
  m.attr("MID") = static_cast<int>(StepType::kMid);
  m.attr("LAST") = static_cast<int>(StepType::kLast);
  m.def("step_type_of", &StepTypeOf, py::arg("record"),
        "The step type (0, 1 or 2) of a serialized envlogger step, or None if the record is not "
        "one.");
  m.def("episode_starts", &EpisodeStarts, py::arg("step_types"),
        py::arg("damage_before") = std::vector<int64_t>(),
        py::arg("known_starts") = std::vector<int64_t>(),
        "Indices of the steps that start an episode (the rule the reader applies to unindexed "
        "steps).");
}

}  // namespace python
}  // namespace envlogger
