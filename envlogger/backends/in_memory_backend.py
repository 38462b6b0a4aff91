"""A backend that keeps everything in Python lists (tests, quick experiments).

Steps and metadata are stored as the Python objects given (no encoding), so
any value is accepted and read back unchanged (the very same objects).
"""

import copy
from typing import Any

from envlogger import step_data
from envlogger.backends import backend_reader
from envlogger.backends import backend_writer
from envlogger.backends.python import episode_info


class InMemoryBackendWriter(backend_writer.BackendWriter):
  """Stores steps in memory.

  Attributes:
    steps: every recorded `StepData`, in order.
    episode_metadata: episode index (0-based) -> last metadata value set
      during that episode. (Upstream used 1-based keys, which shifted the
      metadata by one episode when read back.)
    episode_start_indices: index in `steps` of the first step of every episode.
  """

  def __init__(self, **base_kwargs):
    super().__init__(**base_kwargs)
    self.steps = []
    self.episode_metadata = {}
    self.episode_start_indices = []

  def _record_step(self, data: step_data.StepData, is_new_episode: bool) -> None:
    if is_new_episode:
      self.episode_start_indices.append(len(self.steps))
    self.steps.append(data)

  def set_episode_metadata(self, data: Any) -> None:
    """Sets the current episode's metadata; ignored before the first episode."""
    if self.episode_start_indices:
      self.episode_metadata[len(self.episode_start_indices) - 1] = data

  def close(self) -> None:
    pass


class InMemoryBackendReader(backend_reader.BackendReader):
  """Reads what an `InMemoryBackendWriter` holds (at construction time)."""

  def __init__(self, in_memory_backend_writer: InMemoryBackendWriter):
    self._backend = in_memory_backend_writer
    super().__init__()

  def _copy(self) -> 'InMemoryBackendReader':
    return copy.deepcopy(self)

  def close(self) -> None:
    pass

  def _get_nth_step(self, i: int) -> step_data.StepData:
    return self._backend.steps[i]

  def _get_nth_episode_info(
    self, i: int, include_metadata: bool = False
  ) -> episode_info.EpisodeInfo:
    starts = self._backend.episode_start_indices
    start = starts[i]
    end = starts[i + 1] if i + 1 < len(starts) else len(self._backend.steps)
    metadata = self._backend.episode_metadata.get(i) if include_metadata else None
    return episode_info.EpisodeInfo(start=start, num_steps=end - start, metadata=metadata)

  def _decode_episode_metadata(self, stored: Any) -> Any:
    return stored  # stored as the Python value itself

  def _get_num_steps(self) -> int:
    return len(self._backend.steps)

  def _get_num_episodes(self) -> int:
    return len(self._backend.episode_start_indices)

  def metadata(self) -> Any:
    return self._backend.metadata()
