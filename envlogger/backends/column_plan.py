"""The native fast path of `step_arrays` and `sample` for Riegeli datasets.

A ColumnPlan is the layout of a dataset's steps (structure, dtype and shape
of every leaf) learned from its first steps by the rules of
envlogger/backends/step_stacking.py. `read()` has the native reader decode
the records of many steps straight into arrays preallocated from it
(envlogger/converters/step_columns.h, with the GIL released). A step that
the plan cannot express (a leaf that changes, a str leaf, a malformed or
unreadable record) makes `read()` return None: the caller then stacks the
per-step values, which gives the same arrays or raises the proper error.
"""

from typing import Any, List, Optional, Sequence, Tuple

import dm_env
import numpy as np

from envlogger import step_data
from envlogger.backends import step_stacking

# numpy dtypes the native decoder writes (dtype.str).
_NATIVE_DTYPES = frozenset(
  ['<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1']
)
_STEP_TYPE_PATH = 'timestep/step_type'


class ColumnPlan:
  """Where each leaf of a step goes; see the module docstring."""

  def __init__(self, plan: tuple, leaves: List[Tuple[str, np.dtype, tuple]]):
    self._plan = plan
    self._leaves = leaves  # (path, dtype, shape per row)

  @classmethod
  def from_reference(cls, steps: Sequence[step_data.StepData]) -> Optional['ColumnPlan']:
    """The plan of steps like `steps`, or None if the native path cannot read them."""
    if not steps:
      return None
    try:
      layout = step_stacking.Stacker().stack(steps, range(len(steps)))
    except ValueError:
      return None
    leaves = []
    try:
      fields = step_stacking.step_fields(layout)
      timestep = (
        'tuple',
        [_node(f, '/'.join(n), leaves) for f, n in zip(fields[:4], step_stacking.TOP_FIELDS[:4])],
      )
      plan = (
        'tuple',
        [timestep, _node(fields[4], 'action', leaves), _node(fields[5], 'custom_data', leaves)],
      )
    except _Unsupported:
      return None
    return cls(plan, leaves)

  @property
  def row_bytes(self) -> int:
    """Bytes of the arrays per step (about the size of its decoded record)."""
    return sum(dtype.itemsize * int(np.prod(shape)) for _, dtype, shape in self._leaves)

  def read(
    self, reader: Any, indices: np.ndarray, descending: bool = False
  ) -> Optional[Tuple[step_data.StepData, np.ndarray]]:
    """Steps `indices` as (stacked StepData of the readable ones, readable mask).

    `reader` is a riegeli_dataset_reader.RiegeliDatasetReader; `descending`
    reads the indices last to first (the rows stay in the order of
    `indices`). None if a step does not fit the plan or cannot be read (see
    the module docstring).
    """
    rows = len(indices)
    arrays = [np.empty((rows,) + shape, dtype) for _, dtype, shape in self._leaves]
    nones = np.zeros((len(self._leaves), rows), np.uint8)
    readable = np.ones(rows, np.uint8)
    leaves = [
      (dtype.str, path == _STEP_TYPE_PATH, array, nones[i])
      for i, ((path, dtype, _), array) in enumerate(zip(self._leaves, arrays))
    ]
    code, _ = reader.read_columns(
      np.ascontiguousarray(indices, np.int64), self._plan, leaves, readable, descending
    )
    if code != 0:
      return None
    readable = readable.view(bool)
    for i, array in enumerate(arrays):
      mask = nones[i].view(bool)
      if mask.any():
        array[mask] = np.nan if array.dtype.kind == 'f' else 0
    if not readable.all():
      arrays = [array[readable] for array in arrays]
    fields = [_build(node, arrays) for node in self._plan[1][0][1]]
    fields += [_build(self._plan[1][1], arrays), _build(self._plan[1][2], arrays)]
    step_type, reward, discount, observation, action, custom_data = fields
    return step_data.StepData(
      dm_env.TimeStep(step_type, reward, discount, observation), action, custom_data
    ), readable


class _Unsupported(Exception):
  """A part of the layout that the native decoder cannot write."""


def _node(layout: Any, path: str, leaves: list) -> tuple:
  """The plan node of a stacked part, appending its leaves to `leaves`."""
  if layout is None:
    return ('none',)
  if isinstance(layout, np.ndarray):
    if layout.dtype.str not in _NATIVE_DTYPES:
      raise _Unsupported(path)
    leaves.append((path, layout.dtype, layout.shape[1:]))
    return ('leaf', len(leaves) - 1)
  if isinstance(layout, dict):
    if not all(isinstance(k, str) for k in layout):
      raise _Unsupported(path)
    return ('dict', [(k, _node(v, f'{path}/{k}', leaves)) for k, v in layout.items()])
  if isinstance(layout, (list, tuple)):
    kind = 'list' if isinstance(layout, list) else 'tuple'
    return (kind, [_node(v, f'{path}/{i}', leaves) for i, v in enumerate(layout)])
  raise _Unsupported(path)


def _build(node: tuple, arrays: List[np.ndarray]) -> Any:
  """The stacked value of a plan node from the decoded leaf arrays."""
  kind = node[0]
  if kind == 'none':
    return None
  if kind == 'leaf':
    return arrays[node[1]]
  if kind == 'dict':
    return {k: _build(child, arrays) for k, child in node[1]}
  children = [_build(child, arrays) for child in node[1]]
  return children if kind == 'list' else tuple(children)
