"""Per-step encode/decode time of the native codec vs the Python codec.

Two step shapes: a Catch step (10x5 float32 board, Python-int action, float
reward/discount, custom data {'timestamp': float, 'step': int}) and an image
step (84x84x3 uint8 frame). Prints median / p95 / p99 in microseconds.

  PYTHONPATH=. python benchmarks/codec_benchmark.py [--repeats N]   # from the repo root
"""

import argparse
import time
from typing import Callable, List

import dm_env
import numpy as np

from envlogger.converters import codec
from envlogger.converters import native_codec
from envlogger.proto import storage_pb2
from envlogger.step_data import StepData


def _catch_step() -> StepData:
  board = np.zeros((10, 5), np.float32)
  board[0, 2] = 1.0
  board[9, 1] = 1.0
  timestep = dm_env.transition(reward=0.0, observation=board, discount=1.0)
  return StepData(timestep, 1, {'timestamp': 1732791234.123456, 'step': 42})


def _image_step() -> StepData:
  frame = np.random.default_rng(0).integers(0, 256, (84, 84, 3), np.uint8)
  timestep = dm_env.transition(reward=1.0, observation=frame, discount=0.99)
  return StepData(timestep, np.int64(3), None)


def _timings(fn: Callable[[], object], repeats: int, batch: int) -> List[float]:
  """Microseconds per call, measured over `repeats` batches of `batch` calls."""
  for _ in range(batch):  # Warm up.
    fn()
  samples = []
  for _ in range(repeats):
    start = time.perf_counter_ns()
    for _ in range(batch):
      fn()
    samples.append((time.perf_counter_ns() - start) / batch / 1000.0)
  return samples


def _report(name: str, samples: List[float]) -> None:
  p50, p95, p99 = np.percentile(samples, [50, 95, 99])
  print(f'{name:38s} median {p50:9.2f} us   p95 {p95:9.2f} us   p99 {p99:9.2f} us')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--repeats', type=int, default=300)
  args = parser.parse_args()
  for label, step, batch in (('catch', _catch_step(), 200), ('84x84x3 uint8', _image_step(), 20)):
    wire = native_codec.encode(step)
    assert wire == codec.encode(step).SerializeToString(deterministic=True)
    print(f'-- {label} step ({len(wire)} bytes)')
    _report('native encode', _timings(lambda: native_codec.encode(step), args.repeats, batch))
    _report(
      'native encode_step', _timings(lambda: native_codec.encode_step(*step), args.repeats, batch)
    )
    _report(
      'python encode+serialize',
      _timings(
        lambda: codec.encode(step).SerializeToString(deterministic=True),
        args.repeats,
        max(1, batch // 10),
      ),
    )
    _report('native decode', _timings(lambda: native_codec.decode(wire), args.repeats, batch))
    _report(
      'python parse+decode',
      _timings(
        lambda: codec.decode(storage_pb2.Data.FromString(wire)), args.repeats, max(1, batch // 10)
      ),
    )


if __name__ == '__main__':
  main()
