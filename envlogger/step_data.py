"""The unit of data that envlogger records for every timestep."""

from typing import Any, NamedTuple

import dm_env


class StepData(NamedTuple):
  """What is written for one `reset()` or `step()` of a logged environment.

  Attributes:
    timestep: the `dm_env.TimeStep` returned by the environment.
    action: the action that produced `timestep` (None for a `reset()`).
    custom_data: whatever the logger's `step_fn` returned (None without one).
  """

  timestep: dm_env.TimeStep
  action: Any
  custom_data: Any = None
