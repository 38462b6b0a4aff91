"""`python -m envlogger.beam`: see envlogger/beam/pipelines.py."""

import sys

from envlogger.beam import pipelines

sys.exit(pipelines.main())
