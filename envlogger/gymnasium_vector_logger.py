"""GymnasiumVectorLogger: records each sub-environment of a Gymnasium vector env.

Layout: `data_directory` is a root (see docs/gymnasium.md): sub-environment
i is recorded into its own writer subdirectory `<data_directory>/env_<i>`
(prefix configurable), an ordinary dataset that `envlogger.Reader` (and
upstream's Reader) opens. Each sub-environment's episodes are thus separate,
complete and contiguous, never mixed with another's, and its steps reach the
disk as they are recorded (no episode buffered in memory: a crash loses at
most the writer's flush interval). Which sub-environment a dataset holds is
in its metadata, under 'vector_env': {'index', 'num_envs', 'autoreset_mode'}.

Steps are the ones `GymnasiumLogger` records for a single env (FIRST on
reset, LAST with discount 0 when terminated, 1 when truncated), in both
autoreset modes (and DISABLED, with `reset(options={'reset_mask': ...})`).
A vector step is recorded by one native call
(`envlogger._native.vector_recording.VectorStepRecorder`), whatever the
number of sub-environments.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import gymnasium
from gymnasium.vector import AutoresetMode
import numpy as np

from envlogger import _native
from envlogger import gymnasium_logger
from envlogger.backends import riegeli_backend_writer
from envlogger.backends.python import riegeli_dataset_writer
from envlogger.converters import gym_spaces
from envlogger.converters import native_codec

_MODES = {AutoresetMode.NEXT_STEP: 0, AutoresetMode.SAME_STEP: 1, AutoresetMode.DISABLED: 2}
# Keys of a SAME_STEP step's info that belong to the episode that ended.
_FINAL_KEYS = frozenset(('final_obs', '_final_obs', 'final_info', '_final_info'))


def unbatch_info(info: dict, index: int) -> dict:
  """Sub-environment `index`'s info from a vector env's batched info dict.

  Keeps the keys whose mask `_key` is set for `index` (nested dicts
  likewise), without the masks.
  """
  result = {}
  for key, value in info.items():
    if key.startswith('_') and key[1:] in info:
      continue
    mask = info.get('_' + key)
    if mask is not None and not mask[index]:
      continue
    result[key] = unbatch_info(value, index) if isinstance(value, dict) else value[index]
  return result


def _sub_env_seeds(
  seed: Union[None, int, Sequence[Optional[int]]], num_envs: int
) -> List[Optional[int]]:
  """The seed each sub-environment's reset gets, as gymnasium assigns them."""
  if seed is None:
    return [None] * num_envs
  if isinstance(seed, (int, np.integer)):
    return [int(seed) + i for i in range(num_envs)]
  return list(seed)


class GymnasiumVectorLogger(gymnasium.vector.VectorWrapper):
  """Wraps a `gymnasium.vector.VectorEnv` and records every sub-environment.

  See the module docstring. Use it as a context manager or call `close()`.
  """

  def __init__(
    self,
    env: gymnasium.vector.VectorEnv,
    data_directory: Union[str, os.PathLike],
    metadata: Optional[dict] = None,
    info_filter: Optional[gymnasium_logger.InfoFilter] = None,
    max_episodes_per_file: int = 10000,
    writer_options: str = riegeli_backend_writer.DEFAULT_WRITER_OPTIONS,
    writer_prefix: str = 'env_',
  ):
    """Opens one dataset per sub-environment under `data_directory`.

    Args:
      env: the vector environment (SyncVectorEnv, AsyncVectorEnv, ...).
      data_directory: the root; created if missing.
      metadata: dataset metadata of every sub-environment's dataset; the
        specs ('environment_specs', from the single-env spaces) and
        'vector_env' are added.
      info_filter: as GymnasiumLogger's: store each sub-environment's info
        (a list of keys to keep, or a callable) as custom data `{'info': ...}`.
      max_episodes_per_file: episodes per shard, per sub-environment.
      writer_options: Riegeli writer options of the shard files.
      writer_prefix: sub-environment i is recorded in
        `<data_directory>/<writer_prefix><i>`; give each vector logger
        recording into the same root its own prefix.

    Raises:
      UnsupportedSpaceError: a space cannot be recorded (named by path).
      ValueError: the env's autoreset mode is unknown.
      RuntimeError: a directory cannot be created or written.
    """
    super().__init__(env)
    mode = env.metadata.get('autoreset_mode', AutoresetMode.NEXT_STEP)
    if not isinstance(mode, AutoresetMode) or mode not in _MODES:
      raise ValueError(f'Unsupported autoreset mode of {env}: {mode!r}')
    if metadata is not None and not isinstance(metadata, dict):
      raise TypeError(f'metadata must be a dict, not {type(metadata).__name__}')
    self._mode = _MODES[mode]
    self._info_filter = gymnasium_logger.make_info_filter(info_filter)
    specs = gym_spaces.environment_specs(env.single_observation_space, env.single_action_space)
    num_envs = env.num_envs
    root = os.fspath(data_directory)
    self._directories = [os.path.join(root, f'{writer_prefix}{i}') for i in range(num_envs)]
    records = []
    for i in range(num_envs):
      sub_metadata = dict(metadata or {})
      sub_metadata['environment_specs'] = specs
      sub_metadata['vector_env'] = {'index': i, 'num_envs': num_envs, 'autoreset_mode': mode.value}
      records.append(native_codec.encode(sub_metadata))
    os.makedirs(root, exist_ok=True)
    self._recorder = _native.vector_recording.VectorStepRecorder(
      self._directories,
      records,
      max_episodes_per_file,
      writer_options,
      riegeli_dataset_writer.DEFAULT_MAX_QUEUED_BYTES,
    )
    self._reset_done = False

  @property
  def directories(self) -> List[str]:
    """The dataset directory of each sub-environment, by index."""
    return list(self._directories)

  def _recorder_or_raise(self, call: str):
    if self._recorder is None:
      raise RuntimeError(f'GymnasiumVectorLogger.{call}() after close()')
    return self._recorder

  def _custom_data(self, info: dict) -> Optional[List[Any]]:
    info_filter = self._info_filter
    if info_filter is None:
      return None
    if self._mode == 1:
      info = {k: v for k, v in info.items() if k not in _FINAL_KEYS}
    return [{'info': info_filter(unbatch_info(info, i))} for i in range(self.num_envs)]

  def reset(
    self, *, seed: Union[None, int, Sequence[Optional[int]]] = None, options: Optional[dict] = None
  ) -> Tuple[Any, dict]:
    """Resets the sub-environments (those in options['reset_mask'], if
    given) and records the FIRST step of their new episodes; the seed each
    one gets (and `options`) are its episode's metadata."""
    recorder = self._recorder_or_raise('reset')
    mask = None
    reset_options = options
    if options is not None and 'reset_mask' in options:
      mask = np.asarray(options['reset_mask'], dtype=bool)
      reset_options = {k: v for k, v in options.items() if k != 'reset_mask'}
    observations, info = self.env.reset(seed=seed, options=options)
    recorder.record_reset(observations, self._custom_data(info), mask)
    seeds = _sub_env_seeds(seed, self.num_envs)
    for i, sub_seed in enumerate(seeds):
      if mask is not None and not mask[i]:
        continue
      episode_metadata = gymnasium_logger.reset_metadata(
        None if sub_seed is None else int(sub_seed), reset_options or None
      )
      if episode_metadata:
        recorder.set_episode_metadata(i, native_codec.encode(episode_metadata))
    self._reset_done = True
    return observations, info

  def step(self, actions: Any) -> Tuple[Any, Any, Any, Any, dict]:
    """Steps all sub-environments and records their steps in one call."""
    recorder = self._recorder_or_raise('step')
    if not self._reset_done:
      raise RuntimeError('GymnasiumVectorLogger.step() needs a reset() first')
    observations, rewards, terminations, truncations, info = self.env.step(actions)
    final_observations = final_custom_data = None
    if self._mode == 1 and 'final_obs' in info:
      final_observations = info['final_obs']
      if self._info_filter is not None:
        final_info = info.get('final_info', {})
        final_custom_data = [
          {'info': self._info_filter(unbatch_info(final_info, i))} for i in range(self.num_envs)
        ]
    recorder.record_step(
      actions,
      observations,
      rewards,
      terminations,
      truncations,
      self._mode,
      final_observations,
      self._custom_data(info),
      final_custom_data,
    )
    return observations, rewards, terminations, truncations, info

  def flush(self) -> None:
    """Writes everything recorded so far to disk and indexes it."""
    self._recorder_or_raise('flush').flush()

  def close(self, **kwargs) -> None:
    """Closes the vector environment, then the datasets. Idempotent."""
    recorder, self._recorder = getattr(self, '_recorder', None), None
    try:
      self.env.close(**kwargs)
    finally:
      if recorder is not None:
        recorder.close()

  def __enter__(self) -> 'GymnasiumVectorLogger':
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()

  def __getstate__(self):
    raise TypeError('GymnasiumVectorLogger instances cannot be pickled.')
