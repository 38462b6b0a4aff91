r"""The `envlogger` command: checks and repairs Riegeli datasets.

  envlogger verify DIR [DIR...]    checks every chunk hash and index entry;
                                   exit status 1 if any dataset is damaged
  envlogger recover DIR [DIR...]   rebuilds the index files from the steps
                                   (originals kept as *.bak); --dry_run only
                                   reports

Exit status: 0 when everything is fine (verify) or was recovered (recover),
1 when verify found damage, 2 on a usage error or a directory that is not a
dataset.
"""

import sys
from typing import Sequence

from absl import app
from absl import flags

from envlogger.tools import recover as recover_lib
from envlogger.tools import verify as verify_lib

_DRY_RUN = flags.DEFINE_bool('dry_run', False, 'recover: report what would be rebuilt, write nothing.')

_USAGE = 'usage: envlogger {verify|recover} [--dry_run] DIR [DIR...]'


def _verify(dirs: Sequence[str]) -> int:
  status = 0
  for d in dirs:
    report = verify_lib.verify(d)
    print('\n'.join(report.lines()))
    if not report.ok:
      status = 1
  return status


def _recover(dirs: Sequence[str]) -> int:
  for d in dirs:
    report = recover_lib.recover(d, dry_run=_DRY_RUN.value)
    print('\n'.join(report.lines()))
    if _DRY_RUN.value:
      print('(dry run: nothing written)')
  return 0


def main(argv: Sequence[str]) -> int:
  if len(argv) < 3 or argv[1] not in ('verify', 'recover'):
    print(_USAGE, file=sys.stderr)
    return 2
  command, dirs = argv[1], argv[2:]
  try:
    return _verify(dirs) if command == 'verify' else _recover(dirs)
  except (FileNotFoundError, NotADirectoryError, PermissionError) as e:
    print(f'envlogger {command}: {e}', file=sys.stderr)
    return 2
  except OSError as e:  # e.g. the disk is full while rewriting an index.
    print(f'envlogger {command}: cannot write: {e}', file=sys.stderr)
    return 2


def run() -> None:
  """Console-script entry point (`envlogger` in pyproject.toml)."""
  app.run(main)


if __name__ == '__main__':
  run()
