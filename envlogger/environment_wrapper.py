"""A dm_env.Environment that forwards everything to a wrapped environment."""

from typing import Any

import dm_env


class EnvironmentWrapper(dm_env.Environment):
  """Delegates every call, and unknown attributes, to `self._environment`.

  Wrappers hold live resources (files, threads) and cannot be pickled; create
  them inside the process that uses them instead.
  """

  def __init__(self, environment: dm_env.Environment):
    self._environment = environment

  def __getattr__(self, name: str) -> Any:
    # Only called for attributes not found normally. Guard against recursion
    # while `_environment` is not set yet (e.g. during unpickling).
    if name == '_environment':
      raise AttributeError(name)
    return getattr(self._environment, name)

  def __getstate__(self):
    raise TypeError('EnvironmentWrapper instances cannot be serialized/pickled.')

  def __setstate__(self, state):
    raise TypeError('EnvironmentWrapper instances cannot be serialized/pickled.')

  def step(self, action) -> dm_env.TimeStep:
    return self._environment.step(action)

  def reset(self) -> dm_env.TimeStep:
    return self._environment.reset()

  def action_spec(self):
    return self._environment.action_spec()

  def discount_spec(self):
    return self._environment.discount_spec()

  def observation_spec(self):
    return self._environment.observation_spec()

  def reward_spec(self):
    return self._environment.reward_spec()

  def close(self) -> None:
    return self._environment.close()
