"""MultiBackendReader: many writers' datasets read as one, following live writers.

The source is a root whose immediate subdirectories are datasets (one per
writer, e.g. recorded with `EnvLogger(writer_name=...)`), a glob, or a list of
dataset directories or roots. Each writer's dataset is opened by its own
`RiegeliBackendReader`; this module only maps global indices to them.

Global order: at open, writers sorted by name, each writer's episodes in its
own order. `refresh()` appends what became visible since (new episodes of
known writers, then new writers' episodes, writers by name), so indices once
given never change and a reader following a live experiment sees every step
exactly once. (A fresh reader of the finished dataset orders all episodes of
a writer together.)

Visibility: the last episode of a writer that is still live (holds its
writer lock, see `envlogger/writer_name.py`) is hidden until it ends (its
last step is LAST), the writer starts another episode, or the writer ends
(closed or killed: what it flushed, or what recovery finds, is final).
Datasets without a writer lock are shown whole, as `RiegeliBackendReader`
shows them.

Refreshing costs a few `stat`s per writer: a writer is reopened only if its
directory or one of its shards' files changed size or mtime, and the root is
listed again only if its own mtime changed.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import dataclasses
import pickle
from typing import Any, Dict, List, Optional, Tuple

from absl import logging
import dm_env
import numpy as np

from envlogger import step_data
from envlogger import writer_name as writer_names
from envlogger.backends import backend_reader
from envlogger.backends import dataset_sources
from envlogger.backends import riegeli_backend_reader
from envlogger.backends.python import episode_info

# Writers' datasets are opened on this many threads (the native open
# releases the GIL and waits mostly on the file system).
_OPEN_THREADS = 8


class SpecMismatchError(ValueError):
  """Writers of one root recorded environments with different specs."""


@dataclasses.dataclass
class _Writer:
  """One writer's dataset and how much of it is visible."""

  name: str
  path: str
  reader: riegeli_backend_reader.RiegeliBackendReader
  stamper: dataset_sources.Stamp
  stamp: Tuple[int, ...]
  visible_episodes: int = 0
  visible_steps: int = 0
  hidden_tail: bool = False  # The last episode is held back (writer live).
  # (episodes, steps) visible after the next `_add_segment`.
  pending: Tuple[int, int] = (0, 0)
  specs: Any = None  # The decoded environment_specs of its metadata.
  specs_key: bytes = b''  # Their pickle: equal keys mean equal specs.
  segments: List['_Segment'] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class _Segment:
  """Episodes [ep_start, ep_stop) of a writer at global indices from global_*."""

  writer: _Writer
  ep_start: int
  ep_stop: int
  step_start: int  # Writer-local steps [step_start, step_stop).
  step_stop: int
  global_episode: int
  global_step: int


def _visible(
  reader: riegeli_backend_reader.RiegeliBackendReader, live: bool
) -> Tuple[int, int, bool]:
  """(episodes, steps, tail hidden) visible of a writer's dataset."""
  num_episodes = reader._get_num_episodes()  # pylint: disable=protected-access
  num_steps = reader._get_num_steps()  # pylint: disable=protected-access
  if not live or num_episodes == 0:
    return num_episodes, num_steps, False
  try:
    last = reader._get_nth_step(num_steps - 1)  # pylint: disable=protected-access
    if last.timestep.step_type == dm_env.StepType.LAST:
      return num_episodes, num_steps, False
  except (RuntimeError, IndexError, ValueError, TypeError):
    pass
  start = reader._get_nth_episode_info(num_episodes - 1).start  # pylint: disable=protected-access
  return num_episodes - 1, start, True


def _same(a: Any, b: Any) -> bool:
  """Deep equality of decoded metadata values (dicts, lists, numpy arrays)."""
  if isinstance(a, dict) or isinstance(b, dict):
    return (
      isinstance(a, dict)
      and isinstance(b, dict)
      and a.keys() == b.keys()
      and all(_same(a[k], b[k]) for k in a)
    )
  if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
    return (
      type(a) is type(b)
      and len(a) == len(b)  # pylint: disable=unidiomatic-typecheck
      and all(_same(x, y) for x, y in zip(a, b))
    )
  if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
  return type(a) is type(b) and a == b  # pylint: disable=unidiomatic-typecheck


class MultiBackendReader(backend_reader.BackendReader):
  """Reads the datasets of many writers as one dataset (see the module doc)."""

  def __init__(self, source: dataset_sources.Source, cache_bytes: Optional[int] = None):
    """Opens every dataset of `source` (a root, a glob, or a list of them).

    `cache_bytes` bounds each writer's decoded-chunk cache as
    `RiegeliBackendReader`'s does (None: its default).

    Raises:
      NoDatasetError: nothing readable there (names the source).
      SpecMismatchError: two writers' environment specs differ (names both).
    """
    self._source = dataset_sources.Sources(source)
    self._cache_bytes = cache_bytes
    self._writers: Dict[str, _Writer] = {}
    self._segments: List[_Segment] = []
    self._segment_steps: List[int] = []
    self._segment_episodes: List[int] = []
    self._num_steps = 0
    self._num_episodes = 0
    self._unreadable: Dict[str, str] = {}
    self._reference: Optional[_Writer] = None  # Whose specs all others must have.
    self._found: Dict[str, str] = {}  # The last listing of the source.
    self._refresh()
    if not self._writers:
      unreadable = ''.join(f'; {path}: {why}' for path, why in self._unreadable.items())
      raise dataset_sources.NoDatasetError(
        f'No readable envlogger dataset in {self._source} (a dataset '
        f'directory holds {dataset_sources.METADATA_FILENAME}){unreadable}'
      )
    super().__init__()

  # Opening and following writers.

  def refresh(self) -> range:
    """Adds what writers flushed since the last open or refresh.

    Returns the global indices of the episodes that became visible; they
    follow all earlier ones, so earlier indices keep meaning the same steps.
    """
    first = self._num_episodes
    self._refresh()
    self._init_visitors()
    return range(first, self._num_episodes)

  def _refresh(self) -> None:
    if self._source.changed() or not self._writers:
      self._found = self._source.writers()
    found = self._found  # Unreadable ones included: they are tried again.
    new = sorted(name for name in found if name not in self._writers)
    changed = [w for w in self._writers.values() if w.hidden_tail or w.stamper.take() != w.stamp]
    opened = {}
    if new or changed:
      with concurrent.futures.ThreadPoolExecutor(_OPEN_THREADS) as pool:
        opened = dict(zip(new, pool.map(lambda name: self._open_writer(name, found[name]), new)))
        list(pool.map(self._update_writer, changed))
    for name in sorted(found):
      writer = self._writers.get(name) or opened.get(name)
      if writer is None:
        continue  # Unreadable (listed by unreadable()).
      if name not in self._writers:
        self._check_specs(writer)
        self._writers[name] = writer
      self._add_segment(writer)

  def _open_writer(self, name: str, path: str) -> Optional[_Writer]:
    """Opens a writer's dataset, or records why it cannot be read."""
    live = writer_names.is_live(path)  # Before reading: a dead writer's data is final.
    stamper = dataset_sources.Stamp(path)
    stamp = stamper.take()
    try:
      reader = riegeli_backend_reader.RiegeliBackendReader(path, cache_bytes=self._cache_bytes)
    except RuntimeError as e:
      if path not in self._unreadable:  # Tried again by each refresh(); told once.
        logging.warning('Skipping unreadable dataset %s: %s', path, e)
      self._unreadable[path] = str(e)
      return None
    self._unreadable.pop(path, None)
    episodes, steps, hidden = _visible(reader, live)
    specs = (reader.metadata() or {}).get('environment_specs')
    return _Writer(
      name,
      path,
      reader,
      stamper,
      stamp,
      hidden_tail=hidden,
      pending=(episodes, steps),
      specs=specs,
      specs_key=pickle.dumps(specs, protocol=4),
    )

  def _update_writer(self, writer: _Writer) -> None:
    """Reopens a writer whose files changed (or whose last episode was held back)."""
    live = writer_names.is_live(writer.path)
    stamp = writer.stamper.take()
    if stamp != writer.stamp:
      try:
        reader = riegeli_backend_reader.RiegeliBackendReader(
          writer.path, cache_bytes=self._cache_bytes
        )
      except RuntimeError as e:
        logging.warning(
          'Keeping the earlier view of %s, which cannot be reopened: %s', writer.path, e
        )
        return
      writer.reader.close()
      writer.reader, writer.stamp = reader, stamp
    episodes, steps, writer.hidden_tail = _visible(writer.reader, live)
    writer.pending = (max(episodes, writer.visible_episodes), max(steps, writer.visible_steps))

  def _add_segment(self, writer: _Writer) -> None:
    """Appends the writer's newly visible episodes to the global order."""
    episodes, steps = writer.pending
    if episodes <= writer.visible_episodes:
      return
    segment = _Segment(
      writer,
      writer.visible_episodes,
      episodes,
      writer.visible_steps,
      steps,
      self._num_episodes,
      self._num_steps,
    )
    writer.segments.append(segment)
    self._segments.append(segment)
    self._segment_steps.append(self._num_steps)
    self._segment_episodes.append(self._num_episodes)
    self._num_steps += steps - writer.visible_steps
    self._num_episodes += episodes - writer.visible_episodes
    writer.visible_episodes, writer.visible_steps = episodes, steps

  def _check_specs(self, writer: _Writer) -> None:
    """Raises SpecMismatchError unless `writer` has the specs of the writers read so far."""
    first = self._reference
    if first is None:
      self._reference = writer
      return
    if writer.specs_key != first.specs_key and not _same(writer.specs, first.specs):
      names = sorted([first, writer], key=lambda w: w.name)
      raise SpecMismatchError(
        f'Writers {names[0].name!r} ({names[0].path}) and {names[1].name!r} '
        f'({names[1].path}) recorded environments with different specs; read them as '
        'separate datasets'
      )

  # Where things come from.

  def writer_names(self) -> List[str]:
    """The names of the writers read, sorted."""
    return sorted(self._writers)

  def writer_metadata(self) -> Dict[str, Dict[str, Any]]:
    """{writer name: that writer's dataset metadata}."""
    return {name: self._writers[name].reader.metadata() for name in sorted(self._writers)}

  def writer_shard_episode_starts(self) -> Dict[str, List[int]]:
    """{writer name: the writer-local index of each of its shards' first episode}."""
    return {name: w.reader.shard_episode_starts() for name, w in sorted(self._writers.items())}

  def writer_paths(self) -> Dict[str, str]:
    """{writer name: its dataset directory}."""
    return {name: self._writers[name].path for name in sorted(self._writers)}

  def episode_origin(self, i: int) -> Tuple[str, int]:
    """(writer name, index of the episode in that writer's dataset) of episode `i`."""
    segment, local = self._episode(i)
    return segment.writer.name, local

  def unreadable(self) -> Dict[str, str]:
    """{dataset directory: error} of datasets found but not readable (skipped)."""
    return dict(self._unreadable)

  def _episode(self, i: int) -> Tuple[_Segment, int]:
    if i < 0:
      i += self._num_episodes
    if not 0 <= i < self._num_episodes:
      raise IndexError(f'Episode {i} is not in [0, {self._num_episodes})')
    segment = self._segments[bisect.bisect_right(self._segment_episodes, i) - 1]
    return segment, segment.ep_start + i - segment.global_episode

  def _step(self, i: int) -> Tuple[_Segment, int]:
    segment = self._segments[bisect.bisect_right(self._segment_steps, i) - 1]
    return segment, segment.step_start + i - segment.global_step

  # BackendReader.

  def _get_num_steps(self) -> int:
    return self._num_steps

  def _get_num_episodes(self) -> int:
    return self._num_episodes

  def _get_nth_step(self, i: int) -> step_data.StepData:
    segment, local = self._step(i)
    return segment.writer.reader._get_nth_step(local)  # pylint: disable=protected-access

  def _get_steps(self, start: int, stop: int) -> List[step_data.StepData]:
    segment, local = self._step(start)
    local_stop = min(segment.step_stop, local + stop - start)
    return segment.writer.reader._get_steps(local, local_stop)  # pylint: disable=protected-access

  def _get_nth_episode_info(
    self, i: int, include_metadata: bool = False
  ) -> episode_info.EpisodeInfo:
    segment, local = self._episode(i)
    info = segment.writer.reader._get_nth_episode_info(  # pylint: disable=protected-access
      local, include_metadata
    )
    # The writer's last visible episode may have grown after it was shown.
    num_steps = min(info.num_steps, segment.step_stop - info.start)
    return episode_info.EpisodeInfo(
      start=segment.global_step + info.start - segment.step_start,
      num_steps=num_steps,
      metadata=info.metadata,
    )

  def _get_nth_episode_metadata(self, i: int) -> Any:
    segment, local = self._episode(i)
    return segment.writer.reader._get_nth_episode_metadata(local)  # pylint: disable=protected-access

  def metadata(self) -> Dict[str, Any]:
    """The first writer's (by name) dataset metadata; see `writer_metadata()`."""
    return self._writers[min(self._writers)].reader.metadata()

  def cache_stats(self) -> Dict[str, int]:
    """The writers' decoded-chunk caches, summed (each bounded by `cache_bytes`)."""
    total = dict(max_bytes=0, bytes=0, chunks=0, hits=0, misses=0, evictions=0)
    for writer in self._writers.values():
      for key, value in writer.reader.cache_stats().items():
        total[key] += value
    return total

  def skipped_regions(self) -> List[backend_reader.SkippedRegion]:
    """Damaged regions met so far, in every writer, with global step indices."""
    regions = []
    for name in sorted(self._writers):
      writer = self._writers[name]
      for region in writer.reader.skipped_regions():
        regions.append(dataclasses.replace(region, steps=self._global_steps(writer, region.steps)))
    return regions

  def _global_steps(self, writer: _Writer, steps: range) -> range:
    """Global indices of the writer's local `steps` (its first visible run of them)."""
    for segment in writer.segments:
      first = max(steps.start, segment.step_start)
      last = min(steps.stop, segment.step_stop)
      if first < last:
        offset = segment.global_step - segment.step_start
        return range(first + offset, last + offset)
    return range(0)

  def recovery_reports(self) -> List[str]:
    """Every writer's recovery reports (see RiegeliBackendReader)."""
    return [
      report
      for name in sorted(self._writers)
      for report in self._writers[name].reader.recovery_reports()
    ]

  def _copy(self) -> 'MultiBackendReader':
    clone = object.__new__(MultiBackendReader)
    clone.__dict__.update(self.__dict__)
    clone._writers = {}
    mapping = {}
    for name, writer in self._writers.items():
      new = dataclasses.replace(writer, reader=writer.reader.copy(), segments=[])
      clone._writers[name] = mapping[id(writer)] = new
    clone._segments = []
    for segment in self._segments:
      new = dataclasses.replace(segment, writer=mapping[id(segment.writer)])
      new.writer.segments.append(new)
      clone._segments.append(new)
    clone._segment_steps = list(self._segment_steps)
    clone._segment_episodes = list(self._segment_episodes)
    clone._source = dataset_sources.Sources.__new__(dataset_sources.Sources)
    clone._source.__dict__.update(self._source.__dict__)
    clone._source._stamps = dict(self._source._stamps)  # pylint: disable=protected-access
    clone._unreadable = dict(self._unreadable)
    return clone

  def close(self) -> None:
    for writer in getattr(self, '_writers', {}).values():
      writer.reader.close()
