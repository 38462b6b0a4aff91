"""A dm_env base class whose episodes have chosen lengths, for tests of stacked reads."""

from typing import Any, Sequence

import dm_env
import numpy as np


class LengthsEnv(dm_env.Environment):
  """Episode `e` has `lengths[e % len(lengths)]` timesteps: FIRST, MID..., LAST.

  An episode of length 1 is its FIRST timestep only (the caller does not step
  it). `self.episode` (0-based) and `self.t` (timestep in the episode) tell
  subclasses where they are. MID timesteps earn `transition_reward()` with
  discount `mid_discount`; the LAST one earns float32 `t` with discount 0.
  Subclasses give `observation()` and `action_spec()`.
  """

  mid_discount = 1.0

  def __init__(self, lengths: Sequence[int]):
    self._lengths = tuple(lengths)
    self.episode = -1
    self.t = 0

  def observation(self) -> Any:
    """The observation at `self.episode`, `self.t`."""
    raise NotImplementedError

  def transition_reward(self) -> np.float32:
    """The reward of a MID timestep."""
    return np.float32(self.t)

  def reset(self) -> dm_env.TimeStep:
    self.episode += 1
    self.t = 0
    return dm_env.restart(self.observation())

  def step(self, action: Any) -> dm_env.TimeStep:
    del action
    self.t += 1
    if self.t >= self._lengths[self.episode % len(self._lengths)] - 1:
      return dm_env.TimeStep(
        dm_env.StepType.LAST, np.float32(self.t), np.float32(0), self.observation()
      )
    return dm_env.transition(
      self.transition_reward(), self.observation(), np.float32(self.mid_discount)
    )

  def observation_spec(self) -> Any:
    return {}
