"""pytest plugin: a test file that needs a missing optional extra is skipped.

A test file of an optional integration (gymnasium, minari, plots, ...) imports
its third-party package at the top. Where that package is not installed (a
machine with the core requirements only, the development container), the
file's collection error becomes a skip naming the extra to install, so the run
reports it as skipped rather than failing on it or hiding it. With
ENVLOGGER_REQUIRE_EXTRAS=1 (scripts/test.sh, whose venv has every extra) the
error stays an error. Loaded by the repository's conftest.py and by Bazel's
pytest runner.
"""

import importlib.util
import os
import re

import pytest

from envlogger import extras

REQUIRE_EXTRAS_ENV = 'ENVLOGGER_REQUIRE_EXTRAS'


def missing_extra(error_text: str):
  """(module, extra) if `error_text` is an import failure of a missing extra, else None."""
  for name in re.findall(r"No module named '([\w.]+)'", error_text):
    top = name.split('.')[0]
    if top in extras.EXTRA_OF_MODULE and importlib.util.find_spec(top) is None:
      return top, extras.EXTRA_OF_MODULE[top]
  return None


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
  outcome = yield
  report = outcome.get_result()
  if (
    not report.failed
    or not isinstance(collector, pytest.Module)
    or os.environ.get(REQUIRE_EXTRAS_ENV) == '1'
  ):
    return
  found = missing_extra(str(report.longrepr))
  if found is None:
    return
  module, extra = found
  reason = f'needs {module}, not installed: pip install envlogger[{extra}]'
  outcome.force_result(
    pytest.CollectReport(
      report.nodeid, 'skipped', (str(collector.path), 0, f'Skipped: {reason}'), []
    )
  )
