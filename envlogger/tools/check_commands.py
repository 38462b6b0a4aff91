"""`envlogger verify` and `envlogger recover`: the command-line side of verify.py and recover.py.

verify: exit status 1 if any dataset is damaged. recover: rebuilds the index
files from the steps (originals kept as *.bak); `--dry_run` only reports.
A directory that is missing or not a dataset, or a file that cannot be
written, gives exit status 2.
"""

from __future__ import annotations

import argparse
import os

from envlogger.tools import cli_support
from envlogger.tools import recover as recover_lib
from envlogger.tools import shard_scan
from envlogger.tools import verify as verify_lib


def _shard_progress(data_dir: str, quiet: bool) -> cli_support.Progress:
  """Checks `data_dir` looks like a dataset; a bar counting its shards."""
  cli_support.check_dataset_dir(data_dir)
  shards = shard_scan.shard_dirs(data_dir)
  if not shards and not os.path.exists(os.path.join(data_dir, shard_scan.METADATA)):
    raise cli_support.CliError(f'{data_dir}: not an envlogger dataset (no {shard_scan.METADATA} '
                               'and no shard directories)')
  return cli_support.Progress(len(shards), data_dir, quiet)


def _verify(args: argparse.Namespace) -> int:
  status = 0
  for d in args.dirs:
    with _shard_progress(d, args.quiet) as progress:
      report = verify_lib.verify(d, progress=lambda _: progress.update())
    print('\n'.join(report.lines()))
    if not report.ok:
      status = 1
  return status


def _recover(args: argparse.Namespace) -> int:
  for d in args.dirs:
    with _shard_progress(d, args.quiet) as progress:
      report = recover_lib.recover(d, dry_run=args.dry_run, progress=lambda _: progress.update())
    print('\n'.join(report.lines()))
    if args.dry_run:
      print('(dry run: nothing written)')
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `verify` and `recover` to the `envlogger` command."""
  parser = subparsers.add_parser(
      'verify', help='check every chunk hash and index entry (exit status 1 on damage)',
      description=verify_lib.__doc__.split('\n\n')[0])
  parser.add_argument('dirs', nargs='+', metavar='DIR', help='dataset directories')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_verify)
  parser = subparsers.add_parser(
      'recover', help='rebuild the index files from the steps (originals kept as *.bak)',
      description='Rebuilds the index files of each dataset from what its steps.riegeli hold.')
  parser.add_argument('dirs', nargs='+', metavar='DIR', help='dataset directories')
  parser.add_argument('--dry_run', '--dry-run', action='store_true',
                      help='report what would be rebuilt, write nothing')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_recover)
