"""Abstract interface of the backends that store logged steps."""

import abc
from typing import Any, Optional

from envlogger import step_data
from envlogger.backends import schedulers


class BackendWriter(metaclass=abc.ABCMeta):
  """Receives the steps (and episode metadata) of a logged environment.

  Subclasses implement `_record_step`, `set_episode_metadata` and `close`.
  `close()` is also called on garbage collection, so it must be idempotent.
  """

  def __init__(self,
               metadata: Optional[Any] = None,
               scheduler: Optional[schedulers.Scheduler] = None):
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

  @abc.abstractmethod
  def set_episode_metadata(self, data: Any) -> None:
    """Sets the metadata of the current episode (the last call wins)."""

  @abc.abstractmethod
  def _record_step(self, data: step_data.StepData,
                   is_new_episode: bool) -> None:
    """Stores one step; called by `record_step` for the steps kept."""

  @abc.abstractmethod
  def close(self) -> None:
    """Finishes writing; everything recorded is then persisted. Idempotent."""

  def __del__(self):
    self.close()

  def metadata(self) -> Any:
    """The dataset-level metadata given at construction."""
    return self._metadata
