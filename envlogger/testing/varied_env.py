"""A dm_env with episodes of chosen lengths and nested values, for loader tests.

Episode `e` (0-based) has `lengths[e]` timesteps (FIRST, MID..., LAST; at
least 2). Step `t` of episode `e` observes

  {'pos': int32 [t, e], 'frame': uint8 (3, 4) filled with (10 * e + t) % 256,
   'flag': bool t % 2 == 1}

takes a float32 action of shape (2,), earns reward float32 `t + e / 10` and
discount 1, except the LAST step of an even episode, which terminates
(discount 0); odd episodes are truncated (LAST with discount 1). `record`
writes such a dataset with step and episode metadata.
"""

from typing import Any, Optional, Sequence

import dm_env
from dm_env import specs
import numpy as np

from envlogger import environment_logger


class VariedEnv(dm_env.Environment):
  """See the module docstring."""

  def __init__(self, lengths: Sequence[int]):
    if any(n < 2 for n in lengths):
      raise ValueError(f'every episode needs at least 2 timesteps, got {lengths}')
    self._lengths = list(lengths)
    self.episode = -1
    self.t = 0

  def _observation(self) -> dict:
    return {
      'pos': np.array([self.t, self.episode], np.int32),
      'frame': np.full((3, 4), (10 * self.episode + self.t) % 256, np.uint8),
      'flag': np.bool_(self.t % 2 == 1),
    }

  def reset(self) -> dm_env.TimeStep:
    self.episode += 1
    self.t = 0
    return dm_env.restart(self._observation())

  def step(self, action: Any) -> dm_env.TimeStep:
    del action
    self.t += 1
    reward = np.float32(self.t + self.episode / 10)
    if self.t < self._lengths[self.episode] - 1:
      return dm_env.transition(reward, self._observation(), np.float32(1))
    discount = np.float32(0 if self.episode % 2 == 0 else 1)
    return dm_env.TimeStep(dm_env.StepType.LAST, reward, discount, self._observation())

  def observation_spec(self) -> dict:
    return {
      'pos': specs.Array((2,), np.int32, name='pos'),
      'frame': specs.Array((3, 4), np.uint8, name='frame'),
      'flag': specs.Array((), np.bool_, name='flag'),
    }

  def action_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((2,), np.float32, -1.0, 1.0, name='action')

  def reward_spec(self) -> specs.Array:
    return specs.Array((), np.float32, name='reward')

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name='discount')


def record(
  data_directory: str,
  lengths: Sequence[int],
  metadata_missing: Sequence[int] = (),
  custom_data: bool = True,
  writer_options: Optional[str] = None,
  max_episodes_per_file: int = 10000,
) -> None:
  """Records one episode per entry of `lengths` into `data_directory`.

  Actions are [t, -t] / 100 (float32) for the t-th step() of an episode.
  With `custom_data`, each step's custom data is {'t': int64 t, 'tag': 'e<e>'};
  episode metadata is {'score': float episode * 1.5, 'name': 'episode <e>'},
  except for the episodes listed in `metadata_missing` (none).
  """
  env = VariedEnv(lengths)
  step_fn = (lambda ts, a, e: {'t': np.int64(e.t), 'tag': f'e{e.episode}'}) if custom_data else None

  def episode_fn(timestep, action, e):
    del action
    if not timestep.last() or e.episode in metadata_missing:
      return None
    return {'score': e.episode * 1.5, 'name': f'episode {e.episode}'}

  kwargs = {'max_episodes_per_file': max_episodes_per_file}
  if writer_options is not None:
    kwargs['writer_options'] = writer_options
  with environment_logger.EnvLogger(
    env, data_directory=data_directory, step_fn=step_fn, episode_fn=episode_fn, **kwargs
  ) as logged:
    for _ in lengths:
      timestep = logged.reset()
      t = 0
      while not timestep.last():
        t += 1
        timestep = logged.step(np.array([t, -t], np.float32) / 100)
