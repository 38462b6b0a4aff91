"""Where an episode sits in a dataset, as reported by a backend reader."""

from typing import Any


class EpisodeInfo:
  """Start, length and (optionally) metadata of one episode.

  Attributes:
    start: global index of the episode's first step.
    num_steps: number of steps in the episode.
    metadata: the episode metadata as stored by the backend (a
      `storage_pb2.Data` for on-disk backends, the raw Python value for the
      in-memory backend), or None when absent or not requested.
  """

  __slots__ = ('start', 'num_steps', 'metadata')

  def __init__(self, start: int = 0, num_steps: int = 0, metadata: Any = None):
    self.start = start
    self.num_steps = num_steps
    self.metadata = metadata

  def __repr__(self) -> str:
    return (
      f'EpisodeInfo(start={self.start}, num_steps={self.num_steps}, metadata={self.metadata!r})'
    )
