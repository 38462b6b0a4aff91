"""Tests of the plugin that skips a test file whose optional extra is missing."""

import textwrap
from unittest import mock


from envlogger import extras
from envlogger.testing import extras_plugin

pytest_plugins = ['pytester']

_MISSING = 'envlogger_extras_plugin_test_absent_module'


def test_missing_extra_names_only_absent_extras():
  with mock.patch.dict(extras.EXTRA_OF_MODULE, {_MISSING: 'demo'}):
    assert extras_plugin.missing_extra(f"No module named '{_MISSING}.sub'") == (_MISSING, 'demo')
    # Installed (pytest is), or not an extra's module: a real error, not a skip.
    assert extras_plugin.missing_extra("No module named 'pytest'") is None
    assert extras_plugin.missing_extra("No module named 'not_an_extra_module'") is None
    assert extras_plugin.missing_extra('SyntaxError: invalid syntax') is None


def _run(pytester, monkeypatch, require):
  if require:
    monkeypatch.setenv(extras_plugin.REQUIRE_EXTRAS_ENV, '1')
  else:
    monkeypatch.delenv(extras_plugin.REQUIRE_EXTRAS_ENV, raising=False)
  pytester.makepyfile(
    needs_extra_test=f'import {_MISSING}\n\ndef test_x():\n  pass\n',
    broken_test='import not_an_extra_module\n\ndef test_y():\n  pass\n',
    fine_test=textwrap.dedent("""
          def test_z():
            assert 1 + 1 == 2
          """),
  )
  with mock.patch.dict(extras.EXTRA_OF_MODULE, {_MISSING: 'demo'}):
    return pytester.runpytest_inprocess(
      '-p', 'envlogger.testing.extras_plugin', '-rs', '--continue-on-collection-errors'
    )


def test_a_file_needing_a_missing_extra_is_skipped_naming_it(pytester, monkeypatch):
  result = _run(pytester, monkeypatch, require=False)
  result.assert_outcomes(passed=1, skipped=1, errors=1)  # broken_test stays an error.
  result.stdout.fnmatch_lines([f'*needs {_MISSING}, not installed: pip install envlogger[[]demo]*'])


def test_required_extras_stay_errors(pytester, monkeypatch):
  result = _run(pytester, monkeypatch, require=True)
  result.assert_outcomes(passed=1, errors=2)
