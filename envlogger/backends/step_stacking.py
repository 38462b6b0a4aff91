"""Stacks the values of many steps into numpy arrays, leaf by leaf.

The rules of `Reader.step_arrays`, `sample` and `batches` (every backend, and
the native Riegeli fast path, follow them):

* A step is the tree `StepData(TimeStep(step_type, reward, discount,
  observation), action, custom_data)`; dicts, lists and tuples inside it are
  kept, everything else is a leaf. A leaf is named by its path:
  'timestep/step_type', 'timestep/reward', 'timestep/discount',
  'timestep/observation/<key or index>/...', 'action/...',
  'custom_data/...'.
* Each leaf becomes `np.stack` of its per-step values: an array with a new
  leading step axis, of the dtype `np.stack` gives (a Python float is float64,
  a Python int int64, a StepType int64, str and bytes scalars '<U'/'S' as
  long as the longest).
* None (the reward and discount of FIRST steps, the action of a `reset()`)
  is filled in: NaN for floating leaves; 0 for integer leaves, False for
  bool, '' / b'' for str / bytes, None in object arrays (str/bytes arrays).
  The leaf's shape and dtype come from its other steps; if it is None in
  every step asked for, from the dataset's first steps (`reference`); if it
  is None there too, the leaf is None.
* A leaf whose shape or dtype (str/bytes: other than length) changes, or a
  container whose keys or length change, raises ValueError naming the path
  and the first step that differs, unless the path or one of its prefixes is
  in `ragged`: that part is then a list of the per-step values, as the
  per-step API returns them. A path in `ragged` that names nothing raises
  ValueError.
"""

from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

import dm_env
import numpy as np

from envlogger import step_data

Ragged = Union[str, Iterable[str]]

# The top-level fields of a step and their paths (path components).
TOP_FIELDS = (
  ('timestep', 'step_type'),
  ('timestep', 'reward'),
  ('timestep', 'discount'),
  ('timestep', 'observation'),
  ('action',),
  ('custom_data',),
)


def ragged_paths(ragged: Ragged) -> frozenset:
  """`ragged` as a set of paths without leading/trailing slashes."""
  if isinstance(ragged, str):
    ragged = (ragged,)
  paths = set()
  for path in ragged:
    if not isinstance(path, str):
      raise TypeError(f'ragged must hold leaf paths (str), got {path!r}')
    paths.add(path.strip('/'))
  return frozenset(paths)


def step_fields(step: step_data.StepData) -> Tuple[Any, ...]:
  """The six top-level values of a step, in TOP_FIELDS order."""
  timestep = step.timestep
  return (
    timestep.step_type,
    timestep.reward,
    timestep.discount,
    timestep.observation,
    step.action,
    step.custom_data,
  )


def _fill_value(dtype: np.dtype) -> Any:
  if dtype.kind in 'fc':
    return np.nan
  if dtype.kind == 'O':
    return None
  return np.zeros((), dtype)[()]


def _describe(array: np.ndarray) -> str:
  return f'shape {array.shape} dtype {array.dtype}'


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
  if a.shape != b.shape:
    return False
  if a.dtype.kind in 'US' and b.dtype.kind == a.dtype.kind:
    return True
  return a.dtype == b.dtype


def _kind(value: Any) -> str:
  if isinstance(value, dict):
    return 'dict'
  if isinstance(value, list):
    return 'list'
  if isinstance(value, tuple):
    return 'tuple'
  return 'leaf'


def _children(value: Any, kind: str) -> List[Tuple[Any, Any]]:
  if kind == 'dict':
    return list(value.items())
  return list(enumerate(value))


def _rebuild(kind: str, items: List[Tuple[Any, Any]]) -> Any:
  if kind == 'dict':
    return dict(items)
  values = [v for _, v in items]
  return values if kind == 'list' else tuple(values)


class Stacker:
  """Stacks lists of per-step values along a new leading axis.

  Args:
    ragged: paths (or prefixes) to return as lists, see the module docstring.
    reference: returns values of the dataset's first steps (called at most
      once, only if a leaf is None in every step stacked or no step is
      stacked), to learn the layout of such leaves.
  """

  def __init__(
    self,
    ragged: Ragged = (),
    reference: Optional[Callable[[], Sequence[step_data.StepData]]] = None,
  ):
    self._ragged = ragged_paths(ragged)
    self._reference_fn = reference
    self._reference = None
    self._used = set()
    # The exact paths returned as lists by the last stack().
    self.ragged_applied = set()

  def stack(
    self, steps: Sequence[step_data.StepData], indices: Sequence[int]
  ) -> step_data.StepData:
    """`steps` (global indices `indices`, for error messages) as arrays."""
    self._used = set()
    self.ragged_applied = set()
    fields = [step_fields(s) for s in steps]
    out = []
    for f, names in enumerate(TOP_FIELDS):
      out.append(self.stack_values([x[f] for x in fields], indices, '/'.join(names)))
    unused = self._ragged - self._used
    if unused:
      raise ValueError(
        f'ragged names no part of the steps: {sorted(unused)}; paths look like '
        "'timestep/observation/<key>', 'action', 'custom_data/<key>/<index>'"
      )
    step_type, reward, discount, observation, action, custom_data = out
    return step_data.StepData(
      dm_env.TimeStep(step_type, reward, discount, observation), action, custom_data
    )

  def is_ragged(self, path: str) -> bool:
    """Whether `path` (or a prefix of it) is to be returned as a list."""
    parts = path.split('/')
    for n in range(1, len(parts) + 1):
      prefix = '/'.join(parts[:n])
      if prefix in self._ragged:
        self._used.add(prefix)
        return True
    return False

  def stack_values(self, values: Sequence[Any], indices: Sequence[int], path: str) -> Any:
    """The values of one path in every step, stacked (see module docstring)."""
    if self.is_ragged(path):
      self.ragged_applied.add(path)
      return list(values)
    first = next((i for i, v in enumerate(values) if v is not None), None)
    if first is None:
      return self._from_reference(path, len(values))
    template = values[first]
    kind = _kind(template)
    if kind == 'leaf':
      return self._stack_leaf(values, indices, path, first)
    keys = [k for k, _ in _children(template, kind)]
    for i, value in enumerate(values):
      if value is None:
        raise ValueError(
          f"'{path}' changes between steps: step {indices[i]} has None, step "
          f'{indices[first]} a {kind}; pass ragged=({path!r},) to get a list'
        )
      if _kind(value) != kind or (
        len(value) != len(keys) or (kind == 'dict' and set(value) != set(keys))
      ):
        raise ValueError(
          f"'{path}' changes between steps: step {indices[i]} has "
          f'{_summary(value)}, step {indices[first]} {_summary(template)}; '
          f'pass ragged=({path!r},) to get a list'
        )
    items = []
    for key in keys:
      items.append((key, self.stack_values([v[key] for v in values], indices, f'{path}/{key}')))
    return _rebuild(kind, items)

  def _stack_leaf(
    self, values: Sequence[Any], indices: Sequence[int], path: str, first: int
  ) -> np.ndarray:
    arrays = [None if v is None else np.asarray(v) for v in values]
    layout = arrays[first]
    for i, array in enumerate(arrays):
      if array is not None and not _same_layout(array, layout):
        raise ValueError(
          f"Leaf '{path}' changes between steps: step {indices[i]} has "
          f'{_describe(array)}, step {indices[first]} {_describe(layout)}; '
          f'pass ragged=({path!r},) to get a list'
        )
    if first == 0 and all(a is not None for a in arrays):
      return np.stack(arrays)
    dtype = np.result_type(*[a.dtype for a in arrays if a is not None])
    fill = np.full(layout.shape, _fill_value(dtype), dtype)
    return np.stack([fill if a is None else a for a in arrays])

  def _from_reference(self, path: str, count: int) -> Any:
    """`count` rows of a part that is None in every stacked step.

    Filled (see _fill_value) with the layout the part has in the reference
    steps; None if it has none there either.
    """
    if self._reference_fn is None:
      return None
    if self._reference is None:
      self._reference = [step_fields(s) for s in self._reference_fn()]
    parts = path.split('/')
    top = next(f for f, names in enumerate(TOP_FIELDS) if parts[: len(names)] == list(names))
    keys = parts[len(TOP_FIELDS[top]) :]
    values = []
    for fields in self._reference:
      value = fields[top]
      for key in keys:
        value = _child(value, key)
      values.append(value)
    inner = Stacker(self._ragged)
    try:
      layout = inner.stack_values(values, range(len(values)), path)
    except ValueError:
      return None  # The reference itself is inconsistent: no layout to borrow.
    self._used |= inner._used  # pylint: disable=protected-access
    self.ragged_applied |= inner.ragged_applied
    return _fill_like(layout, count, path, inner.ragged_applied)


def _child(value: Any, key: str) -> Any:
  """`value[key]` for a path component, None if absent."""
  if isinstance(value, dict):
    for k, v in value.items():
      if str(k) == key:
        return v
    return None
  if isinstance(value, (list, tuple)) and key.isdigit() and int(key) < len(value):
    return value[int(key)]
  return None


def _fill_like(layout: Any, count: int, path: str, ragged: set) -> Any:
  """`count` rows of fill values shaped like the stacked part `layout`."""
  if path in ragged:
    return [None] * count
  if layout is None:
    return None
  if isinstance(layout, np.ndarray):
    return np.full((count,) + layout.shape[1:], _fill_value(layout.dtype), layout.dtype)
  kind = _kind(layout)
  return _rebuild(
    kind, [(k, _fill_like(v, count, f'{path}/{k}', ragged)) for k, v in _children(layout, kind)]
  )


def _summary(value: Any) -> str:
  kind = _kind(value)
  if value is None:
    return 'None'
  if kind == 'dict':
    return f'a dict with keys {sorted(map(str, value))}'
  if kind in ('list', 'tuple'):
    return f'a {kind} of length {len(value)}'
  return f'a {type(value).__name__}'


def take_rows(step: step_data.StepData, rows: np.ndarray, ragged: Iterable[str]) -> Any:
  """Rows `rows` (an int array of any shape) of a stacked step.

  Arrays are indexed along their step axis (result shape rows.shape + the
  leaf's shape); the parts at the paths `ragged` (`Stacker.ragged_applied`),
  lists of per-step values, become nested lists shaped like `rows`.
  """
  ragged = frozenset(ragged)
  fields = step_fields(step)
  out = [_take(fields[f], rows, ragged, '/'.join(names)) for f, names in enumerate(TOP_FIELDS)]
  step_type, reward, discount, observation, action, custom_data = out
  return step_data.StepData(
    dm_env.TimeStep(step_type, reward, discount, observation), action, custom_data
  )


def _take(tree: Any, rows: np.ndarray, ragged: frozenset, path: str) -> Any:
  if path in ragged:
    return _take_list(tree, rows)
  if tree is None:
    return None
  if isinstance(tree, np.ndarray):
    return tree[rows]
  kind = _kind(tree)
  items = [(k, _take(v, rows, ragged, f'{path}/{k}')) for k, v in _children(tree, kind)]
  return _rebuild(kind, items)


def _take_list(values: list, rows: np.ndarray) -> list:
  if rows.ndim == 1:
    return [values[r] for r in rows]
  return [_take_list(values, r) for r in rows]
