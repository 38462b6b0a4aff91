r"""How fast recorded data reaches a learner: every reading path side by side.

In one process, on the same recorded datasets (Catch with its 10x5 float32
board, and the same game rendered as 84x84x3 uint8 frames), with the
writer's default options:
  * `for step in reader.steps` (per-step Python objects);
  * `reader.steps[i]` at uniformly random i;
  * `reader.step_arrays()`: the whole dataset to arrays (native columnar path);
  * `reader.sample(256)` and `reader.sample(256, seq_len=8)`, a stream of
    batches from one seeded Generator;
  * `reader.batches(256)`: one epoch without replacement;
  * `step_arrays()` on a fresh reader each pass (chunk decompression
    included; the repeated line above reads chunks still cached), and the
    floor: the steps.riegeli records read with envlogger.riegeli, not decoded
    (decompression plus one bytes object per record);
  * `sample` on a reader with a large `cache_bytes` after one pass (every
    chunk decoded once and kept);
  * the ceiling: numpy fancy indexing of the same arrays already in memory
    (what `sample` would cost if the dataset were one in-memory array);
  * TFDS/RLDS (Catch only): the dataset converted once with
    envlogger.tools.convert_riegeli_to_tfds, then read with `tfds.as_numpy`
    step by step and with `flat_map(steps).batch(4096)`.
Whole-dataset paths run --repeats passes; sampling paths time every call.
Each line prints steps/s at the median (and at the 10th-90th percentiles of
the calls or passes: the tail), and the ratio of the median to the ceiling's
median for the same batch shape.

It also measures the peak memory of `step_arrays` in a fresh subprocess:
(peak RSS - RSS before the call) / bytes of the arrays returned.

The datasets are recorded once into --work_dir and reused by later runs with
the same sizes (delete the directory to record again). --quick uses smaller
datasets and fewer repeats (about a minute on 2 cores, TFDS conversion
included on the first run).

Not part of the test run. Examples:
  PYTHONPATH=. .venv/bin/python benchmarks/read_benchmark.py --quick
  PYTHONPATH=. .venv/bin/python benchmarks/read_benchmark.py --catch_steps=100000 --image_steps=20000
"""

import json
import os
import subprocess
import sys
import time
from typing import Any, Callable, Optional

from absl import app
from absl import flags
import dm_env
import numpy as np

import envlogger
from envlogger import riegeli
from envlogger import step_data
from envlogger.backends import step_stacking
from envlogger.testing import catch_env
from envlogger.testing import pixel_catch

_QUICK = flags.DEFINE_bool(
  'quick', False, 'Small datasets (Catch 20k steps, 84x84x3 4k) and fewer repeats.'
)
_CATCH_STEPS = flags.DEFINE_integer('catch_steps', 100_000, 'Catch steps recorded.')
_IMAGE_STEPS = flags.DEFINE_integer('image_steps', 20_000, '84x84x3 steps recorded.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Passes of the whole-dataset paths.')
_CALLS = flags.DEFINE_integer('calls', 100, 'Timed calls of each sampling path.')
_TFDS = flags.DEFINE_bool('tfds', True, 'Also read the Catch dataset through TFDS/RLDS.')
_WORK_DIR = flags.DEFINE_string(
  'work_dir',
  '/tmp/envlogger_read_benchmark',
  'Where the datasets are recorded (reused across runs).',
)
_WRITER_OPTIONS = flags.DEFINE_string(
  'writer_options', None, "Writer options of both datasets (default: the writer's)."
)
_LARGE_CACHE = flags.DEFINE_integer(
  'large_cache_bytes', 8 << 30, 'cache_bytes of the "large cache" sampling lines.'
)
_PEAK_MEMORY_CHILD = flags.DEFINE_string(
  'peak_memory_child', None, 'Internal: measure step_arrays memory of this dataset.'
)

_BATCH = 256
_SEQ_LEN = 8


class GreyPixelCatch(pixel_catch.PixelCatch):
  """PixelCatch whose frame is the board scaled up from the top-left corner, in grey."""

  def draw(self, board: np.ndarray) -> np.ndarray:
    frame = np.zeros(pixel_catch.FRAME_SHAPE, np.uint8)
    cells = np.kron(board, np.ones((84 // board.shape[0], 84 // board.shape[1]), np.float32))
    frame[: cells.shape[0], : cells.shape[1], :] = (cells * 255).astype(np.uint8)[..., None]
    return frame


def _record(
  path: str,
  make_env: Callable[[], dm_env.Environment],
  num_steps: int,
  writer_options: Optional[str],
) -> None:
  """Records `num_steps` steps of random play into `path`, unless already there."""
  marker = os.path.join(path, 'benchmark_steps.txt')
  if os.path.exists(marker) and open(marker).read() == str(num_steps):
    return
  start = time.perf_counter()
  rng = np.random.default_rng(0)
  recorded = 0
  kwargs = {} if writer_options is None else {'writer_options': writer_options}
  with envlogger.EnvLogger(make_env(), data_directory=path, **kwargs) as env:
    while recorded < num_steps:
      timestep = env.reset()
      recorded += 1
      while not timestep.last() and recorded < num_steps:
        timestep = env.step(np.int64(rng.integers(3)))
        recorded += 1
  with open(marker, 'w') as f:
    f.write(str(num_steps))
  print(f'  (recorded {num_steps} steps into {path} in {time.perf_counter() - start:.1f} s)')


def _rates(seconds: list[float], steps: int) -> tuple[float, float, float]:
  """steps/s at the median, 90th and 10th percentile of the times."""
  t = np.asarray(seconds)
  return steps / np.median(t), steps / np.percentile(t, 90), steps / np.percentile(t, 10)


class _Table:
  """Prints one line per path: median and tail steps/s, ratio to the ceiling."""

  def __init__(self, unit: str):
    self._unit = unit
    self.medians = {}

  def add(self, name: str, seconds: list[float], steps: int, ceiling: Optional[str] = None) -> None:
    median, slow, fast = _rates(seconds, steps)
    self.medians[name] = median
    ratio = f'{median / self.medians[ceiling]:7.3f}' if ceiling in self.medians else '      -'
    print(
      f'  {name:<42} {median:>13,.0f} {self._unit}/s  (p10-p90 of {len(seconds):>3} '
      f'{"calls" if len(seconds) > _REPEATS.value else "passes"}: '
      f'{slow:>11,.0f} - {fast:>11,.0f})  x ceiling {ratio}'
    )


def _time(fn: Callable[[], Any], times: int) -> list[float]:
  seconds = []
  for _ in range(times):
    start = time.perf_counter()
    fn()
    seconds.append(time.perf_counter() - start)
  return seconds


def _fancy_index(arrays: step_data.StepData, rows: np.ndarray) -> step_data.StepData:
  """Every leaf of `arrays` indexed with `rows` (the in-memory ceiling)."""
  return step_stacking.take_rows(arrays, rows, ())


def _peak_memory(path: str) -> str:
  """step_arrays' peak memory over its result, measured in a fresh process."""
  out = subprocess.run(
    [sys.executable, __file__, f'--peak_memory_child={path}'],
    capture_output=True,
    text=True,
    check=True,
    env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
  )
  result = json.loads(out.stdout.strip().splitlines()[-1])
  return (
    f'{result["peak"] / 2**20:.0f} MiB peak over {result["arrays"] / 2**20:.0f} MiB of '
    f'arrays = {result["peak"] / result["arrays"]:.2f}x'
  )


def _peak_memory_child(path: str) -> None:
  with envlogger.Reader(path) as reader:
    reader.step_arrays(0, 1)  # Opens the shards, learns the plan.
    with open('/proc/self/clear_refs', 'w') as f:
      f.write('5')  # Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
    before = _proc_status('VmHWM')
    arrays = reader.step_arrays()
    peak = _proc_status('VmHWM')
    nbytes = sum(a.nbytes for a in _leaves(arrays))
  print(json.dumps({'peak': peak - before, 'arrays': nbytes}))


def _proc_status(field: str) -> int:
  """A size field of /proc/self/status, in bytes."""
  with open('/proc/self/status') as f:
    for line in f:
      if line.startswith(field + ':'):
        return int(line.split()[1]) * 1024
  raise RuntimeError(f'no {field} in /proc/self/status')


def _leaves(tree: Any) -> list[np.ndarray]:
  if isinstance(tree, np.ndarray):
    return [tree]
  if isinstance(tree, dict):
    tree = list(tree.values())
  if isinstance(tree, (list, tuple)):
    return [leaf for item in tree for leaf in _leaves(item)]
  return []


def _read_records(path: str) -> int:
  """Reads every record of the dataset's steps.riegeli files (no decoding)."""
  count = 0
  for shard in sorted(os.listdir(path)):
    steps = os.path.join(path, shard, 'steps.riegeli')
    if os.path.exists(steps):
      with riegeli.RecordReader(steps) as records:
        for _ in records.read_records():
          count += 1
  return count


def _workload(name: str, path: str, unit: str, repeats: int, calls: int) -> _Table:
  print(f'=== {name}')
  table = _Table(unit)
  rng = np.random.default_rng(1)
  with envlogger.Reader(path) as reader:
    n = len(reader.steps)
    print(
      f'  {n} steps, {len(reader.episodes)} episodes, '
      f'{sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 2**20:.1f} '
      'MiB on disk'
    )
    arrays = reader.step_arrays()
    windows = reader.windows(_SEQ_LEN)

    table.add(
      'ceiling: fancy indexing, 256 rows',
      _time(lambda: _fancy_index(arrays, rng.integers(0, n, _BATCH)), calls),
      _BATCH,
    )
    table.add(
      'ceiling: fancy indexing, 256x8 windows',
      _time(
        lambda: _fancy_index(
          arrays, windows.steps(windows.first_steps(rng.integers(0, windows.count, _BATCH)))
        ),
        calls,
      ),
      _BATCH * _SEQ_LEN,
    )

    table.add('for step in reader.steps', _time(lambda: sum(1 for _ in reader.steps), repeats), n)
    random_count = min(n, 2000 if unit == 'steps' else 300)
    table.add(
      f'reader.steps[i] at random ({random_count} i)',
      _time(lambda: [reader.steps[int(i)] for i in rng.integers(0, n, random_count)], repeats),
      random_count,
    )
    table.add('reader.step_arrays()', _time(reader.step_arrays, repeats), n)

    def fresh_step_arrays():
      with envlogger.Reader(path) as fresh:
        fresh.step_arrays()

    table.add('reader.step_arrays(), fresh reader each pass', _time(fresh_step_arrays, repeats), n)
    table.add(
      'floor: steps.riegeli records only, no decoding',
      _time(lambda: _read_records(path), repeats),
      n,
    )
    stream = np.random.default_rng(2)
    reader.sample(_BATCH, seed=stream)  # Warms the episode table.
    _add_sample_rows(table, reader, stream, calls, '')
    epoch = reader.batches(_BATCH, seed=3, drop_last=True)
    table.add(
      'reader.batches(256), one epoch',
      _time(lambda: next(epoch), min(calls, n // _BATCH)),
      _BATCH,
      'ceiling: fancy indexing, 256 rows',
    )
    print(f'  default cache after these: {reader.cache_stats()}')
  with envlogger.Reader(path, cache_bytes=_LARGE_CACHE.value) as reader:
    reader.step_arrays()  # First touch: every chunk decoded once, then kept.
    reader.sample(_BATCH, seed=stream)
    _add_sample_rows(table, reader, stream, calls, ', large cache')
    print(f'  large cache (cache_bytes={_LARGE_CACHE.value}): {reader.cache_stats()}')
  print(f'  step_arrays peak memory: {_peak_memory(path)}')
  return table


def _add_sample_rows(
  table: _Table, reader: envlogger.Reader, stream: np.random.Generator, calls: int, suffix: str
) -> None:
  """Times reader.sample of single steps and of _SEQ_LEN windows (rows named ... + suffix)."""
  table.add(
    f'reader.sample(256){suffix}',
    _time(lambda: reader.sample(_BATCH, seed=stream), calls),
    _BATCH,
    'ceiling: fancy indexing, 256 rows',
  )
  table.add(
    f'reader.sample(256, seq_len=8){suffix}',
    _time(lambda: reader.sample(_BATCH, seq_len=_SEQ_LEN, seed=stream), calls),
    _BATCH * _SEQ_LEN,
    'ceiling: fancy indexing, 256x8 windows',
  )


def _tfds(path: str, table: _Table, repeats: int) -> None:
  """Converts the dataset to TFDS/RLDS once and reads it like a TFDS user."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's C++ INFO/WARNING lines.
  try:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    from envlogger.tools import convert_riegeli_to_tfds  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'  TFDS/RLDS: skipped ({e}; pip install envlogger[tf])')
    return
  tfds_dir = path + '_tfds'
  marker = os.path.join(tfds_dir, 'benchmark_source.txt')
  source = open(os.path.join(path, 'benchmark_steps.txt')).read()
  if not (os.path.exists(marker) and open(marker).read() == source):
    start = time.perf_counter()
    with envlogger.Reader(path) as reader:
      convert_riegeli_to_tfds.convert_reader_to_tfds(reader, tfds_dir)
    with open(marker, 'w') as f:
      f.write(source)
    print(f'  (converted to TFDS in {time.perf_counter() - start:.1f} s)')
  episodes = tfds.builder_from_directory(tfds_dir).as_dataset(split='train')
  per_step = 2000
  steps = episodes.flat_map(lambda e: e['steps'])

  def read_per_step():
    count = 0
    for _ in tfds.as_numpy(steps.take(per_step)):
      count += 1
    return count

  table.add(
    f'TFDS/RLDS as_numpy per step ({per_step} steps)', _time(read_per_step, repeats), per_step
  )
  with envlogger.Reader(path) as reader:
    num_steps = len(reader.steps)

  def read_batched():
    for _ in tfds.as_numpy(steps.batch(4096)):
      pass

  table.add('TFDS/RLDS flat_map(steps).batch(4096)', _time(read_batched, repeats), num_steps)


def main(argv: list[str]) -> None:
  del argv
  if _PEAK_MEMORY_CHILD.value:
    _peak_memory_child(_PEAK_MEMORY_CHILD.value)
    return
  quick = _QUICK.value
  catch_steps = 20_000 if quick else _CATCH_STEPS.value
  image_steps = 4_000 if quick else _IMAGE_STEPS.value
  repeats = 3 if quick else _REPEATS.value
  calls = 30 if quick else _CALLS.value
  print(
    f'read_benchmark {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, '
    f'{os.cpu_count()} CPUs, repeats={repeats}, calls={calls}'
  )
  options = _WRITER_OPTIONS.value
  print(f'writer options: {options or "default"}')
  suffix = '' if options is None else '_' + ''.join(c if c.isalnum() else '_' for c in options)
  catch_path = os.path.join(_WORK_DIR.value, f'catch_{catch_steps}{suffix}')
  image_path = os.path.join(_WORK_DIR.value, f'frames_{image_steps}{suffix}')
  _record(catch_path, catch_env.Catch, catch_steps, options)
  _record(image_path, GreyPixelCatch, image_steps, options)
  catch = _workload(
    f'Catch (10x5 float32 board), {catch_steps} steps', catch_path, 'steps', repeats, calls
  )
  if _TFDS.value:
    _tfds(catch_path, catch, repeats)
  _workload(f'84x84x3 uint8 frames, {image_steps} steps', image_path, 'frames', repeats, calls)


if __name__ == '__main__':
  app.run(main)
