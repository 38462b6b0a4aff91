r"""Measures what envlogger costs while recording and how fast it reads back.

In one process, for each workload (Catch with its 10x5 float32 board, and the
same game rendered as an 84x84x3 uint8 frame):
  * times every reset()/step() call of the bare environment and of an
    EnvLogger-wrapped twin (same seed, same random actions, so both play the
    same trajectory); prints p50/p95/p99/p99.9/mean of each over all its calls
    and the overhead: logged minus bare at each statistic;
  * reads the recorded dataset back sequentially and at uniformly random step
    indices (steps/s; median and range over --read_passes passes);
  * reports the dataset's bytes per step on disk, index files included;
  * reports the writer thread's CPU time per step (process CPU time minus the
    environment thread's, over the recording, close() included): the work
    taken off the environment's thread, which competes with it for a core on a
    busy machine;
  * reports minor page faults and context switches per step of the whole
    process (all threads, the writer's included) in the bare and the logged
    blocks, and how often the environment's thread itself was preempted
    (involuntary context switches): fresh memory touched per step and
    preemptions explain latency tails better than timings on a busy machine.
    For mmap/munmap/brk counts run it under
    `strace -f -c -e trace=mmap,munmap,madvise,brk`.

Method of the recording part. The speed of these shared machines drifts (up
to 1.7x within one process, over seconds), so the two environments are not
run one after the other: both are alive and take turns in blocks of
--block_steps calls for Catch and --image_block_steps for 84x84x3, about 10 ms
of calls either way, shorter than the drifts (pairs in the order bare,
logged, then logged, bare, ... so neither always runs right after the other).
Each environment continues its own trajectory from block to block, so each
sees exactly the calls of one uninterrupted run of --steps calls and the
dataset is an ordinary one of --steps steps. The statistics are over all bare and all logged calls; the
per-block-pair lines show, for each pair, logged minus bare at p50 (and p99)
of that pair's two blocks, summarized by their median and 10th-90th
percentiles over the pairs: how much the overhead itself varies as the
machine drifts. The writer thread runs during both kinds of blocks (it drains
what a logged block queued while the next bare block runs): without a free
core, the contention it causes slows bare calls too and shows only partly in
the overhead, which is why its CPU time per step is printed beside it. Page
faults and context switches are counted per block for the whole process, so
the writer's share lands in whichever block it happens in. A block size >=
the number of steps runs the bare environment first and then the logged one,
as earlier versions of this benchmark did.

--breakdown runs instead a split of the 84x84x3 overhead: the bare
environment and EnvLogger-wrapped twins that differ only in what EnvLogger
does to record a step, all taking turns in blocks of --image_block_steps calls
(rotating which goes first):
  * noop: nothing (what EnvLogger's own wrapper costs);
  * copy: copies the frame once (`observation.tobytes()`), the least any
    logger that lets the environment reuse its arrays must do;
  * encode: serializes the step with the native codec into a new bytes
    object (`native_codec.encode_step`), queuing nothing;
  * record: the real recording, with --writer_options and with two cheaper
    compressors (zstd:1, snappy), which would differ if the writer thread's
    work slowed the environment's thread.
It prints p50 and p90 per variant and the p50 difference from bare.

Not part of the test run. Examples:
  PYTHONPATH=. .venv/bin/python benchmarks/logging_benchmark.py --steps=100000
  PYTHONPATH=. .venv/bin/python benchmarks/logging_benchmark.py --breakdown \
      --image_steps=40000
"""

import os
import resource
import tempfile
import time
from typing import Any, Callable, Optional

from absl import app
from absl import flags
import dm_env
import numpy as np

import envlogger
from envlogger.backends.python import riegeli_dataset_writer
from envlogger.converters import native_codec
from envlogger.testing import catch_env
from envlogger.testing import pixel_catch

_STEPS = flags.DEFINE_integer('steps', 100_000, 'Steps recorded per workload.')
_IMAGE_STEPS = flags.DEFINE_integer(
  'image_steps', 20_000, 'Steps recorded for the 84x84x3 workload.'
)
_BLOCK_STEPS = flags.DEFINE_integer(
  'block_steps',
  1000,
  'Catch calls per block; the bare and the logged environment alternate blocks.',
)
_IMAGE_BLOCK_STEPS = flags.DEFINE_integer(
  'image_block_steps',
  150,
  '84x84x3 calls per block (each call takes about as long as 15 of Catch).',
)
_RANDOM_READS = flags.DEFINE_integer('random_reads', 50_000, 'Random step reads timed per dataset.')
_READ_PASSES = flags.DEFINE_integer(
  'read_passes', 3, 'Timed passes of each read pattern; the median is printed.'
)
_BREAKDOWN = flags.DEFINE_bool(
  'breakdown', False, 'Split the 84x84x3 recording overhead instead (see the module docstring).'
)
_WRITER_OPTIONS = flags.DEFINE_string(
  'writer_options',
  riegeli_dataset_writer.DEFAULT_WRITER_OPTIONS,
  'Riegeli writer options of the recorded datasets.',
)


class _Player:
  """Plays a random agent in one environment, a block of calls at a time.

  Successive blocks continue the same trajectory, so they add up to one
  uninterrupted run with the actions of `seed`.
  """

  def __init__(self, env: dm_env.Environment, num_steps: int, seed: int):
    self._env = env
    self._actions = np.random.default_rng(seed).integers(0, 3, size=num_steps)
    self._timestep = None
    self.durations_us = np.empty(num_steps, np.float64)

  def play(self, begin: int, end: int) -> None:
    """Makes calls [begin, end) of the run; times each into durations_us."""
    env = self._env
    actions = self._actions
    durations = self.durations_us
    timestep = self._timestep
    clock = time.perf_counter_ns
    for i in range(begin, end):
      if timestep is None or timestep.last():
        start = clock()
        timestep = env.reset()
      else:
        action = int(actions[i])
        start = clock()
        timestep = env.step(action)
      durations[i] = (clock() - start) / 1e3
    self._timestep = timestep


def _rusage() -> np.ndarray:
  """Counters so far: minor page faults, voluntary and involuntary context
  switches of the process, involuntary context switches of this thread."""
  usage = resource.getrusage(resource.RUSAGE_SELF)
  own = resource.getrusage(resource.RUSAGE_THREAD)
  return np.array([usage.ru_minflt, usage.ru_nvcsw, usage.ru_nivcsw, own.ru_nivcsw], np.float64)


def _stats(us: np.ndarray) -> dict[str, float]:
  return {
    'p50': float(np.percentile(us, 50)),
    'p95': float(np.percentile(us, 95)),
    'p99': float(np.percentile(us, 99)),
    'p99.9': float(np.percentile(us, 99.9)),
    'mean': float(us.mean()),
  }


def _median_range(rates: list[float]) -> str:
  return f'{float(np.median(rates)):,.0f} ({min(rates):,.0f}..{max(rates):,.0f})'


def _dir_size(path: str) -> int:
  return sum(
    os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names
  )


def _quantile_range(values: list[float]) -> str:
  """'median [p10, p90]' of `values`."""
  p10, p50, p90 = np.percentile(values, [10, 50, 90])
  return f'{p50:.2f} [{p10:.2f}, {p90:.2f}]'


def _workload(
  name: str, make_env: Callable[[], dm_env.Environment], num_steps: int, block_steps: int
) -> None:
  block = max(1, min(block_steps, num_steps))
  print(
    f'\n=== {name}: {num_steps} steps, writer_options='
    f'{_WRITER_OPTIONS.value!r}, blocks of {block} calls ==='
  )
  with tempfile.TemporaryDirectory() as data_dir:
    bare_player = _Player(make_env(), num_steps, seed=1)
    start = time.perf_counter()
    cpu_start = time.process_time(), time.thread_time()
    env = envlogger.EnvLogger(
      make_env(), data_directory=data_dir, writer_options=_WRITER_OPTIONS.value
    )
    logged_player = _Player(env, num_steps, seed=1)
    usage = {'bare': np.zeros(4), 'logged': np.zeros(4)}
    pairs = []  # Per block pair: (logged - bare) at p50 and at p99.
    for pair, begin in enumerate(range(0, num_steps, block)):
      end = min(begin + block, num_steps)
      turns = (('bare', bare_player), ('logged', logged_player))
      if pair % 2:
        turns = turns[::-1]
      for label, player in turns:
        before = _rusage()
        player.play(begin, end)
        usage[label] += _rusage() - before
      bare_us = bare_player.durations_us[begin:end]
      logged_us = logged_player.durations_us[begin:end]
      pairs.append([np.percentile(logged_us, q) - np.percentile(bare_us, q) for q in (50, 99)])
    closed_at = time.perf_counter()
    before = _rusage()
    env.close()
    usage['logged'] += _rusage() - before
    close_s = time.perf_counter() - closed_at
    wall_s = time.perf_counter() - start
    writer_cpu_s = (time.process_time() - cpu_start[0]) - (time.thread_time() - cpu_start[1])
    bare = _stats(bare_player.durations_us)
    logged = _stats(logged_player.durations_us)

    print(f'{"µs per call":<12}' + ''.join(f'{k:>10}' for k in bare))
    for label, row in (
      ('bare', bare),
      ('logged', logged),
      ('overhead', {k: logged[k] - bare[k] for k in bare}),
    ):
      print(f'{label:<12}' + ''.join(f'{v:>10.2f}' for v in row.values()))
    pairs = np.array(pairs)
    print(
      f'overhead per block pair ({len(pairs)} pairs), median [p10, p90] '
      f'over the pairs, µs: at p50 {_quantile_range(pairs[:, 0])}; '
      f'at p99 {_quantile_range(pairs[:, 1])}'
    )
    print(
      f'ratio logged/bare at p50: {logged["p50"] / bare["p50"]:.2f}x; '
      f'recording wall time (both environments) {wall_s:.2f} s (close() '
      f'{close_s:.2f} s); writer thread CPU '
      f'{writer_cpu_s / num_steps * 1e6:.2f} µs per step'
    )

    print(
      'per step, whole process: minor page faults / voluntary / '
      "involuntary context switches, then the environment thread's "
      'involuntary context switches (preemptions): bare blocks '
      + ' / '.join(f'{v / num_steps:.3f}' for v in usage['bare'])
      + '; logged blocks (close() included) '
      + ' / '.join(f'{v / num_steps:.3f}' for v in usage['logged'])
    )

    size = _dir_size(data_dir)
    print(
      f'on disk: {size} bytes, {size / num_steps:.2f} bytes per step (all files, index included)'
    )

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
    print(
      f'read, steps/s over {_READ_PASSES.value} passes (median, min..max): '
      f'sequential {_median_range(seq_rates)}; uniformly random '
      f'{_median_range(rand_rates)}'
    )


def _pixel_logger(
  data_dir: str, record: Optional[Callable[..., Any]] = None, writer_options: Optional[str] = None
) -> envlogger.EnvLogger:
  """An EnvLogger over PixelCatch; `record` replaces its recording call.

  Args:
    data_dir: Where the dataset goes.
    record: Called instead of EnvLogger's recording, if given.
    writer_options: Riegeli options; --writer_options by default.
  """
  env = envlogger.EnvLogger(
    pixel_catch.PixelCatch(),
    data_directory=data_dir,
    writer_options=writer_options or _WRITER_OPTIONS.value,
  )
  if record is not None:
    # EnvLogger's hot path calls this once per reset() and step().
    env._record_plain = record  # pylint: disable=protected-access
  return env


def _breakdown(num_steps: int) -> None:
  block = max(1, min(_IMAGE_BLOCK_STEPS.value, num_steps))
  with tempfile.TemporaryDirectory() as root:
    envs = {
      'bare': pixel_catch.PixelCatch(),
      'noop': _pixel_logger(f'{root}/noop', lambda *fields: None),
      'copy': _pixel_logger(f'{root}/copy', lambda timestep, *_: timestep.observation.tobytes()),
      'encode': _pixel_logger(
        f'{root}/encode',
        lambda timestep, action, custom_data, _: native_codec.encode_step(
          timestep, action, custom_data
        ),
      ),
      'record': _pixel_logger(f'{root}/record'),
      'record zstd:1': _pixel_logger(f'{root}/zstd', None, 'transpose,zstd:1,chunk_size:1M'),
      'record snappy': _pixel_logger(f'{root}/snappy', None, 'snappy,chunk_size:1M'),
    }
    players = {name: _Player(env, num_steps, seed=1) for name, env in envs.items()}
    names = list(players)
    for turn, begin in enumerate(range(0, num_steps, block)):
      first = turn % len(names)
      for name in names[first:] + names[:first]:
        players[name].play(begin, min(begin + block, num_steps))
    for env in envs.values():
      env.close()
  print(
    f'=== 84x84x3 recording overhead, split: {num_steps} calls per variant, '
    f'turns of {block} calls; µs per reset()/step() call ==='
  )
  bare_p50 = float(np.percentile(players['bare'].durations_us, 50))
  print(f'{"variant":<14}{"p50":>9}{"p90":>9}{"p50 - bare":>12}')
  for name, player in players.items():
    p50, p90 = np.percentile(player.durations_us, [50, 90])
    print(f'{name:<14}{p50:>9.2f}{p90:>9.2f}{p50 - bare_p50:>12.2f}')


def main(argv: list[str]) -> None:
  del argv
  if _BREAKDOWN.value:
    _breakdown(_IMAGE_STEPS.value)
    return
  _workload('Catch 10x5 float32', catch_env.Catch, _STEPS.value, _BLOCK_STEPS.value)
  _workload(
    'Catch as 84x84x3 uint8 frames',
    pixel_catch.PixelCatch,
    _IMAGE_STEPS.value,
    _IMAGE_BLOCK_STEPS.value,
  )


if __name__ == '__main__':
  app.run(main)
