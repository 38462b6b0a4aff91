"""`envlogger verify` and `envlogger recover`: the command-line side of verify.py and recover.py.

verify: exit status 1 if any dataset is damaged. recover: rebuilds the index
files from the steps (originals kept as *.bak), leaving a healthy dataset
untouched; `--dry_run` only reports.
A root (one dataset per writer in its subdirectories) or a glob stands for
each of its datasets. A directory that is missing or not a dataset, or a file
that cannot be written, gives exit status 2. `--json` prints one object per
dataset, in a list.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from envlogger.tools import cli_support
from envlogger.tools import recover as recover_lib
from envlogger.tools import shard_scan
from envlogger.tools import verify as verify_lib


def _shard_progress(data_dir: str, quiet: bool) -> cli_support.Progress:
  """A bar counting the shards of `data_dir`, named by its last component (a long path would
  fill the terminal's line and leave no room for the bar)."""
  name = os.path.basename(os.path.normpath(data_dir))
  return cli_support.Progress(len(shard_scan.shard_dirs(data_dir)), name, quiet)


def _datasets(dirs: list[str]) -> list[str]:
  """`dirs` with each root or glob replaced by its datasets, all checked before any is used."""
  found = []
  for d in dirs:
    cli_support.check_dataset_dir(d)
    found.extend(cli_support.dataset_dirs(d))
  for d in found:
    if not cli_support.is_dataset(d):
      raise cli_support.CliError(
        f'{d}: not an envlogger dataset (no {shard_scan.METADATA} and no shard directories)'
      )
  return found


def _verify_json(report: verify_lib.VerifyReport) -> dict[str, Any]:
  return {
    'data_dir': report.data_dir,
    'ok': report.ok,
    'num_steps': report.num_steps,
    'num_episodes': report.num_episodes,
    'damage': report.damage,
    'notes': report.notes,
  }


def _recover_json(report: recover_lib.DatasetReport, dry_run: bool) -> dict[str, Any]:
  shards = [
    {
      'shard': s.shard,
      'num_steps': s.num_steps,
      'num_episodes': s.num_episodes,
      'old_num_steps': s.old_num_steps,
      'old_num_episodes': s.old_num_episodes,
      'lost_steps': s.lost_steps,
      'unindexed_steps': s.unindexed_steps,
      'incomplete_episodes': s.incomplete_episodes,
      'headless_episodes': s.headless_episodes,
      'unattributed_metadata': s.unattributed_metadata,
      'damage': [str(d) for d in s.damage] + list(s.problems),
      'intact': s.intact,
    }
    for s in report.shards
  ]
  return {
    'data_dir': report.data_dir,
    'dry_run': dry_run,
    'healthy': report.healthy,
    'metadata_problem': report.metadata_problem,
    'written': report.written,
    'shards': shards,
  }


def _verify(args: argparse.Namespace) -> int:
  status = 0
  reports = []
  for d in _datasets(args.dirs):
    with _shard_progress(d, args.quiet) as progress:
      report = verify_lib.verify(d, progress=lambda _: progress.update())
    if args.json:
      reports.append(_verify_json(report))
    else:
      print('\n'.join(report.lines()))
    if not report.ok:
      status = 1
  if args.json:
    cli_support.print_json(reports)
  return status


def _recover(args: argparse.Namespace) -> int:
  reports = []
  for d in _datasets(args.dirs):
    with _shard_progress(d, args.quiet) as progress:
      report = recover_lib.recover(d, dry_run=args.dry_run, progress=lambda _: progress.update())
    if args.json:
      reports.append(_recover_json(report, args.dry_run))
      continue
    print('\n'.join(report.lines()))
    if args.dry_run:
      print('(dry run: nothing written)')
  if args.json:
    cli_support.print_json(reports)
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `verify` and `recover` to the `envlogger` command."""
  parser = subparsers.add_parser(
    'verify',
    help='check every chunk hash and index entry (exit status 1 on damage)',
    description=verify_lib.__doc__.split('\n\n')[0],
  )
  parser.add_argument('dirs', nargs='+', metavar='DIR', help='dataset directories, roots or globs')
  parser.add_argument('--json', action='store_true', help='print JSON')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_verify)
  parser = subparsers.add_parser(
    'recover',
    help='rebuild the index files from the steps (originals kept as *.bak)',
    description='Rebuilds the index files of each dataset from what its steps.riegeli hold; '
    'a healthy dataset is left untouched.',
  )
  parser.add_argument('dirs', nargs='+', metavar='DIR', help='dataset directories, roots or globs')
  parser.add_argument(
    '--dry_run',
    '--dry-run',
    action='store_true',
    help='report what would be rebuilt, write nothing',
  )
  parser.add_argument('--json', action='store_true', help='print JSON')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_recover)
