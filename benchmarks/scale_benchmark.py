"""Scale benchmark: many actors into one root, Beam and Ray over it, a 1,000-writer root.

  PYTHONPATH=. python benchmarks/scale_benchmark.py [--steps=20000] [--reps=3] [--writers=1000]
      [--skip=record,beam,ray,root]

Side by side in one run (medians of --reps, p90 where there are many samples):

* record: aggregate recording throughput (steps/s, all actors together) of
  1, 2, 4 and 8 actor processes recording Catch into one root with
  `EnvLogger(writer_name=...)`; each actor imports and opens its logger, then
  all start together, and the time runs until the last one has closed.
* beam: `envlogger.beam` statistics and Riegeli conversion (merge, reshard)
  of that root on the DirectRunner in multi-processing mode with 1 and 2
  workers (steps/s, pipeline start-up included).
* ray: `envlogger.ray.read_envlogger(root)` materialized on a local Ray with
  1 and 2 CPUs (steps/s, Ray start-up excluded).
* root: a root of --writers small writer directories (copies of a 1-episode
  dataset, as a long experiment leaves them): `envlogger.Reader(root)` open
  time and `refresh()` time with nothing new.

Scaling efficiency is throughput(n) / (n * throughput(1)).
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

import logging as std_logging

from absl import app
from absl import flags
from absl import logging

import envlogger
from envlogger.testing import catch_env

_STEPS = flags.DEFINE_integer('steps', 20000, 'Steps each actor records.')
_REPS = flags.DEFINE_integer('reps', 3, 'Repetitions of each measurement (median reported).')
_WRITERS = flags.DEFINE_integer('writers', 1000, 'Writer directories of the simulated root.')
_SKIP = flags.DEFINE_list('skip', [], 'Parts to skip: record, beam, ray, root.')

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ACTOR = """
import sys, time, envlogger
from envlogger.testing import catch_env
root, steps, index = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
env = envlogger.EnvLogger(catch_env.Catch(seed=index), data_directory=root,
                          writer_name=envlogger.unique_writer_name(f'actor{index}'))
print('ready', flush=True)
sys.stdin.readline()
timestep = env.reset()
for t in range(steps):
  timestep = env.reset() if timestep.last() else env.step(t % 3)
env.close()
print(time.time(), flush=True)
"""


def _record(root: str, actors: int, steps: int) -> float:
  """Aggregate steps/s of `actors` processes recording `steps` steps each into `root`."""
  env = dict(os.environ, PYTHONPATH=_REPO_ROOT)
  procs = [
    subprocess.Popen(
      [sys.executable, '-c', _ACTOR, root, str(steps), str(i)],
      stdin=subprocess.PIPE,
      stdout=subprocess.PIPE,
      text=True,
      env=env,
    )
    for i in range(actors)
  ]
  for p in procs:
    if p.stdout.readline().strip() != 'ready':
      raise RuntimeError('an actor failed to start')
  start = time.time()
  for p in procs:
    p.stdin.write('go\n')
    p.stdin.flush()
  ends = [float(p.stdout.readline()) for p in procs]
  for p in procs:
    p.wait()
  return actors * steps / (max(ends) - start)


def _median_of(reps: int, fn: Callable[[], float]) -> float:
  return statistics.median(fn() for _ in range(reps))


def _efficiency(rates: Dict[int, float]) -> Dict[int, float]:
  base = rates[min(rates)]
  return {n: rate / (n / min(rates) * base) for n, rate in rates.items()}


def _print_scaling(title: str, unit: str, rates: Dict[int, float]) -> None:
  eff = _efficiency(rates)
  for n, rate in rates.items():
    print(f'{title} {n}: {rate:10.0f} {unit}  (scaling efficiency {eff[n]:.2f})', flush=True)


def _num_steps(root: str) -> int:
  with envlogger.Reader(root) as reader:
    return len(reader.steps)


def bench_record(tmp: str) -> str:
  rates = {}
  root = None
  for actors in (1, 2, 4, 8):
    roots = []

    def once(actors=actors, roots=roots):
      roots.append(tempfile.mkdtemp(dir=tmp))
      return _record(roots[-1], actors, _STEPS.value)

    rates[actors] = _median_of(_REPS.value, once)
    root = roots[-1]
  _print_scaling('record: actors', 'steps/s', rates)
  return root  # The last 8-actor root, read by the Beam and Ray parts.


def bench_beam(root: str, tmp: str) -> None:
  from envlogger.beam import pipelines  # pylint: disable=g-import-not-at-top

  steps = _num_steps(root)
  for name in ('stats', 'convert'):
    rates = {}
    for workers in (1, 2):
      options = [
        '--runner=DirectRunner',
        '--direct_running_mode=multi_processing',
        f'--direct_num_workers={workers}',
      ]

      def once(name=name, options=options):
        start = time.perf_counter()
        if name == 'stats':
          pipelines.compute_stats(root, options=pipelines.make_options(options))
        else:
          pipelines.convert_to_riegeli(
            root, tempfile.mkdtemp(dir=tmp), options=pipelines.make_options(options)
          )
        return steps / (time.perf_counter() - start)

      rates[workers] = _median_of(_REPS.value, once)
    _print_scaling(f'beam {name}: workers', 'steps/s', rates)


def bench_ray(root: str) -> None:
  import ray  # pylint: disable=g-import-not-at-top
  import envlogger.ray as envlogger_ray  # pylint: disable=g-import-not-at-top

  steps = _num_steps(root)
  rates = {}
  for cpus in (1, 2):
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:

      def once():
        start = time.perf_counter()
        ds = envlogger_ray.read_envlogger(root, max_episodes_per_task=64)
        count = sum(len(batch['step']) for batch in ds.iter_batches(batch_size=None))
        assert count == steps, (count, steps)
        return steps / (time.perf_counter() - start)

      rates[cpus] = _median_of(_REPS.value, once)
    finally:
      ray.shutdown()
  _print_scaling('ray read: cpus', 'steps/s', rates)


def bench_root(tmp: str) -> None:
  root = os.path.join(tmp, 'root')
  os.makedirs(root)
  template = os.path.join(tmp, 'template')
  with envlogger.EnvLogger(catch_env.Catch(), data_directory=template) as env:
    timestep = env.reset()
    while not timestep.last():
      timestep = env.step(1)
  for i in range(_WRITERS.value):
    shutil.copytree(template, os.path.join(root, f'writer{i:05d}'))
  opens: List[float] = []
  refreshes: List[float] = []
  for _ in range(max(_REPS.value, 3)):
    start = time.perf_counter()
    reader = envlogger.Reader(root)
    opens.append(time.perf_counter() - start)
    assert len(reader.episodes) == _WRITERS.value
    for _ in range(20):
      start = time.perf_counter()
      assert len(reader.refresh()) == 0
      refreshes.append(time.perf_counter() - start)
    reader.close()
  refreshes.sort()
  print(
    f'root of {_WRITERS.value} writers: open median {statistics.median(opens) * 1e3:.0f} ms '
    f'(max {max(opens) * 1e3:.0f} ms); refresh() with nothing new median '
    f'{statistics.median(refreshes) * 1e3:.1f} ms, p90 '
    f'{refreshes[int(0.9 * len(refreshes))] * 1e3:.1f} ms',
    flush=True,
  )


def main(argv):
  del argv
  # Beam's workers log every bundle at INFO.
  logging.set_verbosity(logging.WARNING)
  std_logging.getLogger().setLevel(std_logging.WARNING)
  print(
    f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {os.cpu_count()} CPUs, '
    f'load average {os.getloadavg()[0]:.1f}',
    flush=True,
  )
  with tempfile.TemporaryDirectory() as tmp:
    root = None
    if 'record' not in _SKIP.value:
      root = bench_record(tmp)
    elif {'beam', 'ray'} - set(_SKIP.value):
      root = tempfile.mkdtemp(dir=tmp)
      _record(root, 8, _STEPS.value)
    if 'beam' not in _SKIP.value:
      bench_beam(root, tmp)
    if 'ray' not in _SKIP.value:
      bench_ray(root)
    if 'root' not in _SKIP.value:
      bench_root(tmp)


if __name__ == '__main__':
  app.run(main)
