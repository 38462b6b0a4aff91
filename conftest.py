"""pytest configuration shared by every test of the project.

Hypothesis: no per-example deadline (timing is for benchmarks, not tests, and
the machines running tests are shared); under CI (CI=true) the examples are
derandomized so that a run is reproducible from the commit alone.
"""

import os

import hypothesis

hypothesis.settings.register_profile('envlogger', deadline=None)
hypothesis.settings.register_profile(
  'envlogger-ci',
  parent=hypothesis.settings.get_profile('envlogger'),
  derandomize=True,
  print_blob=True,
)
hypothesis.settings.load_profile('envlogger-ci' if os.environ.get('CI') else 'envlogger')

# A test file whose optional extra is missing is skipped, naming the extra.
pytest_plugins = ['envlogger.testing.extras_plugin']
