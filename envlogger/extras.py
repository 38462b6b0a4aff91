"""Imports of optional extras that fail with the `pip install` line to run.

envlogger's optional integrations import their third-party package through
`import_extra`, so that a missing package is an ImportError naming the extra
(`pip install envlogger[tf]`) instead of a bare ModuleNotFoundError.
"""

import importlib
import types

# The top-level modules the optional extras (pyproject.toml) install, and the
# extra of each.
EXTRA_OF_MODULE = {
  'torch': 'torch',
  'tensorflow': 'tf',
  'tensorflow_datasets': 'tf',
  'apache_beam': 'beam',
  'ray': 'ray',
  'gymnasium': 'gymnasium',
  'minari': 'minari',
  'matplotlib': 'viz',
  'PIL': 'viz',  # Pillow, installed with matplotlib.
  'imageio': 'viz',
  'imageio_ffmpeg': 'viz',
}


def import_extra(module: str, extra: str, user: str, what: str) -> types.ModuleType:
  """Imports `module`, which the optional extra `extra` installs.

  Args:
    module: the module to import, e.g. 'tensorflow_datasets'.
    extra: the envlogger extra that installs it, e.g. 'tf'.
    user: who needs it, for the message: the caller's module name (spelled out,
      as `__name__` is '__main__' under `python -m`).
    what: the package's name for humans, e.g. 'TensorFlow Datasets'.

  Returns:
    The module.

  Raises:
    ImportError: `module` cannot be imported; the message names `extra`.
  """
  try:
    return importlib.import_module(module)
  except ImportError as e:
    raise ImportError(f'{user} needs {what} ({module}): pip install envlogger[{extra}]') from e
