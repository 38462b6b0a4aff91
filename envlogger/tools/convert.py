r"""`envlogger convert`: a dataset, root or glob into another format or layout.

  envlogger convert SRC DST --to riegeli [--max_episodes_per_file N]
      merges and reshards SRC into the root DST (a Beam pipeline)
  envlogger convert SRC DST --to rlds [--dataset_name NAME] [--version V]
      writes SRC as the TFDS/RLDS dataset DST/NAME/V (a Beam pipeline over
      TFDS's Beam support; needs envlogger[beam,tf])
  envlogger convert SRC ID --to minari / envlogger convert ID DST --from minari
      to and from a local Minari dataset (envlogger/tools/minari_convert.py)

The Beam pipelines run on Beam's DirectRunner, one worker process per CPU,
unless `--beam_args` names another runner and its options, e.g.
`--beam_args='--runner=FlinkRunner --flink_master=host:8081'`
(docs/many-actors.md gives the command for Flink, Spark and Dataflow).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from envlogger.tools import minari_convert

_BEAM_FORMATS = ('riegeli', 'rlds')


def add_beam_arguments(parser: argparse.ArgumentParser) -> None:
  """`--beam_args`: Beam pipeline options as one shell-quoted string."""
  parser.add_argument(
    '--beam_args',
    default='',
    help="Beam pipeline options, e.g. '--runner=FlinkRunner "
    "--flink_master=host:8081' (default: DirectRunner, one worker per CPU)",
  )


def beam_options(args: argparse.Namespace) -> Any:
  """The Beam pipeline options `args.beam_args` names (split as a shell would, never evaluated)."""
  from envlogger.beam import pipelines  # pylint: disable=g-import-not-at-top

  return pipelines.make_options(shlex.split(args.beam_args))


def _run_beam(args: argparse.Namespace) -> int:
  try:
    from envlogger.beam import pipelines  # pylint: disable=g-import-not-at-top
    from envlogger.beam import rlds  # pylint: disable=g-import-not-at-top

    options = beam_options(args)
    if args.to == 'riegeli':
      kwargs = {}
      if args.max_episodes_per_file is not None:
        kwargs['max_episodes_per_file'] = args.max_episodes_per_file
      pipelines.convert_to_riegeli(args.source, args.target, options=options, **kwargs)
      print(f'{args.source} -> {args.target}')
    else:
      print(
        rlds.write_rlds(args.source, args.target, args.dataset_name, args.version, options=options)
      )
  except (ImportError, OSError, ValueError, RuntimeError) as e:
    print(f'envlogger convert --to {args.to}: {e}', file=sys.stderr)
    return 2
  return 0


def run(args: argparse.Namespace) -> int:
  """Runs the conversion the parsed `args` describe; returns the exit status."""
  if args.to in _BEAM_FORMATS:
    return _run_beam(args)
  return minari_convert.run(args)


def register(subparsers: Any) -> None:
  """Adds `convert` to the `envlogger` command's subparsers."""
  parser = subparsers.add_parser(
    'convert',
    help='to RLDS, Minari or a resharded root; from Minari',
    description=__doc__.split('\n\n')[0],
    epilog=__doc__.split('\n\n', 1)[1],
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  minari_convert.add_direction_arguments(parser, to=(*_BEAM_FORMATS, 'minari'), from_=('minari',))
  rlds_group = parser.add_argument_group('--to rlds')
  rlds_group.add_argument(
    '--dataset_name',
    default='envlogger_dataset',
    help='the TFDS dataset name (default: envlogger_dataset)',
  )
  rlds_group.add_argument(
    '--version', default='0.0.1', help='the TFDS dataset version (default: 0.0.1)'
  )
  add_beam_arguments(parser)
  minari_convert.add_minari_arguments(parser)
  parser.set_defaults(run=run)
