"""Datasets to and from Minari (extra `envlogger[minari]`).

`to_minari(reader_or_dir, dataset_id)` writes a Minari dataset (under
`MINARI_DATASETS_PATH`, as `minari` places them) from one of ours;
`from_minari(dataset_id, data_directory)` writes one of ours from a local
Minari dataset. Correspondence of an episode (see docs/gymnasium.md):

* our FIRST step's observation is Minari's `observations[0]`; our step k >= 1
  gives `observations[k]`, `actions[k-1]` and `rewards[k-1]`;
* a LAST step with discount 0 is a termination, with any other discount a
  truncation; an episode without a LAST step (a crash) ends with neither;
* `custom_data['info']` dicts (GymnasiumLogger's `info_filter`) are Minari's
  `infos` when every step of the episode has one with the same keys;
* the episode metadata's 'seed' (and 'options') are Minari's episode seed
  (and options).

Episodes with a single step (a reset and nothing else) have no transition and
are left out of a Minari dataset.
"""

from __future__ import annotations

import os
import shutil
from typing import Any, Iterator, List, Optional, Sequence, Union

try:
  import gymnasium
  import minari
  from minari.data_collector.episode_buffer import EpisodeBuffer
  from minari.storage import get_dataset_path
except ImportError as e:
  raise ImportError('envlogger.minari needs Minari: pip install envlogger[minari]') from e
import dm_env
import numpy as np

from envlogger import reader as reader_lib
from envlogger import step_data
from envlogger.backends import riegeli_backend_writer
from envlogger.converters import gym_spaces

# Episodes handed to Minari at a time: bounds the memory a conversion holds.
_EPISODES_PER_WRITE = 64


def _stack(values: Sequence[Any], space: gymnasium.spaces.Space) -> Any:
  """Values of one space (one per step) as Minari stores them: stacked leaves."""
  if isinstance(space, gymnasium.spaces.Dict):
    return {key: _stack([v[key] for v in values], sub) for key, sub in space.spaces.items()}
  if isinstance(space, gymnasium.spaces.Tuple):
    return tuple(_stack([v[i] for v in values], sub) for i, sub in enumerate(space.spaces))
  return np.asarray(values, dtype=space.dtype)


def _unstack(values: Any, index: int) -> Any:
  """Step `index` of Minari's stacked values."""
  if isinstance(values, dict):
    return {key: _unstack(value, index) for key, value in values.items()}
  if isinstance(values, tuple):
    return tuple(_unstack(value, index) for value in values)
  return values[index]


def _stack_infos(infos: Sequence[Any]) -> Any:
  """Per-step info values as Minari stores them: dicts of stacked leaves."""
  if isinstance(infos[0], dict):
    return {key: _stack_infos([info[key] for info in infos]) for key in infos[0]}
  return np.asarray(infos)


def _episode_infos(steps: Sequence[step_data.StepData]) -> Optional[dict]:
  """Minari's infos of an episode: the 'info' custom data, when uniform."""
  infos = []
  for step in steps:
    custom = step.custom_data
    info = custom.get('info') if isinstance(custom, dict) else None
    if not isinstance(info, dict) or (infos and info.keys() != infos[0].keys()):
      return None
    infos.append(info)
  if not infos or not infos[0]:
    return None
  return _stack_infos(infos)


def _episode_buffers(
  reader: reader_lib.Reader, observation_space, action_space, with_infos: bool
) -> Iterator[EpisodeBuffer]:
  """Minari episode buffers of the reader's episodes (single-step ones skipped)."""
  for episode, metadata in zip(reader.episodes, reader.episode_metadata()):
    steps = list(episode)
    if len(steps) < 2:
      continue
    transitions = steps[1:]
    metadata = metadata if isinstance(metadata, dict) else {}
    seed = metadata.get('seed')
    yield EpisodeBuffer(
      seed=None if seed is None else int(seed),
      options=metadata.get('options'),
      observations=_stack([s.timestep.observation for s in steps], observation_space),
      actions=_stack([s.action for s in transitions], action_space),
      rewards=[float(s.timestep.reward) for s in transitions],
      terminations=[bool(s.timestep.last() and s.timestep.discount == 0) for s in transitions],
      truncations=[bool(s.timestep.last() and s.timestep.discount != 0) for s in transitions],
      infos=_episode_infos(steps) if with_infos else None,
    )


def to_minari(
  reader_or_dir: Union[reader_lib.Reader, str, os.PathLike],
  dataset_id: str,
  *,
  observation_space: Optional[gymnasium.spaces.Space] = None,
  action_space: Optional[gymnasium.spaces.Space] = None,
  env: Any = None,
  with_infos: bool = True,
  jpeg_encoding: bool = False,
  **minari_kwargs,
) -> 'minari.MinariDataset':
  """Writes a dataset of ours as the Minari dataset `dataset_id`.

  Args:
    reader_or_dir: an open `envlogger.Reader` or a dataset directory.
    dataset_id: Minari's id, e.g. 'cartpole/random-v0'; must not exist yet.
    observation_space: defaults to the space of the recorded observation
      spec (`gym_spaces.spec_to_space`).
    action_space: likewise for actions.
    env: passed to Minari (an env, id or EnvSpec, for `recover_environment`).
    with_infos: store 'info' custom data as Minari infos (see module doc).
    jpeg_encoding: Minari's lossy JPEG storage of image spaces; off by
      default so that observations come back equal.
    **minari_kwargs: more arguments of `minari.create_dataset_from_buffers`
      (author, algorithm_name, description, data_format, ...).

  Returns:
    The Minari dataset, as `minari.load_dataset(dataset_id)` opens it.

  Raises:
    FileExistsError: the Minari dataset `dataset_id` exists already.
    ValueError: the dataset has no specs and no spaces were given, or no
      episode with a transition.
  """
  target = get_dataset_path(dataset_id)
  if os.path.exists(target):
    raise FileExistsError(f'A Minari dataset {dataset_id!r} already exists at {target}')
  reader = reader_or_dir
  if not isinstance(reader, reader_lib.Reader):
    reader = reader_lib.Reader(os.fspath(reader_or_dir))
  source = 'The dataset' if reader is reader_or_dir else os.fspath(reader_or_dir)
  dataset = None
  try:
    if observation_space is None or action_space is None:
      if reader.observation_spec() is None or reader.action_spec() is None:
        raise ValueError(
          f'{source} has no environment specs: give observation_space and action_space'
        )
      if observation_space is None:
        observation_space = gym_spaces.spec_to_space(reader.observation_spec(), 'observation_spec')
      if action_space is None:
        action_space = gym_spaces.spec_to_space(reader.action_spec(), 'action_spec')
    buffers = _episode_buffers(reader, observation_space, action_space, with_infos)
    while True:
      batch: List[EpisodeBuffer] = []
      for buffer in buffers:
        batch.append(buffer)
        if len(batch) == _EPISODES_PER_WRITE:
          break
      if not batch:
        break
      if dataset is None:
        dataset = minari.create_dataset_from_buffers(
          dataset_id,
          batch,
          env=env,
          observation_space=observation_space,
          action_space=action_space,
          jpeg_encoding=jpeg_encoding,
          **minari_kwargs,
        )
      else:
        dataset.update_dataset_from_buffer(batch)
    if dataset is None:
      raise ValueError(f'{source} has no episode with a transition to convert')
  except BaseException:
    # A half-written Minari dataset would block a retry under the same id.
    shutil.rmtree(target, ignore_errors=True)
    raise
  finally:
    if reader is not reader_or_dir:
      reader.close()
  return minari.load_dataset(dataset_id)


def from_minari(
  dataset_id: str,
  data_directory: Union[str, os.PathLike],
  *,
  metadata: Optional[dict] = None,
  with_infos: bool = True,
  **writer_kwargs,
) -> None:
  """Writes the local Minari dataset `dataset_id` as a dataset of ours.

  Args:
    dataset_id: a dataset `minari.load_dataset` finds locally.
    data_directory: where to write (created if missing).
    metadata: dataset metadata; 'environment_specs' (from Minari's spaces)
      and 'minari_dataset_id' are added.
    with_infos: store Minari's per-step infos as custom data `{'info': ...}`.
    **writer_kwargs: RiegeliBackendWriter arguments (max_episodes_per_file,
      writer_options).

  Raises:
    FileNotFoundError: no such local Minari dataset.
    UnsupportedSpaceError: a space of the Minari dataset cannot be recorded.
  """
  try:
    dataset = minari.load_dataset(dataset_id)
  except FileNotFoundError as e:
    raise FileNotFoundError(
      f'No local Minari dataset {dataset_id!r} (looked in {get_dataset_path(dataset_id)}); '
      f'to fetch a remote one first: minari download {dataset_id}'
    ) from e
  metadata = dict(metadata or {})
  metadata['environment_specs'] = gym_spaces.environment_specs(
    dataset.observation_space, dataset.action_space
  )
  metadata['minari_dataset_id'] = dataset_id
  writer = riegeli_backend_writer.RiegeliBackendWriter(
    data_directory=os.fspath(data_directory), metadata=metadata, **writer_kwargs
  )
  try:
    episode_metadata = list(dataset.storage.get_episode_metadata(dataset.episode_indices))
    for episode, episode_meta in zip(dataset.iterate_episodes(), episode_metadata):
      _write_episode(writer, episode, episode_meta, with_infos)
  finally:
    writer.close()


def _write_episode(writer, episode, episode_meta: dict, with_infos: bool) -> None:
  """Records one Minari episode as FIRST + one step per transition."""
  infos = episode.infos if with_infos and episode.infos else None
  num_steps = len(episode.rewards)
  for k in range(num_steps + 1):
    observation = _unstack(episode.observations, k)
    custom_data = {'info': _unstack(infos, k)} if infos else None
    if k == 0:
      timestep = dm_env.TimeStep(dm_env.StepType.FIRST, None, None, observation)
      writer.record_step(step_data.StepData(timestep, None, custom_data), True)
      continue
    terminated = bool(episode.terminations[k - 1])
    last = k == num_steps and (terminated or bool(episode.truncations[k - 1]))
    timestep = dm_env.TimeStep(
      dm_env.StepType.LAST if last else dm_env.StepType.MID,
      float(episode.rewards[k - 1]),
      0.0 if terminated else 1.0,
      observation,
    )
    writer.record_step(
      step_data.StepData(timestep, _unstack(episode.actions, k - 1), custom_data), False
    )
  reset_meta = {
    key: episode_meta[key] for key in ('seed', 'options') if episode_meta.get(key) is not None
  }
  if reset_meta:
    if 'seed' in reset_meta:
      reset_meta['seed'] = int(reset_meta['seed'])
    writer.set_episode_metadata(reset_meta)
