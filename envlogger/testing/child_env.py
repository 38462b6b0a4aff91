"""The environment of a child Python process that must import this very envlogger.

Under Bazel, in the development container or from a checkout, the package the
test imported is not necessarily the one `python -c ...` would find from the
child's working directory; putting its parent first on PYTHONPATH makes the
child import the same package (with the same built extension).
"""

import os
import pathlib
from typing import Dict

import envlogger


def child_env(**overrides: str) -> Dict[str, str]:
  """os.environ with the imported envlogger's parent first on PYTHONPATH, plus `overrides`."""
  parent = str(pathlib.Path(envlogger.__file__).resolve().parent.parent)
  paths = [parent] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
  return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), **overrides)
