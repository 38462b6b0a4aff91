"""Single-byte flips and truncations of dataset files cost at most one chunk.

For upstream's `flushed_often` fixture (23 steps chunks, every index file
with several chunks), a sample of byte positions in every file is flipped
and every file is cut at a sample of sizes; after `envlogger recover` the
dataset must read with only the steps of the hit chunk missing (none when
the byte is in an index file, a signature or padding), in order, with no
episode merged (envlogger/testing/damage_harness.py).
benchmarks/damage_benchmark.py flips every byte.
"""

import os
import random

from absl.testing import absltest

from envlogger.testing import damage_harness

_FIXTURE = os.path.join(
  os.path.dirname(os.path.dirname(__file__)), 'testdata', 'upstream-1.3', 'flushed_often'
)


class DamageTest(absltest.TestCase):
  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.clean = damage_harness.load_clean(_FIXTURE)

  def test_single_byte_flips(self):
    rng = random.Random(7)
    checked = 0
    for rel in self.clean.files:
      size = os.path.getsize(os.path.join(_FIXTURE, rel))
      # The signature, the first chunk header, and random bytes elsewhere.
      offsets = sorted(
        set(range(0, min(size, 104), 3)) | set(rng.sample(range(size), min(size, 25)))
      )
      for offset in offsets:
        result = damage_harness.flip_and_check(self.clean, rel, offset)
        self.assertEqual(result.errors, [], f'{rel} byte {offset}: {result}')
        self.assertLessEqual(result.lost_steps, result.allowed_lost)
        checked += 1
    self.assertGreater(checked, 200)

  def test_truncations(self):
    rng = random.Random(8)
    for rel in self.clean.files:
      size = os.path.getsize(os.path.join(_FIXTURE, rel))
      for cut in sorted({0, 1, 63, 64, 65, size - 1} | set(rng.sample(range(size), 6))):
        result = damage_harness.truncate_and_check(self.clean, rel, cut)
        self.assertEqual(result.errors, [], f'{rel} cut at {cut}: {result}')


if __name__ == '__main__':
  absltest.main()
