"""What the `envlogger` subcommands share: opening datasets, errors, progress, output.

Every subcommand reads through the public `envlogger.Reader`, so what the
command does a user can do in Python. Errors meant for the user are raised as
`CliError` (exit status 2 by default); `cli.py` prints them without a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import math
import os
import sys
from typing import Any, Iterable, Iterator, Optional, TypeVar

import numpy as np

import envlogger
from envlogger.backends import backend_reader

T = TypeVar('T')


class CliError(Exception):
  """A user-facing error: printed as `envlogger SUB: message`, exit `status`."""

  def __init__(self, message: str, status: int = 2):
    super().__init__(message)
    self.status = status


def check_dataset_dir(path: str) -> None:
  """Raises CliError unless `path` names an existing directory (or a glob)."""
  if glob.has_magic(path):
    return
  if not os.path.exists(path):
    raise CliError(f'No such dataset directory: {path}')
  if not os.path.isdir(path):
    raise CliError(f'Not a dataset directory: {path}')


def is_dataset(path: str) -> bool:
  """True if `path` holds metadata.riegeli or a shard directory (even a damaged one)."""
  from envlogger.tools import shard_scan  # pylint: disable=g-import-not-at-top

  return os.path.isfile(os.path.join(path, shard_scan.METADATA)) or (
    os.path.isdir(path) and bool(shard_scan.shard_dirs(path))
  )


def dataset_dirs(path: str) -> list[str]:
  """The dataset directories that `path` names, in the order a Reader reads them.

  A dataset directory is itself; a root (a directory whose immediate
  subdirectories are datasets, one per writer) is those subdirectories; a glob
  is its matches, each a dataset or a root. Datasets come sorted by path,
  which is the writer-name order `envlogger.Reader` uses for roots and globs.
  Anything else is returned as is, for the caller's error to name it.
  """
  if glob.has_magic(path) and not os.path.exists(path):
    found = []
    for match in glob.glob(path):
      if os.path.isdir(match):
        found.extend(d for d in dataset_dirs(match) if is_dataset(d))
    if not found:
      raise CliError(f'No dataset matches {path}')
    return sorted(set(found))
  if not os.path.isdir(path) or is_dataset(path):
    return [path]
  subdirs = sorted(e.path for e in os.scandir(path) if e.is_dir() and is_dataset(e.path))
  return subdirs or [path]


@contextlib.contextmanager
def open_reader(path: str) -> Iterator[envlogger.Reader]:
  """A Reader over the dataset (or root/glob) `path`; CliError if it is none."""
  check_dataset_dir(path)
  try:
    reader = envlogger.Reader(path)
  except (RuntimeError, OSError, ValueError, TypeError) as e:
    raise CliError(f'{path}: not a readable envlogger dataset: {e}') from None
  with reader:
    yield reader


def check_damage(reader: envlogger.Reader, path: str) -> None:
  """Raises CliError if the reads so far met damaged data in `path`."""
  regions = reader.skipped_regions()
  if regions:
    more = f' (and {len(regions) - 1} more damaged regions)' if len(regions) > 1 else ''
    raise CliError(
      f'{path} is damaged: {regions[0]}{more}. `envlogger verify {path}` lists '
      f'the damage, `envlogger recover {path}` rebuilds the index from what '
      'is readable.'
    )


def read_episodes(
  reader: envlogger.Reader, path: str, indices: Iterable[int], progress: 'Progress'
) -> Iterator[tuple[int, list]]:
  """Yields (episode index, its steps) for `indices`; CliError on damaged data."""
  for i in indices:
    try:
      steps = list(reader.episodes[i])
    except backend_reader.DamagedDataError as e:
      raise CliError(f'{path} is damaged: {e}') from None
    check_damage(reader, path)
    progress.update(len(steps))
    yield i, steps


def parse_range(text: str, length: int, what: str) -> range:
  """`A:B`, `A:`, `:B` or `N` (Python slice rules, negatives count from the end)."""
  parts = text.split(':')
  try:
    if len(parts) == 1:
      i = int(parts[0])
      if not -length <= i < length:
        raise CliError(f'{what} {i} out of range: there are {length}')
      i %= length
      return range(i, i + 1)
    if len(parts) != 2:
      raise ValueError(text)
    start = int(parts[0]) if parts[0].strip() else None
    stop = int(parts[1]) if parts[1].strip() else None
  except ValueError:
    raise CliError(f'bad {what} range {text!r}: expected A:B, A:, :B or N') from None
  return range(*slice(start, stop).indices(length))


def positive_int(text: str) -> int:
  """argparse type: an integer > 0."""
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f'not an integer: {text!r}') from None
  if value <= 0:
    raise argparse.ArgumentTypeError(f'must be positive: {value}')
  return value


def ensure_new_output_dir(path: str) -> None:
  """Refuses an existing non-empty `path`; checks its parent is writable."""
  if os.path.exists(path):
    if not os.path.isdir(path):
      raise CliError(f'{path}: output exists and is not a directory')
    if os.listdir(path):
      raise CliError(f'{path}: output directory is not empty; choose a new one')
    if not os.access(path, os.W_OK):
      raise CliError(f'{path}: output directory is not writable')
    return
  parent = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(parent):
    raise CliError(f'{path}: parent directory {parent} does not exist')
  if not os.access(parent, os.W_OK):
    raise CliError(f'{path}: cannot create it, {parent} is not writable')


def check_output_file(path: str, suffixes: tuple[str, ...]) -> str:
  """The lower-case suffix of `path` (one of `suffixes`); CliError otherwise."""
  suffix = os.path.splitext(path)[1].lower()
  if suffix not in suffixes:
    raise CliError(
      f'{path}: unsupported output type {suffix or "(none)"}; use one of ' + ', '.join(suffixes)
    )
  parent = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(parent):
    raise CliError(f'{path}: directory {parent} does not exist')
  if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
    raise CliError(f'{path}: not writable')
  return suffix


class Progress:
  """A tqdm bar on stderr, or nothing when quiet or not on a terminal."""

  def __init__(self, total: Optional[int], desc: str, quiet: bool = False):
    self._bar = None
    if quiet or not (sys.stderr.isatty() and sys.stdout.isatty()):
      return
    try:
      import tqdm  # pylint: disable=g-import-not-at-top
    except ImportError:
      return
    self._bar = tqdm.tqdm(total=total, desc=desc, unit='step', leave=False, file=sys.stderr)

  def update(self, n: int = 1) -> None:
    if self._bar is not None:
      self._bar.update(n)

  def close(self) -> None:
    if self._bar is not None:
      self._bar.close()
      self._bar = None

  def __enter__(self) -> 'Progress':
    return self

  def __exit__(self, *unused) -> None:
    self.close()


def to_jsonable(value: Any) -> Any:
  """`value` with numpy types, tuples, bytes and non-str keys made JSON-friendly."""
  if isinstance(value, dict):
    return {str(k): to_jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    if value.dtype.kind in 'biuf':
      return to_jsonable(value.tolist())
    return to_jsonable([to_jsonable(v) for v in value.reshape(-1)])
  if isinstance(value, np.generic):
    return to_jsonable(value.item())
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  if isinstance(value, bytes):
    return value.decode('utf-8', 'backslashreplace')
  if value is None or isinstance(value, (bool, int, float, str)):
    return value
  return repr(value)


def print_json(value: Any) -> None:
  json.dump(to_jsonable(value), sys.stdout, indent=2)
  sys.stdout.write('\n')


def summarize(value: Any, width: int = 60) -> str:
  """A short text for a step field: scalars printed, arrays by shape and range."""
  if isinstance(value, np.ndarray) and value.ndim > 0:
    text = f'{value.dtype}{list(value.shape)}'
    if value.size and value.dtype.kind in 'biuf':
      text += f' [{value.min():.4g}, {value.max():.4g}]'
    return text
  if isinstance(value, dict):
    return '{' + ', '.join(f'{k}: {summarize(v, width)}' for k, v in value.items()) + '}'
  if isinstance(value, (list, tuple)):
    inner = ', '.join(summarize(v, width) for v in value)
    return ('[' + inner + ']') if isinstance(value, list) else ('(' + inner + ')')
  if isinstance(value, (np.float16, np.float32)):
    text = f'{float(value):.7g}'
  elif isinstance(value, (float, np.floating)):
    text = repr(float(value))
  elif isinstance(value, np.ndarray):
    text = repr(value.item())
  else:
    text = repr(value)
  return text if len(text) <= width else text[: width - 3] + '...'


def format_table(header: list[str], rows: list[list[Any]]) -> str:
  """Plain left-aligned columns, numbers right-aligned."""
  cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
  widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
  numeric = [
    all(isinstance(row[i], (int, float, np.number)) for row in rows) and rows
    for i in range(len(header))
  ]
  lines = []
  for n, row in enumerate(cells):
    lines.append(
      '  '.join(
        c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))
      ).rstrip()
    )
    if n == 0:
      lines.append('  '.join('-' * w for w in widths))
  return '\n'.join(lines)


def _cell(value: Any) -> str:
  if isinstance(value, (float, np.floating)):
    return f'{float(value):.4g}'
  return str(value)
