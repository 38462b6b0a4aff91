"""Writes the seed corpora of the fuzz targets (envlogger/**/fuzz/corpus/<target>/).

Every seed is a valid input made by envlogger's own writers, or a damaged or
truncated copy of one, in the input format of its target (see each
*_fuzzer.cc / *_fuzzer.py):

  record_reader_fuzzer     Riegeli files of every writer option (simple and
                           transposed; uncompressed, brotli, zstd, snappy), one
                           crossing a block boundary, damaged and truncated copies
  dataset_reader_fuzzer    datasets recorded by EnvLogger (Catch) with every writer
                           option, one to three shards, damaged and truncated shards
  index_recovery_fuzzer    index lists + steps.riegeli of those datasets
  transpose_decoder_fuzzer the data of every transposed chunk written above
  chunk_decoder_fuzzer     the data of every simple and transposed chunk
  typed_decoder_fuzzer     envlogger.Data of every value kind and dtype, index
                           Datums and recorded steps
  codec_differential_fuzzer  the same Data seeds
  step_columns_fuzzer      runs of recorded steps: every dtype and shape, nested
                           dicts/tuples/lists, None, ragged and changing leaves,
                           Python ints and bigints, a step-type leaf
  writer_options_fuzzer    writer option strings

Seeds are named by content, so rerunning adds nothing that is already there;
files other targets' runs added (regression inputs) are kept.

Usage: .venv/bin/python scripts/make_fuzz_corpus.py
"""

import hashlib
import os
import pathlib
import struct
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# pylint: disable=g-import-not-at-top,wrong-import-position
import envlogger
from envlogger import riegeli
from envlogger.converters import native_codec
from envlogger.testing import catch_env
from envlogger.testing import dtypes

MARKER = b'\xffEL\n'
COMPRESSIONS = ('uncompressed', 'brotli', 'zstd', 'snappy')
LAYOUTS = ('', 'transpose,')
BLOCK_SIZE = 1 << 16
BLOCK_HEADER_SIZE = 24
CHUNK_HEADER_SIZE = 40

CORPORA = {
  'record_reader_fuzzer': 'envlogger/riegeli/fuzz/corpus',
  'transpose_decoder_fuzzer': 'envlogger/riegeli/fuzz/corpus',
  'chunk_decoder_fuzzer': 'envlogger/riegeli/fuzz/corpus',
  'writer_options_fuzzer': 'envlogger/riegeli/fuzz/corpus',
  'dataset_reader_fuzzer': 'envlogger/backends/fuzz/corpus',
  'index_recovery_fuzzer': 'envlogger/backends/fuzz/corpus',
  'typed_decoder_fuzzer': 'envlogger/converters/fuzz/corpus',
  'codec_differential_fuzzer': 'envlogger/converters/fuzz/corpus',
  'step_columns_fuzzer': 'envlogger/converters/fuzz/corpus',
}


def save(target: str, data: bytes, name: str) -> None:
  directory = ROOT / CORPORA[target] / target
  directory.mkdir(parents=True, exist_ok=True)
  digest = hashlib.sha1(data).hexdigest()[:12]
  path = directory / f'{name}-{digest}'
  if not any(p.name.endswith(digest) for p in directory.iterdir()):
    path.write_bytes(data)


def varint(value: int) -> bytes:
  out = bytearray()
  while True:
    byte = value & 0x7F
    value >>= 7
    out.append(byte | (0x80 if value else 0))
    if not value:
      return bytes(out)


def chunks(data: bytes):
  """Yields (type, num_records, decoded_size, chunk data) of a Riegeli file.

  Only for files whose chunks lie within the first block after its header
  (the small seeds this script writes), so no block header is inside a chunk.
  """
  pos = 64  # After the block header at 0 and the signature chunk.
  while pos + CHUNK_HEADER_SIZE <= len(data) and pos + CHUNK_HEADER_SIZE < BLOCK_SIZE:
    header = data[pos : pos + CHUNK_HEADER_SIZE]
    data_size = struct.unpack_from('<Q', header, 8)[0]
    type_and_records = struct.unpack_from('<Q', header, 24)[0]
    decoded_size = struct.unpack_from('<Q', header, 32)[0]
    begin = pos + CHUNK_HEADER_SIZE
    end = begin + data_size
    if end > min(len(data), BLOCK_SIZE):
      return
    yield chr(type_and_records & 0xFF), type_and_records >> 8, decoded_size, data[begin:end]
    num_records = type_and_records >> 8
    pos = max(end, pos + num_records)


def damaged(data: bytes, at: int) -> bytes:
  at = min(at, len(data) - 1)
  return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]


def sample_values():
  """Values of every kind the codec supports."""
  values = [
    None,
    0,
    1,
    -1,
    2**31,
    -(2**63),
    2**63 - 1,
    2**64,
    -(2**70),
    1.5,
    float('nan'),
    True,
    False,
    'text',
    'ünïcode',
    b'bytes',
    b'',
    [1, 2, 3],
    (1, 'a', None),
    {'a': 1, 'b': [1.0, 2.0]},
    {1: 'one', (1, 2): b'x'},
    {'nested': {'deeper': ({'x': np.zeros((2, 2), np.float32)},)}},
  ]
  for dtype in dtypes.NUMERIC_DTYPES:
    values.append(np.arange(6).astype(dtype).reshape(2, 3))
    values.append(dtype(3))
    values.append(np.zeros((0, 4), dtype))
  values.append(np.array(['a', 'bc']))
  values.append(np.array([b'a', b'bc']))
  values.append(np.float32(np.inf))
  return values


def step_records(num_steps: int):
  env = catch_env.Catch(rows=3, columns=2)
  timestep = env.reset()
  records = [native_codec.encode_step(timestep, None, None)]
  while len(records) < num_steps:
    timestep = env.reset() if timestep.last() else env.step(1)
    records.append(native_codec.encode_step(timestep, np.int64(1), {'note': len(records)}))
  return records


def write_riegeli(path: str, options: str, records) -> bytes:
  with riegeli.RecordWriter(path, options=options) as writer:
    for i, record in enumerate(records):
      writer.write_record(record)
      if i % 3 == 2:
        writer.flush()
  return pathlib.Path(path).read_bytes()


def riegeli_seeds(tmp: str) -> None:
  records = step_records(6) + [b'', b'x' * 300, bytes(range(256))]
  for layout in LAYOUTS:
    for compression in COMPRESSIONS:
      options = f'{layout}{compression}'
      data = write_riegeli(os.path.join(tmp, 'f.riegeli'), options, records)
      name = options.replace(',', '_')
      save('record_reader_fuzzer', data, name)
      save('record_reader_fuzzer', damaged(data, len(data) // 2), name + '-damaged')
      save('record_reader_fuzzer', data[: len(data) * 2 // 3], name + '-truncated')
      for chunk_type, num_records, decoded_size, chunk_data in chunks(data):
        if chunk_type not in 'rt':
          continue
        body = varint(num_records) + varint(decoded_size) + chunk_data
        if chunk_type == 't':
          save('transpose_decoder_fuzzer', body, name)
        save('chunk_decoder_fuzzer', chunk_type.encode() + body, name)
  # A file whose chunks cross a block boundary (block headers inside chunks).
  big = [bytes([i % 251]) * 1000 for i in range(70)]
  data = write_riegeli(os.path.join(tmp, 'big.riegeli'), 'uncompressed,chunk_size:30000', big)
  save('record_reader_fuzzer', data, 'block_boundary')


def record_dataset(directory: str, options: str, episodes: int, per_shard: int) -> None:
  env = envlogger.EnvLogger(
    catch_env.Catch(rows=3, columns=2),
    data_directory=directory,
    max_episodes_per_file=per_shard,
    writer_options=options,
    metadata={'seed': options},
  )
  for _ in range(episodes):
    timestep = env.reset()
    while not timestep.last():
      timestep = env.step(1)
  env.close()


def dataset_parts(directory: str):
  """[metadata, then steps, step_offsets, episode_metadata, episode_index per shard]."""
  root = pathlib.Path(directory)
  parts = [(root / 'metadata.riegeli').read_bytes()]
  shards = sorted(p for p in root.iterdir() if p.is_dir())[:3]
  for shard in shards:
    for name in ('steps', 'step_offsets', 'episode_metadata', 'episode_index'):
      path = shard / f'{name}.riegeli'
      parts.append(path.read_bytes() if path.exists() else b'')
  return parts, shards


def dataset_seeds(tmp: str) -> None:
  cases = [(f'{layout}{compression}', 2, 0) for layout in LAYOUTS for compression in COMPRESSIONS]
  cases += [('transpose,brotli', 3, 1), ('zstd', 3, 2)]  # Several shards.
  for i, (options, episodes, per_shard) in enumerate(cases):
    directory = os.path.join(tmp, f'dataset{i}')
    record_dataset(directory, options, episodes, per_shard)
    parts, shards = dataset_parts(directory)
    name = f'{options.replace(",", "_")}-{len(shards)}shards'
    save('dataset_reader_fuzzer', MARKER.join(parts), name)
    steps = parts[1]
    save(
      'dataset_reader_fuzzer',
      MARKER.join(parts[:1] + [damaged(steps, len(steps) // 2)] + parts[2:]),
      name + '-damaged_steps',
    )
    save(
      'dataset_reader_fuzzer',
      MARKER.join(parts[:1] + [steps[: len(steps) * 3 // 4]] + parts[2:]),
      name + '-truncated_steps',
    )
    save('dataset_reader_fuzzer', MARKER.join(parts[:2]), name + '-no_index')
    # Index recovery: the first shard's first episode indexed, the rest to recover.
    with riegeli.RecordReader(os.path.join(shards[0], 'steps.riegeli')) as reader:
      positions = []
      for _ in reader.read_records():
        positions.append(reader.last_pos.numeric)
    for indexed in (0, 2, len(positions)):
      numbers = [1 if indexed else 0] + ([0] if indexed else []) + positions[:indexed]
      index = b''.join(struct.pack('<q', n) for n in numbers)
      save('index_recovery_fuzzer', index + MARKER + steps, f'{name}-indexed{indexed}')


def data_seeds() -> None:
  for i, value in enumerate(sample_values()):
    data = native_codec.encode(value)
    for target in ('typed_decoder_fuzzer', 'codec_differential_fuzzer'):
      save(target, data, f'value{i}')
  for record in step_records(3):
    save('typed_decoder_fuzzer', record, 'step')
    save('codec_differential_fuzzer', record, 'step')


def column_input(records, pick: int = 0xFF, change: int = 0xFF) -> bytes:
  """A step_columns_fuzzer input: plan bytes, then length-prefixed records."""
  return bytes([pick, change]) + b''.join(struct.pack('<H', len(r)) + r for r in records)


def step_columns_seeds() -> None:
  catch = step_records(8)
  save('step_columns_fuzzer', column_input(catch), 'catch')
  save('step_columns_fuzzer', column_input(catch[1:]), 'catch-acting')
  # Leaf 0 of a step is its step type: plan it as the reader does.
  save('step_columns_fuzzer', column_input(catch[1:], pick=0, change=0x10), 'catch-step-type')
  for dtype in dtypes.NUMERIC_DTYPES:
    steps = [
      native_codec.encode((np.arange(6).reshape(2, 3).astype(dtype) + i, dtype(i), [dtype(i)] * 2))
      for i in range(4)
    ]
    save('step_columns_fuzzer', column_input(steps), f'dtype-{np.dtype(dtype).name}')
  rng = np.random.default_rng(0)
  nested = [
    native_codec.encode(
      {
        'obs': {
          'image': rng.integers(0, 255, (8, 8), dtype=np.uint8),
          'vec': np.float32([i, -i, 0.5]),
        },
        'info': ({'flag': np.bool_(i % 2)}, np.uint16(i)),
        'history': [np.int8(-i), np.int8(i)],
        'misc': (np.uint32(i), np.zeros((0, 3), np.float64)),
        'reward': float(i),
        'count': i,
      }
    )
    for i in range(6)
  ]
  save('step_columns_fuzzer', column_input(nested), 'nested')
  changing = {
    'none': [{'a': None if i % 2 else np.float32(i), 'b': np.int64(i)} for i in range(6)],
    'ragged': [np.zeros(i + 1, np.float64) for i in range(4)],
    'dtype': [np.float32(1), np.float64(2), np.int32(3), np.float32(4)],
    'keys': [{'a': 1}, {'a': 2, 'b': 3}, {'b': 4}, {'a': 5}],
    'bigint': [1, -(2**40), 2**63 - 1, 2**70, -1],
    'text': ['a', b'b', 3, None],
    'kind': [(1, 2), [1, 2], {'0': 1}, (1, 2, 3), (1,)],
  }
  for name, values in changing.items():
    save(
      'step_columns_fuzzer',
      column_input([native_codec.encode(v) for v in values]),
      f'changing-{name}',
    )
  # Step types of every integer field (leaf 0 planned as a step type), in range and not.
  for name, values in (
    ('int32', [np.int32(v) for v in (0, 1, 2, 1, 3, -1)]),
    ('uint32', [np.uint32(v) for v in (0, 1, 2, 1, 7)]),
    ('uint8', [np.uint8(v) for v in (0, 1, 2, 2, 200)]),
    ('int8', [np.int8(v) for v in (0, 1, 2, -1)]),
    ('bigint', [0, 1, 2, 2**70, -1]),
  ):
    records = [native_codec.encode((v, np.float32(i))) for i, v in enumerate(values)]
    save('step_columns_fuzzer', column_input(records, pick=0, change=0x10), f'step-type-{name}')
  # A float64 array whose values come in two packed runs, as another writer may split them.
  shape = b'\x12\x02\x08\x02'  # Shape{dim{size: 2}}
  records = []
  for first, second in ((1.0, 2.0), (3.0, 4.0), (5.0, 6.0)):
    values = b''.join(b'\x12\x08' + struct.pack('<d', v) for v in (first, second))
    datum = b'\x0a' + varint(len(shape)) + shape + b'\x12' + varint(len(values)) + values
    records.append(b'\x0a' + varint(len(datum)) + datum)
  save('step_columns_fuzzer', column_input(records), 'split-runs')


def options_seeds() -> None:
  for text in (
    '',
    'default',
    'transpose',
    'brotli:6,chunk_size:1M',
    'transpose,zstd:3,chunk_size:64K',
    'snappy',
    'uncompressed,chunk_size:4096',
    'zstd:-5,window_log:20',
    'brotli:11,window_log:24',
    'bucket_fraction:0.5,pad_to_block_boundary:true',
    'initial_padding:8,final_padding:16',
    'parallelism:4',
    'brotli_encoder:cbrotli',
    'chunk_size:auto',
    'transpose,bucket_fraction:0.25',
  ):
    save('writer_options_fuzzer', text.encode(), 'options')


def main() -> None:
  with tempfile.TemporaryDirectory() as tmp:
    riegeli_seeds(tmp)
    dataset_seeds(tmp)
  data_seeds()
  step_columns_seeds()
  options_seeds()


if __name__ == '__main__':
  main()
