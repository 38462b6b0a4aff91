"""Tests of the public names exported by the `envlogger` package."""

import os
import subprocess
import sys

import envlogger
from envlogger import environment_logger
from envlogger import reader
from envlogger import step_data
from envlogger.backends import backend_type
from envlogger.backends import schedulers
from envlogger.proto import storage_pb2

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_exports():
  assert envlogger.EnvLogger is environment_logger.EnvLogger
  assert envlogger.Reader is reader.Reader
  assert envlogger.BackendType is backend_type.BackendType
  assert envlogger.StepData is step_data.StepData
  assert envlogger.Scheduler is schedulers.Scheduler
  assert envlogger.Data is storage_pb2.Data
  assert envlogger.Datum is storage_pb2.Datum
  assert envlogger.step_data is step_data and envlogger.reader is reader


def test_backend_type_values():
  assert int(envlogger.BackendType.RIEGELI) == 0
  assert int(envlogger.BackendType.IN_MEMORY) == 1


def test_unknown_attribute():
  try:
    envlogger.NoSuchThing  # pylint: disable=pointless-statement
  except AttributeError as e:
    assert 'NoSuchThing' in str(e)
  else:
    raise AssertionError('expected AttributeError')


def _run(code: str) -> str:
  result = subprocess.run(
    [sys.executable, '-c', code],
    cwd=_REPO_ROOT,
    capture_output=True,
    text=True,
    timeout=60,
    check=True,
  )
  return result.stdout


def test_in_memory_use_does_not_import_the_riegeli_backend():
  out = _run(
    'import sys\n'
    'import envlogger\n'
    'from envlogger.testing import catch_env\n'
    'with envlogger.EnvLogger(catch_env.Catch(),\n'
    '    backend=envlogger.BackendType.IN_MEMORY) as env:\n'
    '  env.reset(); env.step(1)\n'
    'w = env._backend\n'
    'r = envlogger.Reader(w, backend=envlogger.BackendType.IN_MEMORY)\n'
    'assert len(r.steps) == 2\n'
    'print(sorted(m for m in sys.modules if "riegeli" in m))\n'
  )
  assert out.strip() == '[]'


def test_riegeli_backend_writer_is_resolved_on_access():
  # Accessing the name imports the backend module (whether or not the native
  # extension is built yet, the lookup must go to that module).
  out = _run(
    'import sys, envlogger\n'
    'try:\n'
    '  cls = envlogger.RiegeliBackendWriter\n'
    '  print(cls.__module__)\n'
    'except ImportError as e:\n'
    '  print("ImportError", "envlogger.backends.riegeli_backend_writer" in\n'
    '        sys.modules or "riegeli" in str(e) or "riegeli" in\n'
    '        repr(e.name))\n'
  )
  assert out.strip() in ('envlogger.backends.riegeli_backend_writer', 'ImportError True'), out
