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
one, across episodes, without episode metadata; with `batch_size=B` it
yields them in batches of B consecutive steps (across episodes), stacked
without tf.data's per-element work: the fast way to train on steps.

Element specs come from the environment specs recorded in the dataset
(observation, action, reward and discount: their dtype and shape), and from
the first episode's values for what has no spec (custom data, episode
metadata, or a dataset recorded without an environment). String dtypes are
`tf.string`. Values whose shape or dtype differ from the spec fail the
iteration with an error naming the field and the episode.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, Optional, Union

import dm_env
from dm_env import specs as dm_specs
import numpy as np

try:
  import tensorflow as tf
except ImportError as e:  # pragma: no cover - exercised in a subprocess test.
  raise ImportError(
      'envlogger.tf needs TensorFlow: pip install envlogger[tf]') from e

from envlogger import reader as reader_lib
from envlogger import step_data
from envlogger.backends import step_windows

DataDirectory = Union[str, os.PathLike]

STEP_KEYS = ('observation', 'action', 'reward', 'discount', 'is_first', 'is_last',
             'is_terminal')
_LEVELS = ('episodes', 'steps')


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
      raise ValueError(f'{what}: {path} has dtype {array.dtype}, expected '
                       f'{np.dtype(expected)}')
    array = array.astype(expected)
  return array


def _shifted(array: Optional[np.ndarray]) -> Optional[np.ndarray]:
  """Rows 1..n-1 of `array` followed by one row of zeros (RLDS's shift).

  None (a leaf that is None in every step: an episode of one FIRST step)
  stays None; `_episodes` fills it with zeros of its spec.
  """
  if array is None:
    return None
  array = np.asarray(array)
  return np.concatenate([array[1:], np.zeros((1,) + array.shape[1:], array.dtype)])


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


def _rlds_steps(data: step_data.StepData, path: str) -> Dict[str, Any]:
  """RLDS step fields (stacked) of one episode's arrays."""
  timestep = data.timestep
  step_type = np.asarray(timestep.step_type)
  is_last = step_type == int(dm_env.StepType.LAST)
  discount = np.asarray(timestep.discount)
  no_discount = (discount == 0).reshape(len(step_type), -1).all(axis=1)
  steps = {
      'observation': timestep.observation,
      'action': _map(lambda x, p: _shifted(x), data.action, 'action'),
      'reward': _map(lambda x, p: _shifted(x), timestep.reward, 'reward'),
      'discount': _map(lambda x, p: _shifted(x), timestep.discount, 'discount'),
      'is_first': step_type == int(dm_env.StepType.FIRST),
      'is_last': is_last,
      'is_terminal': is_last & no_discount,
  }
  steps.update(_named_fields(data.custom_data, 'custom_data', STEP_KEYS,
                             f'{path} custom_data'))
  return steps


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
        raise ValueError(f'{data_directory}: no {key}_spec recorded and no episode '
                         'to infer it from')
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
        fields = _named_fields(metadata, 'episode_metadata', ('steps',),
                               f'{data_directory} episode metadata')
        self.metadata = {k: _spec_from_value(v, k) for k, v in fields.items()}
        break


def _episodes(data_directory: str, signature: _Signature,
              with_metadata: bool) -> Iterator[Dict[str, Any]]:
  """Yields every episode's RLDS steps (and metadata), fitted to `signature`."""
  with reader_lib.Reader(data_directory) as reader:
    metadata_seq = reader.episode_metadata()
    zeros = _zeros(signature.metadata)
    for i in range(len(reader.episodes)):
      what = f'{data_directory} episode {i}'
      steps = _rlds_steps(reader.episode_arrays(i), what)
      for key in ('action', 'reward', 'discount'):
        if steps[key] is None:  # Only FIRST steps: every RLDS row has zeros there.
          steps[key] = _zeros(signature.steps[key], rows=len(steps['is_first']))
      steps = _fit(steps, signature.steps, 'steps', what)
      if not with_metadata:
        yield steps
        continue
      episode = {'steps': steps}
      if signature.metadata:
        metadata = metadata_seq[i]
        if metadata is None:
          episode.update(zeros)
        else:
          fields = _named_fields(metadata, 'episode_metadata', ('steps',),
                                 f'{what} metadata')
          episode.update(_fit(fields, signature.metadata, 'episode', what))
      yield episode


def _step_batches(data_directory: str, signature: _Signature, batch_size: int,
                  drop_remainder: bool) -> Iterator[Dict[str, Any]]:
  """Yields the RLDS steps of all episodes in batches of `batch_size` rows."""
  pending = []
  num_pending = 0

  def rows(tree, start, stop):
    return tf.nest.map_structure(lambda x: x[start:stop], tree)

  for steps in _episodes(data_directory, signature, with_metadata=False):
    pending.append(steps)
    num_pending += len(steps['is_first'])
    if num_pending < batch_size:
      continue
    merged = tf.nest.map_structure(lambda *xs: np.concatenate(xs), *pending)
    full = num_pending - num_pending % batch_size
    for start in range(0, full, batch_size):
      yield rows(merged, start, start + batch_size)
    pending = [rows(merged, full, num_pending)] if full < num_pending else []
    num_pending -= full
  if pending and not drop_remainder:
    yield tf.nest.map_structure(lambda *xs: np.concatenate(xs), *pending)


def as_dataset(data_directory: DataDirectory, *, level: str = 'episodes',
               batch_size: Optional[int] = None,
               drop_remainder: bool = False) -> tf.data.Dataset:
  """The recorded dataset as a `tf.data.Dataset` of RLDS episodes or steps.

  Args:
    data_directory: what `envlogger.Reader` opens.
    level: 'episodes' for one element per episode, `{'steps': {...}, ...}`
      with the steps stacked (a leading axis of the episode's length) and the
      episode metadata; 'steps' for one element per RLDS step.
    batch_size: with level='steps', yield batches of this many consecutive
      steps (a leading axis; the same elements as `.batch(batch_size)` on
      the unbatched dataset, read several times faster).
    drop_remainder: with `batch_size`, drop the last, smaller batch (the
      leading axis of the element spec is then `batch_size`).

  Returns:
    A dataset that reads the files each time it is iterated (a fresh reader
    per iteration); `tfds.as_numpy` turns it into numpy.

  Raises:
    ValueError: an unknown `level`, `batch_size` not an int >= 1 or given
      with level='episodes', or specs that cannot be built (see the module
      docstring).
  """
  if level not in _LEVELS:
    raise ValueError(f'level must be one of {_LEVELS}, got {level!r}')
  if batch_size is not None:
    if level != 'steps':
      raise ValueError(f"batch_size={batch_size!r} needs level='steps', got {level!r}")
    batch_size = step_windows.check_count('batch_size', batch_size)
  data_directory = os.fspath(data_directory)
  with reader_lib.Reader(data_directory) as reader:
    signature = _Signature(reader, data_directory)
  if batch_size is not None:
    rows = batch_size if drop_remainder else None
    spec = tf.nest.map_structure(lambda s: tf.TensorSpec((rows,) + tuple(s.shape[1:]), s.dtype),
                                 signature.steps)
    return tf.data.Dataset.from_generator(
        lambda: _step_batches(data_directory, signature, batch_size, drop_remainder),
        output_signature=spec)
  if level == 'steps':
    dataset = tf.data.Dataset.from_generator(
        lambda: _episodes(data_directory, signature, with_metadata=False),
        output_signature=signature.steps)
    return dataset.unbatch()
  return tf.data.Dataset.from_generator(
      lambda: _episodes(data_directory, signature, with_metadata=True),
      output_signature={'steps': signature.steps, **signature.metadata})
