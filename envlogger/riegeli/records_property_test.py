"""Property tests of envlogger.riegeli: random records round-trip exactly at
the positions the writer reported, under every codec, simple and transposed,
with chunk sizes that make chunks cross 64 KiB block boundaries; and damaged
files (a flipped byte, a truncation) never crash or hang the reader, which
with recovery still returns every record of every chunk the damage did not
touch."""

import io
import random
import struct

import hypothesis
from hypothesis import strategies as st
import pytest

from envlogger import riegeli
from envlogger.proto import storage_pb2

BLOCK_SIZE = 1 << 16

# --------------------------------------------------------------------------
# Records


def _varint(value: int) -> bytes:
  out = bytearray()
  while value >= 0x80:
    out.append(value & 0x7F | 0x80)
    value >>= 7
  out.append(value)
  return bytes(out)


def _tag(field: int, wire_type: int) -> bytes:
  return _varint(field << 3 | wire_type)


_field_numbers = st.one_of(st.integers(1, 20), st.integers(1, (1 << 29) - 1))


@st.composite
def _wire_field(draw, message_strategy):
  """One protobuf field in canonical wire format."""
  field = draw(_field_numbers)
  kind = draw(st.sampled_from(['varint', 'fixed32', 'fixed64', 'bytes', 'message', 'packed']))
  if kind == 'varint':
    return _tag(field, 0) + _varint(draw(st.integers(0, (1 << 64) - 1)))
  if kind == 'fixed32':
    return _tag(field, 5) + struct.pack('<I', draw(st.integers(0, (1 << 32) - 1)))
  if kind == 'fixed64':
    return _tag(field, 1) + struct.pack('<Q', draw(st.integers(0, (1 << 64) - 1)))
  if kind == 'bytes':
    payload = draw(st.binary(max_size=40))
  elif kind == 'message':
    payload = draw(message_strategy)
  else:
    payload = b''.join(_varint(v) for v in draw(st.lists(st.integers(0, 1 << 40), max_size=12)))
  return _tag(field, 2) + _varint(len(payload)) + payload


_wire_messages = st.recursive(
  st.just(b''),
  lambda children: st.lists(_wire_field(children), max_size=6).map(b''.join),
  max_leaves=20,
)


@st.composite
def _data_messages(draw):
  """Serialized envlogger.Data with nested arrays, dicts and packed values."""
  leaf = st.builds(
    lambda f, i, s: storage_pb2.Data(
      datum=storage_pb2.Datum(
        shape=storage_pb2.Datum.Shape(dim=[storage_pb2.Datum.Shape.Dim(size=len(f))]),
        values=storage_pb2.Datum.Values(float_values=f, int64_values=i, string_values=s),
      )
    ),
    st.lists(st.floats(width=32, allow_nan=False), max_size=8),
    st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=8),
    st.lists(st.text(max_size=5), max_size=3),
  )

  def extend(children):
    return st.one_of(
      st.lists(children, max_size=3).map(
        lambda v: storage_pb2.Data(array=storage_pb2.Data.Array(values=v))
      ),
      st.dictionaries(st.text(max_size=4), children, max_size=3).map(
        lambda d: storage_pb2.Data(dict=storage_pb2.Data.Dict(values=d))
      ),
    )

  return draw(st.recursive(leaf, extend, max_leaves=8)).SerializeToString(deterministic=True)


records_strategy = st.one_of(
  st.just(b''),
  st.binary(max_size=8),
  st.binary(max_size=3000),
  _wire_messages,
  _data_messages(),
  # Valid proto prefixes followed by junk: non-proto records.
  st.tuples(_wire_messages, st.binary(min_size=1, max_size=5)).map(b''.join),
)

CODECS = ['uncompressed', 'brotli:1', 'brotli', 'zstd:1', 'zstd', 'snappy']
CHUNK_SIZES = ['', 'chunk_size:1', 'chunk_size:200', 'chunk_size:5000', 'chunk_size:70000']


@st.composite
def options_strategy(draw):
  parts = [draw(st.sampled_from(CODECS))]
  if draw(st.booleans()):
    parts.append('transpose')
  chunk_size = draw(st.sampled_from(CHUNK_SIZES))
  if chunk_size:
    parts.append(chunk_size)
  if 'transpose' in parts and draw(st.booleans()):
    parts.append('bucket_fraction:0.3')
  return ','.join(parts)


def write(records, options, flush_every=0):
  dest = io.BytesIO()
  positions = []
  with riegeli.RecordWriter(dest, owns_dest=False, options=options) as writer:
    for i, record in enumerate(records):
      writer.write_record(record)
      positions.append(writer.last_pos)
      if flush_every and i % flush_every == flush_every - 1:
        writer.flush()
  return dest.getvalue(), positions


def read_all(data, **kwargs):
  result = []
  with riegeli.RecordReader(io.BytesIO(data), **kwargs) as reader:
    while (record := reader.read_record()) is not None:
      result.append((reader.last_pos, record))
  return result


# --------------------------------------------------------------------------
# Round trips


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(
  records=st.lists(records_strategy, max_size=60),
  options=options_strategy(),
  flush_every=st.sampled_from([0, 0, 1, 7]),
)
def test_round_trip(records, options, flush_every):
  data, positions = write(records, options, flush_every)
  read = read_all(data)
  assert [record for _, record in read] == records
  assert [pos for pos, _ in read] == positions
  # Every record is found again by its numeric position.
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    for pos, record in zip(positions[::5], records[::5]):
      reader.seek_numeric(pos.numeric)
      assert reader.read_record() == record


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(
  size=st.integers(70000, 300000),
  count=st.integers(1, 12),
  options=options_strategy(),
  seed=st.integers(0, 1 << 30),
)
def test_round_trip_across_block_boundaries(size, count, options, seed):
  # Records of mixed compressibility so that chunks span several blocks.
  rng = random.Random(seed)
  records = [
    bytes(rng.getrandbits(8) for _ in range(size // 50)) * 50 if i % 2 else rng.randbytes(size)
    for i in range(count)
  ]
  data, positions = write(records, options)
  assert len(data) > BLOCK_SIZE
  read = read_all(data)
  assert [record for _, record in read] == records
  assert [pos for pos, _ in read] == positions


@hypothesis.settings(max_examples=3, deadline=None)
@hypothesis.given(options=options_strategy(), seed=st.integers(0, 1 << 30))
def test_multi_megabyte_records(options, seed):
  rng = random.Random(seed)
  records = [rng.randbytes(3 << 20), b'small', bytes(2 << 20)]
  data, positions = write(records, options)
  read = read_all(data)
  assert [record for _, record in read] == records
  assert [pos for pos, _ in read] == positions


# --------------------------------------------------------------------------
# Damaged files


def _chunks(data_size, positions):
  """(begin, end, [record indices]) of the record chunks, in file order.

  Without padding or metadata, record chunks follow the 64-byte signature
  back to back, so a chunk ends where the next begins."""
  begins = sorted({pos.chunk_begin for pos in positions})
  ends = begins[1:] + [data_size]
  return [
    (b, e, [i for i, p in enumerate(positions) if p.chunk_begin == b]) for b, e in zip(begins, ends)
  ]


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
  records=st.lists(st.one_of(st.binary(max_size=40000), _wire_messages), min_size=1, max_size=25),
  options=options_strategy(),
  where=st.floats(0, 1, exclude_max=True),
  bit=st.integers(0, 7),
)
def test_flipped_byte(records, options, where, bit):
  data, positions = write(records, options)
  offset = int(where * len(data))
  damaged = bytearray(data)
  damaged[offset] ^= 1 << bit
  damaged = bytes(damaged)

  # Without recovery: records or a RiegeliError, never a crash.
  try:
    read_all(damaged)
  except riegeli.RiegeliError:
    pass

  regions = []
  read = read_all(damaged, recovery=regions.append)
  by_position = {pos: record for pos, record in zip(positions, records)}
  # Only genuine records, in order.
  for pos, record in read:
    assert by_position[pos] == record
  assert [pos for pos, _ in read] == sorted(pos for pos, _ in read)
  for region in regions:
    assert region.begin <= region.end
  _assert_only_touched_chunk_lost(data, positions, offset, {pos for pos, _ in read})


def _assert_only_touched_chunk_lost(data, positions, offset, returned):
  """Every record of every chunk that does not contain byte `offset` was
  returned; of the chunk that does, all or none (a flip in its padding costs
  nothing)."""
  for begin, end, indices in _chunks(len(data), positions):
    chunk_positions = {positions[i] for i in indices}
    if begin <= offset < end:
      assert chunk_positions <= returned or not chunk_positions & returned, (begin, end, offset)
    else:
      assert chunk_positions <= returned, (begin, end, offset)
  assert returned <= set(positions)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
  records=st.lists(st.binary(min_size=20, max_size=300), min_size=2, max_size=80),
  options=st.sampled_from(['uncompressed', 'zstd:1', 'brotli:1', 'snappy']),
  transpose=st.booleans(),
  chunk_size=st.sampled_from([1, 64, 200, 1000]),
  where=st.floats(0, 1, exclude_max=True),
  bit=st.integers(0, 7),
)
def test_flipped_byte_in_small_chunk_file_loses_only_that_chunk(
  records, options, transpose, chunk_size, where, bit
):
  # Many small chunks in one block: a damaged chunk header used to cost every
  # chunk up to the next 64 KiB block boundary; now only its own records.
  options = f'{options},chunk_size:{chunk_size}' + (',transpose' if transpose else '')
  data, positions = write(records, options)
  offset = int(where * len(data))
  damaged = bytearray(data)
  damaged[offset] ^= 1 << bit
  regions = []
  read = read_all(bytes(damaged), recovery=regions.append)
  by_position = dict(zip(positions, records))
  for pos, record in read:
    assert by_position[pos] == record
  _assert_only_touched_chunk_lost(data, positions, offset, {pos for pos, _ in read})
  # The skipped regions are disjoint, in order, and one of them holds the
  # flipped byte whenever a record was lost.
  for before, after in zip(regions, regions[1:]):
    assert before.end <= after.begin
  if len(read) < len(records):
    assert any(region.begin <= offset < region.end for region in regions), (offset, regions)


@hypothesis.settings(max_examples=100, deadline=None)
@hypothesis.given(
  records=st.lists(st.binary(max_size=30000), min_size=1, max_size=25),
  options=options_strategy(),
  where=st.floats(0, 1, exclude_max=True),
)
def test_truncation(records, options, where):
  data, positions = write(records, options)
  cut = int(where * len(data))
  truncated = data[:cut]
  reader = riegeli.RecordReader(io.BytesIO(truncated))
  read = []
  while (record := reader.read_record()) is not None:
    read.append((reader.last_pos, record))
  complete = [
    i for begin, end, indices in _chunks(len(data), positions) if end <= cut for i in indices
  ]
  assert read == [(positions[i], records[i]) for i in complete]
  at_chunk_boundary = cut in ({0, 64} | {end for _, end, _ in _chunks(len(data), positions)})
  if at_chunk_boundary:
    reader.close()
  else:
    with pytest.raises(riegeli.RiegeliError, match='Truncated'):
      reader.close()
  regions = []
  assert read_all(truncated, recovery=regions.append) == read
  assert len(regions) == (0 if at_chunk_boundary else 1)
