"""Riegeli errors: one exception class per absl status code.

The native layer raises them (registered below); every class carries its
`code`.
"""

from __future__ import annotations

from envlogger import _native


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


# One class per status code: the subclasses of RiegeliError above.
_native.riegeli._set_error_classes({cls.code: cls for cls in RiegeliError.__subclasses__()})
