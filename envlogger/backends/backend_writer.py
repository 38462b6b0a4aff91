"""Abstract interface of the backends that store logged steps."""

import abc
from typing import Any, Callable, Optional

from envlogger import step_data
from envlogger.backends import schedulers


class BackendWriter(metaclass=abc.ABCMeta):
  """Receives the steps (and episode metadata) of a logged environment.

  Subclasses implement `_record_step`, `set_episode_metadata` and `close`.
  `close()` is also called on garbage collection, so it must be idempotent.
  A backend may also offer a faster way to take steps: `step_recorder()`.
  """

  def __init__(
    self, metadata: Optional[Any] = None, scheduler: Optional[schedulers.Scheduler] = None
  ):
    """Initializes the writer.

    Args:
      metadata: dataset-level data (usually a dict), stored as is.
      scheduler: if given, a step is only recorded when `scheduler(step)` is
        truthy. It must keep the first step of every episode, otherwise the
        episode boundary is lost.
    """
    self._metadata = metadata
    self._scheduler = scheduler

  def record_step(self, data: step_data.StepData, is_new_episode: bool) -> None:
    """Records `data` unless the scheduler drops it.

    Args:
      data: the step.
      is_new_episode: True for the first step of an episode (a `reset()`).
    """
    if self._scheduler is not None and not self._scheduler(data):
      return
    self._record_step(data, is_new_episode)

  def step_recorder(self) -> Optional[Callable[[Any, Any, Any, bool], None]]:
    """The backend's fast path for EnvLogger, or None (the default).

    EnvLogger asks once, when it is constructed. A backend returns
    `f(timestep, action, custom_data, is_new_episode)` if calling it records
    exactly what `record_step(StepData(timestep, action, custom_data),
    is_new_episode)` would (saving the StepData and the calls per step), and
    None whenever something must see that StepData: a scheduler, or a
    subclass overriding `record_step` or `_record_step`. With None, EnvLogger
    calls `record_step`.
    """
    return None

  @abc.abstractmethod
  def set_episode_metadata(self, data: Any) -> None:
    """Sets the metadata of the current episode (the last call wins)."""

  @abc.abstractmethod
  def _record_step(self, data: step_data.StepData, is_new_episode: bool) -> None:
    """Stores one step; called by `record_step` for the steps kept."""

  @abc.abstractmethod
  def close(self) -> None:
    """Finishes writing; everything recorded is then persisted. Idempotent."""

  def __del__(self):
    self.close()

  def metadata(self) -> Any:
    """The dataset-level metadata given at construction."""
    return self._metadata
