"""Names of the built-in storage backends."""

import enum


class BackendType(enum.IntEnum):
  """Backends that `EnvLogger` and `Reader` can create by name."""

  RIEGELI = 0
  IN_MEMORY = 1
