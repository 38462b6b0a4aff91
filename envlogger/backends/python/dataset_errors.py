"""Exceptions of the native dataset layer (`envlogger._native.dataset_io`).

Every failure of the C++ dataset reader and writers is raised as a
`DatasetError`: a `RuntimeError`, as upstream raises, whose message is
"<CODE>: <message>" (e.g. "NOT_FOUND: Data directory /x does not exist") and
whose class carries the absl status code, so callers choose by class, never
by message text:

    try:
      reader.init(path)
    except dataset_errors.NotFoundError:
      ...

Two errors callers handle rather than report have classes of their own:
`EmptyShardError` (a shard whose writer never flushed; the other shards stay
readable) and `DamagedChunkError` (a record in a damaged chunk, also a
`backend_reader.DamagedDataError`).
"""

from envlogger import _native
from envlogger.backends import backend_reader


class DatasetError(RuntimeError):
  """Base class; `code` is the absl status code, `code_name` its name."""

  code = 2
  code_name = 'UNKNOWN'


class CancelledError(DatasetError):
  code, code_name = 1, 'CANCELLED'


class UnknownError(DatasetError):
  code, code_name = 2, 'UNKNOWN'


class InvalidArgumentError(DatasetError):
  code, code_name = 3, 'INVALID_ARGUMENT'


class DeadlineExceededError(DatasetError):
  code, code_name = 4, 'DEADLINE_EXCEEDED'


class NotFoundError(DatasetError):
  code, code_name = 5, 'NOT_FOUND'


class AlreadyExistsError(DatasetError):
  code, code_name = 6, 'ALREADY_EXISTS'


class PermissionDeniedError(DatasetError):
  code, code_name = 7, 'PERMISSION_DENIED'


class ResourceExhaustedError(DatasetError):
  code, code_name = 8, 'RESOURCE_EXHAUSTED'


class FailedPreconditionError(DatasetError):
  code, code_name = 9, 'FAILED_PRECONDITION'


class AbortedError(DatasetError):
  code, code_name = 10, 'ABORTED'


class OutOfRangeError(DatasetError):
  code, code_name = 11, 'OUT_OF_RANGE'


class UnimplementedError(DatasetError):
  code, code_name = 12, 'UNIMPLEMENTED'


class InternalError(DatasetError):
  code, code_name = 13, 'INTERNAL'


class UnavailableError(DatasetError):
  code, code_name = 14, 'UNAVAILABLE'


class DataLossError(DatasetError):
  code, code_name = 15, 'DATA_LOSS'


class EmptyShardError(NotFoundError):
  """A shard whose index lists no step: its writer never flushed.

  Raised by a reader's init() after loading every other shard, which stay
  readable ("NOT_FOUND: Empty steps in <shard>/step_offsets.riegeli").
  """


class DamagedChunkError(DataLossError, backend_reader.DamagedDataError):
  """A step or episode metadata record lies in a damaged or cut-off chunk.

  The reader recorded the unreadable byte range (skipped_regions()); other
  records stay readable.
  """


# One class per status code: the direct subclasses of DatasetError above.
_BY_CODE = {cls.code: cls for cls in DatasetError.__subclasses__()}
# Keys: the Status reasons of envlogger/backends/cc/riegeli_shard_reader.h.
_BY_REASON = {'empty_shard': EmptyShardError, 'damaged_chunk': DamagedChunkError}

_native.dataset_io._set_error_classes(_BY_CODE, _BY_REASON)
