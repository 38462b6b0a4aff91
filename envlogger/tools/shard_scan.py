"""Reads what the files of a Riegeli dataset really hold, tolerating damage.

The building block of `envlogger verify` and `envlogger recover`: every
function here reads with Riegeli recovery, so a corrupted chunk costs only its
own records and is reported as a `SkippedRegion` (file, byte range, message) instead of
ending the scan. Nothing here writes.

Where episodes start among the records found here is not decided here: that
rule is the C++ reader's (backends/cc/shard_index_recovery.h), which
`envlogger recover` calls through envlogger._native.shard_recovery.
"""

import dataclasses
import os
from typing import Callable, Optional

from envlogger import _native
from envlogger import riegeli
from envlogger.converters import native_codec
from envlogger.proto import storage_pb2

# The dataset's file names, as the C++ reader and writers define them
# (riegeli_dataset_io_constants.h).
STEPS: str = _native.dataset_io.STEPS_FILENAME
STEP_OFFSETS: str = _native.dataset_io.STEP_OFFSETS_FILENAME
EPISODE_METADATA: str = _native.dataset_io.EPISODE_METADATA_FILENAME
EPISODE_INDEX: str = _native.dataset_io.EPISODE_INDEX_FILENAME
METADATA: str = _native.dataset_io.METADATA_FILENAME
SHARD_FILES = (STEPS, STEP_OFFSETS, EPISODE_METADATA, EPISODE_INDEX)


@dataclasses.dataclass(frozen=True)
class SkippedRegion:
  """Bytes [begin, end) of `path` whose records could not be read.

  The fields of backend_reader.SkippedRegion and riegeli.SkippedRegion, which
  report the same thing while reading.
  """

  path: str
  begin: int
  end: int
  message: str

  def __str__(self) -> str:
    return f'{self.path}: bytes [{self.begin}, {self.end}) unreadable: {self.message}'


@dataclasses.dataclass
class FileScan:
  """The readable records of one Riegeli file, in file order.

  Attributes:
    path: the file.
    exists: False if the file is missing (then everything else is empty).
    positions: numeric record position of every readable record.
    values: `convert(record)` for every readable record (same order).
    damage: unreadable regions, including an incomplete chunk at the end.
    gaps_before: indices i into `positions` such that damage lies between
      record i - 1 and record i (0: damage before the first record).
    error: why the file could not be opened at all, if it could not.
    torn_tail: where an incomplete last chunk begins (its writer stopped
      while writing it), or None.
  """

  path: str
  exists: bool = True
  positions: list = dataclasses.field(default_factory=list)
  values: list = dataclasses.field(default_factory=list)
  damage: list = dataclasses.field(default_factory=list)
  gaps_before: set = dataclasses.field(default_factory=set)
  error: Optional[str] = None
  torn_tail: Optional[int] = None


def scan_file(
  path: str,
  convert: Callable[[bytes], object] = lambda r: None,
  sink: Optional[Callable[[int, bytes], None]] = None,
) -> FileScan:
  """Reads every readable record of the Riegeli file `path`, in file order.

  Corrupted regions are skipped and listed in `damage`; after a corrupted
  chunk header, the reader resumes at the next intact chunk header, not at
  the next block boundary. A file that ends
  inside a chunk (its writer died mid-write) lists that tail as damage too.
  A missing file gives `exists=False`; an unreadable one sets `error`.
  `sink(position, record)` is called with every record read.
  """
  scan = FileScan(path=path)
  if not os.path.exists(path):
    scan.exists = False
    return scan

  def on_skip(region: riegeli.SkippedRegion) -> None:
    scan.damage.append(SkippedRegion(path, region.begin, region.end, region.message))
    scan.gaps_before.add(len(scan.positions))

  try:
    reader = riegeli.RecordReader(path, recovery=on_skip)
  except (riegeli.RiegeliError, OSError) as e:
    scan.error = f'{type(e).__name__}: {e}'
    return scan
  try:
    while True:
      record = reader.read_record()
      if record is None:
        break
      position = reader.last_pos.numeric
      scan.positions.append(position)
      scan.values.append(convert(record))
      if sink is not None:
        sink(position, record)
    end, size = reader.pos.chunk_begin, reader.size()
  except riegeli.RiegeliError as e:
    scan.error = f'{type(e).__name__}: {e}'
    end = size = None
  finally:
    reader.close()  # With recovery, reports a torn tail to on_skip.
  if end is not None and end < size:
    scan.torn_tail = end
    if not any(d.begin <= end and d.end >= size for d in scan.damage):
      scan.damage.append(SkippedRegion(path, end, size, 'incomplete chunk at the end of the file'))
      scan.gaps_before.add(len(scan.positions))
  return scan


def int64_array_of(record: bytes) -> Optional[tuple[tuple[int, ...], list[int]]]:
  """(shape, values) of an envlogger.Datum holding int64s, else None.

  This is the record type of step_offsets.riegeli ([n] step positions) and
  episode_index.riegeli ([k, 2] rows of (first step, metadata position)).
  """
  try:
    datum = storage_pb2.Datum.FromString(record)
  except Exception:  # pylint: disable=broad-except  (DecodeError and friends)
    return None
  shape = tuple(dim.size for dim in datum.shape.dim)
  values = list(datum.values.int64_values)
  expected = 1
  for size in shape:
    expected *= size
  if not shape or any(size < 0 for size in shape) or expected != len(values):
    return None
  return shape, values


def is_data_record(record: bytes) -> bool:
  """True if `record` decodes as an envlogger.Data value."""
  try:
    native_codec.decode(record)
  except (ValueError, TypeError):
    return False
  return True


def shard_dirs(data_dir: str) -> list[str]:
  """Direct subdirectories of `data_dir` that hold any shard file, sorted.

  Wider than upstream's discovery (which needs step_offsets.riegeli), so that
  a shard whose index was never written is found too.
  """
  shards = []
  for name in sorted(os.listdir(data_dir)):
    path = os.path.join(data_dir, name)
    if os.path.isdir(path) and any(os.path.exists(os.path.join(path, f)) for f in SHARD_FILES):
      shards.append(path)
  return shards
