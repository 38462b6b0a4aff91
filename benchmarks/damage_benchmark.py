"""Damage benchmark: flip every byte (or every Nth) of every file of a dataset.

  PYTHONPATH=. python benchmarks/damage_benchmark.py [--dataset=DIR] [--stride=1]

For each flipped byte a copy of the dataset is damaged, `envlogger recover`
runs on it and the Reader reads it back (envlogger/testing/
damage_harness.py). Prints per file: flips tried, flips that broke a rule
(lost steps outside the hit chunk, out-of-order or merged episodes, an
unopenable dataset), and the steps lost. Acceptance: zero broken rules. Then
the same for truncation at every chunk boundary +- 1 byte.
"""

import collections
import os
import time

from absl import app
from absl import flags

from envlogger.testing import damage_harness

_DATASET = flags.DEFINE_string(
  'dataset',
  os.path.join('envlogger', 'testdata', 'upstream-1.3', 'flushed_often'),
  'A clean dataset (not modified).',
)
_STRIDE = flags.DEFINE_integer('stride', 1, 'Flip every Nth byte.')


def main(argv):
  del argv
  clean = damage_harness.load_clean(_DATASET.value)
  start = time.time()
  flips, broken, lost = collections.Counter(), collections.Counter(), collections.Counter()
  examples = []
  for rel in clean.files:
    size = os.path.getsize(os.path.join(clean.path, rel))
    for offset in range(0, size, _STRIDE.value):
      result = damage_harness.flip_and_check(clean, rel, offset)
      flips[rel] += 1
      lost[rel] += result.lost_steps
      if result.errors:
        broken[rel] += 1
        examples.append((rel, offset, result.errors[0]))
  print(
    f'{clean.path}: {len(clean.steps)} steps; {sum(flips.values())} flips in '
    f'{time.time() - start:.0f} s'
  )
  for rel in clean.files:
    print(f'  {rel:55s} flips {flips[rel]:6d}  broken {broken[rel]:4d}  steps lost {lost[rel]}')
  for rel, offset, error in examples[:10]:
    print(f'  example: {rel} byte {offset}: {error}')
  cuts = 0
  cut_broken = []
  for rel in clean.files:
    size = os.path.getsize(os.path.join(clean.path, rel))
    points = {0, size - 1}
    for begin, end, _ in clean.step_chunks.get(rel, []):
      points |= {begin - 1, begin, begin + 1, end - 1}
    for cut in sorted(p for p in points if 0 <= p < size):
      result = damage_harness.truncate_and_check(clean, rel, cut)
      cuts += 1
      if result.errors:
        cut_broken.append((rel, cut, result.errors[0]))
  print(f'truncations: {cuts}, broken {len(cut_broken)}')
  for rel, cut, error in cut_broken[:10]:
    print(f'  example: {rel} cut at {cut}: {error}')
  print('total broken:', sum(broken.values()) + len(cut_broken))


if __name__ == '__main__':
  app.run(main)
