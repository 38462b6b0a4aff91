"""Small Gymnasium environments for the tests of the Gymnasium loggers."""

from __future__ import annotations

from typing import Any, Optional

import gymnasium
from gymnasium import spaces
import numpy as np


class CountingEnv(gymnasium.Env):
  """Seeded random observations; terminates after a seeded number of steps.

  Episode length is drawn in [min_length, max_length] at reset from the
  env's RNG, so seeding reset() makes an episode reproducible. The info of
  every call has 't' (the step count) and 'noise' (a seeded float).
  """

  metadata = {'render_modes': []}

  def __init__(
    self,
    min_length: int = 3,
    max_length: int = 8,
    observation_space: Optional[spaces.Space] = None,
    action_space: Optional[spaces.Space] = None,
  ):
    self.observation_space = observation_space or spaces.Box(-1, 1, shape=(3,), dtype=np.float32)
    self.action_space = action_space or spaces.Discrete(4)
    self._min_length = min_length
    self._max_length = max_length
    self._t = 0
    self._length = 0

  def _observation(self) -> Any:
    return self.observation_space.sample()

  def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
    super().reset(seed=seed)
    self.observation_space.seed(int(self.np_random.integers(2**31)))
    self._t = 0
    self._length = int(self.np_random.integers(self._min_length, self._max_length + 1))
    return self._observation(), {'t': 0, 'noise': float(self.np_random.random())}

  def step(self, action: Any):
    self._t += 1
    reward = float(self.np_random.random()) + self._t
    terminated = self._t >= self._length
    info = {'t': self._t, 'noise': float(self.np_random.random())}
    return self._observation(), reward, terminated, False, info


class ImageEnv(gymnasium.Env):
  """84x84x3 uint8 frames (a few fixed random frames), Discrete(6) actions.

  Episodes last `length` steps (then terminated). Cheap to step, so that a
  benchmark measures the recording, not the environment.
  """

  metadata = {'render_modes': []}

  def __init__(self, length: int = 100):
    self.observation_space = spaces.Box(0, 255, shape=(84, 84, 3), dtype=np.uint8)
    self.action_space = spaces.Discrete(6)
    self._frames = np.random.default_rng(0).integers(0, 256, size=(8, 84, 84, 3), dtype=np.uint8)
    self._length = length
    self._t = 0

  def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
    super().reset(seed=seed)
    self._t = 0
    return self._frames[0], {}

  def step(self, action: Any):
    self._t += 1
    return (self._frames[self._t % 8], 1.0, self._t >= self._length, False, {})
