"""RLDS helpers: envlogger steps -> RLDS steps, and recovery of TFDS shards.

RLDS (https://github.com/google-research/rlds) stores an episode as a
sequence of steps where step i holds the observation *before* the action and
the action, reward and discount that *follow* it:

  RLDS step i = {observation: obs_i, action: a_(i+1), reward: r_(i+1),
                 discount: d_(i+1), is_first, is_last, is_terminal of
                 timestep i, plus the step metadata (custom_data) of step i}

An envlogger episode of N+1 `StepData` (a FIRST step followed by N steps)
therefore becomes N+1 RLDS steps; the final one has no following action,
reward or discount, so it carries placeholders ("zeros").

`to_rlds_step` does not need TensorFlow; `maybe_recover_last_shard` imports
it when called.
"""

import os
from typing import Any, Dict, Mapping, Optional

from absl import logging
from envlogger import extras
from envlogger import step_data
import numpy as np

Step = Dict[str, Any]

# Keys every RLDS step has; anything else in a step is step metadata.
RLDS_STEP_KEYS = (
  'observation',
  'action',
  'reward',
  'discount',
  'is_first',
  'is_last',
  'is_terminal',
)


def zeros_like(value: Any) -> Any:
  """A "zero" value of the same type and structure as `value`.

  Unlike `np.zeros_like`, strings stay strings (`''` / `b''`, not a `<U`
  array; upstream issue #15), containers keep their type and keys, and None
  stays None (upstream produced an object array).

  Args:
    value: a (possibly nested) action, reward or discount.
  """
  if value is None:
    return None
  if isinstance(value, str):
    return ''
  if isinstance(value, bytes):
    return b''
  if isinstance(value, Mapping):
    return type(value)((k, zeros_like(v)) for k, v in value.items())
  if isinstance(value, (list, tuple)):
    zeros = [zeros_like(v) for v in value]
    return type(value)(*zeros) if hasattr(value, '_fields') else type(value)(zeros)
  if isinstance(value, np.ndarray):
    if value.dtype.kind in ('U', 'S'):
      return np.zeros_like(value)  # '' / b'' elements, same dtype and shape
    if value.dtype == object:
      return np.array([zeros_like(v) for v in value.flat], dtype=object).reshape(value.shape)
    return np.zeros_like(value)
  if isinstance(value, np.generic):
    kind = value.dtype.kind
    return value.dtype.type() if kind in 'US' else value.dtype.type(0)
  if isinstance(value, (bool, int, float, complex)):
    return type(value)(0)
  raise TypeError(
    f'Cannot build a zero value like {type(value).__name__} '
    f'({value!r}); give explicit last-step placeholders'
  )


def to_rlds_step(
  prev_step: step_data.StepData,
  step: Optional[step_data.StepData],
  last_step_placeholders: Optional[Mapping[str, Any]] = None,
) -> Step:
  """Builds RLDS step i from envlogger steps i (`prev_step`) and i+1 (`step`).

  Args:
    prev_step: the envlogger step whose observation and flags the RLDS step
      holds; its `custom_data`, if a dict, is merged in as step metadata.
    step: the next envlogger step (its action, reward and discount), or None
      for the final step of an episode.
    last_step_placeholders: for `step=None`, the values of `action`, `reward`
      and `discount` (e.g. zeros matching the dataset's features). Keys
      missing here get `zeros_like` of `prev_step`'s values.

  Returns:
    The RLDS step dict: observation, action, reward, discount, is_first,
    is_last, is_terminal (`prev_step` is LAST with discount 0) and the step
    metadata keys.
  """
  timestep = prev_step.timestep
  if step is not None:
    action = step.action
    reward = step.timestep.reward
    discount = step.timestep.discount
  else:
    placeholders = last_step_placeholders or {}
    action = placeholders['action'] if 'action' in placeholders else zeros_like(prev_step.action)
    reward = placeholders['reward'] if 'reward' in placeholders else zeros_like(timestep.reward)
    discount = (
      placeholders['discount'] if 'discount' in placeholders else zeros_like(timestep.discount)
    )
  metadata = prev_step.custom_data if isinstance(prev_step.custom_data, dict) else {}
  return {
    'action': action,
    'discount': discount,
    'is_first': timestep.first(),
    'is_last': timestep.last(),
    'is_terminal': bool(
      timestep.last()
      and timestep.discount is not None
      and np.all(np.asarray(timestep.discount) == 0)
    ),
    'observation': timestep.observation,
    'reward': reward,
    **metadata,
  }


def _scan_tfrecord(path: str):
  """Counts the complete records of a TFRecord file.

  Returns:
    (number of complete records, their payload bytes, end offset of the last
    complete record). A torn or corrupt tail (a crash in the middle of a
    write) ends the scan.
  """
  tf = extras.import_extra('tensorflow', 'tf', 'envlogger.backends.rlds_utils', 'TensorFlow')
  num_records = 0
  num_bytes = 0
  end = 0
  iterator = iter(tf.data.TFRecordDataset(path))
  while True:
    try:
      record = next(iterator)
    except StopIteration:
      break
    except tf.errors.DataLossError as e:
      logging.warning(
        '%s: damaged record after byte %d (%s); the tail is dropped',
        path,
        end,
        e.message.splitlines()[0],
      )
      break
    size = len(record.numpy())
    num_records += 1
    num_bytes += size
    end += size + 16  # u64 length, u32 crc of it, data, u32 crc of data
  return num_records, num_bytes, end


def maybe_recover_last_shard(builder: Any) -> Any:
  """Registers shards written by a TFDS writer that was never closed.

  A `tfds.core.SequentialWriter` (hence `TFDSBackendWriter`) lists a shard in
  the split metadata (dataset_info.json) only when the shard is closed, so a
  crash leaves the shard in progress on disk but unlisted, and TFDS ignores
  it. This function looks, for every split, for shard files after the listed
  ones, counts their complete records, cuts a torn tail (the episode being
  written at the crash) so the file reads cleanly, and rewrites the metadata.
  It reads the shard once; without unlisted shards it changes nothing.

  Args:
    builder: a `tfds.core.DatasetBuilder` of the dataset, e.g.
      `tfds.builder_from_directory(path)`.

  Returns:
    `builder`, whose `info.splits` now includes the recovered shards. (Build
    a new builder to read the dataset: TFDS caches split reading details.)
  """
  tf = extras.import_extra('tensorflow', 'tf', 'envlogger.backends.rlds_utils', 'TensorFlow')
  tfds = extras.import_extra(
    'tensorflow_datasets', 'tf', 'envlogger.backends.rlds_utils', 'TensorFlow Datasets'
  )
  new_splits = []
  changed = False
  for split_info in builder.info.splits.values():
    template = split_info.filename_template
    shard_lengths = list(split_info.shard_lengths)
    num_bytes = split_info.num_bytes
    while True:
      path = os.fspath(template.sharded_filepath(shard_index=len(shard_lengths), num_shards=None))
      if not tf.io.gfile.exists(path):
        break
      num_records, record_bytes, end = _scan_tfrecord(path)
      if end < tf.io.gfile.stat(path).length:
        with open(path, 'r+b') as f:
          f.truncate(end)
      logging.info('Recovered shard %s: %d episodes', path, num_records)
      shard_lengths.append(num_records)
      num_bytes += record_bytes
      changed = True
    new_splits.append(split_info.replace(shard_lengths=shard_lengths, num_bytes=num_bytes))
  if changed:
    builder.info.set_splits(tfds.core.SplitDict(new_splits))
    builder.info.write_to_directory(builder.data_dir)
  return builder
