"""Writes the expected records of upstream's transposed Riegeli fixtures.

For every Riegeli file under envlogger/testdata/upstream-1.3 whose records
all live in transposed ('t') chunks, this writes the records that upstream's
own reader returned (from the `*.records.pkl` / `riegeli_raw/records.pkl`
fixtures) to envlogger/testdata/transposed_expected/<same path>.records, in a
format a C++ test reads without Python:

    u64 count, then per record: u64 length, the record bytes   (little-endian)

`MANIFEST` lists one line per Riegeli file: its path relative to
envlogger/testdata, its expected-records file (same base) and the Riegeli
writer options it was written with (from riegeli_raw/index.json and
D.expected.json; metadata.riegeli always uses "transpose,brotli"), separated
by spaces.

The Riegeli files themselves are only walked (chunk headers, not hashes or
contents) to pick the files and to check that the pickle lists exactly one
record per position the chunks declare. `images` is skipped (6 MB of
records). Run from the repository root:

    python envlogger/riegeli/testdata_tools/extract_transposed_expected.py
"""

import json
import os
import pickle
import struct
import sys
from typing import Iterator, List, Tuple

BLOCK = 1 << 16
BLOCK_HEADER = 24
USABLE = BLOCK - BLOCK_HEADER
CHUNK_HEADER = 40
SOURCE = os.path.join('envlogger', 'testdata', 'upstream-1.3')
DEST = os.path.join('envlogger', 'testdata', 'transposed_expected')
SKIPPED_DATASETS = ('images',)
METADATA_OPTIONS = 'transpose,brotli'


def _read_logical(data: bytes, pos: int, length: int) -> bytes:
  """Reads `length` bytes at physical `pos`, skipping block headers."""
  out = bytearray()
  while len(out) < length:
    if pos % BLOCK < BLOCK_HEADER:
      pos += BLOCK_HEADER - pos % BLOCK
    take = min(length - len(out), BLOCK - pos % BLOCK)
    out += data[pos : pos + take]
    pos += take
  return bytes(out)


def _add_with_overhead(begin: int, length: int) -> int:
  overheads = (length + (begin + USABLE - 1) % BLOCK) // USABLE
  return begin + length + overheads * BLOCK_HEADER


def _round_up_to_boundary(pos: int) -> int:
  remaining = (-pos) % BLOCK
  return pos + (remaining - (USABLE - 1) if remaining >= USABLE else 0)


def chunks(data: bytes) -> Iterator[Tuple[int, int, int]]:
  """Yields (chunk_begin, chunk_type, num_records) of every chunk."""
  begin = 0
  while begin < len(data):
    header = _read_logical(data, begin, CHUNK_HEADER)
    data_size = struct.unpack_from('<Q', header, 8)[0]
    word = struct.unpack_from('<Q', header, 24)[0]
    chunk_type, num_records = word & 0xFF, word >> 8
    yield begin, chunk_type, num_records
    begin = max(
      _add_with_overhead(begin, CHUNK_HEADER + data_size),
      _round_up_to_boundary(begin + num_records),
    )


def expected_records(riegeli_path: str, records: List[Tuple[int, bytes]]) -> List[bytes]:
  """Checks `records` against the chunks; returns them or [] if not all 't'."""
  with open(riegeli_path, 'rb') as f:
    data = f.read()
  positions = []
  for begin, chunk_type, num_records in chunks(data):
    if num_records == 0:
      continue
    if chunk_type != ord('t'):
      return []
    positions.extend(range(begin, begin + num_records))
  listed = [position for position, _ in records]
  if listed != positions:
    raise ValueError(f'{riegeli_path}: pickle positions do not match chunks')
  return [record for _, record in records]


def write_expected(path: str, records: List[bytes]) -> None:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(records)))
    for record in records:
      f.write(struct.pack('<Q', len(record)))
      f.write(record)


def main() -> int:
  jobs = []  # (riegeli path, records, output path, writer options)
  with open(os.path.join(SOURCE, 'riegeli_raw', 'records.pkl'), 'rb') as f:
    raw = pickle.load(f)
  with open(os.path.join(SOURCE, 'riegeli_raw', 'index.json')) as f:
    raw_index = json.load(f)
  for name, records in sorted(raw.items()):
    jobs.append(
      (
        os.path.join(SOURCE, 'riegeli_raw', name),
        records,
        os.path.join(DEST, 'riegeli_raw', name + '.records'),
        raw_index['files'][name]['writer_options'],
      )
    )
  for dataset in sorted(os.listdir(SOURCE)):
    records_dir = os.path.join(SOURCE, dataset + '.records')
    if dataset in SKIPPED_DATASETS or not os.path.isdir(records_dir):
      continue
    with open(os.path.join(SOURCE, dataset + '.expected.json')) as f:
      # E.g. "transpose,brotli:6,chunk_size:1M (default, not passed)".
      options = json.load(f)['writer_options'].split(' ')[0]
    for root, _, files in os.walk(records_dir):
      for file_name in sorted(files):
        if not file_name.endswith('.records.pkl'):
          continue
        relative = os.path.relpath(os.path.join(root, file_name), records_dir)
        relative = relative[: -len('.records.pkl')] + '.riegeli'
        with open(os.path.join(root, file_name), 'rb') as f:
          records = pickle.load(f)
        file_options = METADATA_OPTIONS if relative == 'metadata.riegeli' else options
        jobs.append(
          (
            os.path.join(SOURCE, dataset, relative),
            records,
            os.path.join(DEST, dataset, relative + '.records'),
            file_options,
          )
        )
  testdata = os.path.dirname(SOURCE)
  manifest = []
  for riegeli_path, records, out_path, options in jobs:
    expected = expected_records(riegeli_path, records)
    if not expected:
      continue
    write_expected(out_path, expected)
    manifest.append(
      f'{os.path.relpath(riegeli_path, testdata)} {os.path.relpath(out_path, testdata)} {options}\n'
    )
    print(f'{riegeli_path}: {len(expected)} records')
  with open(os.path.join(DEST, 'MANIFEST'), 'w') as f:
    f.writelines(manifest)
  return 0


if __name__ == '__main__':
  sys.exit(main())
