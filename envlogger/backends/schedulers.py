"""Schedulers: callables that decide, step by step, whether to act.

A scheduler takes the current `StepData` and returns a bool. They are used to
choose which steps a backend records (`scheduler=`) and when the Riegeli
backend flushes (`flush_scheduler=`). Step-based schedulers ignore their
argument; episode-based ones look at `data.timestep.last()` to count episodes.

All schedulers are plain picklable classes; semantics and argument checks are
those of upstream envlogger.
"""

import datetime
import time
from typing import Callable, List, Optional, Union

import numpy as np

from envlogger import step_data

Scheduler = Callable[[step_data.StepData], bool]


def _check_probability(keep_probability: float) -> None:
  if not 0.0 <= keep_probability <= 1.0:
    raise ValueError(f'keep_probability must be in [0,1], got: {keep_probability}')


def _check_index_list(values: Union[List[int], np.ndarray], what: str) -> None:
  if isinstance(values, np.ndarray) and values.dtype not in (np.int32, np.int64):
    raise TypeError(
      f'{what} must be a list of ints or an np.ndarray of dtype int32 or '
      f'int64, got dtype {values.dtype}'
    )
  if len(values) == 0:  # pylint: disable=g-explicit-length-test
    raise ValueError(f'{what} must not be empty')


class NStepScheduler:
  """True on calls 0, N, 2N, ... (the first call always returns True)."""

  def __init__(self, step_interval: int):
    if step_interval <= 0:
      raise ValueError(f'step_interval must be positive, got: {step_interval}')
    self._step_interval = step_interval
    self._step_counter = 0

  def __call__(self, unused_data: Optional[step_data.StepData] = None) -> bool:
    should_act = self._step_counter % self._step_interval == 0
    self._step_counter += 1
    return should_act


class BernoulliStepScheduler:
  """True with probability `keep_probability`, independently on every call."""

  def __init__(self, keep_probability: float, seed: Optional[int] = None):
    _check_probability(keep_probability)
    self._keep_probability = keep_probability
    self._rng = np.random.default_rng(seed)

  def __call__(self, unused_data: Optional[step_data.StepData] = None) -> bool:
    return self._rng.random() < self._keep_probability


class NEpisodeScheduler:
  """True for every step of episodes 0, N, 2N, ...

  Episodes are counted by LAST steps: the counter advances after judging a step
  whose `timestep.last()` is True.
  """

  def __init__(self, episode_interval: int):
    if episode_interval <= 0:
      raise ValueError(f'episode_interval must be positive, got: {episode_interval}')
    self._episode_interval = episode_interval
    self._episode_counter = 0

  def __call__(self, data: step_data.StepData) -> bool:
    should_act = self._episode_counter % self._episode_interval == 0
    if data.timestep.last():
      self._episode_counter += 1
    return should_act


class BernoulliEpisodeScheduler:
  """Keeps whole episodes, each with probability `keep_probability`.

  One uniform draw is made per episode. Upstream's draw order is kept for
  compatibility (same seed, same decisions): the first draw is made at
  construction and the next one when a LAST step arrives, *before* that LAST
  step is judged. So the LAST step of an episode is judged with the next
  episode's draw and may be kept while the rest of its episode is dropped, or
  the reverse.
  """

  def __init__(self, keep_probability: float, seed: Optional[int] = None):
    _check_probability(keep_probability)
    self._keep_probability = keep_probability
    self._rng = np.random.default_rng(seed)
    self._current_p = self._rng.random()

  def __call__(self, data: step_data.StepData) -> bool:
    if data.timestep.last():
      self._current_p = self._rng.random()
    return self._current_p < self._keep_probability


class ListStepScheduler:
  """True iff the 0-based index of the call is in `desired_steps`."""

  def __init__(self, desired_steps: Union[List[int], np.ndarray]):
    _check_index_list(desired_steps, 'desired_steps')
    self._desired_steps = set(int(x) for x in desired_steps)
    self._step_counter = 0

  def __call__(self, unused_data: Optional[step_data.StepData] = None) -> bool:
    should_act = self._step_counter in self._desired_steps
    self._step_counter += 1
    return should_act


class ListEpisodeScheduler:
  """True for every step of the episodes whose index is in `desired_episodes`.

  Episodes are counted by LAST steps, as in `NEpisodeScheduler`.
  """

  def __init__(self, desired_episodes: Union[List[int], np.ndarray]):
    _check_index_list(desired_episodes, 'desired_episodes')
    self._desired_episodes = set(int(x) for x in desired_episodes)
    self._episode_counter = 0

  def __call__(self, data: step_data.StepData) -> bool:
    should_act = self._episode_counter in self._desired_episodes
    if data.timestep.last():
      self._episode_counter += 1
    return should_act


class TimeScheduler:
  """True when at least `interval` has elapsed since it last returned True.

  The reference time is taken at construction. A call returns True iff
  `clock() - last >= interval` and then makes `clock()` the new reference.
  A clock that goes backwards never triggers (and does not move the reference);
  after a large forward jump it triggers once and re-bases on the new time.
  """

  def __init__(
    self,
    interval: Union[datetime.timedelta, float, int],
    clock: Callable[[], float] = time.monotonic,
  ):
    """Initializes the scheduler.

    Args:
      interval: a `timedelta` or a number of seconds; must be positive.
      clock: returns the current time in seconds (monotonic by default).

    Raises:
      ValueError: `interval` is not positive.
    """
    if isinstance(interval, datetime.timedelta):
      seconds = interval.total_seconds()
    else:
      seconds = float(interval)
    if seconds <= 0:
      raise ValueError(f'interval must be positive, got: {interval}')
    self._interval_seconds = seconds
    self._clock = clock
    self._last_trigger_time = clock()

  def __call__(self, unused_data: Optional[step_data.StepData] = None) -> bool:
    now = self._clock()
    if now - self._last_trigger_time >= self._interval_seconds:
      self._last_trigger_time = now
      return True
    return False
