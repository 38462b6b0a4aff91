"""Tests of envlogger.riegeli, ported from the behaviours of Riegeli's own
records_test.py (positions, seek, seek_back, metadata, corruption, invalid
messages) plus reading every fixture written by the real library."""

import hashlib
import io
import json
import os
import pathlib
import pickle
import threading

from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message as message_lib
from google.protobuf import message_factory
import pytest

from envlogger import riegeli
from envlogger.proto import storage_pb2

TESTDATA = pathlib.Path(__file__).resolve().parent.parent / 'testdata'
REFERENCE = TESTDATA / 'riegeli-reference'
UPSTREAM = TESTDATA / 'upstream-1.3'


def _simple_message_class():
  """riegeli.tests.SimpleMessage {int64 id = 1; bytes payload = 2;}."""
  pool = descriptor_pool.DescriptorPool()
  file_proto = descriptor_pb2.FileDescriptorProto(
    name='records_test.proto', package='riegeli.tests', syntax='proto2'
  )
  message = file_proto.message_type.add(name='SimpleMessage')
  field = descriptor_pb2.FieldDescriptorProto
  message.field.add(name='id', number=1, type=field.TYPE_INT64, label=field.LABEL_OPTIONAL)
  message.field.add(name='payload', number=2, type=field.TYPE_BYTES, label=field.LABEL_OPTIONAL)
  pool.Add(file_proto)
  return message_factory.GetMessageClass(pool.FindMessageTypeByName('riegeli.tests.SimpleMessage'))


SimpleMessage = _simple_message_class()


def sample_string(i: int, size: int) -> bytes:
  piece = f'{i} '.encode()
  return (piece * (size // len(piece) + 1))[:size]


def sample_message(i: int, size: int):
  return SimpleMessage(id=i, payload=sample_string(i, size))


# Riegeli's records_test options: 3 records of 10000 bytes per chunk.
OPTIONS = ['uncompressed,chunk_size:35000', 'transpose,uncompressed,chunk_size:35000']


def write_messages(options: str, count: int = 23, size: int = 10000):
  dest = io.BytesIO()
  positions = []
  with riegeli.RecordWriter(dest, owns_dest=False, options=options) as writer:
    for i in range(count):
      writer.write_message(sample_message(i, size))
      positions.append(writer.last_pos)
  return dest.getvalue(), positions


@pytest.mark.parametrize('options', OPTIONS)
def test_write_read_records_and_positions(options):
  data, positions = write_messages(options)
  assert positions == sorted(positions)
  assert len(set(p.numeric for p in positions)) == len(positions)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    for i in range(23):
      pos = reader.pos
      record = reader.read_record()
      assert SimpleMessage.FromString(record) == sample_message(i, 10000)
      assert reader.last_pos == positions[i]
      # pos before a read is the position of the record read (or an
      # equivalent earlier one at a chunk boundary).
      assert pos.numeric <= positions[i].numeric
    assert reader.read_record() is None
    assert reader.pos == riegeli.RecordPosition(len(data), 0)


@pytest.mark.parametrize('options', OPTIONS)
def test_read_messages_and_iteration(options):
  data, _ = write_messages(options)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    messages = list(reader.read_messages(SimpleMessage))
  assert messages == [sample_message(i, 10000) for i in range(23)]
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    assert [SimpleMessage.FromString(r).id for r in reader] == list(range(23))


# Several chunks of many small records, so that one chunk holds more
# records than a single native fetch.
MANY_OPTIONS = [
  'uncompressed,chunk_size:6000',
  'zstd,chunk_size:6000',
  'transpose,uncompressed,chunk_size:6000',
]


def write_many(options: str, count: int = 1000):
  dest = io.BytesIO()
  positions = []
  with riegeli.RecordWriter(dest, owns_dest=False, options=options) as writer:
    for i in range(count):
      writer.write_message(sample_message(i, 3))
      positions.append(writer.last_pos)
  # Several chunks, each with more records than one native fetch (256).
  chunks = [p.chunk_begin for p in positions]
  assert len(set(chunks)) > 1
  assert max(chunks.count(c) for c in set(chunks)) > 256
  return dest.getvalue(), positions


@pytest.mark.parametrize('options', MANY_OPTIONS)
@pytest.mark.parametrize('method', ['read_records', 'iter', 'read_messages'])
def test_last_pos_names_the_record_just_returned(options, method):
  data, positions = write_many(options)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    if method == 'read_records':
      records = reader.read_records()
    elif method == 'iter':
      records = iter(reader)
    else:
      records = reader.read_messages(SimpleMessage)
    count = 0
    for i, record in enumerate(records):
      if method != 'read_messages':
        record = SimpleMessage.FromString(record)
      assert record.id == i
      assert reader.last_pos == positions[i]
      if i + 1 < len(positions):
        assert reader.pos.numeric <= positions[i + 1].numeric
        assert reader.pos.numeric > positions[i].numeric
      count += 1
    assert count == len(positions)
    assert reader.last_pos == positions[-1]
    assert reader.pos == riegeli.RecordPosition(len(data), 0)


@pytest.mark.parametrize('options', MANY_OPTIONS)
def test_calls_between_yields_continue_after_the_record_yielded(options):
  data, positions = write_many(options)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    records = reader.read_records()
    assert SimpleMessage.FromString(next(records)).id == 0
    # read_record() between two yields returns the record after the one
    # yielded, and the generator continues after that.
    assert SimpleMessage.FromString(reader.read_record()).id == 1
    assert reader.last_pos == positions[1]
    assert SimpleMessage.FromString(next(records)).id == 2
    assert reader.last_pos == positions[2]
    # seek_back() steps back from the record last yielded.
    assert reader.seek_back()
    assert reader.pos == positions[2]
    assert SimpleMessage.FromString(next(records)).id == 2
    # A seek redirects the generator too.
    reader.seek(positions[500])
    assert reader.last_pos == positions[2]
    assert SimpleMessage.FromString(next(records)).id == 500
    assert reader.last_pos == positions[500]
    # Stopping the generator early loses nothing for later reads.
    records.close()
    assert SimpleMessage.FromString(reader.read_record()).id == 501
    assert [SimpleMessage.FromString(r).id for r in reader] == list(range(502, 1000))
    assert reader.last_pos == positions[-1]


def test_write_records_and_messages_in_bulk():
  dest = io.BytesIO()
  with riegeli.RecordWriter(dest, owns_dest=False, options='zstd') as writer:
    writer.write_records([b'a', bytearray(b'bc'), memoryview(b'def')])
    writer.write_records(iter([b'g']))
    writer.write_messages(sample_message(i, 5) for i in range(3))
  with riegeli.RecordReader(io.BytesIO(dest.getvalue())) as reader:
    records = list(reader.read_records())
  assert records[:4] == [b'a', b'bc', b'def', b'g']
  assert [SimpleMessage.FromString(r) for r in records[4:]] == [
    sample_message(i, 5) for i in range(3)
  ]


@pytest.mark.parametrize('options', OPTIONS)
def test_seek(options):
  data, positions = write_messages(options)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    for i in (4, 0, 22, 9, 10, 3):
      reader.seek(positions[i])
      assert reader.pos == positions[i]
      assert reader.read_message(SimpleMessage) == sample_message(i, 10000)
      assert reader.last_pos == positions[i]
    reader.seek(riegeli.RecordPosition(len(data), 0))
    assert reader.read_record() is None


@pytest.mark.parametrize('options', OPTIONS)
def test_seek_numeric(options):
  data, positions = write_messages(options)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    for i in (7, 0, 22, 15, 16):
      reader.seek_numeric(positions[i].numeric)
      assert reader.read_message(SimpleMessage) == sample_message(i, 10000)
    # Between records means the next record.
    reader.seek_numeric(positions[3].numeric - 1)
    assert reader.read_message(SimpleMessage).id == 3
    reader.seek_numeric(0)
    assert reader.read_message(SimpleMessage).id == 0
    reader.seek_numeric(len(data))
    assert reader.read_record() is None
  reader = riegeli.RecordReader(io.BytesIO(data))
  with pytest.raises(riegeli.OutOfRangeError, match='<BytesIO>'):
    reader.seek_numeric(len(data) + 1)
  with pytest.raises(riegeli.OutOfRangeError):  # The failure is sticky.
    reader.close()


@pytest.mark.parametrize('options', OPTIONS)
def test_seek_back(options):
  data, positions = write_messages(options)
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    reader.seek_numeric(reader.size())
    for i in reversed(range(23)):
      assert reader.seek_back()
      assert reader.pos == positions[i]
      assert reader.read_message(SimpleMessage).id == i
      assert reader.seek_back()
    assert not reader.seek_back()


def test_read_record_at_serves_any_order():
  data, positions = write_messages('zstd,chunk_size:35000')
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    for i in (5, 4, 3, 22, 0, 5, 12):
      assert SimpleMessage.FromString(reader.read_record_at(positions[i].numeric)).id == i
      assert reader.last_pos == positions[i]


def test_metadata_round_trip():
  metadata = riegeli.RecordsMetadata(file_comment='a comment')
  riegeli.set_record_type(metadata, SimpleMessage)
  dest = io.BytesIO()
  with riegeli.RecordWriter(dest, owns_dest=False, options='transpose', metadata=metadata) as w:
    w.write_message(sample_message(1, 10))
  with riegeli.RecordReader(io.BytesIO(dest.getvalue())) as reader:
    read = reader.read_metadata()
    assert read == metadata
    assert reader.read_serialized_metadata() == metadata.SerializeToString()
    record_type = riegeli.get_record_type(read)
    assert record_type.DESCRIPTOR.full_name == 'riegeli.tests.SimpleMessage'
    message = reader.read_message(record_type)
    assert message.id == 1 and message.payload == sample_string(1, 10)


def test_metadata_absent_or_empty():
  with riegeli.RecordReader(io.BytesIO(b'')) as reader:
    assert reader.read_metadata() is None
  signature_only = (REFERENCE / 'simple_none.riegeli').read_bytes()[:64]
  with riegeli.RecordReader(io.BytesIO(signature_only)) as reader:
    assert reader.read_metadata() is None
  with riegeli.RecordReader(REFERENCE / 'simple_none.riegeli') as reader:
    assert reader.read_metadata() == riegeli.RecordsMetadata()


def test_metadata_and_serialized_metadata_conflict():
  with pytest.raises(ValueError, match='conflict'):
    riegeli.RecordWriter(
      io.BytesIO(), metadata=riegeli.RecordsMetadata(), serialized_metadata=b'\x0a\x00'
    )


def test_invalid_metadata_with_and_without_recovery():
  dest = io.BytesIO()
  with riegeli.RecordWriter(dest, owns_dest=False, serialized_metadata=b'\xff\xff'):
    pass
  with riegeli.RecordReader(io.BytesIO(dest.getvalue())) as reader:
    with pytest.raises(message_lib.DecodeError):
      reader.read_metadata()
  regions = []
  with riegeli.RecordReader(io.BytesIO(dest.getvalue()), recovery=regions.append) as reader:
    assert reader.read_metadata() == riegeli.RecordsMetadata()
  assert len(regions) == 1


def corrupted(options: str):
  data, positions = write_messages(options)
  data = bytearray(data)
  data[positions[9].chunk_begin + 20] ^= 0x55
  return bytes(data), positions


@pytest.mark.parametrize('options', OPTIONS)
def test_corruption_without_recovery_raises(options):
  data, positions = corrupted(options)
  with pytest.raises(riegeli.RiegeliError, match=str(positions[9].chunk_begin)):
    with riegeli.RecordReader(io.BytesIO(data)) as reader:
      for _ in range(23):
        reader.read_record()


@pytest.mark.parametrize('options', OPTIONS)
def test_corruption_with_recovery_skips_region(options):
  data, positions = corrupted(options)
  regions = []
  with riegeli.RecordReader(io.BytesIO(data), recovery=regions.append) as reader:
    ids = [m.id for m in reader.read_messages(SimpleMessage)]
  # Only the chunk whose header was hit is lost: reading resumes at the next
  # chunk header (Riegeli's own recovery: at the next 64 KiB block boundary).
  after = next(i for i in range(10, 23) if positions[i].chunk_begin != positions[9].chunk_begin)
  assert ids == list(range(9)) + list(range(after, 23))
  assert [(r.begin, r.end) for r in regions] == [(positions[9].numeric, positions[after].numeric)]
  assert regions[0].length == positions[after].numeric - positions[9].numeric
  assert str(regions[0]).startswith(f'[{positions[9].numeric}..{positions[after].numeric}): ')


def test_recovery_stop_iteration_ends_reading():
  data, _ = corrupted(OPTIONS[0])

  def stop(region):
    raise StopIteration

  with riegeli.RecordReader(io.BytesIO(data), recovery=stop) as reader:
    assert len(list(reader.read_records())) == 9
    assert reader.read_record() is None


def test_recovery_exception_propagates():
  data, _ = corrupted(OPTIONS[0])

  def fail(region):
    raise KeyError('from callback')

  with riegeli.RecordReader(io.BytesIO(data), recovery=fail) as reader:
    for _ in range(9):
      reader.read_record()
    with pytest.raises(KeyError, match='from callback'):
      reader.read_record()


def test_invalid_message_recovery():
  dest = io.BytesIO()
  with riegeli.RecordWriter(dest, owns_dest=False, options='uncompressed') as writer:
    for i in range(5):
      if i == 2:
        writer.write_record(b'\xff\xff\xff')  # Not a valid SimpleMessage.
      else:
        writer.write_message(sample_message(i, 10))
      if i == 2:
        bad_pos = writer.last_pos
  data = dest.getvalue()
  with riegeli.RecordReader(io.BytesIO(data)) as reader:
    assert reader.read_message(SimpleMessage).id == 0
    assert reader.read_message(SimpleMessage).id == 1
    with pytest.raises(message_lib.DecodeError):
      reader.read_message(SimpleMessage)
  regions = []
  with riegeli.RecordReader(io.BytesIO(data), recovery=regions.append) as reader:
    assert [m.id for m in reader.read_messages(SimpleMessage)] == [0, 1, 3, 4]
  assert [(r.begin, r.end) for r in regions] == [(bad_pos.numeric, bad_pos.numeric + 1)]


def test_truncated_file_reported_at_close():
  data, positions = write_messages(OPTIONS[0])
  cut = data[: positions[20].chunk_begin + 100]
  reader = riegeli.RecordReader(io.BytesIO(cut))
  assert len(list(reader.read_records())) == 18
  with pytest.raises(
    riegeli.InvalidArgumentError,
    match=f'Truncated Riegeli/records file, incomplete chunk at {positions[20].chunk_begin}',
  ):
    reader.close()
  regions = []
  with riegeli.RecordReader(io.BytesIO(cut), recovery=regions.append) as reader:
    assert len(list(reader.read_records())) == 18
  assert [(r.begin, r.end) for r in regions] == [(positions[20].chunk_begin, len(cut))]


def test_paths_and_real_file_objects(tmp_path):
  path = tmp_path / 'records.riegeli'
  with riegeli.RecordWriter(path, options='uncompressed') as writer:
    for i in range(100):
      writer.write_record(b'record_%06d' % i)
  assert path.read_bytes() == (REFERENCE / 'simple_none.riegeli').read_bytes()
  with riegeli.RecordWriter(open(tmp_path / 'f.riegeli', 'wb'), options='uncompressed') as w:
    for i in range(100):
      w.write_record(b'record_%06d' % i)
  assert (tmp_path / 'f.riegeli').read_bytes() == path.read_bytes()
  # Appending through a file object: no second signature, positions continue.
  with riegeli.RecordWriter(open(path, 'ab'), options='uncompressed') as writer:
    assert writer.pos == riegeli.RecordPosition(1506, 0)
    writer.write_record(b'appended')
  with riegeli.RecordReader(open(path, 'rb')) as reader:
    records = list(reader)
    assert reader.last_pos == riegeli.RecordPosition(1506, 0)
  assert records[-1] == b'appended' and len(records) == 101
  with riegeli.RecordReader(str(path)) as reader:
    assert reader.read_record() == b'record_000000'


def test_flush_makes_records_visible(tmp_path):
  path = tmp_path / 'growing.riegeli'
  writer = riegeli.RecordWriter(path, options='zstd')
  writer.write_record(b'first')
  writer.flush(riegeli.FlushType.FROM_PROCESS)
  reader = riegeli.RecordReader(path)
  assert reader.read_record() == b'first'
  assert reader.read_record() is None
  writer.write_record(b'second')
  writer.flush()
  assert reader.read_record() == b'second'
  writer.close()
  reader.close()


def test_errors_name_path_and_code(tmp_path):
  with pytest.raises(riegeli.NotFoundError, match='nonexistent') as error:
    riegeli.RecordReader(tmp_path / 'nonexistent.riegeli')
  assert error.value.code == 5
  with pytest.raises(riegeli.InvalidArgumentError, match='chunk_size:0'):
    riegeli.RecordWriter(io.BytesIO(), options='chunk_size:0')
  bad = tmp_path / 'bad.riegeli'
  bad.write_bytes(b'x' * 200)
  with pytest.raises(riegeli.RiegeliError, match=str(bad)):
    with riegeli.RecordReader(bad) as reader:
      reader.read_record()
  with pytest.raises(NotImplementedError):
    riegeli.RecordReader(io.BytesIO(b''), field_projection=[[1]])


def test_pipe_destination_needs_assumed_pos():
  read_fd, write_fd = os.pipe()
  with open(read_fd, 'rb') as source, open(write_fd, 'wb') as sink:
    with pytest.raises(ValueError, match='assumed_pos'):
      riegeli.RecordWriter(sink, owns_dest=False)
    with riegeli.RecordWriter(sink, owns_dest=False, assumed_pos=0, options='uncompressed') as w:
      for i in range(100):
        w.write_record(b'record_%06d' % i)
    sink.close()
    assert source.read() == (REFERENCE / 'simple_none.riegeli').read_bytes()


def test_failed_construction_does_not_leak_descriptors(tmp_path):
  def open_descriptors():
    return len(os.listdir('/proc/self/fd'))

  with open(tmp_path / 'x.riegeli', 'wb') as dest:
    before = open_descriptors()
    for _ in range(20):
      with pytest.raises(riegeli.InvalidArgumentError):
        riegeli.RecordWriter(dest, owns_dest=False, options='zstd:99')
    assert open_descriptors() == before


def test_error_hierarchy():
  codes = {
    cls.code
    for cls in (
      riegeli.CancelledError,
      riegeli.UnknownError,
      riegeli.InvalidArgumentError,
      riegeli.DeadlineExceededError,
      riegeli.NotFoundError,
      riegeli.AlreadyExistsError,
      riegeli.PermissionDeniedError,
      riegeli.ResourceExhaustedError,
      riegeli.FailedPreconditionError,
      riegeli.AbortedError,
      riegeli.OutOfRangeError,
      riegeli.UnimplementedError,
      riegeli.InternalError,
      riegeli.UnavailableError,
      riegeli.DataLossError,
      riegeli.UnauthenticatedError,
    )
  }
  assert codes == set(range(1, 17))
  assert issubclass(riegeli.DataLossError, riegeli.RiegeliError)


def test_record_position_forms():
  pos = riegeli.RecordPosition(65600, 3)
  assert pos.numeric == 65603
  assert str(pos) == '65600/3'
  assert riegeli.RecordPosition.from_str('65600/3') == pos
  with pytest.raises(ValueError):
    riegeli.RecordPosition.from_str('65600-3')
  # Ordered varints: 0..127 one byte, then a 10xxxxxx prefix for two bytes.
  assert riegeli.RecordPosition(5, 0).to_bytes() == b'\x05\x00'
  assert riegeli.RecordPosition(128, 1).to_bytes() == b'\x80\x80\x01'
  assert (
    riegeli.RecordPosition(2**63, 0).to_bytes() == b'\xff' + (2**63).to_bytes(8, 'big') + b'\x00'
  )
  # Legacy form: two big-endian uint64.
  assert (
    riegeli.RecordPosition.from_bytes((65600).to_bytes(8, 'big') + (3).to_bytes(8, 'big')) == pos
  )
  values = [0, 1, 127, 128, 300, 16383, 16384, 2**21, 2**35, 2**56 - 1, 2**56, 2**64 - 1]
  positions = [riegeli.RecordPosition(c, r) for c in values for r in (0, 1, 200)]
  for p in positions:
    assert riegeli.RecordPosition.from_bytes(p.to_bytes()) == p
  assert sorted(positions, key=lambda p: p.to_bytes()) == sorted(positions)
  assert len({hash(p) for p in positions}) == len(positions)
  assert riegeli.RecordPosition(1, 2) < riegeli.RecordPosition(2, 0) < riegeli.RecordPosition(2, 1)


def test_highway_hash_vectors():
  # Spec §1 vectors computed with Riegeli's key.
  assert riegeli.highway_hash(b'') == 0x72C3B1E9C0139FE1
  assert riegeli.highway_hash(b'Riegeli') == 0x07179813CA01243C
  assert riegeli.highway_hash(bytes(range(100))) == 0xE809487465A44F74


def test_concurrent_readers_share_nothing_and_threads_are_safe():
  data, positions = write_messages('zstd,chunk_size:35000')
  reader = riegeli.RecordReader(io.BytesIO(data))
  errors = []

  def work(offset):
    try:
      for k in range(200):
        i = (offset + k * 7) % 23
        assert SimpleMessage.FromString(reader.read_record_at(positions[i].numeric)).id == i
    except Exception as e:  # pylint: disable=broad-except
      errors.append(e)

  threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  reader.close()
  assert not errors


# ---------------------------------------------------------------------------
# Files written by the real library.


def _reference_expected(name):
  if name.startswith(('simple_', 'transpose_')):
    return [(64 + i, b'record_%06d' % i) for i in range(100)]
  if name.startswith('D_'):
    return [(64, b'file-one-record'), (65600, b'boundary-coincident-file')]
  count = {'A': 65473, 'B': 65496, 'C': 65472}[name[0]]
  expected = [(64 + i, b'') for i in range(count)]
  if '_with_tail' in name:
    expected.append((65561, b'tail'))
  return expected


@pytest.mark.parametrize(
  'name', sorted(p.name for p in REFERENCE.glob('*.riegeli') if not p.name.startswith('recovery'))
)
def test_reads_reference_files(name):
  with riegeli.RecordReader(REFERENCE / name) as reader:
    read = []
    while (record := reader.read_record()) is not None:
      read.append((reader.last_pos.numeric, record))
  assert read == _reference_expected(name)


def test_recovery_regression_file():
  with pytest.raises(riegeli.RiegeliError):
    with riegeli.RecordReader(REFERENCE / 'recovery_regions_alias.riegeli') as reader:
      reader.read_record()
  regions = []
  with riegeli.RecordReader(
    REFERENCE / 'recovery_regions_alias.riegeli', recovery=regions.append
  ) as reader:
    list(reader.read_records())
  assert regions
  for previous, region in zip([None] + regions, regions):
    assert region.begin < region.end
    if previous is not None:
      assert region.begin >= previous.end


RAW = UPSTREAM / 'riegeli_raw'


def _raw_index():
  return json.loads((RAW / 'index.json').read_text())


@pytest.mark.parametrize('name', sorted(_raw_index()['files']))
def test_reads_upstream_raw_files_exactly(name):
  expected = pickle.loads((RAW / 'records.pkl').read_bytes())[name]
  with riegeli.RecordReader(RAW / name) as reader:
    read = []
    while (record := reader.read_record()) is not None:
      read.append((reader.last_pos.numeric, record))
  assert read == expected


# Files whose compressed streams our compression layer does not reproduce
# byte for byte (chunk layout and positions still must match):
# * Snappy: the system library's match choices differ from the reference's;
# * simple chunks whose values stream exceeds 64 KiB, which the reference
#   compresses as a stream (no zstd content size; brotli blocks split
#   differently) while compression.cc compresses in one call.
NOT_BYTE_EXACT = {
  'simple_snappy.riegeli',
  'transpose_snappy.riegeli',
  'simple_zstd.riegeli',
  'simple_brotli.riegeli',
}


@pytest.mark.parametrize('name', sorted(_raw_index()['files']))
def test_rewrites_upstream_raw_files(name):
  """Writing the same records with the same options and flushes reproduces
  the reference file byte for byte (see NOT_BYTE_EXACT) and the reference
  positions."""
  info = _raw_index()['files'][name]
  records = pickle.loads((RAW / 'records.pkl').read_bytes())[name]
  flush_after = set(info['explicit_flush_after_records'] or [])
  dest = io.BytesIO()
  positions = []
  with riegeli.RecordWriter(dest, owns_dest=False, options=info['writer_options']) as writer:
    for i, (_, record) in enumerate(records):
      writer.write_record(record)
      positions.append(writer.last_pos.numeric)
      if i in flush_after:
        writer.flush()
  assert positions == [pos for pos, _ in records]
  if name not in NOT_BYTE_EXACT:
    assert hashlib.sha256(dest.getvalue()).hexdigest() == info['sha256']


def _upstream_riegeli_files():
  files = []
  for path in sorted(UPSTREAM.rglob('*.riegeli')):
    if RAW in path.parents:
      continue
    files.append(path.relative_to(UPSTREAM).as_posix())
  return files


@pytest.mark.parametrize('relative', _upstream_riegeli_files())
def test_reads_upstream_dataset_files(relative):
  """Every record of every upstream file, at the positions upstream's reader
  reported, parsing as the envlogger message its file holds."""
  path = UPSTREAM / relative
  with riegeli.RecordReader(path) as reader:
    read = []
    while (record := reader.read_record()) is not None:
      read.append((reader.last_pos.numeric, record))
  dataset, rest = relative.split('/', 1)
  expected_path = UPSTREAM / (dataset + '.records') / rest.replace('.riegeli', '.records.pkl')
  expected = pickle.loads(expected_path.read_bytes())
  assert read == expected
  message_type = (
    storage_pb2.Datum
    if path.name in ('step_offsets.riegeli', 'episode_index.riegeli')
    else storage_pb2.Data
  )
  for _, record in read:
    message = message_type.FromString(record)
    assert message.SerializeToString() or not record


def test_reads_upstream_metadata_chunk_free_files_have_empty_metadata():
  for relative in _upstream_riegeli_files()[:5]:
    with riegeli.RecordReader(UPSTREAM / relative) as reader:
      assert reader.read_metadata() == riegeli.RecordsMetadata()
