"""Windows of consecutive steps inside episodes, for sampling and epochs.

A window of `seq_len` steps starts at step `s` of an episode of `n` steps
when `s + seq_len <= n`: windows never cross an episode boundary. Windows are
numbered 0, 1, ... in dataset order (episode by episode, then by first step),
so a uniform draw over window numbers is a uniform draw over all windows.
"""

import operator
from typing import Any

import numpy as np


def check_count(name: str, value: Any) -> int:
  """`value` as an int >= 1, else TypeError/ValueError naming `name`."""
  if isinstance(value, (bool, np.bool_)):
    raise TypeError(f'{name} must be an int, got {value!r}')
  try:
    value = operator.index(value)
  except TypeError:
    raise TypeError(f'{name} must be an int, got {type(value).__name__} {value!r}') from None
  if value < 1:
    raise ValueError(f'{name} must be at least 1, got {value}')
  return value


class Windows:
  """All windows of `seq_len` consecutive steps that lie inside one episode.

  Args:
    starts: global index of each episode's first step.
    lengths: number of steps of each episode.
    seq_len: steps per window (>= 1).

  Raises:
    ValueError: there is no window: no episodes, or `seq_len` is longer
      than every episode.
  """

  def __init__(self, starts: np.ndarray, lengths: np.ndarray, seq_len: int):
    self.seq_len = seq_len
    self._starts = np.asarray(starts, np.int64)
    counts = np.maximum(np.asarray(lengths, np.int64) - seq_len + 1, 0)
    self._ends = np.cumsum(counts)  # Window number after each episode's last.
    self._counts = counts
    self.count = int(self._ends[-1]) if len(counts) else 0
    if not len(counts):
      raise ValueError('The dataset has no episodes to take windows from')
    if self.count == 0:
      raise ValueError(
        f'seq_len={seq_len} is longer than every episode (the longest has '
        f'{int(np.max(lengths))} steps)'
      )

  def first_steps(self, windows: np.ndarray) -> np.ndarray:
    """Global index of the first step of each window number in `windows`."""
    windows = np.asarray(windows, np.int64)
    episodes = np.searchsorted(self._ends, windows, side='right')
    offsets = windows - (self._ends[episodes] - self._counts[episodes])
    return self._starts[episodes] + offsets

  def steps(self, first_steps: np.ndarray) -> np.ndarray:
    """[len(first_steps), seq_len] global step indices of these windows."""
    return np.asarray(first_steps, np.int64)[:, None] + np.arange(self.seq_len, dtype=np.int64)
