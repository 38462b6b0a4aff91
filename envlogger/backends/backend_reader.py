"""Abstract interface of the backends that read logged datasets."""

import abc
import collections.abc
import dataclasses
import itertools
import operator
from typing import (
  Any,
  Callable,
  Dict,
  Generic,
  Iterator,
  List,
  NamedTuple,
  Optional,
  Tuple,
  TypeVar,
  Union,
)

import numpy as np

from envlogger import step_data
from envlogger.backends import step_stacking
from envlogger.backends import step_windows
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
    return (
      f'{self.path}: bytes [{self.begin}, {self.end}) unreadable, '
      f'{len(self.steps)} steps lost: {self.message}'
    )


class DamagedDataError(RuntimeError):
  """A step (or episode metadata) lies in a damaged part of a file.

  Raised by random access (`reader.steps[i]`); iterating `reader.steps` or
  an episode skips such steps instead. A RuntimeError, the type read errors
  had before damage was told apart.
  """


class StackedSteps(NamedTuple):
  """Steps read and stacked by `BackendReader._stack_steps`.

  Attributes:
    step: StepData of arrays whose rows are the readable steps, in order.
    readable: bool mask over the requested indices: which steps were read
      (False for steps in damaged chunks, which were skipped).
    ragged: the paths returned as lists (see step_stacking.Stacker).
  """

  step: step_data.StepData
  readable: np.ndarray
  ragged: frozenset


# How many times sample() redraws windows that hit damaged steps.
_MAX_REDRAWS = 64
# Steps of the dataset's start that teach the layout of leaves that are None
# in every step asked for (see step_stacking).
_REFERENCE_STEPS = 64


def _index_in(index: Any, count: int, name: str) -> int:
  """`index` in [-count, count] as a non-negative position (slice bounds)."""
  if isinstance(index, (bool, np.bool_)):
    raise TypeError(f'{name} must be an int, got {index!r}')
  try:
    index = operator.index(index)
  except TypeError:
    raise TypeError(f'{name} must be an int, got {type(index).__name__}') from None
  if index < -count or index > count:
    raise IndexError(
      f'{name}={index} is out of the range [{-count}, {count}] of a dataset of {count} steps'
    )
  return index + count if index < 0 else index


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

  def __init__(
    self,
    count: int,
    get_nth_item: Callable[[int], T],
    skip_damaged: bool = False,
    get_items: Optional[Callable[[int, int], List[T]]] = None,
  ):
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
      raise IndexError(f'`index`=={index} is out of the range [{-self._count}, {self._count - 1}].')
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
    self._episode_table_cache = None
    self._windows_cache = {}  # seq_len -> step_windows.Windows
    self._reference_cache = None
    num_episodes = self._get_num_episodes()
    self._steps = _SequenceAdapter(
      self._get_num_steps(), self._get_nth_step, skip_damaged=True, get_items=self._get_steps
    )
    self._episodes = _SequenceAdapter(num_episodes, self._get_nth_episode)
    self._episode_metadata = _SequenceAdapter(num_episodes, self._get_nth_episode_metadata)

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
  def _get_nth_episode_info(
    self, i: int, include_metadata: bool = False
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

  def cache_stats(self) -> Optional[Dict[str, int]]:
    """The decoded-chunk cache of a file backend, or None (no such cache).

    A dict: `max_bytes` (the bound), `bytes` and `chunks` (held now), and
    counters since the files were opened: `hits` and `misses` (lookups of a
    chunk for a random access) and `evictions` (chunks dropped to stay
    within the bound).
    """
    return None

  def _decode_episode_metadata(self, stored: Any) -> Any:
    """Turns stored episode metadata into the user's value (default: codec)."""
    return codec.decode(stored)

  def _get_nth_episode(self, i: int) -> collections.abc.Sequence:
    info = self._get_nth_episode_info(i, include_metadata=False)
    start = info.start
    return _SequenceAdapter(
      info.num_steps,
      lambda j: self._get_nth_step(start + j),
      skip_damaged=True,
      get_items=lambda j, stop: self._get_steps(start + j, start + stop),
    )

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

  def step_arrays(
    self, start: int = 0, stop: Optional[int] = None, *, ragged: step_stacking.Ragged = ()
  ) -> step_data.StepData:
    """Steps [start, stop) as a StepData of arrays with a leading step axis.

    Every leaf (step_type, reward, discount, each leaf of observation,
    action and custom_data, nesting kept) is `np.stack` of its per-step
    values; None is NaN in floating leaves and 0 / False / '' otherwise. A
    leaf whose shape or dtype changes raises ValueError naming its path and
    the first step that differs, unless it (or a prefix) is in `ragged`,
    e.g. `ragged=('timestep/observation/text',)`: such parts are lists of
    the per-step values. See envlogger/backends/step_stacking.py for the
    rules. Steps in damaged chunks are skipped (logged, listed by
    `skipped_regions()`), as by iteration: the rows are the readable steps.

    Args:
      start: first global step index; negative counts from the end.
      stop: end (exclusive), default the number of steps; negative counts
        from the end.
      ragged: leaf paths (or prefixes) to return as lists.

    Raises:
      IndexError: `start` or `stop` is outside [-num_steps, num_steps].
      ValueError: `start` > `stop`, or a leaf changes (see above), or the
        range is empty in a dataset without steps.
    """
    count = self._get_num_steps()
    first = _index_in(start, count, 'start')
    end = count if stop is None else _index_in(stop, count, 'stop')
    if first > end:
      raise ValueError(f'start={start} is after stop={stop}')
    if first == end and count == 0:
      raise ValueError("The dataset has no steps to take the arrays' layout from")
    return self._stack_steps(np.arange(first, end, dtype=np.int64), ragged).step

  def episode_arrays(self, index: int, *, ragged: step_stacking.Ragged = ()) -> step_data.StepData:
    """The steps of episode `index` as arrays, as `step_arrays` (negative counts from the end).

    Raises:
      IndexError: no such episode (the message of `episodes[index]`).
    """
    count = self._get_num_episodes()
    try:
      position = operator.index(index)
    except TypeError:
      raise TypeError(f'episode index must be an int, got {type(index).__name__}') from None
    if position >= count or position < -count:
      raise IndexError(f'`index`=={index} is out of the range [{-count}, {count - 1}].')
    if position < 0:
      position += count
    info = self._get_nth_episode_info(position, include_metadata=False)
    return self.step_arrays(info.start, info.start + info.num_steps, ragged=ragged)

  def sample(
    self, batch_size: int, *, seq_len: int = 1, seed: Any = None, ragged: step_stacking.Ragged = ()
  ) -> step_data.StepData:
    """`batch_size` windows of `seq_len` consecutive steps, drawn uniformly.

    Each window is drawn uniformly, with replacement, from all windows of
    `seq_len` consecutive steps that lie inside one episode. Every leaf is
    shaped [batch_size, seq_len, ...] (also for seq_len=1); ragged parts are
    nested lists [batch_size][seq_len]. Windows that meet a step in a
    damaged chunk are redrawn.

    Args:
      batch_size: windows per batch (>= 1).
      seq_len: steps per window (>= 1).
      seed: anything `np.random.default_rng` takes: an int gives the same
        batch every time, a `np.random.Generator` is advanced (a stream of
        batches), None draws fresh entropy.
      ragged: leaf paths (or prefixes) to return as lists, as `step_arrays`.

    Raises:
      ValueError: `batch_size` or `seq_len` below 1, `seq_len` longer than
        every episode, a leaf that changes (see `step_arrays`).
      DamagedDataError: no undamaged windows found after many redraws.
    """
    batch_size = step_windows.check_count('batch_size', batch_size)
    windows = self.windows(seq_len)
    rng = np.random.default_rng(seed)
    firsts = windows.first_steps(rng.integers(0, windows.count, batch_size))
    for _ in range(_MAX_REDRAWS):
      batch, damaged = self.read_windows(windows, firsts, ragged)
      if not damaged.any():
        return batch
      firsts[damaged] = windows.first_steps(rng.integers(0, windows.count, int(damaged.sum())))
    raise DamagedDataError(
      f'Could not draw {batch_size} windows of {seq_len} steps without '
      f'damaged steps in {_MAX_REDRAWS} tries; see skipped_regions()'
    )

  def batches(
    self,
    batch_size: int,
    *,
    seq_len: int = 1,
    seed: Any = None,
    drop_last: bool = False,
    ragged: step_stacking.Ragged = (),
  ) -> Iterator[step_data.StepData]:
    """One epoch: every window of `seq_len` steps once, in random order.

    Yields batches shaped as `sample`'s; the last one is smaller unless
    `drop_last`. Windows that meet a step in a damaged chunk are left out
    (their batch is smaller). `seed` as in `sample` (same seed, same order).

    Raises:
      ValueError: as `sample`.
    """
    batch_size = step_windows.check_count('batch_size', batch_size)
    windows = self.windows(seq_len)
    order = np.random.default_rng(seed).permutation(windows.count)
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for begin in range(0, stop, batch_size):
      firsts = windows.first_steps(order[begin : begin + batch_size])
      batch, damaged = self.read_windows(windows, firsts, ragged)
      if damaged.any():
        if damaged.all():
          continue
        batch, _ = self.read_windows(windows, firsts[~damaged], ragged)
      yield batch

  def windows(self, seq_len: int) -> step_windows.Windows:
    """The windows of `seq_len` consecutive steps inside one episode each.

    They are what `sample` draws from and `batches` walks; built once per
    `seq_len` and reader.

    Raises:
      ValueError: `seq_len` is not a positive integer, or no episode has
        `seq_len` steps.
    """
    seq_len = step_windows.check_count('seq_len', seq_len)
    windows = self._windows_cache.get(seq_len)
    if windows is not None:
      return windows
    if self._episode_table_cache is None:
      infos = [self._get_nth_episode_info(i) for i in range(self._get_num_episodes())]
      self._episode_table_cache = (
        np.array([i.start for i in infos], np.int64),
        np.array([i.num_steps for i in infos], np.int64),
      )
    windows = step_windows.Windows(*self._episode_table_cache, seq_len)
    self._windows_cache[seq_len] = windows
    return windows

  def read_windows(
    self, windows: step_windows.Windows, firsts: np.ndarray, ragged: step_stacking.Ragged = ()
  ) -> Tuple[Optional[step_data.StepData], np.ndarray]:
    """Reads the windows that begin at the steps `firsts`, stacked.

    Returns `(batch, damaged)`: `batch` has arrays of shape
    `[len(firsts), windows.seq_len, ...]` (each step read once however many
    windows hold it), `damaged` a bool array marking the windows with a step in
    a damaged chunk; `batch` is None when any window is damaged.
    """
    steps = windows.steps(firsts)
    unique, inverse = np.unique(steps, return_inverse=True)
    stacked = self._stack_steps(unique, ragged)
    readable = stacked.readable[inverse.reshape(steps.shape)]
    damaged = ~readable.all(axis=1)
    if damaged.any():
      return None, damaged
    rows = (np.cumsum(stacked.readable) - 1)[inverse.reshape(steps.shape)]
    return step_stacking.take_rows(stacked.step, rows, stacked.ragged), damaged

  def _reference_steps(self) -> List[step_data.StepData]:
    """The first readable steps of the dataset (see step_stacking)."""
    if self._reference_cache is None:
      self._reference_cache = list(itertools.islice(iter(self.steps), _REFERENCE_STEPS))
    return self._reference_cache

  def _stack_steps(self, indices: np.ndarray, ragged: step_stacking.Ragged) -> StackedSteps:
    """Reads the steps at `indices` (sorted, unique, in range) and stacks them.

    Steps in damaged chunks are skipped (and reported as iteration reports
    them). The default reads through `_get_steps`, consecutive indices in
    batches; backends with a faster path override it.
    """
    steps = []
    readable = np.zeros(len(indices), bool)
    position = 0
    while position < len(indices):
      index = int(indices[position])
      run_end = position + 1  # Consecutive indices are read in batches.
      while run_end < len(indices) and indices[run_end] == indices[run_end - 1] + 1:
        run_end += 1
      try:
        batch = self._get_steps(index, int(indices[run_end - 1]) + 1)
      except DamagedDataError:
        position += 1
        continue
      batch = batch[: run_end - position]
      steps.extend(batch)
      readable[position : position + len(batch)] = True
      position += len(batch)
    stacker = step_stacking.Stacker(ragged, self._reference_steps)
    step = stacker.stack(steps, indices[readable])
    return StackedSteps(step, readable, frozenset(stacker.ragged_applied))

  def __enter__(self) -> 'BackendReader':
    return self

  def __exit__(self, exc_type, exc_value, tb) -> None:
    self.close()

  def __del__(self):
    self.close()
