"""Test helpers for the TFDS backend and the conversion tools.

TensorFlow Datasets is imported only by `require_tfds()`, inside tests, so
collecting the test suite never imports TensorFlow. Without TFDS the tests
are skipped with the reason, or fail when `ENVLOGGER_REQUIRE_TFDS=1` (CI).
"""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import dm_env
from envlogger import environment_logger
from envlogger import step_data
from envlogger.backends import backend_writer
from envlogger.backends import in_memory_backend
from envlogger.testing import catch_env
import numpy as np
import pytest

REQUIRE_TFDS_ENV = 'ENVLOGGER_REQUIRE_TFDS'


def require_tfds() -> Any:
  """Returns the `tensorflow_datasets` module, or skips/fails the test."""
  try:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    message = f'tensorflow_datasets is not importable ({e}); install requirements-tfds.txt'
    if os.environ.get(REQUIRE_TFDS_ENV) == '1':
      pytest.fail(f'{REQUIRE_TFDS_ENV}=1 but {message}')
    pytest.skip(message)
  return tfds


def catch_dataset_config(
  tfds: Any, name: str = 'catch_example', with_episode_metadata: bool = True
) -> Any:
  """The DatasetConfig of the Catch example (spec 8.3), plus episode metadata.

  Args:
    tfds: the tensorflow_datasets module.
    name: dataset name.
    with_episode_metadata: declare episode metadata `{'episode_id': int64}`.
  """
  return tfds.rlds.rlds_base.DatasetConfig(
    name=name,
    observation_info=tfds.features.Tensor(
      shape=(10, 5), dtype=np.float32, encoding=tfds.features.Encoding.ZLIB
    ),
    action_info=np.int64,
    reward_info=np.float64,
    discount_info=np.float64,
    step_metadata_info={'timestamp': np.float32},
    episode_metadata_info=({'episode_id': np.int64} if with_episode_metadata else None),
  )


class TeeBackendWriter(backend_writer.BackendWriter):
  """Forwards every call to several writers (to know what was logged)."""

  def __init__(self, writers: Sequence[backend_writer.BackendWriter]):
    super().__init__()
    self._writers = list(writers)

  def _record_step(self, data: step_data.StepData, is_new_episode: bool) -> None:
    for w in self._writers:
      w.record_step(data, is_new_episode)

  def set_episode_metadata(self, data: Any) -> None:
    for w in self._writers:
      w.set_episode_metadata(data)

  def close(self) -> None:
    for w in getattr(self, '_writers', []):
      w.close()


def run_catch(env: dm_env.Environment, num_episodes: int, seed: int) -> None:
  """Plays `num_episodes` of random Catch actions (seeded) on `env`."""
  rng = np.random.default_rng(seed)
  for _ in range(num_episodes):
    timestep = env.reset()
    while not timestep.last():
      timestep = env.step(np.int64(rng.integers(0, 3)))


def record_catch(
  writer: backend_writer.BackendWriter,
  num_episodes: int,
  seed: int = 0,
  episode_metadata: bool = True,
  close: bool = True,
) -> Tuple[in_memory_backend.InMemoryBackendWriter, environment_logger.EnvLogger]:
  """Records Catch episodes into `writer`.

  Returns:
    (what was logged, the EnvLogger). Keep the logger referenced while it must
    stay open (`close=False`): dropping it closes the writers.

  Steps carry `{'timestamp': float32}` custom data (a step counter, so values
  differ); with `episode_metadata`, episodes get `{'episode_id': int64}`.
  """
  logged = in_memory_backend.InMemoryBackendWriter()
  counter = {'step': 0, 'episode': -1}

  def step_fn(timestep, unused_action, unused_env):
    counter['step'] += 1
    if timestep.first():
      counter['episode'] += 1
    return {'timestamp': np.float32(counter['step'] * 0.5)}

  def episode_fn(unused_timestep, unused_action, unused_env):
    return {'episode_id': np.int64(1000 + counter['episode'])}

  env = environment_logger.EnvLogger(
    catch_env.Catch(seed=seed),
    backend=TeeBackendWriter([writer, logged]),
    step_fn=step_fn,
    episode_fn=episode_fn if episode_metadata else None,
  )
  run_catch(env, num_episodes, seed)
  if close:
    env.close()
  return logged, env


def logged_episodes(
  logged: in_memory_backend.InMemoryBackendWriter,
) -> List[List[step_data.StepData]]:
  """The steps of an in-memory recording, split into episodes."""
  starts = logged.episode_start_indices + [len(logged.steps)]
  return [logged.steps[a:b] for a, b in zip(starts, starts[1:])]


def expected_rlds_steps(
  episode: Sequence[step_data.StepData], placeholders: Dict[str, Any]
) -> List[Dict[str, Any]]:
  """RLDS steps of one episode, written out from the RLDS definition.

  Independent of `rlds_utils.to_rlds_step`: step i holds observation i and
  flags i, the action/reward/discount of envlogger step i+1 (placeholders for
  the final step) and the custom data of step i.
  """
  out = []
  for i, s in enumerate(episode):
    nxt: Optional[step_data.StepData] = episode[i + 1] if i + 1 < len(episode) else None
    out.append(
      {
        'observation': s.timestep.observation,
        'action': nxt.action if nxt else placeholders['action'],
        'reward': nxt.timestep.reward if nxt else placeholders['reward'],
        'discount': nxt.timestep.discount if nxt else placeholders['discount'],
        'is_first': s.timestep.step_type == dm_env.StepType.FIRST,
        'is_last': s.timestep.step_type == dm_env.StepType.LAST,
        'is_terminal': (
          s.timestep.step_type == dm_env.StepType.LAST and s.timestep.discount == 0.0
        ),
        **(s.custom_data or {}),
      }
    )
  return out


def assert_step_equal(actual: Dict[str, Any], expected: Dict[str, Any], where: str) -> None:
  """Compares a step read from TFDS (numpy) with an expected dict."""
  assert sorted(actual) == sorted(expected), where
  for key, want in expected.items():
    got = actual[key]
    if isinstance(want, dict):
      assert_step_equal(got, want, f'{where}[{key!r}]')
    elif isinstance(want, (str, bytes)) or isinstance(got, bytes):
      want_b = want.encode() if isinstance(want, str) else want
      assert got == want_b, f'{where}[{key!r}]: {got!r} != {want!r}'
    else:
      np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=f'{where}[{key!r}]')
