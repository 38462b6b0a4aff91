"""The TFDS test gate: skip without TFDS, fail when CI requires it."""

import sys

from envlogger.backends import tfds_backend_testlib as testlib
import pytest


def test_missing_tfds_skips_by_default(monkeypatch):
  monkeypatch.setitem(sys.modules, 'tensorflow_datasets', None)
  monkeypatch.delenv(testlib.REQUIRE_TFDS_ENV, raising=False)
  with pytest.raises(pytest.skip.Exception, match='tensorflow_datasets is not importable'):
    testlib.require_tfds()


def test_missing_tfds_fails_when_required(monkeypatch):
  monkeypatch.setitem(sys.modules, 'tensorflow_datasets', None)
  monkeypatch.setenv(testlib.REQUIRE_TFDS_ENV, '1')
  with pytest.raises(
    pytest.fail.Exception, match='ENVLOGGER_REQUIRE_TFDS=1 but tensorflow_datasets'
  ):
    testlib.require_tfds()
