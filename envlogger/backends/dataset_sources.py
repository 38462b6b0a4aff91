"""Where a multi-writer reader finds its writers' datasets, and when to look again.

A source is a root (a directory whose immediate subdirectories are datasets,
one per writer), a glob, or a list of dataset directories or roots. Looking
again is cheap: a root is listed again only if its mtime changed (or a
subdirectory it held without a dataset has published one since), and a
writer's dataset is reopened only if its stamp (sizes and mtimes of the files
a writer grows when it flushes or adds a shard) changed.
"""

from __future__ import annotations

import glob
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from envlogger import _native

# File names as the C++ reader and writers define them
# (backends/cc/riegeli_dataset_io_constants.h).
METADATA_FILENAME: str = _native.dataset_io.METADATA_FILENAME
_STAMPED_FILES = (_native.dataset_io.STEPS_FILENAME, _native.dataset_io.STEP_OFFSETS_FILENAME)
_GLOB_CHARS = frozenset('*?[')

Source = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


class NoDatasetError(FileNotFoundError):
  """A root, glob or list in which no dataset can be read."""


def is_dataset(path: Union[str, os.PathLike]) -> bool:
  """True if `path` is a dataset directory (it holds metadata.riegeli)."""
  return os.path.isfile(os.path.join(os.fspath(path), METADATA_FILENAME))


def needs_multi_reader(source: Any) -> bool:
  """True if `source` is not a single dataset directory (a root, glob or list)."""
  if isinstance(source, (list, tuple)):
    return True
  if not isinstance(source, (str, os.PathLike)):
    return False
  path = os.fspath(source)
  if isinstance(path, bytes) or is_dataset(path):
    return False
  if os.path.isdir(path):
    # A directory holding no dataset is left to the single-dataset reader,
    # whose error names it ("No metadata.riegeli in ...").
    return bool(root_writers(path))
  return bool(_GLOB_CHARS & set(path))


def root_writers(root: str, others: Optional[List[str]] = None) -> Dict[str, str]:
  """{name: path} of the dataset subdirectories of `root`.

  Subdirectories that hold no dataset (yet: a writer creates its directory
  before it publishes metadata.riegeli) are appended to `others`.
  """
  writers = {}
  try:
    entries = list(os.scandir(root))
  except OSError:
    return writers
  for entry in entries:
    # Hidden directories are not writers (e.g. envlogger.beam's unfinished output).
    if entry.is_dir() and not entry.name.startswith('.'):
      if is_dataset(entry.path):
        writers[entry.name] = entry.path
      elif others is not None:
        others.append(entry.path)
  return writers


class Sources:
  """Finds the writers of a root, glob or list; tells cheaply when to look again."""

  def __init__(self, source: Source):
    self._roots: List[str] = []  # Listed for subdirectories.
    self._globs: List[str] = []
    self._datasets: List[str] = []
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    if not items:
      raise NoDatasetError('No dataset directory given: the list is empty')
    for item in items:
      path = os.fspath(item)
      if is_dataset(path):
        self._datasets.append(path)
      elif os.path.isdir(path):
        self._roots.append(path)
      elif _GLOB_CHARS & set(path):
        self._globs.append(path)
      else:
        raise NoDatasetError(f'No dataset at {path}: no such directory, and not a glob')
    self._description = ', '.join(os.fspath(item) for item in items)
    self._stamps: Dict[str, int] = {}
    # Subdirectories of roots without a dataset when last listed: publishing
    # metadata.riegeli in one does not change its root's mtime.
    self._not_yet: List[str] = []

  def __str__(self) -> str:
    return self._description

  def changed(self) -> bool:
    """False if no root's listing can have changed since the last `writers()`."""
    if self._globs:
      return True
    return any(mtime(root) != self._stamps.get(root) for root in self._roots) or any(
      is_dataset(path) for path in self._not_yet
    )

  def writers(self) -> Dict[str, str]:
    """{writer name: dataset directory} of every dataset found now."""
    found: Dict[str, str] = {}
    self._not_yet = []
    for root in self._roots:
      self._stamps[root] = mtime(root)
      prefix = '' if len(self._roots) + len(self._globs) + len(self._datasets) == 1 else root
      for name, path in root_writers(root, self._not_yet).items():
        found[os.path.join(prefix, name) if prefix else name] = path
    for pattern in self._globs:
      for path in glob.glob(pattern):
        if is_dataset(path):
          found[path] = path
        elif os.path.isdir(path):
          for name, sub in root_writers(path).items():
            found[os.path.join(path, name)] = sub
    for path in self._datasets:
      found[path] = path
    return found


def mtime(path: str) -> int:
  try:
    return os.stat(path).st_mtime_ns
  except OSError:
    return -1


class Stamp:
  """What a writer changes when it flushes or adds a shard: sizes and mtimes.

  The dataset directory's mtime changes when a shard is added, so its
  subdirectories are listed again only then; a shard's steps.riegeli grows
  with every chunk and its step_offsets.riegeli with every flush.
  """

  def __init__(self, path: str):
    self._path = path
    self._dir_mtime = None
    self._files: List[str] = []

  def take(self) -> Tuple[int, ...]:
    """The current stamp (one stat per file, plus a listing if shards were added)."""
    dir_mtime = mtime(self._path)
    if dir_mtime != self._dir_mtime:
      self._dir_mtime = dir_mtime
      try:
        shards = sorted(e.path for e in os.scandir(self._path) if e.is_dir())
      except OSError:
        shards = []
      self._files = [os.path.join(shard, name) for shard in shards for name in _STAMPED_FILES]
    stamp = [dir_mtime]
    stat = os.stat
    for path in self._files:
      try:
        info = stat(path)
        stamp += (info.st_size, info.st_mtime_ns)
      except OSError:
        stamp += (-1, -1)
    return tuple(stamp)
