r"""Loader throughput: envlogger's PyTorch and tf.data loaders beside in-memory ones.

For each workload (Catch, a 10x5 float32 board; the same game rendered as an
84x84x3 uint8 frame), in one process on the same recorded dataset (default
writer options):

* PyTorch, batches of --batch_size steps:
  - memory, TensorDataset per item: `DataLoader(TensorDataset(...),
    batch_size=B, shuffle=True)` over the dataset's arrays already in memory
    (what a trainer does with data that fits in RAM: per-item indexing and
    torch's default collate);
  - memory, TensorDataset batched: the same tensors indexed a whole batch at
    a time (`sampler=BatchSampler(...)`, `batch_size=None`);
  - envlogger StepIterableDataset(batch_size=B) with 0 and --num_workers
    workers (`DataLoader(batch_size=None)`, persistent workers);
  - envlogger StepDataset + collate, shuffled, with 0 and --num_workers
    workers (a batch is read with one chunk-aware call; only --map_batches
    batches per epoch, as random steps of large frames decode a chunk each).
* tf.data, `.batch(B).prefetch(AUTOTUNE)` over RLDS steps:
  - memory: `from_tensor_slices` of the RLDS step arrays (the ceiling);
  - envlogger `as_dataset(level='steps')`;
  - TFDS/RLDS: the dataset converted by `envlogger.tools.convert_riegeli_to_tfds`
    and read with `builder.as_dataset(...).flat_map(steps)` (--tfds; the
    conversion time is printed, it is not part of any rate).

Paths take turns: after one untimed warm-up epoch each, --repeats rounds run
one epoch of every path, so the machine's drifts hit them alike. Printed per
path: steps/s of an epoch (median and min..max over the rounds), the ratio
of that median to the ceiling (the fastest in-memory path of its framework), and the wait for each batch
(time between consecutive batches handed to the loop, over all timed
batches: p50, p90, p99, max) in milliseconds. PyTorch runs with one
intra-op thread (`torch.set_num_threads(1)`, see `_torch_part`). The PyTorch part runs before
TensorFlow is imported (forking DataLoader workers after TensorFlow started
its threads is unsafe).

Not part of the test run. Examples (from the repository root):
  PYTHONPATH=. .venv/bin/python benchmarks/loader_benchmark.py --quick
  PYTHONPATH=. .venv/bin/python benchmarks/loader_benchmark.py
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Callable, Dict, Iterable, List, Tuple

from absl import app
from absl import flags
import dm_env
import numpy as np

import envlogger
from envlogger.testing import catch_env
from envlogger.testing import pixel_catch


_QUICK = flags.DEFINE_bool(
  'quick', False, 'About a minute: 20k Catch and 2k frame steps, 3 rounds, no TFDS for frames.'
)
_CATCH_STEPS = flags.DEFINE_integer('catch_steps', 100_000, 'Catch steps recorded.')
_FRAME_STEPS = flags.DEFINE_integer('frame_steps', 20_000, '84x84x3 frame steps recorded.')
_BATCH_SIZE = flags.DEFINE_integer('batch_size', 256, 'Steps per batch.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed rounds (one epoch of every path each).')
_NUM_WORKERS = flags.DEFINE_integer(
  'num_workers', 2, 'DataLoader workers of the multi-worker rows.'
)
_MAP_BATCHES = flags.DEFINE_integer(
  'map_batches', 20, 'Batches per epoch of the map-style StepDataset rows.'
)
_TFDS = flags.DEFINE_bool('tfds', True, 'Also convert to TFDS/RLDS and read that.')
_WORKLOADS = flags.DEFINE_list('workloads', ['catch', 'frames'], 'catch and/or frames.')

Batches = Callable[[], Iterable[Any]]


def _record(data_dir: str, env: dm_env.Environment, num_steps: int) -> float:
  """Records `num_steps` steps of a random agent; returns the seconds it took."""
  actions = np.random.default_rng(0).integers(0, 3, size=num_steps)
  start = time.perf_counter()
  with envlogger.EnvLogger(env, data_directory=data_dir) as logged:
    timestep = None
    for i in range(num_steps):
      if timestep is None or timestep.last():
        timestep = logged.reset()
      else:
        timestep = logged.step(int(actions[i]))
  return time.perf_counter() - start


def _batch_rows(batch: Any) -> int:
  """Rows of a batch: a StepData, a tuple/list of tensors or a dict of arrays."""
  if hasattr(batch, 'timestep'):
    return len(batch.timestep.step_type)
  if isinstance(batch, dict):
    return len(batch['is_first'])
  return len(batch[0])


def _epoch(batches: Batches) -> Tuple[int, float, List[float]]:
  """Steps, seconds and per-batch waits (seconds) of one pass over `batches()`."""
  waits = []
  steps = 0
  start = last = time.perf_counter()
  for batch in batches():
    now = time.perf_counter()
    waits.append(now - last)
    last = now
    steps += _batch_rows(batch)
  return steps, time.perf_counter() - start, waits


def _run(paths: Dict[str, Batches], repeats: int) -> None:
  """Warms every path up, runs `repeats` interleaved rounds and prints a table.

  The ceiling is the fastest median of the paths named 'memory ...'.
  """
  rates: Dict[str, List[float]] = {name: [] for name in paths}
  waits: Dict[str, List[float]] = {name: [] for name in paths}
  for batches in paths.values():
    _epoch(batches)
  for _ in range(repeats):
    for name, batches in paths.items():
      steps, seconds, batch_waits = _epoch(batches)
      rates[name].append(steps / seconds)
      waits[name].extend(batch_waits)
  top = max(float(np.median(r)) for name, r in rates.items() if name.startswith('memory'))
  print(
    f'  {"path":<46} {"steps/s median (min..max)":>30} {"x ceiling":>9} '
    f'{"batch wait ms p50/p90/p99/max":>31}'
  )
  for name in paths:
    median = float(np.median(rates[name]))
    p50, p90, p99 = np.percentile(waits[name], [50, 90, 99]) * 1e3
    span = f'{median:,.0f} ({min(rates[name]):,.0f}..{max(rates[name]):,.0f})'
    tail = f'{p50:.2f}/{p90:.2f}/{p99:.2f}/{max(waits[name]) * 1e3:.2f}'
    print(f'  {name:<46} {span:>30} {median / top:>9.3f} {tail:>31}', flush=True)


def _torch_part(data_dir: str, arrays: Any, batch_size: int, repeats: int) -> None:
  import torch  # pylint: disable=g-import-not-at-top
  import envlogger.torch as et  # pylint: disable=g-import-not-at-top
  from torch.utils import data  # pylint: disable=g-import-not-at-top

  # One intra-op thread, as in DataLoader workers: with more, OpenMP threads
  # spin for a core on this busy 2-core machine and slow in-memory indexing
  # of small batches tenfold.
  torch.set_num_threads(1)
  timestep = arrays.timestep
  tensors = data.TensorDataset(
    *(
      torch.from_numpy(np.ascontiguousarray(a))
      for a in (
        timestep.step_type,
        timestep.reward,
        timestep.discount,
        timestep.observation,
        arrays.action,
      )
    )
  )
  per_item = data.DataLoader(tensors, batch_size=batch_size, shuffle=True)
  batched = data.DataLoader(
    tensors,
    batch_size=None,
    sampler=data.BatchSampler(data.RandomSampler(tensors), batch_size, drop_last=False),
  )
  paths: Dict[str, Batches] = {
    'memory TensorDataset, per item (shuffled)': lambda: per_item,
    'memory TensorDataset, batched (shuffled)': lambda: batched,
  }
  workers = _NUM_WORKERS.value
  loaders = []
  for num_workers in sorted({0, workers}):
    iterable = et.StepIterableDataset(data_dir, batch_size=batch_size)
    loaders.append(
      data.DataLoader(
        iterable, batch_size=None, num_workers=num_workers, persistent_workers=num_workers > 0
      )
    )
    paths[f'envlogger StepIterableDataset, {num_workers} workers'] = lambda loader=loaders[-1]: (
      loader
    )
  single_steps = et.StepDataset(data_dir)
  map_batches = _MAP_BATCHES.value
  for num_workers in sorted({0, workers}):
    sampler = data.RandomSampler(single_steps, num_samples=map_batches * batch_size)
    loaders.append(
      data.DataLoader(
        single_steps,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=et.collate,
        persistent_workers=num_workers > 0,
      )
    )
    paths[
      f'envlogger StepDataset + collate, {num_workers} workers (shuffled, {map_batches} batches)'
    ] = lambda loader=loaders[-1]: loader
  print(f' PyTorch {torch.__version__}, batch_size={batch_size}')
  _run(paths, repeats)
  del loaders  # Ends the persistent workers before TensorFlow starts.


def _rlds_arrays(arrays: Any) -> Dict[str, np.ndarray]:
  """RLDS step arrays of a whole dataset (action/reward/discount shifted per episode)."""
  step_type = np.asarray(arrays.timestep.step_type)
  is_first = step_type == int(dm_env.StepType.FIRST)
  is_last = step_type == int(dm_env.StepType.LAST)

  def shifted(values):
    out = np.zeros_like(values)
    out[:-1] = values[1:]
    out[is_last] = 0
    return out

  discount = shifted(np.asarray(arrays.timestep.discount))
  return {
    'observation': np.asarray(arrays.timestep.observation),
    'action': shifted(np.asarray(arrays.action)),
    'reward': shifted(np.asarray(arrays.timestep.reward)),
    'discount': discount,
    'is_first': is_first,
    'is_last': is_last,
    'is_terminal': is_last & (np.asarray(arrays.timestep.discount) == 0),
  }


def _tf_part(data_dir: str, arrays: Any, batch_size: int, repeats: int, tfds_too: bool) -> None:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  import envlogger.tf as etf  # pylint: disable=g-import-not-at-top

  def pipeline(dataset):
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

  memory = pipeline(tf.data.Dataset.from_tensor_slices(_rlds_arrays(arrays)))
  ours = pipeline(etf.as_dataset(data_dir, level='steps'))
  paths: Dict[str, Batches] = {
    'memory from_tensor_slices': memory.as_numpy_iterator,
    'envlogger as_dataset(level="steps")': ours.as_numpy_iterator,
  }
  with tempfile.TemporaryDirectory() as tfds_dir:
    if tfds_too:
      from envlogger.tools import convert_riegeli_to_tfds  # pylint: disable=g-import-not-at-top

      start = time.perf_counter()
      with envlogger.Reader(data_dir) as reader:
        convert_riegeli_to_tfds.convert_reader_to_tfds(reader, tfds_dir, dataset_name='bench')
      print(f' converted to TFDS/RLDS in {time.perf_counter() - start:.1f} s')
      builder = tfds.builder_from_directory(tfds_dir)
      converted = pipeline(builder.as_dataset(split='train').flat_map(lambda e: e['steps']))
      paths['TFDS/RLDS (converted), flat_map(steps)'] = converted.as_numpy_iterator
    print(f' TensorFlow {tf.__version__}, batch_size={batch_size}')
    _run(paths, repeats)


def _workload(name: str, env: dm_env.Environment, num_steps: int, tfds_too: bool) -> None:
  with tempfile.TemporaryDirectory() as data_dir:
    seconds = _record(data_dir, env, num_steps)
    start = time.perf_counter()
    with envlogger.Reader(data_dir) as reader:
      arrays = reader.step_arrays()
    read = time.perf_counter() - start
    size = sum(
      os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(data_dir) for f in files
    )
    print(
      f'\n=== {name}: {num_steps} steps, {size / num_steps:.0f} bytes/step on disk (recorded in '
      f'{seconds:.1f} s); Reader.step_arrays() of all steps: {num_steps / read:,.0f} '
      'steps/s ===',
      flush=True,
    )
    batch_size = _BATCH_SIZE.value
    _torch_part(data_dir, arrays, batch_size, _REPEATS.value)
    _tf_part(data_dir, arrays, batch_size, _REPEATS.value, tfds_too)


def main(argv: List[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  catch_steps, frame_steps, tfds_frames = (_CATCH_STEPS.value, _FRAME_STEPS.value, _TFDS.value)
  if _QUICK.value:
    catch_steps, frame_steps, tfds_frames = 20_000, 2_000, False
    flags.FLAGS.repeats = min(_REPEATS.value, 3)
    flags.FLAGS.map_batches = min(_MAP_BATCHES.value, 5)
  print(
    f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {os.cpu_count()} cores, '
    f'envlogger {envlogger.__file__}'
  )
  for workload in _WORKLOADS.value:
    if workload == 'catch':
      _workload('Catch (10x5 float32)', catch_env.Catch(), catch_steps, _TFDS.value)
    elif workload == 'frames':
      _workload('84x84x3 uint8 frames', pixel_catch.PixelCatch(), frame_steps, tfds_frames)
    else:
      raise app.UsageError(f'unknown workload {workload!r}: expected catch or frames')


if __name__ == '__main__':
  app.run(main)
