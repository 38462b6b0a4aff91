"""Caller-side cost of recording a step: synchronous vs background writer.

Writes N serialized Catch-like steps (a 10x5 float32 board plus scalars,
encoded by the native codec) through RiegeliDatasetWriter (compression and
I/O on the caller's thread) and AsyncRiegeliDatasetWriter (queued), and
prints the per-step time the caller spends in add_step (median and p99), the
total time including close(), and the queue's peak size.

  python benchmarks/dataset_writer_benchmark.py [--steps 20000]
"""

import argparse
import statistics
import tempfile
import time

import numpy as np

from envlogger.backends.python import riegeli_dataset_writer
from envlogger.converters import native_codec


def _steps(n: int) -> list[bytes]:
  rng = np.random.default_rng(0)
  steps = []
  for i in range(n):
    board = np.zeros((10, 5), np.float32)
    board[rng.integers(10), rng.integers(5)] = 1.0
    board[9, rng.integers(5)] = 1.0
    steps.append(
      native_codec.encode(((int(i % 10 != 0) + int(i % 10 == 9), 0.0, 1.0, board), 1, None))
    )
  return steps


def _run(writer, steps: list[bytes], episode_length: int = 10) -> tuple[list[float], float]:
  per_step = []
  start = time.perf_counter()
  for i, step in enumerate(steps):
    t = time.perf_counter()
    writer.add_step(step, is_new_episode=i % episode_length == 0)
    per_step.append(time.perf_counter() - t)
  writer.close()
  return per_step, time.perf_counter() - start


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument('--steps', type=int, default=20000)
  parser.add_argument('--writer_options', default=riegeli_dataset_writer.DEFAULT_WRITER_OPTIONS)
  args = parser.parse_args()
  steps = _steps(args.steps)
  print(f'{args.steps} steps of {len(steps[0])} bytes, options {args.writer_options!r}')
  for name, cls in (
    ('sync ', riegeli_dataset_writer.RiegeliDatasetWriter),
    ('async', riegeli_dataset_writer.AsyncRiegeliDatasetWriter),
  ):
    with tempfile.TemporaryDirectory() as data_dir:
      writer = cls()
      writer.init(data_dir, writer_options=args.writer_options)
      per_step, total = _run(writer, steps)
      per_step.sort()
      print(
        f'{name}: add_step median {statistics.median(per_step) * 1e6:.2f} us, '
        f'p99 {per_step[int(len(per_step) * 0.99)] * 1e6:.2f} us, '
        f'max {per_step[-1] * 1e6:.0f} us; total with close {total:.3f} s'
      )


if __name__ == '__main__':
  main()
