"""Write/read throughput of envlogger.riegeli next to the raw compressors.

For each codec (none, brotli:6, zstd:3, snappy), simple and transposed
chunks, it writes and reads a file of realistic records and reports MB/s of
record bytes (median and the slowest run). Next to it, the same records are
compressed and decompressed in 1 MiB pieces (the default chunk size) by the
codec's own Python binding (`brotli`, `zstandard`, `cramjam`), which is the
floor for simple chunks: the overhead column is how much slower the whole
format layer (framing, hashing, chunking, the binding) is than that floor.
Transposed chunks do more work by design (they split protos into columns),
so their overhead is reported against the same floor for information.

Data sets: serialized Catch-like steps (envlogger.Data of a 10x5 float32
board, an int action, reward, discount, custom data) and "random-ish" 1 KiB
records (bytes from a skewed distribution, compressible about 2x).

The Python figures include the per-record cost of the binding. The format
layer alone is measured by the C++ benchmark envlogger/riegeli/
records_benchmark.cc (raw codec vs RecordWriter/RecordReader in one process);
if it is built (build/*/records_benchmark), this script runs it first and
prints its table.

  PYTHONPATH=. python benchmarks/riegeli_benchmark.py [--mb 16] [--repeats 5]
"""

import argparse
import glob
import os
import subprocess
import statistics
import tempfile
import time
from typing import Callable, List, Tuple

import brotli
import cramjam
import numpy as np
import zstandard

from envlogger import riegeli
from envlogger.converters import codec

CHUNK = 1 << 20


def catch_steps(total_bytes: int) -> List[bytes]:
  rng = np.random.default_rng(0)
  records = []
  size = 0
  step = 0
  while size < total_bytes:
    board = np.zeros((10, 5), np.float32)
    board[rng.integers(0, 10), rng.integers(0, 5)] = 1.0
    board[9, rng.integers(0, 5)] = 1.0
    value = (
      (0, float(rng.integers(-1, 2)), 1.0, board),
      int(rng.integers(0, 3)),
      {'timestamp': 1732791234.0 + step * 0.01, 'step': step},
    )
    record = codec.encode(value).SerializeToString()
    records.append(record)
    size += len(record)
    step += 1
  return records


def random_ish(total_bytes: int) -> List[bytes]:
  rng = np.random.default_rng(1)
  alphabet = np.arange(256, dtype=np.uint8)
  weights = 1.0 / (1.0 + alphabet.astype(np.float64))
  weights /= weights.sum()
  data = rng.choice(alphabet, size=total_bytes, p=weights).astype(np.uint8).tobytes()
  return [data[i : i + 1024] for i in range(0, len(data), 1024)]


def _time(fn: Callable[[], object], repeats: int) -> List[float]:
  fn()  # Warm up.
  samples = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    samples.append(time.perf_counter() - start)
  return samples


def _mbps(total: int, samples: List[float]) -> Tuple[float, float]:
  """(median, slowest) throughput in MB/s."""
  return total / statistics.median(samples) / 1e6, total / max(samples) / 1e6


def _raw_codec(name: str):
  """(compress, decompress) of one 1 MiB piece with the codec's library."""
  if name == 'brotli:6':
    return (lambda b: brotli.compress(b, quality=6, lgwin=22), brotli.decompress)
  if name == 'zstd:3':
    compressor = zstandard.ZstdCompressor(level=3)
    decompressor = zstandard.ZstdDecompressor()
    return compressor.compress, decompressor.decompress
  if name == 'snappy':
    return (
      lambda b: bytes(cramjam.snappy.compress_raw(b)),
      lambda b: bytes(cramjam.snappy.decompress_raw(b)),
    )
  return None


def bench(records: List[bytes], label: str, repeats: int, directory: str) -> None:
  total = sum(len(r) for r in records)
  joined = b''.join(records)
  pieces = [joined[i : i + CHUNK] for i in range(0, len(joined), CHUNK)]
  print(f'\n== {label}: {len(records)} records, {total / 1e6:.1f} MB ==')
  print(
    f'{"options":28} {"write MB/s":>18} {"read MB/s":>18} {"file MB":>8}'
    f' {"raw comp":>9} {"raw dec":>8} {"w ovh":>6} {"r ovh":>6}'
  )
  path = os.path.join(directory, 'bench.riegeli')
  for codec_name in ('uncompressed', 'brotli:6', 'zstd:3', 'snappy'):
    raw = _raw_codec(codec_name)
    raw_comp = raw_dec = None
    if raw is not None:
      compress, decompress = raw
      compressed = [compress(p) for p in pieces]
      raw_comp = statistics.median(_time(lambda: [compress(p) for p in pieces], repeats))
      raw_dec = statistics.median(_time(lambda: [decompress(c) for c in compressed], repeats))
    for transpose in (False, True):
      options = ('transpose,' if transpose else '') + codec_name

      def write():
        with riegeli.RecordWriter(path, options=options) as writer:
          writer.write_records(records)

      def read():
        with riegeli.RecordReader(path) as reader:
          for _ in reader.read_records():
            pass

      write_samples = _time(write, repeats)
      read_samples = _time(read, repeats)
      w_med, w_min = _mbps(total, write_samples)
      r_med, r_min = _mbps(total, read_samples)
      line = (
        f'{options:28} {w_med:8.1f} (min {w_min:5.1f}) {r_med:8.1f} (min {r_min:5.1f})'
        f' {os.path.getsize(path) / 1e6:8.2f}'
      )
      if raw_comp is not None:
        w_ovh = statistics.median(write_samples) / raw_comp - 1
        r_ovh = statistics.median(read_samples) / raw_dec - 1
        line += (
          f' {total / raw_comp / 1e6:9.1f} {total / raw_dec / 1e6:8.1f} {w_ovh:+6.0%} {r_ovh:+6.0%}'
        )
      print(line)


def bench_hash(repeats: int) -> None:
  data = np.random.default_rng(2).integers(0, 256, 16 << 20, np.uint8).tobytes()
  samples = _time(lambda: riegeli.highway_hash(data), repeats)
  median, slowest = _mbps(len(data), samples)
  print(f'\nHighwayHash-64 (Riegeli key), 16 MiB: {median:.0f} MB/s median, {slowest:.0f} slowest')


def run_cc_benchmark(mb: int, repeats: int) -> None:
  """Runs the C++ format-layer benchmark if a build of it exists."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  binaries = sorted(
    glob.glob(os.path.join(root, 'build', '*', 'records_benchmark')), key=os.path.getmtime
  )
  if not binaries:
    print(
      '(C++ records_benchmark not built; build it with cmake to see the format '
      'layer without Python overhead)'
    )
    return
  print(f'== C++ format layer ({binaries[-1]}) ==', flush=True)
  subprocess.run([binaries[-1], str(mb), str(repeats)], cwd=root, check=True)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--mb', type=int, default=16, help='record bytes per data set')
  parser.add_argument('--repeats', type=int, default=5)
  args = parser.parse_args()
  run_cc_benchmark(args.mb, args.repeats)
  with tempfile.TemporaryDirectory() as directory:
    bench(catch_steps(args.mb << 20), 'Catch steps (envlogger.Data)', args.repeats, directory)
    bench(random_ish(args.mb << 20), 'random-ish 1 KiB records', args.repeats, directory)
  bench_hash(args.repeats)


if __name__ == '__main__':
  main()
