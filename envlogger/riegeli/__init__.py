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

This file only re-exports: errors.py (one exception class per status code),
positions.py (RecordPosition, SkippedRegion), records_metadata.py,
writer.py and reader.py.
"""

from typing import Callable

from envlogger import _native
from envlogger.riegeli.errors import AbortedError
from envlogger.riegeli.errors import AlreadyExistsError
from envlogger.riegeli.errors import CancelledError
from envlogger.riegeli.errors import DataLossError
from envlogger.riegeli.errors import DeadlineExceededError
from envlogger.riegeli.errors import FailedPreconditionError
from envlogger.riegeli.errors import InternalError
from envlogger.riegeli.errors import InvalidArgumentError
from envlogger.riegeli.errors import NotFoundError
from envlogger.riegeli.errors import OutOfRangeError
from envlogger.riegeli.errors import PermissionDeniedError
from envlogger.riegeli.errors import ResourceExhaustedError
from envlogger.riegeli.errors import RiegeliError
from envlogger.riegeli.errors import UnauthenticatedError
from envlogger.riegeli.errors import UnavailableError
from envlogger.riegeli.errors import UnimplementedError
from envlogger.riegeli.errors import UnknownError
from envlogger.riegeli.positions import RecordPosition
from envlogger.riegeli.positions import SkippedRegion
from envlogger.riegeli.reader import RecordReader
from envlogger.riegeli.records_metadata import get_record_type
from envlogger.riegeli.records_metadata import RecordsMetadata
from envlogger.riegeli.records_metadata import set_record_type
from envlogger.riegeli.writer import FlushType
from envlogger.riegeli.writer import RecordWriter

highway_hash: Callable[[bytes], int] = _native.riegeli.highway_hash

__all__ = [
  'RecordWriter',
  'RecordReader',
  'RecordPosition',
  'SkippedRegion',
  'RecordsMetadata',
  'FlushType',
  'set_record_type',
  'get_record_type',
  'highway_hash',
  'RiegeliError',
  'CancelledError',
  'UnknownError',
  'InvalidArgumentError',
  'DeadlineExceededError',
  'NotFoundError',
  'AlreadyExistsError',
  'PermissionDeniedError',
  'ResourceExhaustedError',
  'FailedPreconditionError',
  'AbortedError',
  'OutOfRangeError',
  'UnimplementedError',
  'InternalError',
  'UnavailableError',
  'DataLossError',
  'UnauthenticatedError',
]
