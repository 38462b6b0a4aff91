"""RecordReader: reads records from a Riegeli/records file."""

from __future__ import annotations

import os
import weakref
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Optional, Type, TypeVar, Union

from google.protobuf import message as message_lib

from envlogger import _native
from envlogger.riegeli._files import (
  _ClosesOnExit,
  _PathLike,
  _fileno,
  _is_path,
  _object_name,
  _position,
)
from envlogger.riegeli.positions import RecordPosition, SkippedRegion
from envlogger.riegeli.records_metadata import RecordsMetadata

_riegeli = _native.riegeli

_Message = TypeVar('_Message', bound=message_lib.Message)


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

  def __init__(
    self,
    src: Union[_PathLike, BinaryIO],
    *,
    owns_src: bool = True,
    assumed_pos: Optional[int] = None,
    min_buffer_size: int = 4 << 10,
    max_buffer_size: int = 64 << 10,
    buffer_size: Optional[int] = None,
    field_projection: Optional[Iterable[Iterable[int]]] = None,
    recovery: Optional[Callable[[SkippedRegion], Any]] = None,
  ) -> None:
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
      self._native = _riegeli.RecordReader(
        'path', os.fsdecode(src), os.fsdecode(src), native_recovery
      )
      return
    self._file_object = src
    fd = _fileno(src)
    if fd is not None:
      self._native = _riegeli.RecordReader('fd', os.dup(fd), _object_name(src), native_recovery)
    else:
      self._native = _riegeli.RecordReader('bytes', src.read(), _object_name(src), native_recovery)

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
        region = SkippedRegion(
          self.last_pos.numeric,
          self.pos.numeric,
          f'Failed to parse message of type {message_type.DESCRIPTOR.full_name}: {error}',
        )
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
