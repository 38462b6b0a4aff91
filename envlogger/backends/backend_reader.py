"""Abstract interface of the backends that read logged datasets."""

import abc
import collections.abc
import dataclasses
import operator
from typing import Any, Callable, Generic, Iterator, List, Optional, TypeVar, Union

from envlogger import step_data
from envlogger.backends.python import episode_info
from envlogger.converters import codec

T = TypeVar('T')


@dataclasses.dataclass(frozen=True)
class SkippedRegion:
  """Bytes [begin, end) of the file `path` that could not be read.

  Attributes:
    path: the damaged file (e.g. a shard's steps.riegeli).
    begin: first unreadable byte.
    end: first byte after the unreadable range (where reading resumed).
    message: why, e.g. "corrupted chunk header (hash mismatch) in ...".
    steps: the global indices of the steps lost in it (empty for a region of
      episode_metadata.riegeli).
  """
  path: str
  begin: int
  end: int
  message: str
  steps: range

  def __str__(self) -> str:
    return (f'{self.path}: bytes [{self.begin}, {self.end}) unreadable, '
            f'{len(self.steps)} steps lost: {self.message}')


class DamagedDataError(RuntimeError):
  """A step (or episode metadata) lies in a damaged part of a file.

  Raised by random access (`reader.steps[i]`); iterating `reader.steps` or
  an episode skips such steps instead. A RuntimeError, the type read errors
  had before damage was told apart.
  """


class _SequenceAdapter(Generic[T], collections.abc.Sequence):
  """A lazy, fixed-length Sequence whose items are fetched on access.

  `adapter[i]` calls `get_nth_item(i)` every time (nothing is cached);
  negative indices count from the end; slices return lists. Every `iter()`
  is independent of the others (upstream shared one index between all
  iterations of the same adapter). With `skip_damaged`, iteration leaves out
  items that raise DamagedDataError (indexing still raises it). With
  `get_items`, iteration fetches items in batches: `get_items(i, stop)`
  returns items i, i + 1, ... (at least one, fewer than stop - i as it
  likes) or raises what `get_nth_item(i)` raises.
  """

  def __init__(self,
               count: int,
               get_nth_item: Callable[[int], T],
               skip_damaged: bool = False,
               get_items: Optional[Callable[[int, int], List[T]]] = None):
    self._count = count
    self._get_nth_item = get_nth_item
    self._skip_damaged = skip_damaged
    self._get_items = get_items

  def __len__(self) -> int:
    return self._count

  def __getitem__(self, index: Union[int, slice]) -> Union[T, List[T]]:
    if isinstance(index, slice):
      return [self._get_nth_item(i) for i in range(*index.indices(self._count))]
    try:
      index = operator.index(index)
    except TypeError:
      raise TypeError(f'indices must be integers or slices, not {type(index).__name__}') from None
    if index >= self._count or index < -self._count:
      raise IndexError(f'`index`=={index} is out of the range '
                       f'[{-self._count}, {self._count - 1}].')
    if index < 0:
      index += self._count
    return self._get_nth_item(index)

  def __iter__(self) -> Iterator[T]:
    if self._get_items is not None:
      return self._iter_batches()
    return self._iter_items()

  def _iter_batches(self) -> Iterator[T]:
    get_items = self._get_items
    count = self._count
    i = 0
    while i < count:
      try:
        items = get_items(i, count)
      except DamagedDataError:
        if not self._skip_damaged:
          raise
        i += 1
        continue
      i += len(items)
      yield from items

  def _iter_items(self) -> Iterator[T]:
    if not self._skip_damaged:
      for i in range(self._count):
        yield self._get_nth_item(i)
      return
    get_nth_item = self._get_nth_item
    for i in range(self._count):
      try:
        item = get_nth_item(i)
      except DamagedDataError:
        continue
      yield item


class BackendReader(metaclass=abc.ABCMeta):
  """Random access to the steps, episodes and metadata of a dataset.

  Counts are taken at construction (and by `copy()`); data appended later by
  a writer is not visible. Subclasses implement the `_get_*` accessors,
  `_copy`, `close` and `metadata`.
  """

  def __init__(self):
    self._init_visitors()

  def _init_visitors(self) -> None:
    num_episodes = self._get_num_episodes()
    self._steps = _SequenceAdapter(self._get_num_steps(), self._get_nth_step,
                                   skip_damaged=True, get_items=self._get_steps)
    self._episodes = _SequenceAdapter(num_episodes, self._get_nth_episode)
    self._episode_metadata = _SequenceAdapter(num_episodes,
                                              self._get_nth_episode_metadata)

  def copy(self) -> 'BackendReader':
    """An independent reader of the same data (e.g. for another thread)."""
    c = self._copy()
    c._init_visitors()  # pylint: disable=protected-access
    return c

  @abc.abstractmethod
  def _copy(self) -> 'BackendReader':
    """Returns a copy that does not share mutable reading state."""

  @abc.abstractmethod
  def close(self) -> None:
    """Releases resources. Idempotent."""

  @abc.abstractmethod
  def _get_nth_step(self, i: int) -> step_data.StepData:
    """Returns step `i` (0 <= i < num_steps)."""

  def _get_steps(self, start: int, stop: int) -> List[step_data.StepData]:
    """Steps `start`, `start` + 1, ... before `stop`, for sequential reading.

    Returns at least one step and as many more as the backend reads
    cheaply in one go, or raises what `_get_nth_step(start)` raises. The
    default reads one step.
    """
    del stop  # One step at a time.
    return [self._get_nth_step(start)]

  @abc.abstractmethod
  def _get_num_steps(self) -> int:
    """Total number of steps."""

  @abc.abstractmethod
  def _get_num_episodes(self) -> int:
    """Total number of episodes."""

  @abc.abstractmethod
  def _get_nth_episode_info(self,
                            i: int,
                            include_metadata: bool = False
                           ) -> episode_info.EpisodeInfo:
    """Start, length and (if asked) stored metadata of episode `i`."""

  @abc.abstractmethod
  def metadata(self) -> Any:
    """The dataset-level metadata."""

  def skipped_regions(self) -> List[SkippedRegion]:
    """The damaged parts of the dataset this reader has met so far.

    Reading a step whose chunk is damaged (or cut off by a truncation) adds
    the unreadable byte range once, with the steps it holds; see
    `SkippedRegion`. Empty for backends that cannot be damaged and for
    intact datasets. Each `copy()` keeps its own list.
    """
    return []

  def _decode_episode_metadata(self, stored: Any) -> Any:
    """Turns stored episode metadata into the user's value (default: codec)."""
    return codec.decode(stored)

  def _get_nth_episode(self, i: int) -> collections.abc.Sequence:
    info = self._get_nth_episode_info(i, include_metadata=False)
    start = info.start
    return _SequenceAdapter(info.num_steps,
                            lambda j: self._get_nth_step(start + j),
                            skip_damaged=True,
                            get_items=lambda j, stop: self._get_steps(start + j, start + stop))

  def _get_nth_episode_metadata(self, i: int) -> Any:
    info = self._get_nth_episode_info(i, include_metadata=True)
    return self._decode_episode_metadata(info.metadata)

  @property
  def episodes(self) -> collections.abc.Sequence:
    """Lazy sequence of episodes, each a lazy sequence of `StepData`."""
    return self._episodes

  def episode_metadata(self) -> collections.abc.Sequence:
    """Lazy sequence with the metadata of every episode (None if absent)."""
    return self._episode_metadata

  @property
  def steps(self) -> collections.abc.Sequence:
    """Lazy sequence of all `StepData`, across episodes.

    Iterating it (or an episode) skips steps in damaged chunks, which are
    logged and listed by `skipped_regions()`; indexing such a step raises
    DamagedDataError naming the file and the position.
    """
    return self._steps

  def __enter__(self) -> 'BackendReader':
    return self

  def __exit__(self, exc_type, exc_value, tb) -> None:
    self.close()

  def __del__(self):
    self.close()
