"""`envlogger show DIR [--episode N] [--steps A:B]`: the steps as a readable table.

One row per step: its index in the dataset and in the episode, step type,
reward, discount, action, observation and custom data. Arrays are summarised
by dtype, shape and range, scalars printed. `--json` prints the same rows as
JSON with arrays in full.
"""

from __future__ import annotations

import argparse
from typing import Any

from envlogger.tools import cli_support

_STEP_TYPES = {0: 'FIRST', 1: 'MID', 2: 'LAST'}


def episode_rows(
  steps: list, chosen: range, first_index: int, episode: int
) -> list[dict[str, Any]]:
  """The rows `show` prints for `steps[i]`, i in `chosen`, of an episode starting at `first_index`."""
  rows = []
  for offset in chosen:
    step = steps[offset]
    ts = step.timestep
    rows.append(
      {
        'episode': episode,
        'step': first_index + offset,
        'episode_step': offset,
        'step_type': _STEP_TYPES.get(int(ts.step_type), str(ts.step_type)),
        'reward': ts.reward,
        'discount': ts.discount,
        'action': step.action,
        'observation': ts.observation,
        'custom_data': step.custom_data,
      }
    )
  return rows


def _run(args: argparse.Namespace) -> int:
  with cli_support.open_reader(args.dir) as reader:
    num_episodes = len(reader.episodes)
    if not num_episodes:
      raise cli_support.CliError(f'{args.dir}: the dataset has no episodes')
    episode = cli_support.parse_range(str(args.episode), num_episodes, 'episode')[0]
    first = sum(len(reader.episodes[i]) for i in range(episode))
    with cli_support.Progress(len(reader.episodes[episode]), 'show', args.quiet) as progress:
      ((_, steps),) = cli_support.read_episodes(reader, args.dir, [episode], progress)
    chosen = (
      cli_support.parse_range(args.steps, len(steps), 'steps') if args.steps else range(len(steps))
    )
    rows = episode_rows(steps, chosen, first, episode)
  if args.json:
    cli_support.print_json(rows)
    return 0
  print(
    f'{args.dir}: episode {episode} of {num_episodes}, steps {chosen.start}..'
    f'{chosen.stop - 1} of {len(steps)}'
  )
  header = ['step', 'ep.step', 'type', 'reward', 'discount', 'action', 'observation', 'custom_data']
  print(
    cli_support.format_table(
      header,
      [
        [
          r['step'],
          r['episode_step'],
          r['step_type'],
          cli_support.summarize(r['reward']),
          cli_support.summarize(r['discount']),
          cli_support.summarize(r['action']),
          cli_support.summarize(r['observation'], args.width),
          cli_support.summarize(r['custom_data'], args.width),
        ]
        for r in rows
      ],
    )
  )
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `show` to the `envlogger` command."""
  parser = subparsers.add_parser(
    'show', help="an episode's steps as a table", description=__doc__.split('\n\n')[0]
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  parser.add_argument(
    '--episode', default='0', help='episode index (negative counts from the end; default 0)'
  )
  parser.add_argument('--steps', metavar='A:B', help='steps of the episode to show (default all)')
  parser.add_argument('--width', type=int, default=60, help='widest cell text (default 60)')
  parser.add_argument('--json', action='store_true', help='print JSON, arrays in full')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_run)
