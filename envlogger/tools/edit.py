"""`envlogger merge`, `split` and `filter`: write an edited copy of datasets.

* `merge SRC... -o DST`: the episodes of every source, in order, in one
  dataset. The sources must have the same specs; DST gets the first
  source's dataset metadata.
* `split DIR -o DST --episodes-per-shard N`: the same episodes, N per shard.
* `filter DIR -o DST [--episodes A:B] [--where EXPR]`: the episodes in the
  range that match the expression (see envlogger/tools/where.py for the
  language, e.g. `return > 0 and length < 50`).

A source may be a root (a directory whose subdirectories are datasets, one
per writer) or a glob: it stands for its datasets in the order
`envlogger.Reader` reads them (sorted by path), and `index` in `--where` and
`--episodes` count across them.

Each step record, episode metadata record and the dataset metadata record
is copied as stored (no decoding and re-encoding, so every value comes out
exactly as it went in) through the dataset writer that EnvLogger uses, so DST
has upstream's layout and the first source's dataset metadata (incl. the
environment specs), and is readable by upstream's Reader. Sources are only
read. DST must not exist or be an empty directory, and must not be inside a
source; if anything fails, what was written to DST is removed. A damaged
source is refused (`envlogger recover` it first).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
from typing import Iterator, Optional, Sequence

import numpy as np

import envlogger
from envlogger.tools import cli_support
from envlogger.tools import info as info_lib
from envlogger.tools import stats as stats_lib
from envlogger.tools import where as where_lib

_DEFAULT_EPISODES_PER_SHARD = 10000  # Upstream's max_episodes_per_file default.


@contextlib.contextmanager
def _output(path: str) -> Iterator[None]:
  """Removes what was written to `path` if the body fails."""
  cli_support.ensure_new_output_dir(path)
  existed = os.path.isdir(path)
  try:
    yield
  except BaseException:
    if existed:
      for name in os.listdir(path):
        full = os.path.join(path, name)
        shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
    else:
      shutil.rmtree(path, ignore_errors=True)
    raise


def _specs_key(reader: envlogger.Reader) -> str:
  return repr(
    [
      info_lib.spec_tree(s)
      for s in (
        reader.observation_spec(),
        reader.action_spec(),
        reader.reward_spec(),
        reader.discount_spec(),
      )
    ]
  )


def copy_episodes(
  sources: Sequence[tuple[str, envlogger.Reader, Sequence[int]]],
  dst: str,
  episodes_per_shard: int,
  writer_options: str,
  quiet: bool = True,
  where: Optional[where_lib.Expression] = None,
) -> int:
  """Copies episodes of the sources, record for record, into the new dataset `dst`.

  Args:
    sources: (path, reader, episode indices) per source dataset, in order;
      `reader` gives the decoded values `where` looks at; `index` in `where`
      counts the episodes of all sources.
    dst: the output directory (missing or empty).
    episodes_per_shard: episodes per shard directory of `dst`.
    writer_options: Riegeli writer options of `dst`.
    quiet: no progress bar.
    where: keep only the episodes it matches.

  Returns:
    The number of episodes written.
  """
  from envlogger.backends.python import riegeli_dataset_reader  # pylint: disable=g-import-not-at-top
  from envlogger.backends.python import riegeli_dataset_writer  # pylint: disable=g-import-not-at-top

  total = sum(sum(len(r.episodes[i]) for i in indices) for _, r, indices in sources)
  offsets = np.cumsum([0] + [len(r.episodes) for _, r, _ in sources]).tolist()
  written = 0
  with (
    _output(dst),
    cli_support.Progress(total, os.path.basename(dst), quiet) as progress,
    contextlib.ExitStack() as stack,
  ):
    raw_readers = []
    for path, _, _ in sources:
      raw = riegeli_dataset_reader.RiegeliDatasetReader()
      try:
        raw.init(path)
      except RuntimeError as e:
        raise cli_support.CliError(f'{path}: cannot copy its records: {e}') from None
      stack.callback(raw.close)
      raw_readers.append(raw)
    writer = riegeli_dataset_writer.RiegeliDatasetWriter()
    writer.init(dst, raw_readers[0].serialized_metadata(), episodes_per_shard, writer_options)
    try:
      for (path, reader, indices), raw, offset in zip(sources, raw_readers, offsets):
        episode_metadata = reader.episode_metadata()
        for i in indices:
          episode = raw.episode(i, include_metadata=True)
          if where is not None and not where.matches(
            where_lib.Episode(
              index=offset + i,
              length=episode.num_steps,
              episode_return=_episode_return(reader, path, i) if where.uses_return else None,
              metadata=episode_metadata[i],
            )
          ):
            progress.update(episode.num_steps)
            continue
          for j in range(episode.start, episode.start + episode.num_steps):
            try:
              record = raw.serialized_step(j)
            except RuntimeError as e:
              raise cli_support.CliError(f'{path} is damaged: {e}') from None
            writer.add_step(record, is_new_episode=j == episode.start)
            if j == episode.start and episode.metadata is not None:
              writer.set_episode_metadata(episode.metadata)
            progress.update()
          written += 1
      if where is not None:
        unknown = sorted(where.metadata_paths - where.found_paths)
        if unknown:
          raise cli_support.CliError(
            'no episode has the metadata key '
            + ', '.join('.'.join(p) for p in unknown)
            + ' named by --where'
          )
    finally:
      writer.close()
  return written


def _episode_return(reader: envlogger.Reader, path: str, i: int) -> Optional[float]:
  """The return of episode `i`, None if its rewards are not numeric scalars."""
  ((_, steps),) = cli_support.read_episodes(
    reader, path, [i], cli_support.Progress(None, '', quiet=True)
  )
  total = 0.0
  for step in steps:
    r = stats_lib.scalar_reward(step.timestep.reward)
    if r is None:
      return None
    total += r
  return total


def _open_all(
  paths: Sequence[str], dst: str, stack: contextlib.ExitStack
) -> list[tuple[str, envlogger.Reader]]:
  """(dataset directory, reader) of each dataset of `paths` (roots and globs expanded)."""
  dirs = []
  for p in paths:
    cli_support.check_dataset_dir(p)
    dirs.extend(cli_support.dataset_dirs(p))
  _check_output_not_source(dst, list(paths) + dirs)
  readers = [stack.enter_context(cli_support.open_reader(d)) for d in dirs]
  keys = [_specs_key(r) for r in readers]
  for path, key in zip(dirs[1:], keys[1:]):
    if key != keys[0]:
      raise cli_support.CliError(
        f'{path}: its specs differ from those of {dirs[0]}; '
        'only datasets of the same environment can be merged'
      )
  return list(zip(dirs, readers))


def _check_output_not_source(dst: str, paths: Sequence[str]) -> None:
  out = os.path.realpath(dst)
  for p in paths:
    if glob.has_magic(p) and not os.path.exists(p):
      continue
    src = os.path.realpath(p)
    if os.path.commonpath([out, src]) == src:
      raise cli_support.CliError(f'{dst}: the output cannot be a source or inside one ({p})')


def _all_episodes(sources: list[tuple[str, envlogger.Reader]]) -> list:
  return [(p, r, range(len(r.episodes))) for p, r in sources]


def _run_merge(args: argparse.Namespace) -> int:
  with contextlib.ExitStack() as stack:
    sources = _open_all(args.sources, args.output, stack)
    n = copy_episodes(
      _all_episodes(sources), args.output, args.episodes_per_shard, args.writer_options, args.quiet
    )
  print(f'{args.output}: {n} episodes from {len(sources)} datasets')
  return 0


def _run_split(args: argparse.Namespace) -> int:
  with contextlib.ExitStack() as stack:
    sources = _open_all([args.dir], args.output, stack)
    n = copy_episodes(
      _all_episodes(sources), args.output, args.episodes_per_shard, args.writer_options, args.quiet
    )
  print(f'{args.output}: {n} episodes, at most {args.episodes_per_shard} per shard')
  return 0


def _run_filter(args: argparse.Namespace) -> int:
  try:
    where = where_lib.Expression(args.where) if args.where is not None else None
  except where_lib.WhereError as e:
    raise cli_support.CliError(f'bad --where expression: {e}') from None
  with contextlib.ExitStack() as stack:
    sources = _open_all([args.dir], args.output, stack)
    total = sum(len(r.episodes) for _, r in sources)
    wanted = range(total)
    if args.episodes:
      wanted = cli_support.parse_range(args.episodes, total, 'episodes')
    selected, offset = [], 0
    for path, reader in sources:  # The global range, cut into each dataset's indices.
      n = len(reader.episodes)
      selected.append(
        (
          path,
          reader,
          range(max(wanted.start, offset) - offset, max(min(wanted.stop, offset + n) - offset, 0)),
        )
      )
      offset += n
    try:
      kept = copy_episodes(
        selected, args.output, args.episodes_per_shard, args.writer_options, args.quiet, where
      )
    except where_lib.WhereError as e:
      raise cli_support.CliError(f'--where {args.where!r}: {e}') from None
  print(f'{args.output}: {kept} of {total} episodes kept')
  return 0


def _add_output_args(parser: argparse.ArgumentParser, shards_required: bool = False) -> None:
  from envlogger.backends.python import riegeli_dataset_writer  # pylint: disable=g-import-not-at-top

  parser.add_argument(
    '-o',
    '--output',
    required=True,
    metavar='DST',
    help='new dataset directory (must not exist or be empty)',
  )
  parser.add_argument(
    '--episodes-per-shard',
    '--episodes_per_shard',
    type=cli_support.positive_int,
    required=shards_required,
    default=None if shards_required else _DEFAULT_EPISODES_PER_SHARD,
    help='episodes per shard directory'
    + ('' if shards_required else f' (default {_DEFAULT_EPISODES_PER_SHARD})'),
  )
  parser.add_argument(
    '--writer-options',
    '--writer_options',
    default=riegeli_dataset_writer.DEFAULT_WRITER_OPTIONS,
    help='Riegeli writer options (default %(default)s)',
  )
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `merge`, `split` and `filter` to the `envlogger` command."""
  epilog = 'The sources are only read; see envlogger/tools/edit.py.'
  parser = subparsers.add_parser(
    'merge',
    help='write the episodes of several datasets as one',
    description='Writes the episodes of every SRC, in order, into the new dataset DST.',
    epilog=epilog,
  )
  parser.add_argument(
    'sources', nargs='+', metavar='SRC', help='dataset directories, roots or globs'
  )
  _add_output_args(parser)
  parser.set_defaults(run=_run_merge)
  parser = subparsers.add_parser(
    'split',
    help='rewrite a dataset with N episodes per shard',
    description='Rewrites DIR into DST with N episodes per shard.',
    epilog=epilog,
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  _add_output_args(parser, shards_required=True)
  parser.set_defaults(run=_run_split)
  parser = subparsers.add_parser(
    'filter',
    help='write the episodes in a range or matching an expression',
    description='Writes the episodes of DIR that are in --episodes and match --where to DST.',
    epilog=where_lib.__doc__.split('\n\n', 1)[1],
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  parser.add_argument('--episodes', metavar='A:B', help='episode range (Python slice rules)')
  parser.add_argument(
    '--where',
    metavar='EXPR',
    help="keep episodes where EXPR holds, e.g. 'return > 0 and length < 50'",
  )
  _add_output_args(parser)
  parser.set_defaults(run=_run_filter)
