"""RecordWriter: writes records to a Riegeli/records file."""

from __future__ import annotations

import enum
import os
from typing import Any, BinaryIO, Iterable, Optional, Union

from google.protobuf import message as message_lib

from envlogger import _native
from envlogger.riegeli._files import (
  _ClosesOnExit,
  _PathLike,
  _fileno,
  _is_path,
  _object_name,
  _position,
  _start_pos,
)
from envlogger.riegeli.positions import RecordPosition

_riegeli = _native.riegeli


class FlushType(enum.IntEnum):
  """How far flush() pushes the data."""

  FROM_OBJECT = 0
  FROM_PROCESS = 1
  FROM_MACHINE = 2


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

  def __init__(
    self,
    dest: Union[_PathLike, BinaryIO],
    *,
    owns_dest: bool = True,
    assumed_pos: Optional[int] = None,
    min_buffer_size: int = 4 << 10,
    max_buffer_size: int = 64 << 10,
    buffer_size: Optional[int] = None,
    options: str = '',
    metadata: Optional[message_lib.Message] = None,
    serialized_metadata: bytes = b'',
  ) -> None:
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
      self._native = _riegeli.RecordWriter(
        'path', os.fsdecode(dest), os.fsdecode(dest), 0, options, serialized
      )
      return
    self._file_object = dest
    fd = _fileno(dest)
    if fd is not None:
      dest.flush()
      pos = _start_pos(dest, assumed_pos)
      self._native = _riegeli.RecordWriter(
        'fd', os.dup(fd), _object_name(dest), pos, options, serialized
      )
      self._buffered = False
    else:
      pos = _start_pos(dest, assumed_pos)
      self._native = _riegeli.RecordWriter(
        'buffer', None, _object_name(dest), pos, options, serialized
      )
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
    if (
      self._file_object is not None
      and self._buffered
      and (self._native.buffered() > self._max_buffered)
    ):
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
