r"""Measures what envlogger costs while recording and how fast it reads back.

In one process, for each workload (Catch with its 10x5 float32 board, and the
same game rendered as an 84x84x3 uint8 frame):
  * runs the bare environment and the EnvLogger-wrapped one with the same
    random agent and times every reset()/step() call; prints p50/p95/p99/mean
    for both and the overhead (logged minus bare at each statistic);
  * reads the recorded dataset back sequentially and at uniformly random step
    indices (steps/s; median and range over --read_passes passes);
  * reports the dataset's bytes per step on disk, index files included;
  * reports minor page faults and context switches per step of the whole
    process (all threads, the writer's included) for the bare and the logged
    run: fresh memory touched per step, which explains latency tails better
    than timings on a busy machine. For mmap/munmap/brk counts run it under
    `strace -f -c -e trace=mmap,munmap,madvise,brk`.

Not part of the test run. Example:
  .venv/bin/python benchmarks/logging_benchmark.py --steps=100000
"""

import os
import resource
import tempfile
import time
from typing import Callable

from absl import app
from absl import flags
import dm_env
import numpy as np

import envlogger
from envlogger.testing import catch_env

_STEPS = flags.DEFINE_integer('steps', 100_000, 'Steps recorded per workload.')
_IMAGE_STEPS = flags.DEFINE_integer('image_steps', 20_000,
                                    'Steps recorded for the 84x84x3 workload.')
_RANDOM_READS = flags.DEFINE_integer('random_reads', 50_000,
                                     'Random step reads timed per dataset.')
_READ_PASSES = flags.DEFINE_integer(
    'read_passes', 3, 'Timed passes of each read pattern; the median is printed.')
_WRITER_OPTIONS = flags.DEFINE_string(
    'writer_options', 'transpose,brotli:6,chunk_size:1M',
    'Riegeli writer options of the recorded datasets.')


class PixelCatch(catch_env.Catch):
  """Catch whose observation is the board rendered as an 84x84x3 uint8 frame."""

  def _render(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    board = np.kron(timestep.observation, np.ones((8, 16), np.float32))
    frame = np.zeros((84, 84, 3), np.uint8)
    frame[2:82, 2:82, 0] = (board * 255).astype(np.uint8)
    frame[..., 1] = 40
    return timestep._replace(observation=frame)

  def reset(self) -> dm_env.TimeStep:
    return self._render(super().reset())

  def step(self, action) -> dm_env.TimeStep:
    return self._render(super().step(action))

  def observation_spec(self):
    return dm_env.specs.BoundedArray((84, 84, 3), np.uint8, 0, 255, 'frame')


def _run(env: dm_env.Environment, num_steps: int, seed: int) -> np.ndarray:
  """Runs a random agent; returns the duration of every env call in µs."""
  rng = np.random.default_rng(seed)
  actions = rng.integers(0, 3, size=num_steps)
  durations = np.empty(num_steps, np.float64)
  timestep = None
  clock = time.perf_counter_ns
  for i in range(num_steps):
    if timestep is None or timestep.last():
      start = clock()
      timestep = env.reset()
    else:
      action = int(actions[i])
      start = clock()
      timestep = env.step(action)
    durations[i] = clock() - start
  return durations / 1e3


def _rusage() -> np.ndarray:
  """Minor page faults, voluntary and involuntary context switches so far."""
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return np.array([usage.ru_minflt, usage.ru_nvcsw, usage.ru_nivcsw], np.float64)


def _stats(us: np.ndarray) -> dict[str, float]:
  return {
      'p50': float(np.percentile(us, 50)),
      'p95': float(np.percentile(us, 95)),
      'p99': float(np.percentile(us, 99)),
      'p99.9': float(np.percentile(us, 99.9)),
      'mean': float(us.mean()),
  }


def _median_range(rates: list[float]) -> str:
  return (f'{float(np.median(rates)):,.0f} ({min(rates):,.0f}..'
          f'{max(rates):,.0f})')


def _dir_size(path: str) -> int:
  return sum(
      os.path.getsize(os.path.join(root, name))
      for root, _, names in os.walk(path)
      for name in names)


def _workload(name: str, make_env: Callable[[], dm_env.Environment],
              num_steps: int) -> None:
  print(f'\n=== {name}: {num_steps} steps, writer_options='
        f'{_WRITER_OPTIONS.value!r} ===')
  usage = _rusage()
  bare = _stats(_run(make_env(), num_steps, seed=1))
  bare_usage = (_rusage() - usage) / num_steps
  with tempfile.TemporaryDirectory() as data_dir:
    start = time.perf_counter()
    with envlogger.EnvLogger(
        make_env(),
        data_directory=data_dir,
        writer_options=_WRITER_OPTIONS.value) as env:
      usage = _rusage()
      logged_us = _run(env, num_steps, seed=1)
      closed_at = time.perf_counter()
    close_s = time.perf_counter() - closed_at
    logged_usage = (_rusage() - usage) / num_steps
    wall_s = time.perf_counter() - start
    logged = _stats(logged_us)

    print(f'{"µs per call":<12}' + ''.join(f'{k:>10}' for k in bare))
    for label, row in (('bare', bare), ('logged', logged),
                       ('overhead', {k: logged[k] - bare[k] for k in bare})):
      print(f'{label:<12}' + ''.join(f'{v:>10.2f}' for v in row.values()))
    print(f'ratio logged/bare at p50: {logged["p50"] / bare["p50"]:.2f}x; '
          f'recording wall time {wall_s:.2f} s (close() {close_s:.2f} s)')

    print('per step, whole process: minor page faults / voluntary / '
          'involuntary context switches: bare '
          + ' / '.join(f'{v:.3f}' for v in bare_usage) + '; logged (close() '
          'included) ' + ' / '.join(f'{v:.3f}' for v in logged_usage))

    size = _dir_size(data_dir)
    print(f'on disk: {size} bytes, {size / num_steps:.2f} bytes per step '
          f'(all files, index included)')

    with envlogger.Reader(data_dir) as reader:
      steps = reader.steps
      n = len(steps)
      assert n == num_steps, (n, num_steps)
      # Several passes: this machine's speed drifts within one process, so
      # one pass says little; the median and the range say more.
      seq_rates = []
      for _ in range(_READ_PASSES.value):
        start = time.perf_counter()
        for _ in steps:
          pass
        seq_rates.append(n / (time.perf_counter() - start))
      indices = [int(i) for i in np.random.default_rng(2).integers(0, n, _RANDOM_READS.value)]
      rand_rates = []
      for _ in range(_READ_PASSES.value):
        start = time.perf_counter()
        for i in indices:
          steps[i]
        rand_rates.append(len(indices) / (time.perf_counter() - start))
    print(f'read, steps/s over {_READ_PASSES.value} passes (median, min..max): '
          f'sequential {_median_range(seq_rates)}; uniformly random '
          f'{_median_range(rand_rates)}')


def main(argv: list[str]) -> None:
  del argv
  _workload('Catch 10x5 float32', catch_env.Catch, _STEPS.value)
  _workload('Catch as 84x84x3 uint8 frames', PixelCatch, _IMAGE_STEPS.value)


if __name__ == '__main__':
  app.run(main)
