"""What RecordWriter and RecordReader share: file objects, positions from the
native layer, and closing on `with` exit."""

from __future__ import annotations

import io
import os
from typing import Any, Optional, TypeVar, Union

from envlogger.riegeli.errors import RiegeliError
from envlogger.riegeli.positions import RecordPosition

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
    raise ValueError(
      f'cannot tell() the position of {_object_name(dest)} ({error}); pass assumed_pos'
    ) from error


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
