"""`--quiet` for the absl-flag tools (the TFDS converters): no progress bar.

Defined once here, since absl refuses a flag defined by two modules and both
converters can be imported by one process. A bar is shown only when neither
`--quiet` is given nor stdout/stderr is redirected (see
`cli_support.Progress`, the same rule for the `envlogger` command).
"""

import sys

from absl import flags

QUIET = flags.DEFINE_bool('quiet', False, 'Show no progress bar.')


def show_progress() -> bool:
  """Whether to show a progress bar: not --quiet, and stdout and stderr are terminals."""
  return not QUIET.value and sys.stderr.isatty() and sys.stdout.isatty()
