"""Runnable Beam pipelines over envlogger datasets: convert (to Riegeli or RLDS) and stats.

    python -m envlogger.beam convert SRC DST --to riegeli [--max_episodes_per_file N]
    python -m envlogger.beam convert SRC DST --to rlds [--dataset_name NAME]
    python -m envlogger.beam stats SRC [--output stats.json]

Arguments after these (e.g. `--runner=FlinkRunner --flink_master=host:8081`,
`--runner=DataflowRunner --project=... --region=... --temp_location=gs://...`)
are Beam pipeline options. Without `--runner` the pipelines run on Beam's
DirectRunner in multi-processing mode, one worker per CPU (the embedded
default: a laptop needs nothing else).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.options import pipeline_options as options_lib

from envlogger import reader as reader_lib
from envlogger.beam import read
from envlogger.beam import rlds
from envlogger.beam import stats as stats_lib
from envlogger.beam import write


def make_options(beam_args: Sequence[str] = ()) -> options_lib.PipelineOptions:
  """Pipeline options from command-line style `beam_args`, DirectRunner multi-process by default."""
  args = list(beam_args)
  if not any(a == '--runner' or a.startswith('--runner=') for a in args):
    args += [
      '--runner=DirectRunner',
      '--direct_running_mode=multi_processing',
      f'--direct_num_workers={os.cpu_count() or 1}',
    ]
  return options_lib.PipelineOptions(args)


def convert_to_riegeli(
  source: Any,
  output: str,
  max_episodes_per_file: int = 10000,
  options: Optional[options_lib.PipelineOptions] = None,
) -> None:
  """Merges and reshards `source` into the root `output` (one writer per bundle).

  Raises:
    FileNotFoundError: nothing readable in `source`.
  """
  with reader_lib.Reader(source) as reader:
    metadata = reader.metadata()
  with beam.Pipeline(options=options or make_options()) as pipeline:
    _ = (
      pipeline
      | 'ReadEpisodes' >> read.ReadEpisodes(source, arrays=False)
      | 'WriteDataset' >> write.WriteDataset(output, metadata, max_episodes_per_file)
    )


def compute_stats(
  source: Any, output: Optional[str] = None, options: Optional[options_lib.PipelineOptions] = None
) -> Dict[str, Any]:
  """Statistics of `source` (see `ComputeStats`), also written as JSON to `output` if given."""
  with tempfile.TemporaryDirectory() as tmp:
    prefix = os.path.join(tmp, 'stats')
    with beam.Pipeline(options=options or make_options()) as pipeline:
      _ = (
        pipeline
        | 'ReadEpisodes' >> read.ReadEpisodes(source, arrays=False)
        | 'Stats' >> stats_lib.ComputeStats()
        | 'Json' >> beam.Map(json.dumps, sort_keys=True)
        | 'Write' >> beam.io.WriteToText(prefix, shard_name_template='')
      )
    with open(prefix) as f:
      result = json.loads(f.read())
  if output:
    with open(output, 'w') as f:
      json.dump(result, f, indent=1, sort_keys=True)
  return result


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog='python -m envlogger.beam',
    description='Beam pipelines over envlogger datasets; other --options go to Beam.',
  )
  commands = parser.add_subparsers(dest='command', required=True)
  convert = commands.add_parser('convert', help='convert a dataset, root or glob')
  convert.add_argument('source')
  convert.add_argument('output')
  convert.add_argument('--to', choices=('riegeli', 'rlds'), required=True)
  convert.add_argument('--max_episodes_per_file', type=int, default=10000)
  convert.add_argument('--dataset_name', default='envlogger_dataset')
  convert.add_argument('--version', default='0.0.1')
  stats = commands.add_parser('stats', help='per-field statistics, returns and lengths')
  stats.add_argument('source')
  stats.add_argument('--output', help='also write the statistics here (JSON)')
  return parser


def main(argv: Optional[List[str]] = None) -> int:
  """Runs one pipeline; returns the exit status."""
  args, beam_args = _parser().parse_known_args(argv)
  options = make_options(beam_args)
  if args.command == 'stats':
    print(json.dumps(compute_stats(args.source, args.output, options), indent=1, sort_keys=True))
  elif args.to == 'riegeli':
    convert_to_riegeli(args.source, args.output, args.max_episodes_per_file, options)
  else:
    print(
      rlds.write_rlds(args.source, args.output, args.dataset_name, args.version, options=options)
    )
  return 0


if __name__ == '__main__':
  sys.exit(main())
