"""Tests of envlogger.backends.schedulers."""

import datetime
import pickle

import dm_env
import numpy as np
import pytest

from envlogger import step_data
from envlogger.backends import schedulers


def _step(step_type: dm_env.StepType) -> step_data.StepData:
  return step_data.StepData(dm_env.TimeStep(step_type, None, None, None), action=None)


def _episodes(num_episodes: int, length: int = 4):
  """StepData of consecutive episodes of `length` steps (FIRST..MID..LAST)."""
  for _ in range(num_episodes):
    yield _step(dm_env.StepType.FIRST)
    for _ in range(length - 2):
      yield _step(dm_env.StepType.MID)
    yield _step(dm_env.StepType.LAST)


class _FakeClock:
  def __init__(self, now: float = 0.0):
    self.now = now

  def __call__(self) -> float:
    return self.now


# --- NStepScheduler ---------------------------------------------------------


@pytest.mark.parametrize('n', [0, -1, -100])
def test_n_steps_invalid(n):
  with pytest.raises(ValueError):
    schedulers.NStepScheduler(n)


def test_n_steps_1():
  scheduler = schedulers.NStepScheduler(1)
  assert all(scheduler(None) for _ in range(100))


def test_n_steps_3():
  scheduler = schedulers.NStepScheduler(3)
  assert [scheduler() for _ in range(9)] == [True, False, False] * 3


@pytest.mark.parametrize('n', [2, 7, 97])
def test_n_steps_n(n):
  scheduler = schedulers.NStepScheduler(n)
  fired = [i for i in range(1000) if scheduler(_step(dm_env.StepType.MID))]
  assert fired == list(range(0, 1000, n))


# --- BernoulliStepScheduler -------------------------------------------------


@pytest.mark.parametrize('p', [-0.1, 1.01, 2.0, -1.0])
def test_bernoulli_steps_invalid(p):
  with pytest.raises(ValueError):
    schedulers.BernoulliStepScheduler(p)


def test_bernoulli_steps_0():
  scheduler = schedulers.BernoulliStepScheduler(0.0)
  assert not any(scheduler() for _ in range(1000))


def test_bernoulli_steps_1():
  scheduler = schedulers.BernoulliStepScheduler(1.0)
  assert all(scheduler() for _ in range(1000))


@pytest.mark.parametrize('p', [0.01, 0.99])
def test_bernoulli_steps_probability(p):
  scheduler = schedulers.BernoulliStepScheduler(p, seed=123)
  n = 20000
  kept = sum(scheduler() for _ in range(n))
  # 6 standard deviations.
  assert abs(kept / n - p) < 6 * np.sqrt(p * (1 - p) / n)


def test_bernoulli_steps_fixed_seed_matches_default_rng():
  scheduler = schedulers.BernoulliStepScheduler(0.3, seed=42)
  draws = np.random.default_rng(42).random(200)
  assert [scheduler() for _ in range(200)] == list(draws < 0.3)


# --- NEpisodeScheduler ------------------------------------------------------


@pytest.mark.parametrize('n', [0, -3])
def test_n_episode_invalid(n):
  with pytest.raises(ValueError):
    schedulers.NEpisodeScheduler(n)


def test_n_episode_1():
  scheduler = schedulers.NEpisodeScheduler(1)
  assert all(scheduler(s) for s in _episodes(10))


def test_n_episode_2():
  scheduler = schedulers.NEpisodeScheduler(2)
  decisions = [scheduler(s) for s in _episodes(4, length=3)]
  assert decisions == [True] * 3 + [False] * 3 + [True] * 3 + [False] * 3


@pytest.mark.parametrize('n', [3, 5])
def test_n_episode_n(n):
  scheduler = schedulers.NEpisodeScheduler(n)
  decisions = [scheduler(s) for s in _episodes(20, length=5)]
  for episode in range(20):
    assert decisions[5 * episode : 5 * episode + 5] == [episode % n == 0] * 5


# --- BernoulliEpisodeScheduler ----------------------------------------------


@pytest.mark.parametrize('p', [-0.5, 1.5])
def test_bernoulli_episodes_invalid(p):
  with pytest.raises(ValueError):
    schedulers.BernoulliEpisodeScheduler(p)


def test_bernoulli_episodes_0():
  scheduler = schedulers.BernoulliEpisodeScheduler(0.0)
  assert not any(scheduler(s) for s in _episodes(100))


def test_bernoulli_episodes_1():
  scheduler = schedulers.BernoulliEpisodeScheduler(1.0)
  assert all(scheduler(s) for s in _episodes(100))


@pytest.mark.parametrize('p', [0.01, 0.99])
def test_bernoulli_episodes_probability(p):
  scheduler = schedulers.BernoulliEpisodeScheduler(p, seed=7)
  n = 20000
  firsts = [scheduler(s) for s in _episodes(n, length=2)][::2]
  assert abs(sum(firsts) / n - p) < 6 * np.sqrt(p * (1 - p) / n)


def test_bernoulli_episodes_fixed_seed_upstream_draw_order():
  # One draw at construction, then one per LAST step, made before judging it.
  draws = np.random.default_rng(5).random(11)
  scheduler = schedulers.BernoulliEpisodeScheduler(0.5, seed=5)
  decisions = [scheduler(s) for s in _episodes(10, length=3)]
  expected = []
  for episode in range(10):
    expected += [draws[episode] < 0.5] * 2 + [draws[episode + 1] < 0.5]
  assert decisions == expected


# --- ListStepScheduler / ListEpisodeScheduler -------------------------------


@pytest.mark.parametrize('cls', [schedulers.ListStepScheduler, schedulers.ListEpisodeScheduler])
def test_list_empty(cls):
  with pytest.raises(ValueError):
    cls([])
  with pytest.raises(ValueError):
    cls(np.array([], dtype=np.int64))


@pytest.mark.parametrize('cls', [schedulers.ListStepScheduler, schedulers.ListEpisodeScheduler])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.uint8, np.int16, np.bool_])
def test_list_np_wrong_type(cls, dtype):
  with pytest.raises(TypeError):
    cls(np.array([1, 2], dtype=dtype))


@pytest.mark.parametrize('dtype', [np.int32, np.int64])
def test_list_np_int_types_accepted(dtype):
  scheduler = schedulers.ListStepScheduler(np.array([1, 3], dtype=dtype))
  assert [scheduler() for _ in range(5)] == [False, True, False, True, False]


def test_list_steps_single():
  scheduler = schedulers.ListStepScheduler([5])
  assert [i for i in range(20) if scheduler()] == [5]


def test_list_steps_first_10():
  scheduler = schedulers.ListStepScheduler(list(range(10)))
  assert [scheduler() for _ in range(20)] == [True] * 10 + [False] * 10


def test_list_steps_logspace():
  desired = np.unique(np.logspace(0, 3, 20, dtype=np.int64))
  scheduler = schedulers.ListStepScheduler(desired)
  fired = [i for i in range(2000) if scheduler()]
  assert fired == sorted(desired.tolist())


def test_list_episodes_single():
  scheduler = schedulers.ListEpisodeScheduler([2])
  decisions = [scheduler(s) for s in _episodes(5, length=3)]
  assert decisions == [False] * 6 + [True] * 3 + [False] * 6


def test_list_episodes_first_10():
  scheduler = schedulers.ListEpisodeScheduler(list(range(10)))
  decisions = [scheduler(s) for s in _episodes(20, length=2)]
  assert decisions == [True] * 20 + [False] * 20


def test_list_episodes_logspace():
  desired = np.unique(np.logspace(0, 2, 10, dtype=np.int64))
  scheduler = schedulers.ListEpisodeScheduler(desired)
  decisions = [scheduler(s) for s in _episodes(150, length=2)]
  kept = sorted({i // 2 for i, d in enumerate(decisions) if d})
  assert kept == sorted(desired.tolist())


# --- TimeScheduler ----------------------------------------------------------


@pytest.mark.parametrize(
  'interval', [-5, 0, 0.0, -1e-9, datetime.timedelta(seconds=-1), datetime.timedelta(0)]
)
def test_time_scheduler_invalid_args(interval):
  with pytest.raises(ValueError):
    schedulers.TimeScheduler(interval)


def test_time_scheduler_logic():
  clock = _FakeClock(100.0)
  scheduler = schedulers.TimeScheduler(10, clock=clock)
  results = []
  for now in [100.0, 105.0, 109.9, 110.5, 115.0, 120.4, 120.5, 121.0]:
    clock.now = now
    results.append(scheduler())
  assert results == [False, False, False, True, False, False, True, False]


def test_time_scheduler_timedelta_logic():
  clock = _FakeClock(0.0)
  scheduler = schedulers.TimeScheduler(datetime.timedelta(minutes=10), clock=clock)
  assert scheduler._interval_seconds == 600.0  # pylint: disable=protected-access
  clock.now = 599.0
  assert not scheduler()
  clock.now = 600.0
  assert scheduler()
  clock.now = 1199.0
  assert not scheduler()


@pytest.mark.parametrize('interval,eps', [(5.0, 1e-6), (datetime.timedelta(microseconds=10), 1e-6)])
def test_time_scheduler_boundary_is_inclusive(interval, eps):
  seconds = interval.total_seconds() if isinstance(interval, datetime.timedelta) else interval
  # Base 0 so that the sums below are exact in floating point.
  clock = _FakeClock(0.0)
  scheduler = schedulers.TimeScheduler(interval, clock=clock)
  clock.now = seconds - eps
  assert not scheduler()
  clock.now = seconds
  assert scheduler()
  clock.now = 2 * seconds
  assert scheduler()


def test_time_scheduler_large_time_jump_triggers_once():
  clock = _FakeClock(0.0)
  scheduler = schedulers.TimeScheduler(10, clock=clock)
  clock.now = 1e6
  assert scheduler()
  clock.now = 1e6 + 9
  assert not scheduler()
  clock.now = 1e6 + 10
  assert scheduler()


def test_time_scheduler_backward_clock_never_triggers():
  clock = _FakeClock(500.0)
  scheduler = schedulers.TimeScheduler(10, clock=clock)
  for now in [400.0, 0.0, -1e6, 505.0, 509.0]:
    clock.now = now
    assert not scheduler()
  clock.now = 510.0
  assert scheduler()


def test_time_scheduler_default_clock():
  scheduler = schedulers.TimeScheduler(3600)
  assert not scheduler(_step(dm_env.StepType.MID))


@pytest.mark.parametrize(
  'scheduler',
  [
    schedulers.NStepScheduler(3),
    schedulers.BernoulliStepScheduler(0.5, 1),
    schedulers.NEpisodeScheduler(2),
    schedulers.BernoulliEpisodeScheduler(0.5, 1),
    schedulers.ListStepScheduler([1, 2]),
    schedulers.ListEpisodeScheduler(np.array([0], np.int32)),
    schedulers.TimeScheduler(5.0),
  ],
)
def test_schedulers_are_picklable_and_keep_state(scheduler):
  steps = list(_episodes(3, length=3))
  for s in steps[:4]:
    scheduler(s)
  clone = pickle.loads(pickle.dumps(scheduler))
  assert [clone(s) for s in steps[4:]] == [scheduler(s) for s in steps[4:]]
