"""Riegeli/records files, with the API of the official `riegeli` package.

A drop-in subset of `import riegeli` for users who cannot install it, backed
by envlogger's own C++ implementation (envlogger._native.riegeli):

  with riegeli.RecordWriter(open(path, 'wb'), options='transpose') as writer:
    writer.write_message(message)
  with riegeli.RecordReader(open(path, 'rb')) as reader:
    for message in reader.read_messages(MyProto):
      ...

`dest` / `src` may be a path (str or os.PathLike) or a binary file object.
File objects with a working `fileno()` are accessed through a duplicate of
their descriptor; other objects (io.BytesIO, ...) are written on flush/close
and read completely when the reader is created. Field projection, `search`
and `check_file_format` are not implemented.
"""

from __future__ import annotations

import enum
import functools
import io
import os
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Optional, Type, TypeVar, Union
import weakref

from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message as message_lib
from google.protobuf import message_factory

from envlogger import _native

_riegeli = _native.riegeli

__all__ = [
    'RecordWriter', 'RecordReader', 'RecordPosition', 'SkippedRegion', 'RecordsMetadata',
    'FlushType', 'set_record_type', 'get_record_type', 'highway_hash', 'RiegeliError',
    'CancelledError', 'UnknownError', 'InvalidArgumentError', 'DeadlineExceededError',
    'NotFoundError', 'AlreadyExistsError', 'PermissionDeniedError', 'ResourceExhaustedError',
    'FailedPreconditionError', 'AbortedError', 'OutOfRangeError', 'UnimplementedError',
    'InternalError', 'UnavailableError', 'DataLossError', 'UnauthenticatedError',
]

# --------------------------------------------------------------------------
# Errors


class RiegeliError(Exception):
  """Base class of Riegeli errors; `code` is the absl status code."""
  code = 2


class CancelledError(RiegeliError):
  code = 1


class UnknownError(RiegeliError):
  code = 2


class InvalidArgumentError(RiegeliError):
  code = 3


class DeadlineExceededError(RiegeliError):
  code = 4


class NotFoundError(RiegeliError):
  code = 5


class AlreadyExistsError(RiegeliError):
  code = 6


class PermissionDeniedError(RiegeliError):
  code = 7


class ResourceExhaustedError(RiegeliError):
  code = 8


class FailedPreconditionError(RiegeliError):
  code = 9


class AbortedError(RiegeliError):
  code = 10


class OutOfRangeError(RiegeliError):
  code = 11


class UnimplementedError(RiegeliError):
  code = 12


class InternalError(RiegeliError):
  code = 13


class UnavailableError(RiegeliError):
  code = 14


class DataLossError(RiegeliError):
  code = 15


class UnauthenticatedError(RiegeliError):
  code = 16


_riegeli._set_error_classes({
    cls.code: cls for cls in (
        CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError,
        NotFoundError, AlreadyExistsError, PermissionDeniedError, ResourceExhaustedError,
        FailedPreconditionError, AbortedError, OutOfRangeError, UnimplementedError,
        InternalError, UnavailableError, DataLossError, UnauthenticatedError)
})

highway_hash: Callable[[bytes], int] = _riegeli.highway_hash

# --------------------------------------------------------------------------
# Positions


def _encode_ordered_varint(value: int) -> bytes:
  """Encodes `value` so that byte order equals numeric order (spec §8)."""
  if not 0 <= value < 1 << 64:
    raise ValueError(f'position component out of range: {value}')
  length = 1 + (value.bit_length() - 1) // 7 if value else 1
  if length >= 9:
    return b'\xff' + value.to_bytes(8, 'big')
  prefix = (0xff << (9 - length)) & 0xff
  encoded = value.to_bytes(length, 'big')
  return bytes([prefix | encoded[0]]) + encoded[1:]


def _decode_ordered_varint(data: bytes, offset: int) -> tuple[int, int]:
  """Returns (value, next offset); raises ValueError on malformed input."""
  if offset >= len(data):
    raise ValueError('truncated ordered varint')
  first = data[offset]
  length = 1
  while length <= 8 and first & (0x80 >> (length - 1)):
    length += 1
  if offset + length > len(data):
    raise ValueError('truncated ordered varint')
  if length == 9:
    value = int.from_bytes(data[offset + 1:offset + 9], 'big')
  else:
    value = int.from_bytes(
        bytes([first & (0xff >> length)]) + data[offset + 1:offset + length], 'big')
  if length > 1 and _encode_ordered_varint(value) != data[offset:offset + length]:
    raise ValueError('non-canonical ordered varint')
  return value, offset + length


@functools.total_ordering
class RecordPosition:
  """Where a record is: (chunk_begin, record_index); numeric = their sum."""

  __slots__ = ('_chunk_begin', '_record_index')

  def __init__(self, chunk_begin: int, record_index: int) -> None:
    if chunk_begin < 0 or record_index < 0:
      raise ValueError(f'negative RecordPosition({chunk_begin}, {record_index})')
    self._chunk_begin = int(chunk_begin)
    self._record_index = int(record_index)

  @property
  def chunk_begin(self) -> int:
    return self._chunk_begin

  @property
  def record_index(self) -> int:
    return self._record_index

  @property
  def numeric(self) -> int:
    """chunk_begin + record_index: unique in a file, at most its size."""
    return self._chunk_begin + self._record_index

  def __str__(self) -> str:
    return f'{self._chunk_begin}/{self._record_index}'

  def __repr__(self) -> str:
    return f'RecordPosition({self._chunk_begin}, {self._record_index})'

  @classmethod
  def from_str(cls, text: str) -> 'RecordPosition':
    """Parses the "chunk_begin/record_index" form printed by str()."""
    parts = text.split('/')
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
      raise ValueError(f'invalid RecordPosition string {text!r}; expected "chunk_begin/index"')
    return cls(int(parts[0]), int(parts[1]))

  def to_bytes(self) -> bytes:
    """Two ordered varints: byte order equals position order."""
    return _encode_ordered_varint(self._chunk_begin) + _encode_ordered_varint(self._record_index)

  @classmethod
  def from_bytes(cls, data: bytes) -> 'RecordPosition':
    """Parses to_bytes() output, or the legacy 16-byte big-endian form."""
    data = bytes(data)
    try:
      chunk_begin, offset = _decode_ordered_varint(data, 0)
      record_index, offset = _decode_ordered_varint(data, offset)
      if offset == len(data):
        return cls(chunk_begin, record_index)
    except ValueError:
      pass
    if len(data) == 16:
      return cls(int.from_bytes(data[:8], 'big'), int.from_bytes(data[8:], 'big'))
    raise ValueError(f'invalid RecordPosition bytes {data!r}')

  def _key(self) -> tuple[int, int]:
    return (self._chunk_begin, self._record_index)

  def __eq__(self, other: object) -> bool:
    if not isinstance(other, RecordPosition):
      return NotImplemented
    return self._key() == other._key()

  def __lt__(self, other: 'RecordPosition') -> bool:
    if not isinstance(other, RecordPosition):
      return NotImplemented
    return self._key() < other._key()

  def __hash__(self) -> int:
    return hash(self._key())


class SkippedRegion:
  """A byte range [begin, end) of numeric positions skipped by recovery."""

  __slots__ = ('begin', 'end', 'message')

  def __init__(self, begin: int, end: int, message: str) -> None:
    self.begin = begin
    self.end = end
    self.message = message

  @property
  def length(self) -> int:
    return self.end - self.begin

  def __str__(self) -> str:
    return f'[{self.begin}..{self.end}): {self.message}'

  def __repr__(self) -> str:
    return f'SkippedRegion({self.begin}, {self.end}, {self.message!r})'


class FlushType(enum.IntEnum):
  """How far flush() pushes the data."""
  FROM_OBJECT = 0
  FROM_PROCESS = 1
  FROM_MACHINE = 2


# --------------------------------------------------------------------------
# RecordsMetadata, built at runtime in a private descriptor pool so that it
# does not clash with the real `riegeli` package if both are loaded.


def _build_records_metadata_class() -> Type[message_lib.Message]:
  pool = descriptor_pool.DescriptorPool()
  pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
  file_proto = descriptor_pb2.FileDescriptorProto(
      name='riegeli/records/records_metadata.proto',
      package='riegeli',
      syntax='proto2',
      dependency=['google/protobuf/descriptor.proto'])
  message = file_proto.message_type.add(name='RecordsMetadata')
  field_type = descriptor_pb2.FieldDescriptorProto
  for number, name, kind, label, type_name in (
      (1, 'file_comment', field_type.TYPE_STRING, field_type.LABEL_OPTIONAL, None),
      (2, 'record_type_name', field_type.TYPE_STRING, field_type.LABEL_OPTIONAL, None),
      (3, 'file_descriptor', field_type.TYPE_MESSAGE, field_type.LABEL_REPEATED,
       '.google.protobuf.FileDescriptorProto'),
      (4, 'record_writer_options', field_type.TYPE_STRING, field_type.LABEL_OPTIONAL, None),
      (5, 'num_records', field_type.TYPE_INT64, field_type.LABEL_OPTIONAL, None),
  ):
    field = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
      field.type_name = type_name
  message.extension_range.add(start=1000, end=536870912)
  pool.Add(file_proto)
  return message_factory.GetMessageClass(pool.FindMessageTypeByName('riegeli.RecordsMetadata'))


RecordsMetadata = _build_records_metadata_class()

_Message = TypeVar('_Message', bound=message_lib.Message)


def set_record_type(metadata: message_lib.Message, message_type: Type[message_lib.Message]) -> None:
  """Stores the record type's name and its .proto files (dependencies first)."""
  metadata.record_type_name = message_type.DESCRIPTOR.full_name
  del metadata.file_descriptor[:]
  seen = set()

  def add(file_descriptor: Any) -> None:
    if file_descriptor.name in seen:
      return
    seen.add(file_descriptor.name)
    for dependency in file_descriptor.dependencies:
      add(dependency)
    file_descriptor.CopyToProto(metadata.file_descriptor.add())

  add(message_type.DESCRIPTOR.file)


def get_record_type(metadata: message_lib.Message) -> Optional[Type[message_lib.Message]]:
  """Rebuilds the record type stored by set_record_type(), or None."""
  if not metadata.record_type_name:
    return None
  pool = descriptor_pool.DescriptorPool()
  for file_proto in metadata.file_descriptor:
    pool.Add(file_proto)
  return message_factory.GetMessageClass(pool.FindMessageTypeByName(metadata.record_type_name))


# --------------------------------------------------------------------------
# Writer and reader

_PathLike = Union[str, bytes, os.PathLike]


def _is_path(obj: Any) -> bool:
  return isinstance(obj, (str, bytes, os.PathLike))


def _fileno(obj: Any) -> Optional[int]:
  """The descriptor of a file object, or None if it has no working one."""
  fileno = getattr(obj, 'fileno', None)
  if fileno is None:
    return None
  try:
    return fileno()
  except (OSError, io.UnsupportedOperation, ValueError):
    return None


def _object_name(obj: Any) -> str:
  name = getattr(obj, 'name', None)
  return name if isinstance(name, str) else f'<{type(obj).__name__}>'


def _start_pos(dest: Any, assumed_pos: Optional[int]) -> int:
  """Where writing to file object `dest` starts: assumed_pos or dest.tell()."""
  if assumed_pos is not None:
    if assumed_pos < 0:
      raise ValueError(f'assumed_pos must be non-negative, got {assumed_pos}')
    return assumed_pos
  try:
    return dest.tell()
  except (OSError, AttributeError, io.UnsupportedOperation) as error:
    raise ValueError(f'cannot tell() the position of {_object_name(dest)} ({error}); '
                     'pass assumed_pos') from error


def _position(pair: tuple[int, int]) -> RecordPosition:
  return RecordPosition(pair[0], pair[1])


_Closable = TypeVar('_Closable', bound='_ClosesOnExit')


class _ClosesOnExit:
  """`with` support for RecordWriter and RecordReader: close() on exit.

  When the block raised, that exception propagates even if close() fails too.
  """

  def close(self) -> None:
    raise NotImplementedError

  def __enter__(self: _Closable) -> _Closable:
    return self

  def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    if exc_type is None:
      self.close()
      return
    try:  # The exception in flight matters more than a failure to close.
      self.close()
    except RiegeliError:
      pass


class RecordWriter(_ClosesOnExit):
  """Writes records to a Riegeli/records file.

  Args:
    dest: a path (the file is created or truncated) or a binary file object.
    owns_dest: whether close() also closes a file object `dest`.
    assumed_pos: the position of the file object's current end, for objects
      that cannot tell(); None means `dest.tell()`. A nonzero position means
      appending: no signature and no metadata are written.
    min_buffer_size, max_buffer_size, buffer_size: accepted for
      compatibility; `max_buffer_size` bounds the bytes kept in memory for a
      file object without a descriptor between writes to it.
    options: RecordWriterOptions text, e.g. 'transpose,zstd:3'.
    metadata: a RecordsMetadata message to store in the file.
    serialized_metadata: the same, serialized (conflicts with `metadata`).
  """

  def __init__(self,
               dest: Union[_PathLike, BinaryIO],
               *,
               owns_dest: bool = True,
               assumed_pos: Optional[int] = None,
               min_buffer_size: int = 4 << 10,
               max_buffer_size: int = 64 << 10,
               buffer_size: Optional[int] = None,
               options: str = '',
               metadata: Optional[message_lib.Message] = None,
               serialized_metadata: bytes = b'') -> None:
    del min_buffer_size  # Buffering is the native sink's business.
    if metadata is not None and serialized_metadata:
      raise ValueError('metadata and serialized_metadata conflict; give at most one')
    if metadata is not None:
      serialized = metadata.SerializeToString()
    else:
      serialized = bytes(serialized_metadata) if serialized_metadata else None
    self._dest = dest
    self._owns_dest = owns_dest
    self._file_object: Optional[BinaryIO] = None
    self._max_buffered = buffer_size if buffer_size is not None else max_buffer_size
    if _is_path(dest):
      self._native = _riegeli.RecordWriter('path', os.fsdecode(dest), os.fsdecode(dest), 0,
                                           options, serialized)
      return
    self._file_object = dest
    fd = _fileno(dest)
    if fd is not None:
      dest.flush()
      pos = _start_pos(dest, assumed_pos)
      self._native = _riegeli.RecordWriter('fd', os.dup(fd), _object_name(dest), pos, options,
                                           serialized)
      self._buffered = False
    else:
      pos = _start_pos(dest, assumed_pos)
      self._native = _riegeli.RecordWriter('buffer', None, _object_name(dest), pos, options,
                                           serialized)
      self._buffered = True

  @property
  def dest(self) -> Any:
    return self._dest

  @property
  def pos(self) -> RecordPosition:
    """Position the next record will get."""
    return _position(self._native.pos)

  @property
  def last_pos(self) -> RecordPosition:
    """Position of the last record written."""
    return _position(self._native.last_pos)

  def _drain(self) -> None:
    if self._file_object is not None and self._buffered:
      output = self._native.take_output()
      if output:
        self._file_object.write(output)

  def write_record(self, record: Union[bytes, bytearray, memoryview]) -> None:
    """Writes one record (any bytes-like object)."""
    self._native.write_record(record)
    if self._file_object is not None and self._buffered and (
        self._native.buffered() > self._max_buffered):
      self._drain()

  def write_message(self, record: message_lib.Message) -> None:
    """Writes a serialized protocol buffer message."""
    self.write_record(record.SerializeToString())

  def write_records(self, records: Iterable[Union[bytes, bytearray, memoryview]]) -> None:
    """Writes each record of `records`."""
    if not isinstance(records, (list, tuple)):
      records = list(records)
    self._native.write_records(records)
    self._drain()

  def write_messages(self, records: Iterable[message_lib.Message]) -> None:
    """Writes each message of `records`, serialized."""
    self.write_records([record.SerializeToString() for record in records])

  def flush(self, flush_type: FlushType = FlushType.FROM_PROCESS) -> None:
    """Closes the open chunk and pushes the data as far as `flush_type` says."""
    self._native.flush(int(flush_type))
    if self._file_object is not None and self._buffered:
      self._drain()
      if flush_type != FlushType.FROM_OBJECT and hasattr(self._file_object, 'flush'):
        self._file_object.flush()

  def estimated_size(self) -> int:
    """The file size if the writer were flushed now, approximately."""
    return self._native.pos[0]

  def close(self) -> None:
    """Writes everything out and closes the file (and `dest` if owned)."""
    try:
      self._native.close()
      self._drain()
    finally:
      if self._file_object is not None and self._owns_dest:
        self._file_object.close()



class _Batch:
  """Records read_records() fetched from one chunk: `count` records from
  (chunk_begin, first_index) on, of which the first `yielded` were yielded."""

  __slots__ = ('chunk_begin', 'first_index', 'count', 'yielded')

  def __init__(self, chunk_begin: int, first_index: int, count: int) -> None:
    self.chunk_begin = chunk_begin
    self.first_index = first_index
    self.count = count
    self.yielded = 0


class RecordReader(_ClosesOnExit):
  """Reads records from a Riegeli/records file.

  Args:
    src: a path or a binary file object (read from its start).
    owns_src: whether close() also closes a file object `src`.
    assumed_pos, min_buffer_size, max_buffer_size, buffer_size: accepted for
      compatibility and ignored.
    field_projection: must be None (field projection is not implemented).
    recovery: called with a SkippedRegion whenever corrupted data is
      skipped; return normally to continue, raise StopIteration to stop
      reading as at the end of the file. Without it, corruption raises.
  """

  def __init__(self,
               src: Union[_PathLike, BinaryIO],
               *,
               owns_src: bool = True,
               assumed_pos: Optional[int] = None,
               min_buffer_size: int = 4 << 10,
               max_buffer_size: int = 64 << 10,
               buffer_size: Optional[int] = None,
               field_projection: Optional[Iterable[Iterable[int]]] = None,
               recovery: Optional[Callable[[SkippedRegion], Any]] = None) -> None:
    del assumed_pos, min_buffer_size, max_buffer_size, buffer_size
    if field_projection is not None:
      raise NotImplementedError('field_projection is not supported by envlogger.riegeli')
    self._src = src
    self._owns_src = owns_src
    self._file_object: Optional[BinaryIO] = None
    self._recovery = recovery
    self._stopped = False
    # read_records() fetches records a chunk at a time: the batch it is
    # yielding from (the native reader stands after its last record) and the
    # position of the record it yielded last. `_last_pos` is None when the
    # native reader's own last_pos is the last record returned.
    self._batch: Optional[_Batch] = None
    self._last_pos: Optional[RecordPosition] = None
    native_recovery = None
    if recovery is not None:
      # Through a weak reference: the native reader must not keep this
      # wrapper (and its file) alive.
      self_ref = weakref.ref(self)

      def native_recovery(begin: int, end: int, message: str) -> bool:
        reader = self_ref()
        return reader is not None and reader._native_recovery(begin, end, message)
    if _is_path(src):
      self._native = _riegeli.RecordReader('path', os.fsdecode(src), os.fsdecode(src),
                                           native_recovery)
      return
    self._file_object = src
    fd = _fileno(src)
    if fd is not None:
      self._native = _riegeli.RecordReader('fd', os.dup(fd), _object_name(src), native_recovery)
    else:
      self._native = _riegeli.RecordReader('bytes', src.read(), _object_name(src),
                                           native_recovery)

  def _native_recovery(self, begin: int, end: int, message: str) -> bool:
    try:
      self._recovery(SkippedRegion(begin, end, message))
    except StopIteration:
      self._stopped = True
      return False
    return True

  @property
  def src(self) -> Any:
    return self._src

  @property
  def pos(self) -> RecordPosition:
    """Position of the next record."""
    batch = self._batch
    if batch is not None and batch.yielded < batch.count:
      return RecordPosition(batch.chunk_begin, batch.first_index + batch.yielded)
    return _position(self._native.pos)

  @property
  def last_pos(self) -> RecordPosition:
    """Canonical position of the record most recently returned."""
    if self._last_pos is not None:
      return self._last_pos
    return _position(self._native.last_pos)

  def _sync(self) -> None:
    """Moves the native reader back to the first record read_records() has
    fetched but not yielded yet, and detaches that generator's batch (it
    fetches anew when resumed)."""
    batch = self._batch
    self._batch = None
    if batch is not None and batch.yielded < batch.count:
      # Within the native reader's current chunk: no I/O.
      self._native.seek_numeric(batch.chunk_begin + batch.first_index + batch.yielded)

  def _returned_native_record(self) -> None:
    """The native reader's last_pos names the record just returned."""
    self._last_pos = None

  @property
  def supports_random_access(self) -> bool:
    return True

  def read_record(self) -> Optional[bytes]:
    """The next record, or None at the end of the file."""
    if self._stopped:
      return None
    self._sync()
    record = self._native.read_record()
    if record is not None:
      self._returned_native_record()
    return record

  def read_message(self, message_type: Type[_Message]) -> Optional[_Message]:
    """The next record parsed as `message_type`, or None at the end.

    A record that does not parse raises google.protobuf.message.DecodeError,
    or with recovery is skipped and reported as a SkippedRegion.
    """
    while True:
      record = self.read_record()
      if record is None:
        return None
      try:
        return message_type.FromString(record)
      except message_lib.DecodeError as error:
        if self._recovery is None:
          raise
        region = SkippedRegion(self.last_pos.numeric, self.pos.numeric,
                               f'Failed to parse message of type {message_type.DESCRIPTOR.full_name}: {error}')
        try:
          self._recovery(region)
        except StopIteration:
          self._stopped = True
          return None

  def read_records(self) -> Iterator[bytes]:
    """Yields the remaining records.

    Records are fetched from the native reader a chunk at a time, but
    last_pos and pos always describe the record last yielded, and other
    reading or seeking calls between two yields continue right after it.
    """
    while not self._stopped:
      self._sync()
      chunk_begin, first_index, records = self._native.read_records(256)
      if not records:
        return
      batch = _Batch(chunk_begin, first_index, len(records))
      self._batch = batch
      for record in records:
        if self._batch is not batch:
          break  # Another call read or seeked in between: fetch anew.
        self._last_pos = RecordPosition(chunk_begin, first_index + batch.yielded)
        batch.yielded += 1
        yield record
      if self._batch is batch:
        self._batch = None

  def read_messages(self, message_type: Type[_Message]) -> Iterator[_Message]:
    """Yields the remaining records parsed as `message_type`."""
    while True:
      message = self.read_message(message_type)
      if message is None:
        return
      yield message

  def __iter__(self) -> Iterator[bytes]:
    return self.read_records()

  def read_record_at(self, numeric: int) -> Optional[bytes]:
    """The record at numeric position `numeric` (or the next one after it).

    Served from the last decoded chunk when possible, so nearby random reads
    decode each chunk once.
    """
    self._stopped = False
    self._batch = None
    record = self._native.read_record_at(numeric)
    if record is not None:
      self._returned_native_record()
    return record

  def seek(self, pos: RecordPosition) -> None:
    """Positions the reader at `pos`."""
    self._stopped = False
    self._batch = None
    self._native.seek(pos.chunk_begin, pos.record_index)

  def seek_numeric(self, pos: int) -> None:
    """Positions at numeric `pos`; between records means the next record."""
    self._stopped = False
    self._batch = None
    self._native.seek_numeric(pos)

  def seek_back(self) -> bool:
    """Positions at the previous record; False at the start of the file."""
    self._stopped = False
    self._sync()
    return self._native.seek_back()

  def size(self) -> int:
    """The file size."""
    return self._native.size()

  def read_serialized_metadata(self) -> Optional[bytes]:
    """The serialized RecordsMetadata; b'' if the file has none; None if the
    file ends before a chunk follows the signature."""
    return self._native.read_serialized_metadata()

  def read_metadata(self) -> Optional[message_lib.Message]:
    """The file's RecordsMetadata (see read_serialized_metadata)."""
    serialized = self.read_serialized_metadata()
    if serialized is None:
      return None
    try:
      return RecordsMetadata.FromString(serialized)
    except message_lib.DecodeError as error:
      if self._recovery is None:
        raise
      try:
        self._recovery(SkippedRegion(0, 0, f'Invalid RecordsMetadata: {error}'))
      except StopIteration:
        pass
      return RecordsMetadata()

  def close(self) -> None:
    """Closes the reader; reports a truncated file unless recovery is set."""
    try:
      self._native.close()
    finally:
      if self._file_object is not None and self._owns_src:
        self._file_object.close()

