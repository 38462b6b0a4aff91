r"""Converts an envlogger dataset (Riegeli) into a TFDS dataset of RLDS episodes.

  python -m envlogger.tools.convert_riegeli_to_tfds \
      --riegeli_dir=/tmp/catch_data --tfds_output_dir=/tmp/catch_tfds \
      --dataset_name=catch

Every episode of the Riegeli dataset becomes one RLDS episode written by
`TFDSBackendWriter` (see `envlogger/backends/rlds_utils.py` for the step
layout). Without a DatasetConfig the features are derived from the recorded
environment specs, and the step metadata (custom data) and episode metadata
features from the first step / first episode that has them:

* a dm_env `Array` spec (incl. bounded/discrete) -> `Tensor(shape, dtype)`;
  float64/uint64/complex values are stored as raw bytes
  (`Encoding.BYTES`), because tf.train.Example keeps floats as float32 and
  integers as int64, which would round or wrap them;
* string dtypes: a scalar -> `Text` (read back as bytes; the reverse tool
  decodes it to str), an array -> `Tensor(dtype=object)` (bytes);
* dicts -> `FeaturesDict` with the same keys.

Tuples/lists of specs have no RLDS feature: pass a DatasetConfig instead.
The dataset metadata (incl. `environment_specs`) is stored as JSON in the
dataset's metadata.json (`builder.info.metadata`) unless
--nostore_ds_metadata.
"""

from typing import Any, Optional, Sequence

from absl import app
from absl import flags
from absl import logging
from dm_env import specs
from envlogger import extras
from envlogger import reader as reader_lib
from envlogger.tools import quiet_flag
import numpy as np

tfds = extras.import_extra(
  'tensorflow_datasets', 'tf', 'envlogger.tools.convert_riegeli_to_tfds', 'TensorFlow Datasets'
)
# pylint: disable=g-import-not-at-top,wrong-import-position
from envlogger.backends import tfds_backend_writer  # noqa: E402

_RIEGELI_DIR = flags.DEFINE_string(
  'riegeli_dir', None, 'Directory of the envlogger (Riegeli) dataset.'
)
_TFDS_OUTPUT_DIR = flags.DEFINE_string(
  'tfds_output_dir', None, 'Directory of the TFDS dataset to write (replaced if it exists).'
)
_DATASET_NAME = flags.DEFINE_string(
  'dataset_name', 'envlogger_dataset', 'Name of the TFDS dataset.'
)
_OUTPUT_SPLIT = flags.DEFINE_string('output_split', 'train', 'Split that receives the episodes.')
_DATASET_VERSION = flags.DEFINE_string('dataset_version', '0.0.1', 'Version of the TFDS dataset.')
_MAX_EPISODES_PER_FILE = flags.DEFINE_integer(
  'max_episodes_per_file', 1000, 'Episodes per TFRecord shard.'
)
_STORE_DS_METADATA = flags.DEFINE_boolean(
  'store_ds_metadata', True, 'Store the dataset metadata in the TFDS metadata.json.'
)

# Dtypes that tf.train.Example cannot hold exactly (floats are kept as
# float32, integers as int64, no complex): stored as raw bytes instead.
_BYTES_ENCODED_KINDS = ('c',)
_BYTES_ENCODED_DTYPES = (np.dtype(np.float64), np.dtype(np.uint64))


def _tensor_feature(shape: Sequence[int], dtype: Any, path: str) -> Any:
  dtype = np.dtype(dtype)
  if dtype.kind in ('U', 'S', 'O'):
    if not tuple(shape):
      return tfds.features.Text()
    return tfds.features.Tensor(shape=tuple(shape), dtype=np.object_)
  if dtype.kind not in ('b', 'i', 'u', 'f', 'c'):
    raise ValueError(f'{path}: dtype {dtype} has no TFDS feature')
  encoding = (
    tfds.features.Encoding.BYTES
    if dtype in _BYTES_ENCODED_DTYPES or dtype.kind in _BYTES_ENCODED_KINDS
    else tfds.features.Encoding.NONE
  )
  return tfds.features.Tensor(shape=tuple(shape), dtype=dtype, encoding=encoding)


def _check_dict_keys(value: dict, path: str) -> None:
  for key in value:
    if not isinstance(key, str):
      raise ValueError(
        f'{path}: key {key!r} is not a str; TFDS features need str keys (pass a DatasetConfig)'
      )


def feature_from_spec(spec: Any, path: str = 'spec') -> Any:
  """The TFDS feature for a (nested) dm_env spec; None for a None spec.

  Raises:
    ValueError: the spec (or a part, named by its path) has no RLDS feature.
  """
  if spec is None:
    return None
  if isinstance(spec, specs.Array):
    return _tensor_feature(spec.shape, spec.dtype, path)
  if isinstance(spec, dict):
    _check_dict_keys(spec, path)
    return tfds.features.FeaturesDict(
      {k: feature_from_spec(v, f'{path}[{k!r}]') for k, v in spec.items()}
    )
  raise ValueError(
    f'{path}: {type(spec).__name__} specs have no RLDS feature (only dm_env '
    'Array specs and dicts of them); pass a DatasetConfig'
  )


def feature_from_value(value: Any, path: str = 'value') -> Any:
  """The TFDS feature for a recorded value (step or episode metadata).

  Python bool/int/float become bool/int64/float64 scalars, str `Text`, bytes a
  string scalar, numpy values keep their dtype and shape, lists of numbers
  are taken as arrays, dicts become FeaturesDicts.

  Raises:
    ValueError: None, or a value (named by its path) with no feature.
  """
  if isinstance(value, dict):
    _check_dict_keys(value, path)
    return tfds.features.FeaturesDict(
      {k: feature_from_value(v, f'{path}[{k!r}]') for k, v in value.items()}
    )
  if value is None:
    raise ValueError(f'{path}: None has no TFDS feature')
  if isinstance(value, str):
    return tfds.features.Text()
  if isinstance(value, bytes):
    return tfds.features.Tensor(shape=(), dtype=np.object_)
  if isinstance(value, bool):
    return _tensor_feature((), np.bool_, path)
  if isinstance(value, int):
    return _tensor_feature((), np.int64, path)
  if isinstance(value, float):
    return _tensor_feature((), np.float64, path)
  try:
    array = np.asarray(value)
  except ValueError as e:
    raise ValueError(f'{path}: {type(value).__name__} has no TFDS feature ({e})') from None
  if array.dtype.kind in ('U', 'S', 'O') and not all(
    isinstance(x, (str, bytes)) for x in np.asarray(value, dtype=object).flat
  ):
    # numpy turns [1, 'a'] into strings: refuse rather than convert silently.
    raise ValueError(
      f'{path}: {type(value).__name__} of mixed or non-numeric values has no TFDS feature'
    )
  return _tensor_feature(array.shape, array.dtype, path)


def dataset_config_from_reader(
  reader: reader_lib.Reader, name: str
) -> tfds_backend_writer.DatasetConfig:
  """A DatasetConfig for the steps and metadata a reader holds.

  Observation, action, reward and discount features come from the recorded
  specs (from the first steps' values when a spec is missing); step metadata
  from the first dict `custom_data`, episode metadata from the first episode
  with dict metadata.

  Raises:
    ValueError: the dataset is empty, or a spec/value has no RLDS feature.
  """
  if not len(reader.steps):  # pylint: disable=g-explicit-length-test
    raise ValueError('the dataset has no steps')
  first_steps = list(reader.episodes[0])
  later = first_steps[1] if len(first_steps) > 1 else None

  def feature(spec, value_fn, what):
    if spec is not None:
      return feature_from_spec(spec, what)
    value = value_fn()
    return None if value is None else feature_from_value(value, what)

  observation = feature(
    reader.observation_spec(), lambda: first_steps[0].timestep.observation, 'observation_spec'
  )
  action = feature(reader.action_spec(), lambda: later.action if later else None, 'action_spec')
  reward = feature(
    reader.reward_spec(), lambda: later.timestep.reward if later else None, 'reward_spec'
  )
  discount = feature(
    reader.discount_spec(), lambda: later.timestep.discount if later else None, 'discount_spec'
  )
  step_metadata = None
  for step in reader.steps:
    if isinstance(step.custom_data, dict):
      step_metadata = dict(feature_from_value(step.custom_data, 'custom_data').items())
      break
  episode_metadata = None
  for metadata in reader.episode_metadata():
    if metadata is None:
      continue
    if not isinstance(metadata, dict):
      raise ValueError(
        f'episode metadata of type {type(metadata).__name__}: RLDS episode '
        'metadata must be a dict of named features'
      )
    episode_metadata = dict(feature_from_value(metadata, 'episode_metadata').items())
    break
  return tfds_backend_writer.DatasetConfig(
    name=name,
    observation_info=observation,
    action_info=action,
    reward_info=reward,
    discount_info=discount,
    step_metadata_info=step_metadata,
    episode_metadata_info=episode_metadata,
  )


def _progress(total: int, enabled: bool) -> Any:
  import tqdm  # pylint: disable=g-import-not-at-top

  return tqdm.tqdm(total=total, unit='episode', disable=not enabled)


def convert_reader_to_tfds(
  reader: reader_lib.Reader,
  tfds_dir: str,
  dataset_name: str = 'envlogger_dataset',
  ds_config: Optional[tfds_backend_writer.DatasetConfig] = None,
  split: str = 'train',
  version: str = '0.0.1',
  max_episodes_per_file: int = 1000,
  store_ds_metadata: bool = True,
  show_progress: bool = False,
) -> int:
  """Writes every episode of `reader` as an RLDS episode into `tfds_dir`.

  Args:
    reader: the envlogger dataset (any backend).
    tfds_dir: directory of the TFDS dataset (replaced if it exists).
    dataset_name: name of the dataset when `ds_config` is None.
    ds_config: the features; derived with `dataset_config_from_reader` if None.
    split: the split written.
    version: the dataset version.
    max_episodes_per_file: episodes per shard.
    store_ds_metadata: store `reader.metadata()` as JSON.
    show_progress: show a progress bar (tqdm) on stderr.

  Returns:
    The number of episodes written.

  Raises:
    ValueError: the dataset is empty, has no feature for a value, or an
      episode does not match the features (the error names it).
  """
  if ds_config is None:
    ds_config = dataset_config_from_reader(reader, dataset_name)
  writer = tfds_backend_writer.TFDSBackendWriter(
    data_directory=tfds_dir,
    ds_config=ds_config,
    max_episodes_per_file=max_episodes_per_file,
    split_name=split,
    version=version,
    store_ds_metadata=store_ds_metadata,
    metadata=reader.metadata(),
  )
  has_episode_metadata = bool(ds_config.episode_metadata_info)
  episodes = reader.episodes
  episode_metadata = reader.episode_metadata()
  try:
    with _progress(len(episodes), show_progress) as bar:
      for i, episode in enumerate(episodes):
        for j, step in enumerate(episode):
          writer.record_step(step, is_new_episode=(j == 0))
        if has_episode_metadata and episode_metadata[i] is not None:
          writer.set_episode_metadata(episode_metadata[i])
        bar.update(1)
  finally:
    writer.close()
  return len(episodes)


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  if not _RIEGELI_DIR.value or not _TFDS_OUTPUT_DIR.value:
    raise app.UsageError('--riegeli_dir and --tfds_output_dir are required.')
  with reader_lib.Reader(_RIEGELI_DIR.value) as reader:
    count = convert_reader_to_tfds(
      reader,
      _TFDS_OUTPUT_DIR.value,
      dataset_name=_DATASET_NAME.value,
      split=_OUTPUT_SPLIT.value,
      version=_DATASET_VERSION.value,
      max_episodes_per_file=_MAX_EPISODES_PER_FILE.value,
      store_ds_metadata=_STORE_DS_METADATA.value,
      show_progress=quiet_flag.show_progress(),
    )
  logging.info('Wrote %d episodes to %s', count, _TFDS_OUTPUT_DIR.value)


if __name__ == '__main__':
  app.run(main)
