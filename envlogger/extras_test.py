"""A missing optional extra is an ImportError naming the extra to install."""

import subprocess
import sys
import textwrap

import pytest

from envlogger import extras

# Modules that need the `tf` extra, as users reach them.
_TF_MODULES = [
  'envlogger.backends.tfds_backend_writer',
  'envlogger.tools.convert_riegeli_to_tfds',
  'envlogger.tools.convert_tfds_to_riegeli',
  'envlogger.examples.tfds_random_agent_catch',
]


def test_import_extra_returns_the_module():
  assert extras.import_extra('json', 'none', 'test', 'JSON') is sys.modules['json']


def test_import_extra_names_the_extra():
  with pytest.raises(
    ImportError,
    match=r'^me needs Nothing \(envlogger_no_such_module\): '
    r'pip install envlogger\[nothing\]$',
  ) as raised:
    extras.import_extra('envlogger_no_such_module', 'nothing', 'me', 'Nothing')
  assert isinstance(raised.value.__cause__, ModuleNotFoundError)


@pytest.mark.parametrize('module', _TF_MODULES)
def test_tfds_modules_without_tfds_name_the_tf_extra(module):
  # None in sys.modules makes every import of the name fail, as if it were not
  # installed; run as the tools are run (python -m).
  code = textwrap.dedent(f"""
      import runpy, sys
      sys.modules['tensorflow_datasets'] = None
      sys.modules['tensorflow'] = None
      sys.argv = ['{module}']
      runpy.run_module('{module}', run_name='__main__')
  """)
  result = subprocess.run(
    [sys.executable, '-c', code], capture_output=True, text=True, timeout=120, check=False
  )
  assert result.returncode != 0
  last_line = result.stderr.strip().splitlines()[-1]
  assert last_line.startswith('ImportError: envlogger.'), result.stderr
  assert last_line.endswith(': pip install envlogger[tf]'), result.stderr


def test_rlds_utils_imports_without_tensorflow():
  # rlds_utils needs TensorFlow only in the functions that read TFRecords.
  code = textwrap.dedent("""
      import sys
      sys.modules['tensorflow_datasets'] = None
      sys.modules['tensorflow'] = None
      from envlogger.backends import rlds_utils
      try:
        rlds_utils.maybe_recover_last_shard(None)
      except ImportError as e:
        print(e)
  """)
  result = subprocess.run(
    [sys.executable, '-c', code], capture_output=True, text=True, timeout=120, check=True
  )
  assert result.stdout.strip() == (
    'envlogger.backends.rlds_utils needs TensorFlow (tensorflow): pip install envlogger[tf]'
  )
