"""Tests of shard_scan.scan_file: what it reads from damaged Riegeli files.

The expected records come from reading the intact fixture with
riegeli.RecordReader; the damaged copy must give the same records minus
those of the damaged chunk, with the damage reported where it lies.
"""

import glob
import os
import shutil
import tempfile

from absl.testing import absltest

from envlogger import riegeli
from envlogger.testing import damage_harness
from envlogger.tools import shard_scan

_FIXTURE = os.path.join(
  os.path.dirname(os.path.dirname(__file__)), 'testdata', 'upstream-1.3', 'flushed_often'
)
_BLOCK = 1 << 16
_CHUNK_HEADER = 40


def _records(path: str) -> list[tuple[int, bytes]]:
  """(numeric position, record) of every record of an intact file."""
  reader = riegeli.RecordReader(path)
  records = []
  while (record := reader.read_record()) is not None:
    records.append((reader.last_pos.numeric, record))
  reader.close()
  return records


class ScanFileTest(absltest.TestCase):
  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    (source,) = glob.glob(os.path.join(_FIXTURE, '*', shard_scan.STEPS))
    self.path = os.path.join(tmp.name, shard_scan.STEPS)
    shutil.copyfile(source, self.path)
    self.records = _records(self.path)
    # A chunk's first record has the chunk's begin as numeric position.
    positions = [p for p, _ in self.records]
    self.chunk_begins = [p for i, p in enumerate(positions) if i == 0 or p != positions[i - 1] + 1]
    self.assertGreater(len(self.chunk_begins), 10)

  def chunk_records(self, k: int) -> list[tuple[int, bytes]]:
    end = self.chunk_begins[k + 1] if k + 1 < len(self.chunk_begins) else float('inf')
    return [(p, r) for p, r in self.records if self.chunk_begins[k] <= p < end]

  def test_intact_file_reads_every_record(self):
    scan = shard_scan.scan_file(self.path, convert=len)
    self.assertEqual(scan.positions, [p for p, _ in self.records])
    self.assertEqual(scan.values, [len(r) for _, r in self.records])
    self.assertEqual(scan.damage, [])
    self.assertIsNone(scan.torn_tail)

  def test_corrupted_chunk_header_loses_only_that_chunk(self):
    # A chunk whose 40-byte header lies inside one block, so that the flipped
    # byte is the header's and the chunk after it starts in the same block.
    k = next(
      k
      for k in range(3, len(self.chunk_begins) - 1)
      if self.chunk_begins[k] % _BLOCK + _CHUNK_HEADER < _BLOCK
      and self.chunk_begins[k] // _BLOCK == self.chunk_begins[k + 1] // _BLOCK
    )
    damage_harness.flip_byte(self.path, self.chunk_begins[k] + 30)
    sunk = []
    scan = shard_scan.scan_file(self.path, sink=lambda p, r: sunk.append((p, r)))

    lost = self.chunk_records(k)
    kept = [record for record in self.records if record not in lost]
    self.assertEqual(sunk, kept)
    self.assertEqual(scan.positions, [p for p, _ in kept])
    self.assertLen(scan.damage, 1)
    self.assertEqual(
      (scan.damage[0].begin, scan.damage[0].end), (self.chunk_begins[k], self.chunk_begins[k + 1])
    )
    self.assertEqual(scan.gaps_before, {kept.index(self.chunk_records(k + 1)[0])})
    self.assertIsNone(scan.torn_tail)

  def test_truncated_last_chunk_is_a_torn_tail(self):
    last = self.chunk_begins[-1]
    with open(self.path, 'r+b') as f:
      f.truncate(last + _CHUNK_HEADER + 3)
    scan = shard_scan.scan_file(self.path)

    self.assertEqual(scan.positions, [p for p, _ in self.records if p < last])
    self.assertEqual(scan.torn_tail, last)
    self.assertEqual([(d.begin, d.end) for d in scan.damage], [(last, last + _CHUNK_HEADER + 3)])
    self.assertEqual(scan.gaps_before, {len(scan.positions)})

  def test_missing_file(self):
    scan = shard_scan.scan_file(self.path + '.missing')
    self.assertFalse(scan.exists)
    self.assertEqual((scan.positions, scan.damage), ([], []))


if __name__ == '__main__':
  absltest.main()
