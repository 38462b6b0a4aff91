"""The environment of a child Python process that must import this very envlogger.

Under Bazel, in the development container or from a checkout, the package the
test imported is not necessarily the one `python -c ...` would find from the
child's working directory; putting its parent first on PYTHONPATH makes the
child import the same package (with the same built extension).
"""

import os
import pathlib
import subprocess
import sys
from typing import Dict

import envlogger


def child_env(**overrides: str) -> Dict[str, str]:
  """os.environ with the imported envlogger's parent first on PYTHONPATH, plus `overrides`."""
  parent = str(pathlib.Path(envlogger.__file__).resolve().parent.parent)
  paths = [parent] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
  return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), **overrides)


def run_python(code: str) -> str:
  """Runs `code` in a child Python that imports this envlogger; returns its stdout.

  Raises:
    subprocess.CalledProcessError: if the child exits non-zero (e.g. an assert).
  """
  parent = pathlib.Path(envlogger.__file__).resolve().parent.parent
  return subprocess.run(
    [sys.executable, '-c', code],
    capture_output=True,
    text=True,
    check=True,
    cwd=str(parent),
    env=child_env(),
  ).stdout


def import_error_without(extra_module: str, module: str) -> str:
  """The ImportError text of importing `module` in a child where `extra_module` is missing.

  The child first checks that `import envlogger` alone does not import
  `extra_module` (an optional extra); '' if importing `module` succeeds.
  """
  return run_python(
    'import sys\n'
    'import envlogger\n'
    f'assert {extra_module!r} not in sys.modules, "import envlogger imported {extra_module}"\n'
    f'sys.modules[{extra_module!r}] = None\n'
    'try:\n'
    f'  import {module}\n'
    'except ImportError as e:\n'
    '  print(e)\n'
  )
