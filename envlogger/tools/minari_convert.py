r"""`envlogger convert --to minari` / `--from minari`: datasets to and from Minari.

  envlogger convert --to minari DIR DATASET_ID [--author A] [--env ENV_ID] ...
      writes the dataset in DIR as the local Minari dataset DATASET_ID
      (under $MINARI_DATASETS_PATH, default ~/.minari/datasets)
  envlogger convert --from minari DATASET_ID DIR [--max_episodes_per_file N]
      writes the local Minari dataset DATASET_ID as a dataset in DIR

envlogger/tools/convert.py registers `envlogger convert` and hands the
Minari directions to `run`; the module also runs as
`python -m envlogger.tools.minari_convert ...` with the same arguments.
Importing it imports neither Minari nor Gymnasium. Exit status: 0 on
success, 2 on a usage error or bad input (a missing dataset, an existing
Minari id, no Minari installed), with the reason on stderr. See
envlogger/minari.py for what is converted and how.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


_DESCRIPTION = 'Converts datasets to and from Minari (needs envlogger[minari]).'


def add_direction_arguments(
  parser: argparse.ArgumentParser, to: Sequence[str], from_: Sequence[str]
) -> None:
  """`--to`/`--from` (one of them required), SOURCE and TARGET."""
  direction = parser.add_mutually_exclusive_group(required=True)
  direction.add_argument(
    '--to', choices=list(to), help='write the dataset SOURCE in the format TO at TARGET'
  )
  direction.add_argument(
    '--from',
    dest='from_',
    choices=list(from_),
    help='write the dataset SOURCE of the format FROM as a dataset in TARGET',
  )
  parser.add_argument(
    'source', help='a dataset directory, root or glob; --from minari: a Minari id'
  )
  parser.add_argument('target', help='a new directory; --to minari: a new Minari id')
  parser.add_argument(
    '--max_episodes_per_file',
    type=int,
    help='episodes per shard of a written dataset (default: as the writer)',
  )


def add_minari_arguments(parser: argparse.ArgumentParser) -> None:
  """The options of the Minari directions."""
  parser.add_argument(
    '--no_infos', action='store_true', help="leave out info ('info' custom data / Minari infos)"
  )
  to_minari = parser.add_argument_group('--to minari')
  to_minari.add_argument('--env', help='Gymnasium env id recorded with the dataset')
  to_minari.add_argument(
    '--data_format',
    choices=['hdf5', 'arrow', 'parquet'],
    help="Minari's storage format (Minari's default: hdf5)",
  )
  to_minari.add_argument(
    '--jpeg', action='store_true', help="Minari's lossy JPEG storage of image spaces"
  )
  for name in ('author', 'author_email', 'algorithm_name', 'description', 'code_permalink'):
    to_minari.add_argument(f'--{name}', help=f"the Minari dataset's {name}")


def _to_minari(args: argparse.Namespace) -> str:
  from envlogger import minari as envlogger_minari  # pylint: disable=g-import-not-at-top

  kwargs = {
    name: getattr(args, name)
    for name in (
      'env',
      'data_format',
      'author',
      'author_email',
      'algorithm_name',
      'description',
      'code_permalink',
    )
    if getattr(args, name) is not None
  }
  dataset = envlogger_minari.to_minari(
    args.source, args.target, with_infos=not args.no_infos, jpeg_encoding=args.jpeg, **kwargs
  )
  return (
    f'{args.source} -> Minari dataset {args.target}: '
    f'{dataset.total_episodes} episodes, {dataset.total_steps} steps '
    f'({dataset.storage.data_path})'
  )


def _from_minari(args: argparse.Namespace) -> str:
  from envlogger import minari as envlogger_minari  # pylint: disable=g-import-not-at-top

  kwargs = {}
  if args.max_episodes_per_file is not None:
    kwargs['max_episodes_per_file'] = args.max_episodes_per_file
  envlogger_minari.from_minari(args.source, args.target, with_infos=not args.no_infos, **kwargs)
  return f'Minari dataset {args.source} -> {args.target}'


def run(args: argparse.Namespace) -> int:
  """Runs the conversion the parsed `args` describe; returns the exit status."""
  direction = '--to minari' if args.to else '--from minari'
  try:
    print(_to_minari(args) if args.to else _from_minari(args))
  except (ImportError, OSError, ValueError, TypeError, RuntimeError) as e:
    print(f'envlogger convert {direction}: {e}', file=sys.stderr)
    return 2
  return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
  """`python -m envlogger.tools.minari_convert ARGS`, as `envlogger convert ARGS`.

  Returns the exit status; argparse exits with status 2 on a usage error.
  """
  parser = argparse.ArgumentParser(prog='envlogger convert', description=_DESCRIPTION)
  add_direction_arguments(parser, to=['minari'], from_=['minari'])
  add_minari_arguments(parser)
  return run(parser.parse_args(None if argv is None else list(argv)))


if __name__ == '__main__':
  sys.exit(main())
