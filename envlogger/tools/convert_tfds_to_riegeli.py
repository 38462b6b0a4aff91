r"""Converts a TFDS dataset of RLDS episodes into an envlogger (Riegeli) dataset.

  python -m envlogger.tools.convert_tfds_to_riegeli \
      --tfds_dir=/tmp/catch_tfds --output_dir=/tmp/catch_riegeli

Each RLDS episode is replayed through an `EnvLogger` wrapping a
`ReplayEnvironment`, so the output is exactly what logging the original
environment would have written. RLDS step i holds observation i and the
action, reward and discount that follow it (see
`envlogger/backends/rlds_utils.py`); the envlogger steps rebuilt from an
episode of n RLDS steps are:

  step 0:        FIRST, observation 0, reward/discount None, action None
  step k (k>0):  observation k, action/reward/discount of RLDS step k-1,
                 LAST if RLDS step k `is_last` else MID; a terminal LAST step
                 (`is_terminal`) gets a zero discount
  custom_data:   the step metadata keys of RLDS step k (a dict), if any
  episode metadata: the episode's non-`steps` features (a dict), if any

so an envlogger dataset converted to RLDS and back has the same steps and
episode boundaries. Steps are read in batches of --max_episode_steps
(memory bound); longer episodes are read batch after batch (upstream kept
only the last batch of such an episode). Text features are decoded to str.
"""

from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

from absl import app
from absl import flags
from absl import logging
import dm_env
from dm_env import specs
from envlogger import environment_logger
from envlogger import extras
from envlogger.backends import backend_type
from envlogger.backends import rlds_utils
from envlogger.converters import spec_codec
from envlogger.tools import quiet_flag
import numpy as np

tf = extras.import_extra(
  'tensorflow', 'tf', 'envlogger.tools.convert_tfds_to_riegeli', 'TensorFlow'
)
tfds = extras.import_extra(
  'tensorflow_datasets', 'tf', 'envlogger.tools.convert_tfds_to_riegeli', 'TensorFlow Datasets'
)

_TFDS_DIR = flags.DEFINE_string('tfds_dir', None, 'Directory of the TFDS dataset.')
_TFDS_NAME = flags.DEFINE_string(
  'tfds_name', None, 'Name of a registered TFDS dataset (instead of --tfds_dir).'
)
_SPLIT = flags.DEFINE_string('split', 'train', 'Dataset split to convert.')
_OUTPUT_DIR = flags.DEFINE_string('output_dir', None, 'Directory of the Riegeli dataset to write.')
_MAX_EPISODE_STEPS = flags.DEFINE_integer(
  'max_episode_steps', 10000, 'Steps read from TFDS at once (a memory bound, not a length limit).'
)


class ReplayEnvironment(dm_env.Environment):
  """Returns queued timesteps; the specs are given at construction.

  `queue(timestep, custom_data)` sets what the next `reset()`/`step()`
  returns; `custom_data` is then what `current_custom_data()` returns.
  """

  def __init__(self, observation_spec: Any, action_spec: Any, reward_spec: Any, discount_spec: Any):
    self._specs = (observation_spec, action_spec, reward_spec, discount_spec)
    self._next: Optional[dm_env.TimeStep] = None
    self._custom_data: Any = None

  def queue(self, timestep: dm_env.TimeStep, custom_data: Any) -> None:
    self._next = timestep
    self._custom_data = custom_data

  def _pop(self) -> dm_env.TimeStep:
    if self._next is None:
      raise ValueError('ReplayEnvironment: no timestep queued')
    timestep, self._next = self._next, None
    return timestep

  def reset(self) -> dm_env.TimeStep:
    return self._pop()

  def step(self, action: Any) -> dm_env.TimeStep:
    del action
    return self._pop()

  def current_custom_data(self) -> Any:
    return self._custom_data

  def observation_spec(self) -> Any:
    return self._specs[0]

  def action_spec(self) -> Any:
    return self._specs[1]

  def reward_spec(self) -> Any:
    return self._specs[2]

  def discount_spec(self) -> Any:
    return self._specs[3]


def _map(fn, value: Any, feature: Any) -> Any:
  """Applies `fn(leaf, leaf_feature)` over nested dicts (feature may be None)."""
  if isinstance(value, dict):
    return {
      k: _map(
        fn, v, feature[k] if isinstance(feature, (dict, tfds.features.FeaturesDict)) else None
      )
      for k, v in value.items()
    }
  return fn(value, feature)


def _decode_text(value: Any, feature: Any) -> Any:
  if isinstance(feature, tfds.features.Text) and isinstance(value, bytes):
    return value.decode('utf-8')
  return value


def _spec_from_tensor_spec(spec: Any, feature: Any) -> Any:
  """dm_env specs for (nested dicts of) `tf.TensorSpec`s.

  Strings get dtype str for `Text` features (decoded), object otherwise.
  """
  if isinstance(spec, dict):
    return {
      k: _spec_from_tensor_spec(
        v, feature[k] if isinstance(feature, (dict, tfds.features.FeaturesDict)) else None
      )
      for k, v in spec.items()
    }
  dtype = spec.dtype.as_numpy_dtype
  if spec.dtype == tf.string:
    dtype = np.str_ if isinstance(feature, tfds.features.Text) else np.object_
  return specs.Array(shape=tuple(spec.shape), dtype=dtype)


def _same_structure_shapes_dtypes(a: Any, b: Any) -> bool:
  """Whether two (nested dicts of) dm_env specs agree on shapes and dtypes."""
  if isinstance(a, dict) or isinstance(b, dict):
    return (
      isinstance(a, dict)
      and isinstance(b, dict)
      and sorted(a) == sorted(b)
      and all(_same_structure_shapes_dtypes(a[k], b[k]) for k in a)
    )
  if not isinstance(a, specs.Array) or not isinstance(b, specs.Array):
    return False
  same_kind = a.dtype == b.dtype or (a.dtype.kind in 'OUS' and b.dtype.kind in 'OUS')
  return tuple(a.shape) == tuple(b.shape) and same_kind


def _choose_specs(derived: Dict[str, Any], recorded: Optional[Dict[str, Any]]) -> Dict[str, Any]:
  """Recorded specs where they fit the data, else the derived ones.

  Recorded specs (from an envlogger dataset converted to TFDS) keep bounds,
  names and num_values that the TFDS element spec does not have.
  """
  chosen = dict(derived)
  for name, spec in (recorded or {}).items():
    if spec is None or name not in derived:
      continue
    if _same_structure_shapes_dtypes(spec, derived[name]):
      chosen[name] = spec
    else:
      logging.warning(
        'recorded %s %s does not match the data (%s): using the latter', name, spec, derived[name]
      )
  return chosen


def _iter_steps(
  episodes_dataset: tf.data.Dataset, batch_size: int, features: Any
) -> Iterator[Tuple[int, Dict[str, Any], Dict[str, Any]]]:
  """Yields (episode index, episode metadata, RLDS step) for every step.

  One tf.data pipeline flattens all episodes into batches of steps (a
  pipeline per episode cost ~30 ms each); values are numpy, Text decoded.
  Steps whose shapes are not all fully defined (variable-length sequences)
  cannot be batched and are read one by one. Episodes without steps yield
  nothing.
  """
  step_spec = episodes_dataset.element_spec['steps'].element_spec
  shapes = tf.nest.flatten(tf.nest.map_structure(lambda s: s.shape, step_spec))
  if not all(s.is_fully_defined() for s in shapes):
    batch_size = 1

  def batches(index, episode):
    metadata = {k: v for k, v in episode.items() if k != 'steps'}
    return episode['steps'].batch(batch_size).map(lambda steps: (index, metadata, steps))

  step_features = features['steps'].feature if features is not None else None
  metadata_features = features
  for index, metadata, steps in episodes_dataset.enumerate().flat_map(batches).as_numpy_iterator():
    metadata = _map(_decode_text, metadata, metadata_features)
    for i in range(len(steps['is_first'])):
      yield (
        int(index),
        metadata,
        _map(lambda v, f, i=i: _decode_text(v[i], f), steps, step_features),
      )


def _step_metadata(step: Dict[str, Any]) -> Optional[Dict[str, Any]]:
  metadata = {k: v for k, v in step.items() if k not in rlds_utils.RLDS_STEP_KEYS}
  return metadata or None


def _timestep(
  step_type: dm_env.StepType, prev: Optional[Dict[str, Any]], step: Dict[str, Any]
) -> dm_env.TimeStep:
  if prev is None:
    return dm_env.TimeStep(step_type, None, None, step['observation'])
  discount = prev.get('discount')
  if step_type == dm_env.StepType.LAST and step['is_terminal']:
    discount = rlds_utils.zeros_like(discount)
  return dm_env.TimeStep(step_type, prev.get('reward'), discount, step['observation'])


def convert_tf_dataset_to_riegeli(
  episodes_dataset: tf.data.Dataset,
  output_dir: Optional[str] = None,
  max_episode_steps: int = 10000,
  features: Any = None,
  metadata: Optional[Dict[str, Any]] = None,
  environment_specs: Optional[Dict[str, Any]] = None,
  backend: Any = backend_type.BackendType.RIEGELI,
  show_progress: bool = False,
  progress_total: Optional[int] = None,
  **backend_kwargs,
) -> int:
  """Replays every RLDS episode of `episodes_dataset` through an EnvLogger.

  Args:
    episodes_dataset: RLDS episodes (`builder.as_dataset(split=...)`).
    output_dir: the Riegeli dataset directory (the RIEGELI backend's
      `data_directory`).
    max_episode_steps: steps read at once (memory bound; longer episodes are
      read in several batches, nothing is dropped).
    features: the dataset's `tfds.features.FeaturesDict`
      (`builder.info.features`); when given, Text values are decoded to str
      (and their specs have dtype str). The specs' shapes and dtypes come
      from the dataset's element spec.
    metadata: dataset metadata for the EnvLogger (the specs are added).
    environment_specs: dm_env specs by name ('observation_spec', ...), e.g.
      those an envlogger dataset recorded; each is used where its shapes and
      dtypes match the data (they keep bounds and names), otherwise the spec
      derived from the data is.
    backend: the EnvLogger backend (a `BackendType` or a callable returning a
      `BackendWriter`).
    show_progress: show a progress bar (tqdm) on stderr.
    progress_total: the number of episodes, if known, for the progress bar.
    **backend_kwargs: more arguments of the backend writer.

  Returns:
    The number of episodes written.

  Raises:
    ValueError: the dataset has no episode with steps, or an episode is
      malformed (a step after `is_last`); the error names the episode/step.
  """
  if max_episode_steps <= 0:
    raise ValueError(f'max_episode_steps must be positive, got {max_episode_steps}')
  step_spec = _spec_from_tensor_spec(
    episodes_dataset.element_spec['steps'].element_spec,
    features['steps'].feature if features is not None else None,
  )
  env_specs = _choose_specs(
    {f'{key}_spec': step_spec.get(key) for key in ('observation', 'action', 'reward', 'discount')},
    environment_specs,
  )
  env = ReplayEnvironment(**env_specs)
  metadata_holder = {'value': None}
  if backend == backend_type.BackendType.RIEGELI:
    if not output_dir:
      raise ValueError('output_dir is required for the RIEGELI backend')
    backend_kwargs['data_directory'] = output_dir
  logger = environment_logger.EnvLogger(
    env,
    step_fn=lambda unused_ts, unused_action, e: e.current_custom_data(),
    episode_fn=lambda *unused: metadata_holder['value'],
    metadata=metadata,
    backend=backend,
    **backend_kwargs,
  )
  import tqdm  # pylint: disable=g-import-not-at-top

  num_episodes = 0
  episode_index = -1
  prev = None
  count = 0
  try:
    with tqdm.tqdm(total=progress_total, unit='episode', disable=not show_progress) as bar:
      for index, episode_metadata, step in _iter_steps(
        episodes_dataset, max_episode_steps, features
      ):
        if index != episode_index:
          if index > episode_index + 1:
            logging.warning(
              'episodes %d to %d have no steps: skipped', episode_index + 1, index - 1
            )
          episode_index, prev, count = index, None, 0
          num_episodes += 1
          bar.update(1)
          metadata_holder['value'] = episode_metadata or None
        if prev is not None and prev['is_last']:
          raise ValueError(f'episode {index}, step {count}: a step follows the step marked is_last')
        if prev is None:
          env.queue(_timestep(dm_env.StepType.FIRST, None, step), _step_metadata(step))
          logger.reset()
        else:
          step_type = dm_env.StepType.LAST if step['is_last'] else dm_env.StepType.MID
          env.queue(_timestep(step_type, prev, step), _step_metadata(step))
          logger.step(prev['action'])
        prev = step
        count += 1
  finally:
    logger.close()
  if num_episodes == 0:
    raise ValueError('the dataset has no episode with steps')
  return num_episodes


def recorded_environment_specs(metadata: Dict[str, Any]) -> Optional[Dict[str, Any]]:
  """Pops and decodes `'environment_specs'` of TFDS dataset metadata.

  `convert_riegeli_to_tfds` stores the envlogger metadata as JSON, specs
  included; the EnvLogger records the specs afresh, so they are removed from
  `metadata`. Returns None (with a warning) if they cannot be decoded.
  """
  encoded = metadata.pop('environment_specs', None)
  if encoded is None:
    return None
  try:
    return spec_codec.decode_environment_specs(encoded)
  except (TypeError, ValueError) as e:
    logging.warning('ignoring undecodable environment_specs: %s', e)
    return None


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  if not _OUTPUT_DIR.value:
    raise app.UsageError('--output_dir must be specified.')
  if _TFDS_DIR.value:
    builder = tfds.builder_from_directory(_TFDS_DIR.value)
  elif _TFDS_NAME.value:
    builder = tfds.builder(_TFDS_NAME.value)
  else:
    raise app.UsageError('Either --tfds_dir or --tfds_name must be specified.')
  metadata = dict(builder.info.metadata or {})
  split_info = builder.info.splits.get(_SPLIT.value)  # None for 'train[:5]'
  count = convert_tf_dataset_to_riegeli(
    builder.as_dataset(split=_SPLIT.value),
    output_dir=_OUTPUT_DIR.value,
    max_episode_steps=_MAX_EPISODE_STEPS.value,
    features=builder.info.features,
    metadata=metadata,
    environment_specs=recorded_environment_specs(metadata),
    show_progress=quiet_flag.show_progress(),
    progress_total=split_info.num_examples if split_info else None,
  )
  logging.info('Wrote %d episodes to %s', count, _OUTPUT_DIR.value)


if __name__ == '__main__':
  app.run(main)
