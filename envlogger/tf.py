"""A recorded envlogger dataset as a `tf.data.Dataset` (`pip install envlogger[tf]`).

`as_dataset(data_directory)` yields RLDS episodes
(https://github.com/google-research/rlds), one per recorded episode, read
with `Reader.episode_arrays`:

  {'steps': {'observation', 'action', 'reward', 'discount', 'is_first',
             'is_last', 'is_terminal', <step metadata>},
   <episode metadata>}

with RLDS's step layout (the same as `envlogger/backends/rlds_utils.py`):
RLDS step i holds the observation and flags of recorded step i and the
action, reward and discount of recorded step i + 1; the final step of an
episode has zeros there. `is_terminal` is a LAST step with discount 0.
Step metadata: a dict `custom_data` is merged into the step (its keys next
to `observation`), any other recorded `custom_data` is the field
`custom_data`. Episode metadata likewise: a dict's keys are fields of the
episode, another value is `episode_metadata`; an episode recorded without
metadata has zeros (and empty strings) there.

`as_dataset(data_directory, level='steps')` yields the RLDS steps one by
one, across episodes, without episode metadata.

Element specs come from the environment specs recorded in the dataset
(observation, action, reward and discount: their dtype and shape), and from
the first episode's values for what has no spec (custom data, episode
metadata, or a dataset recorded without an environment). String dtypes are
`tf.string`. Values whose shape or dtype differ from the spec fail the
iteration with an error naming the field and the episode.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import dm_env
from dm_env import specs as dm_specs
import numpy as np

try:
  import tensorflow as tf
except ImportError as e:  # pragma: no cover - exercised in a subprocess test.
  raise ImportError('envlogger.tf needs TensorFlow: pip install envlogger[tf]') from e

from envlogger import reader as reader_lib
from envlogger import step_data

DataDirectory = Union[str, os.PathLike]

STEP_KEYS = ('observation', 'action', 'reward', 'discount', 'is_first', 'is_last', 'is_terminal')
_LEVELS = ('episodes', 'steps')
# Whole episodes are read together, one Reader.step_arrays call for up to this many steps.
_RUN_STEPS = 4096


def _map(fn: Callable[..., Any], tree: Any, path: str) -> Any:
  """`fn(leaf, path)` over a tree of dicts/lists/tuples; lists become tuples."""
  if isinstance(tree, dict):
    return {k: _map(fn, v, f'{path}[{k!r}]') for k, v in tree.items()}
  if isinstance(tree, (list, tuple)):
    return tuple(_map(fn, v, f'{path}[{i}]') for i, v in enumerate(tree))
  return fn(tree, path)


def _tf_dtype(dtype: np.dtype, path: str) -> tf.DType:
  dtype = np.dtype(dtype)
  if dtype.kind in 'USO':
    return tf.string
  try:
    return tf.as_dtype(dtype)
  except TypeError:
    raise ValueError(f'{path}: dtype {dtype} has no TensorFlow dtype') from None


def _spec_from_dm_spec(spec: Any, path: str) -> Any:
  """Per-step TensorSpecs (leading unknown step axis) from dm_env specs."""

  def leaf(s, p):
    if not isinstance(s, dm_specs.Array):
      raise ValueError(f'{p}: {type(s).__name__} is not a dm_env spec')
    return tf.TensorSpec((None,) + tuple(s.shape), _tf_dtype(s.dtype, p))

  return _map(leaf, spec, path)


def _spec_from_arrays(tree: Any, path: str) -> Any:
  """Per-step TensorSpecs from arrays stacked along a leading step axis."""

  def leaf(array, p):
    if array is None:
      raise ValueError(f'{p}: no recorded value to build a spec from')
    array = np.asarray(array)
    return tf.TensorSpec((None,) + array.shape[1:], _tf_dtype(array.dtype, p))

  return _map(leaf, tree, path)


def _spec_from_value(value: Any, path: str) -> Any:
  """TensorSpecs of one (unstacked) value, e.g. episode metadata."""

  def leaf(v, p):
    if v is None:
      raise ValueError(f'{p}: None has no TensorFlow spec')
    array = np.asarray(v)
    return tf.TensorSpec(array.shape, _tf_dtype(array.dtype, p))

  return _map(leaf, value, path)


def _fit(value: Any, spec: Any, path: str, what: str) -> Any:
  """`value` (a tree of arrays) cast to `spec`'s dtypes, checking shapes."""
  if isinstance(spec, dict):
    if not isinstance(value, dict) or set(value) != set(spec):
      keys = sorted(value) if isinstance(value, dict) else type(value).__name__
      raise ValueError(f'{what}: {path} has keys {keys}, expected {sorted(spec)}')
    return {k: _fit(value[k], s, f'{path}[{k!r}]', what) for k, s in spec.items()}
  if isinstance(spec, tuple):
    if not isinstance(value, (list, tuple)) or len(value) != len(spec):
      raise ValueError(f'{what}: {path} is not a sequence of {len(spec)} values')
    return tuple(_fit(v, s, f'{path}[{i}]', what) for i, (v, s) in enumerate(zip(value, spec)))
  if value is None:
    raise ValueError(f'{what}: {path} has no value (expected {spec})')
  array = np.asarray(value)
  if not spec.shape.is_compatible_with(array.shape):
    raise ValueError(f'{what}: {path} has shape {array.shape}, expected {spec.shape}')
  if spec.dtype == tf.string:
    if array.dtype.kind not in 'USO':
      raise ValueError(f'{what}: {path} has dtype {array.dtype}, expected strings')
    return array
  expected = spec.dtype.as_numpy_dtype
  if array.dtype != expected:
    if not np.can_cast(array.dtype, expected, casting='same_kind'):
      raise ValueError(f'{what}: {path} has dtype {array.dtype}, expected {np.dtype(expected)}')
    array = array.astype(expected)
  return array


def _shifted(array: Optional[np.ndarray], ends: np.ndarray) -> Optional[np.ndarray]:
  """RLDS's shift: row i takes row i + 1, except episode ends (rows `ends`): zeros.

  None (a leaf that is None in every step: episodes of one FIRST step) stays
  None; `_fitted_runs` fills it with zeros of its spec.
  """
  if array is None:
    return None
  array = np.asarray(array)
  shifted = np.zeros_like(array)
  shifted[:-1] = array[1:]
  shifted[ends] = b'' if array.dtype.kind == 'O' else np.zeros((), array.dtype)
  return shifted


def _zeros(spec: Any, rows: int = 0) -> Any:
  """Zeros (empty strings) matching TensorSpecs; an unknown dimension is `rows`."""

  def leaf(s):
    dtype = object if s.dtype == tf.string else s.dtype.as_numpy_dtype
    shape = tuple(d if d is not None else rows for d in s.shape)
    return np.full(shape, b'' if dtype is object else 0, dtype=dtype)

  return tf.nest.map_structure(leaf, spec)


def _named_fields(value: Any, name: str, reserved: tuple, path: str) -> Dict[str, Any]:
  """A dict value's items (the fields it adds), or `{name: value}`."""
  if value is None:
    return {}
  if not isinstance(value, dict):
    return {name: value}
  for key in value:
    if not isinstance(key, str):
      raise ValueError(f'{path}: key {key!r} is not a str')
    if key in reserved:
      raise ValueError(f'{path}: key {key!r} collides with the RLDS field of that name')
  return dict(value)


def _rlds_steps(
  data: step_data.StepData, path: str, lengths: Optional[Sequence[int]] = None
) -> Dict[str, Any]:
  """RLDS step fields (stacked) of the arrays of consecutive whole episodes.

  Args:
    data: the episodes' steps as arrays.
    path: names the episodes in errors.
    lengths: rows of each episode (they add up to the rows of `data`);
      default one episode.
  """
  timestep = data.timestep
  step_type = np.asarray(timestep.step_type)
  if lengths is None:
    lengths = [len(step_type)]
  ends = np.cumsum(lengths)[np.asarray(lengths) > 0] - 1
  is_last = step_type == int(dm_env.StepType.LAST)
  discount = np.asarray(timestep.discount)
  no_discount = (discount == 0).reshape(len(step_type), -1).all(axis=1)
  steps = {
    'observation': timestep.observation,
    'action': _map(lambda x, p: _shifted(x, ends), data.action, 'action'),
    'reward': _map(lambda x, p: _shifted(x, ends), timestep.reward, 'reward'),
    'discount': _map(lambda x, p: _shifted(x, ends), timestep.discount, 'discount'),
    'is_first': step_type == int(dm_env.StepType.FIRST),
    'is_last': is_last,
    'is_terminal': is_last & no_discount,
  }
  steps.update(_named_fields(data.custom_data, 'custom_data', STEP_KEYS, f'{path} custom_data'))
  return steps


def _rows(tree: Any, start: int, stop: int) -> Any:
  return tf.nest.map_structure(lambda x: x[start:stop], tree)


class _Signature:
  """The element specs of a dataset's RLDS steps and episode metadata."""

  def __init__(self, reader: reader_lib.Reader, data_directory: str):
    if not len(reader.episodes):  # pylint: disable=g-explicit-length-test
      first = None
    else:
      first = _rlds_steps(reader.episode_arrays(0), f'{data_directory} episode 0')
    recorded = {
      'observation': reader.observation_spec(),
      'action': reader.action_spec(),
      'reward': reader.reward_spec(),
      'discount': reader.discount_spec(),
    }
    steps = {}
    for key, spec in recorded.items():
      if spec is not None:
        steps[key] = _spec_from_dm_spec(spec, f'{key}_spec')
      elif first is not None:
        steps[key] = _spec_from_arrays(first[key], key)
      else:
        raise ValueError(
          f'{data_directory}: no {key}_spec recorded and no episode to infer it from'
        )
    for key in ('is_first', 'is_last', 'is_terminal'):
      steps[key] = tf.TensorSpec((None,), tf.bool)
    if first is not None:
      for key, value in first.items():
        if key not in steps:
          steps[key] = _spec_from_arrays(value, key)
    self.steps = steps
    self.metadata = {}
    for metadata in reader.episode_metadata():
      if metadata is not None:
        fields = _named_fields(
          metadata, 'episode_metadata', ('steps',), f'{data_directory} episode metadata'
        )
        self.metadata = {k: _spec_from_value(v, k) for k, v in fields.items()}
        break


def _episode_runs(reader: reader_lib.Reader) -> List[Tuple[int, int, int, List[int]]]:
  """(first episode, end episode, first step, lengths) of runs of episodes read together.

  A run is consecutive episodes whose steps follow each other, of at most
  _RUN_STEPS steps in all (or a single longer episode).
  """
  backend = reader._backend  # pylint: disable=protected-access
  infos = [
    backend._get_nth_episode_info(i, include_metadata=False)  # pylint: disable=protected-access
    for i in range(len(reader.episodes))
  ]
  runs = []
  first = 0
  while first < len(infos):
    end = first + 1
    total = infos[first].num_steps
    while (
      end < len(infos)
      and total + infos[end].num_steps <= _RUN_STEPS
      and infos[end].start == infos[end - 1].start + infos[end - 1].num_steps
    ):
      total += infos[end].num_steps
      end += 1
    runs.append((first, end, infos[first].start, [i.num_steps for i in infos[first:end]]))
    first = end
  return runs


def _fitted_runs(
  reader: reader_lib.Reader, signature: _Signature, data_directory: str
) -> Iterator[Tuple[int, List[int], Dict[str, Any]]]:
  """Yields (first episode, rows of each episode, RLDS steps fitted to `signature`).

  Episodes are read a run at a time (one `step_arrays` call); a run with
  steps in damaged chunks (fewer rows than its episodes have) is read again
  episode by episode, each episode with the rows that could be read.
  """
  for first, end, start, lengths in _episode_runs(reader):
    parts = [(first, lengths, reader.step_arrays(start, start + sum(lengths)))]
    if len(parts[0][2].timestep.step_type) != sum(lengths):
      arrays = [reader.episode_arrays(i) for i in range(first, end)]
      parts = [(i, [len(a.timestep.step_type)], a) for i, a in zip(range(first, end), arrays)]
    for episode, rows, data in parts:
      what = (
        f'{data_directory} episode {episode}'
        if len(rows) == 1
        else f'{data_directory} episodes {episode}..{episode + len(rows) - 1}'
      )
      steps = _rlds_steps(data, what, rows)
      for key in ('action', 'reward', 'discount'):
        if steps[key] is None:  # Only FIRST steps: every RLDS row has zeros there.
          steps[key] = _zeros(signature.steps[key], rows=sum(rows))
      yield episode, rows, _fit(steps, signature.steps, 'steps', what)


def _episodes(data_directory: str, signature: _Signature) -> Iterator[Dict[str, Any]]:
  """Yields every episode's RLDS steps and metadata, fitted to `signature`."""
  with reader_lib.Reader(data_directory) as reader:
    metadata_seq = reader.episode_metadata()
    zeros = _zeros(signature.metadata)
    for first, lengths, steps in _fitted_runs(reader, signature, data_directory):
      offsets = np.concatenate([[0], np.cumsum(lengths)])
      for i in range(len(lengths)):
        episode = {'steps': _rows(steps, offsets[i], offsets[i + 1])}
        if signature.metadata:
          metadata = metadata_seq[first + i]
          if metadata is None:
            episode.update(zeros)
          else:
            what = f'{data_directory} episode {first + i}'
            fields = _named_fields(metadata, 'episode_metadata', ('steps',), f'{what} metadata')
            episode.update(_fit(fields, signature.metadata, 'episode', what))
        yield episode


def _steps(data_directory: str, signature: _Signature) -> Iterator[Dict[str, Any]]:
  """Yields the RLDS steps of runs of whole episodes (a leading step axis)."""
  with reader_lib.Reader(data_directory) as reader:
    for _, _, steps in _fitted_runs(reader, signature, data_directory):
      yield steps


def as_dataset(data_directory: DataDirectory, *, level: str = 'episodes') -> tf.data.Dataset:
  """The recorded dataset as a `tf.data.Dataset` of RLDS episodes or steps.

  Args:
    data_directory: what `envlogger.Reader` opens.
    level: 'episodes' for one element per episode, `{'steps': {...}, ...}`
      with the steps stacked (a leading axis of the episode's length) and the
      episode metadata; 'steps' for one element per RLDS step.

  Returns:
    A dataset that reads the files each time it is iterated (a fresh reader
    per iteration); `tfds.as_numpy` turns it into numpy.

  Raises:
    ValueError: an unknown `level`, or specs that cannot be built (see the
      module docstring).
  """
  if level not in _LEVELS:
    raise ValueError(f'level must be one of {_LEVELS}, got {level!r}')
  data_directory = os.fspath(data_directory)
  with reader_lib.Reader(data_directory) as reader:
    signature = _Signature(reader, data_directory)
  if level == 'steps':
    dataset = tf.data.Dataset.from_generator(
      lambda: _steps(data_directory, signature), output_signature=signature.steps
    )
    return dataset.unbatch()
  return tf.data.Dataset.from_generator(
    lambda: _episodes(data_directory, signature),
    output_signature={'steps': signature.steps, **signature.metadata},
  )
