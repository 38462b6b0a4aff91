"""envlogger: record dm_env trajectories to Riegeli datasets and read them.

`RiegeliBackendWriter` (and the `riegeli_backend_writer` module) are resolved
on first access, so `import envlogger` and the in-memory backend work even
when the native extension is not built. `GymnasiumLogger` and
`GymnasiumVectorLogger` are also resolved on first access, so that
`import envlogger` does not import gymnasium (extra `envlogger[gymnasium]`).
"""

from typing import Any

from envlogger import environment_logger
from envlogger import reader
from envlogger import step_data
from envlogger import writer_name
from envlogger.backends import backend_type
from envlogger.backends import schedulers
from envlogger.proto import storage_pb2

EnvLogger = environment_logger.EnvLogger
Reader = reader.Reader
BackendType = backend_type.BackendType
StepData = step_data.StepData
Scheduler = schedulers.Scheduler
Data = storage_pb2.Data
Datum = storage_pb2.Datum
unique_writer_name = writer_name.unique_writer_name
WriterNameTakenError = writer_name.WriterNameTakenError

# Resolved on first access: they need gymnasium.
_GYMNASIUM_CLASSES = {
  'GymnasiumLogger': ('envlogger.gymnasium_logger', 'GymnasiumLogger'),
  'GymnasiumVectorLogger': ('envlogger.gymnasium_vector_logger', 'GymnasiumVectorLogger'),
}


def __getattr__(name: str) -> Any:
  if name in ('RiegeliBackendWriter', 'riegeli_backend_writer'):
    from envlogger.backends import riegeli_backend_writer  # pylint: disable=g-import-not-at-top

    return (
      riegeli_backend_writer
      if name == 'riegeli_backend_writer'
      else riegeli_backend_writer.RiegeliBackendWriter
    )
  if name in _GYMNASIUM_CLASSES:
    try:
      import gymnasium  # pylint: disable=g-import-not-at-top,unused-import  # noqa: F401
    except ImportError as e:
      raise ImportError(
        f'envlogger.{name} needs Gymnasium: pip install envlogger[gymnasium]'
      ) from e
    import importlib  # pylint: disable=g-import-not-at-top

    module_name, class_name = _GYMNASIUM_CLASSES[name]
    return getattr(importlib.import_module(module_name), class_name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
