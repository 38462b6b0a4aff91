"""Where records are: RecordPosition, and SkippedRegion for bytes recovery skipped."""

from __future__ import annotations

import functools


def _encode_ordered_varint(value: int) -> bytes:
  """Encodes `value` so that byte order equals numeric order (spec §8)."""
  if not 0 <= value < 1 << 64:
    raise ValueError(f'position component out of range: {value}')
  length = 1 + (value.bit_length() - 1) // 7 if value else 1
  if length >= 9:
    return b'\xff' + value.to_bytes(8, 'big')
  prefix = (0xFF << (9 - length)) & 0xFF
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
    value = int.from_bytes(data[offset + 1 : offset + 9], 'big')
  else:
    value = int.from_bytes(
      bytes([first & (0xFF >> length)]) + data[offset + 1 : offset + length], 'big'
    )
  if length > 1 and _encode_ordered_varint(value) != data[offset : offset + length]:
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
