"""Size cost of the writer's bounded-loss timer, on Catch with default options.

  PYTHONPATH=. python benchmarks/flush_interval_benchmark.py [--seconds=4]

Logs Catch steps (encoded by the native codec, as RiegeliBackendWriter does)
through the async dataset writer with default writer options, at several
step rates (a sleep per step simulates a slower environment), once with the
default flush interval and once with the timer disabled (flush only at
close, upstream's behaviour within its 10-minute scheduler), and prints the
bytes per step of the shard files (all four) and the number of steps chunks.
"""

import os
import tempfile
import time

from absl import app
from absl import flags

from envlogger import _native
from envlogger.backends import riegeli_backend_writer
from envlogger.testing import catch_env
from envlogger.tools import shard_scan

_SECONDS = flags.DEFINE_float('seconds', 4.0, 'Logging time per configuration.')


def _log(data_dir: str, step_seconds: float, flush_interval: float, seconds: float) -> int:
  writer = _native.dataset_io.AsyncRiegeliDatasetWriter(
    data_dir, b'', 0, riegeli_backend_writer.DEFAULT_WRITER_OPTIONS, 64 << 20, flush_interval
  )
  env = catch_env.Catch(seed=1)
  encode = _native.codec.encode_step
  steps, end = 0, time.monotonic() + seconds
  while time.monotonic() < end:
    timestep = env.reset()
    writer.add_step(encode(tuple(timestep), None, None), True)
    steps += 1
    while not timestep.last():
      if step_seconds:
        time.sleep(step_seconds)
      timestep = env.step(steps % 3)
      writer.add_step(encode(tuple(timestep), steps % 3, None), False)
      steps += 1
  writer.close()
  return steps


def main(argv):
  del argv
  print(f'{"rate":>22s} {"interval":>9s} {"steps":>8s} {"bytes/step":>11s} {"chunks":>7s}')
  for label, step_seconds in (
    ('unthrottled', 0.0),
    ('~1000 steps/s', 0.001),
    ('~100 steps/s', 0.01),
  ):
    for interval in (0.5, 0.0):
      with tempfile.TemporaryDirectory() as data_dir:
        steps = _log(data_dir, step_seconds, interval, _SECONDS.value)
        (shard,) = shard_scan.shard_dirs(data_dir)
        size = sum(os.path.getsize(os.path.join(shard, f)) for f in shard_scan.SHARD_FILES)
        positions = shard_scan.scan_file(os.path.join(shard, shard_scan.STEPS)).positions
        chunks = sum(1 for i, p in enumerate(positions) if i == 0 or p != positions[i - 1] + 1)
      name = f'{interval:.1f} s' if interval else 'off'
      print(f'{label:>22s} {name:>9s} {steps:8d} {size / steps:11.1f} {chunks:7d}', flush=True)


if __name__ == '__main__':
  app.run(main)
