"""TFDSBackendWriter: records episodes as an RLDS dataset in TFDS format.

Layout: `data_directory` receives the files of `tfds.core.SequentialWriter`
(`dataset_info.json`, `features.json`, `<name>-<split>.tfrecord-NNNNN`); read
it with `tfds.builder_from_directory(data_directory).as_dataset(split=...)`.
Every example is one episode: `{'steps': [RLDS steps], **episode metadata}`
(see `rlds_utils` for the step layout).

Durability contract (upstream kept the finished episode in memory until the
next `reset()` or `close()`, so a crash lost it):

* An episode is written as soon as it is finished: when its LAST step is
  recorded or, if the DatasetConfig declares episode metadata, when the
  metadata following that LAST step arrives (`EnvLogger` sets it right after
  recording the step). Failing that, at the next episode start or `close()`.
* After each episode the open shard file is flushed to the operating system,
  so a process that dies without `close()` keeps every episode written.
  TFDS only lists a shard in dataset_info.json when the shard is closed;
  `rlds_utils.maybe_recover_last_shard` registers the unlisted one.

Importing this module imports TensorFlow Datasets (and so TensorFlow);
`import envlogger` never does.
"""

import dataclasses
import json
from typing import Any, Dict, List, Optional

from absl import logging
from envlogger import step_data
from envlogger.backends import backend_writer
from envlogger import extras
from envlogger.backends import rlds_utils
import numpy as np

tfds = extras.import_extra(
  'tensorflow_datasets', 'tf', 'envlogger.backends.tfds_backend_writer', 'TensorFlow Datasets'
)

DatasetConfig = tfds.rlds.rlds_base.DatasetConfig


def zeros_for_feature(feature: Any) -> Any:
  """A value of all zeros (empty strings, empty sequences) for a TFDS feature.

  Used as the action/reward/discount of the final RLDS step, which has none.
  Derived from the feature rather than from a recorded value, so it encodes
  for any feature: `Text` gets `''` (upstream's `np.zeros_like('abc')` gave a
  `<U3` array that TFDS rejects, issue #15), unknown-length dimensions are 0.

  Args:
    feature: a `tfds.features.FeatureConnector` (or a dtype, as accepted in a
      DatasetConfig).
  """
  feature = tfds.features.features_dict.to_feature(feature)
  return _zeros_for_tensor_info(feature.get_tensor_info())


def _zeros_for_tensor_info(info: Any) -> Any:
  if isinstance(info, dict):
    return {k: _zeros_for_tensor_info(v) for k, v in info.items()}
  dtype = np.dtype(info.np_dtype)
  shape = tuple(0 if d is None else d for d in info.shape)
  if dtype == object:  # tf.string
    return b'' if not shape else np.full(shape, b'', dtype=object)
  if not shape:
    return dtype.type(0)
  return np.zeros(shape, dtype=dtype)


def loadable_step_feature(feature: Any) -> Any:
  """`feature` with every fixed-length `Sequence` in it made variable-length.

  TFDS (4.9) serializes a fixed-length Sequence nested in the `steps` Dataset
  as a ragged tensor but parses it back as a dense one, so such a dataset
  writes fine and then fails to load (upstream issue #14). The values are
  unchanged (a Sequence of length 3 still reads back with 3 elements), only
  the declared length becomes None in features.json and is not checked.

  Args:
    feature: a step feature of a DatasetConfig (a FeatureConnector or a
      dtype); anything without a fixed-length Sequence is returned as is.
  """
  if isinstance(feature, tfds.features.Sequence) and not isinstance(feature, tfds.features.Dataset):
    inner = loadable_step_feature(feature.feature)
    if feature._length is None and inner is feature.feature:  # pylint: disable=protected-access
      return feature
    return tfds.features.Sequence(inner, length=None, doc=feature.doc)
  if isinstance(feature, tfds.features.FeaturesDict):
    items = {k: loadable_step_feature(v) for k, v in feature.items()}
    if all(items[k] is feature[k] for k in items):
      return feature
    return tfds.features.FeaturesDict(items, doc=feature.doc)
  if isinstance(feature, dict):
    return {k: loadable_step_feature(v) for k, v in feature.items()}
  return feature


def _loadable_config(ds_config: DatasetConfig) -> DatasetConfig:
  """`ds_config` with `loadable_step_feature` applied to every step feature."""
  step_metadata = ds_config.step_metadata_info
  return dataclasses.replace(
    ds_config,
    observation_info=loadable_step_feature(ds_config.observation_info),
    action_info=loadable_step_feature(ds_config.action_info),
    reward_info=loadable_step_feature(ds_config.reward_info),
    discount_info=loadable_step_feature(ds_config.discount_info),
    step_metadata_info=(
      None
      if step_metadata is None
      else {k: loadable_step_feature(v) for k, v in step_metadata.items()}
    ),
  )


def _to_json_value(value: Any, path: str) -> Any:
  """`value` with numpy values/containers turned into JSON-serializable ones."""
  if isinstance(value, dict):
    return {str(k): _to_json_value(v, f'{path}[{k!r}]') for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_to_json_value(v, f'{path}[{i}]') for i, v in enumerate(value)]
  if isinstance(value, np.ndarray):
    return _to_json_value(value.tolist(), path)
  if isinstance(value, np.generic):
    return _to_json_value(value.item(), path)
  if isinstance(value, bytes):
    try:
      return value.decode('utf-8')
    except UnicodeDecodeError:
      raise TypeError(
        f'{path}: non-UTF-8 bytes cannot be stored in the TFDS dataset metadata (JSON)'
      ) from None
  if value is None or isinstance(value, (bool, int, float, str)):
    return value
  raise TypeError(
    f'{path}: {type(value).__name__} cannot be stored in the TFDS dataset metadata (JSON)'
  )


def dataset_metadata_to_json(metadata: Any) -> Dict[str, Any]:
  """The dataset metadata as stored by `store_ds_metadata=True`.

  Numpy arrays become lists, numpy scalars Python scalars, tuples lists,
  bytes UTF-8 strings and dict keys strings; anything else JSON cannot hold
  raises TypeError naming where it is. A non-dict `metadata` is stored under
  the key `'metadata'`.
  """
  if not isinstance(metadata, dict):
    metadata = {'metadata': metadata}
  converted = _to_json_value(metadata, 'metadata')
  json.dumps(converted)  # fails here, not at the first write, if still bad
  return converted


class _SequentialWriter(tfds.core.SequentialWriter):
  """TFDS's SequentialWriter, plus a flush and without redundant rewrites.

  `SequentialWriter` rewrites dataset_info.json, features.json and
  metadata.json after every `add_examples`, although they only change when a
  split is created or a shard closed (the open shard is not listed); that was
  90% of the time per episode. This subclass writes them only when the split
  shard lengths changed, so the files on disk are the same.

  It relies on two TFDS 4.9 internals: `_write_splits_metadata` and
  `_splits[name].current_shard.writer`.
  """

  def __init__(self, *args, **kwargs):
    self._written_state = None
    super().__init__(*args, **kwargs)

  def _write_splits_metadata(self) -> None:
    state = {
      name: (tuple(split.info.shard_lengths), split.closed) for name, split in self._splits.items()
    }
    if state != self._written_state:
      super()._write_splits_metadata()
      self._written_state = state

  def flush(self) -> None:
    """Pushes the open shards' buffered bytes to the operating system."""
    for split in self._splits.values():
      if split.current_shard is not None:
        split.current_shard.writer.flush()


class _Episode:
  """The episode being recorded: RLDS steps built so far."""

  def __init__(self, first_step: step_data.StepData):
    self.prev_step = first_step
    self.steps: List[rlds_utils.Step] = []
    self.metadata: Optional[Any] = None
    self.finished = first_step.timestep.last()

  def add_step(self, step: step_data.StepData) -> None:
    self.steps.append(rlds_utils.to_rlds_step(self.prev_step, step))
    self.prev_step = step
    self.finished = step.timestep.last()

  def rlds_steps(self, placeholders: Dict[str, Any]) -> List[rlds_utils.Step]:
    return self.steps + [rlds_utils.to_rlds_step(self.prev_step, None, placeholders)]


class TFDSBackendWriter(backend_writer.BackendWriter):
  """Writes RLDS episodes with TFDS's `SequentialWriter` (TFRecord files)."""

  def __init__(
    self,
    data_directory: str,
    ds_config: DatasetConfig,
    max_episodes_per_file: int = 1000,
    split_name: Optional[str] = None,
    version: str = '0.0.1',
    store_ds_metadata: bool = False,
    **base_kwargs,
  ):
    """Creates the dataset in `data_directory` (replacing one already there).

    Args:
      data_directory: directory of the TFDS dataset (created if missing).
      ds_config: the features of the steps and episodes
        (`tfds.rlds.rlds_base.DatasetConfig`); its `name` names the dataset.
      max_episodes_per_file: episodes per TFRecord shard.
      split_name: the split written; 'train' if None or empty.
      version: the dataset version, 'major.minor.patch'.
      store_ds_metadata: store the dataset metadata (`metadata=` of the base
        writer, incl. `environment_specs` when used through EnvLogger) in the
        dataset's metadata.json, readable as `builder.info.metadata`; see
        `dataset_metadata_to_json` for the conversion (upstream failed on
        numpy values and specs, issue #6).
      **base_kwargs: `metadata`, `scheduler` of `BackendWriter`.

    Raises:
      ValueError: `max_episodes_per_file` is not positive.
      TypeError: `store_ds_metadata` and the metadata cannot be stored.
    """
    super().__init__(**base_kwargs)
    self._closed = True  # until fully constructed; close() is then a no-op
    if max_episodes_per_file <= 0:
      raise ValueError(f'max_episodes_per_file must be positive, got {max_episodes_per_file}')
    self._split_name = split_name or 'train'
    self._data_directory = data_directory
    tfds.core.Path(data_directory).mkdir(parents=True, exist_ok=True)
    ds_metadata = None
    if store_ds_metadata and self._metadata is not None:
      ds_metadata = dataset_metadata_to_json(self._metadata)
    elif self._metadata:
      logging.info('TFDSBackendWriter: dataset metadata not stored (store_ds_metadata=False)')
    identity = tfds.core.dataset_info.DatasetIdentity(
      name=ds_config.name,
      version=tfds.core.Version(version),
      data_dir=data_directory,
      module_name='',
    )
    self._ds_info = tfds.rlds.rlds_base.build_info(
      _loadable_config(ds_config), identity, ds_metadata
    )
    # From the config as given: a Sequence's declared length still counts.
    self._placeholders = {
      key: zeros_for_feature(feature)
      for key, feature in (
        ('action', ds_config.action_info),
        ('reward', ds_config.reward_info),
        ('discount', ds_config.discount_info),
      )
      if feature
    }
    self._episode_metadata_keys = frozenset(k for k in self._ds_info.features if k != 'steps')
    self._writer = _SequentialWriter(self._ds_info, max_episodes_per_file, file_format='tfrecord')
    self._writer.initialize_splits([self._split_name])
    self._episode: Optional[_Episode] = None
    self._num_episodes_written = 0
    self._closed = False

  @property
  def data_directory(self) -> str:
    return self._data_directory

  @property
  def num_episodes_written(self) -> int:
    """Episodes handed to TFDS (and flushed) so far."""
    return self._num_episodes_written

  def _record_step(self, data: step_data.StepData, is_new_episode: bool) -> None:
    self._check_open()
    if is_new_episode or self._episode is None:
      self._write_episode()
      self._episode = _Episode(data)
    else:
      self._episode.add_step(data)
    if self._episode.finished and not self._episode_metadata_keys:
      self._write_episode()

  def set_episode_metadata(self, data: Any) -> None:
    """Sets the current episode's metadata (a dict; the last call wins).

    Its keys must be those of the DatasetConfig's `episode_metadata_info`.
    Called after an episode's LAST step (as `EnvLogger` does), it completes
    that episode, which is then written.

    Raises:
      ValueError: no episode is being recorded, or the keys do not match.
    """
    self._check_open()
    if not self._episode_metadata_keys and data == {}:
      return  # nothing declared, nothing given
    if self._episode is None:
      if self._num_episodes_written:
        raise ValueError(
          f'set_episode_metadata: episode {self._num_episodes_written - 1} '
          'was already written when it finished; set its metadata before '
          'or right after its LAST step'
        )
      raise ValueError(
        'set_episode_metadata: no episode is being recorded '
        '(record its first step before its metadata)'
      )
    if not isinstance(data, dict) or set(data) != self._episode_metadata_keys:
      got = sorted(data) if isinstance(data, dict) else type(data).__name__
      raise ValueError(
        'set_episode_metadata: expected a dict with the keys of the '
        f'DatasetConfig episode_metadata_info '
        f'{sorted(self._episode_metadata_keys)}, got {got}'
      )
    self._episode.metadata = data
    if self._episode.finished:
      self._write_episode()

  def _write_episode(self) -> None:
    """Writes the current episode (if any) and flushes its shard."""
    episode, self._episode = self._episode, None
    if episode is None:
      return
    index = self._num_episodes_written
    if self._episode_metadata_keys and episode.metadata is None:
      raise ValueError(
        f'episode {index}: the DatasetConfig declares episode metadata '
        f'{sorted(self._episode_metadata_keys)} but none was set'
      )
    example = {'steps': episode.rlds_steps(self._placeholders), **(episode.metadata or {})}
    try:
      self._writer.add_examples({self._split_name: [example]})
    except Exception as e:  # pylint: disable=broad-except
      raise ValueError(
        f"episode {index} cannot be encoded with the DatasetConfig's "
        f'features: {self._locate_encoding_error(example)}'
      ) from e
    self._num_episodes_written += 1
    self._writer.flush()

  def _locate_encoding_error(self, example: Dict[str, Any]) -> str:
    """Names the first step/key of `example` that the features reject."""
    features = self._ds_info.features
    step_features = features['steps'].feature
    for i, step in enumerate(example['steps']):
      for key, feature in step_features.items():
        if key not in step:
          return f'step {i}: missing key {key!r}'
        try:
          feature.encode_example(step[key])
        except Exception as e:  # pylint: disable=broad-except
          return f'step {i}, {key!r}: {type(e).__name__}: {e}'
      extra = sorted(set(step) - set(step_features))
      if extra:
        return (
          f'step {i}: keys {extra} are not features of the steps '
          '(declare them in step_metadata_info)'
        )
    for key in self._episode_metadata_keys:
      try:
        features[key].encode_example(example[key])
      except Exception as e:  # pylint: disable=broad-except
        return f'episode metadata {key!r}: {type(e).__name__}: {e}'
    return 'TFDS rejected the episode (see the chained exception)'

  def _check_open(self) -> None:
    if self._closed:
      raise ValueError('TFDSBackendWriter is closed')

  def close(self) -> None:
    """Writes the episode in progress and closes the split. Idempotent."""
    if getattr(self, '_closed', True):
      return
    try:
      self._write_episode()
    finally:
      self._closed = True
      self._writer.close_all()
      logging.info(
        'TFDSBackendWriter: %d episodes in %s', self._num_episodes_written, self._data_directory
      )
