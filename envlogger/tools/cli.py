r"""The `envlogger` command: look at, check, repair and edit Riegeli datasets.

  envlogger info DIR              what the dataset holds: counts, sizes, specs
  envlogger stats DIR             returns, lengths and per-field statistics
  envlogger plot DIR -o F.png     returns, episode lengths and actions, drawn
  envlogger video DIR -o F.gif    an episode's image observations as a video
  envlogger show DIR              the steps as a table
  envlogger merge/split/filter    write an edited copy of datasets
  envlogger convert SRC DST --to  to RLDS, Minari or a resharded root (Beam)
  envlogger verify DIR [DIR...]   checks every chunk hash and index entry
  envlogger recover DIR [DIR...]  rebuilds the index files from the steps

`envlogger SUB --help` describes each subcommand. Exit status: 0 when all is
well, 1 when verify found damage, 2 on a usage error or a directory that is
missing, empty, damaged (except for verify/recover) or not writable.

A subcommand lives in its own module under envlogger/tools/ with a
`register(subparsers)` function that adds its parser and sets `run`, a
function from the parsed arguments to the exit status; adding one is a line
in `_COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from envlogger.tools import cli_support

# Modules with a `register(subparsers)`, in the order `--help` lists them.
_COMMAND_MODULES = (
  'envlogger.tools.info',
  'envlogger.tools.stats',
  'envlogger.tools.plot',
  'envlogger.tools.video',
  'envlogger.tools.show',
  'envlogger.tools.edit',
  'envlogger.tools.convert',
  'envlogger.tools.check_commands',
)


def build_parser() -> argparse.ArgumentParser:
  """The `envlogger` parser with every subcommand registered."""
  parser = argparse.ArgumentParser(
    prog='envlogger',
    description='Look at, check, repair and edit envlogger datasets.',
    epilog='Exit status: 0 ok, 1 damage found by verify, 2 usage error or unusable directory.',
  )
  subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
  for name in _COMMAND_MODULES:
    importlib.import_module(name).register(subparsers)
  return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs `envlogger` with `argv` (without the program name); returns the exit status."""
  parser = build_parser()
  args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
  if args.command is None:
    parser.print_help(sys.stderr)
    return 2
  try:
    return args.run(args)
  except cli_support.CliError as e:
    print(f'envlogger {args.command}: {e}', file=sys.stderr)
    return e.status
  except BrokenPipeError:  # e.g. `envlogger show DIR | head`.
    sys.stdout = None
    return 0
  except (FileNotFoundError, NotADirectoryError, PermissionError) as e:
    print(f'envlogger {args.command}: {e}', file=sys.stderr)
    return 2
  except OSError as e:  # e.g. the disk is full while writing.
    print(f'envlogger {args.command}: cannot write: {e}', file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print(f'envlogger {args.command}: interrupted', file=sys.stderr)
    return 130


def run() -> None:
  """Console-script entry point (`envlogger` in pyproject.toml)."""
  sys.exit(main())


if __name__ == '__main__':
  run()
