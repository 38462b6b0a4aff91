"""A test case base class whose Minari datasets live in a fresh temporary directory."""

import os
import tempfile
from unittest import mock

from absl.testing import absltest


class MinariRootTestCase(absltest.TestCase):
  """Each test gets `self.tmp` and `self.minari_root` (set as MINARI_DATASETS_PATH).

  Both are removed after the test, so no test reads or writes the user's
  ~/.minari datasets.
  """

  def setUp(self):
    super().setUp()
    directory = tempfile.TemporaryDirectory()
    self.addCleanup(directory.cleanup)
    self.tmp = directory.name
    self.minari_root = os.path.join(self.tmp, 'minari')
    self.enter_context(mock.patch.dict(os.environ, {'MINARI_DATASETS_PATH': self.minari_root}))
