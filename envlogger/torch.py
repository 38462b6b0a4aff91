"""PyTorch datasets over a recorded envlogger dataset (`pip install envlogger[torch]`).

Two datasets, both built from the arrays API of `envlogger.Reader`
(`step_arrays`), both holding only the data directory and their options, so
they pickle to `DataLoader` worker processes; each process opens its own
reader on first use.

* `StepDataset`: map-style. Item `i` is step `i` (shapes as recorded), or,
  with `seq_len=L`, the `i`-th window of `L` consecutive steps inside one
  episode (a leading axis of `L`; windows never cross an episode boundary).
* `StepIterableDataset`: iterates every step exactly once per epoch. The
  dataset is cut into contiguous blocks of steps; `DataLoader` workers take
  blocks in turn (worker `w` of `n` reads blocks `w`, `w + n`, ...), so each
  worker decodes only its own part of the files. With `batch_size=B` it
  yields ready batches (use `DataLoader(ds, batch_size=None)`), the fastest
  way to read.

Items are `StepData` like `Reader.step_arrays` returns: numeric leaves are
torch tensors (sharing memory with the decoded numpy arrays), string and
object leaves stay numpy arrays, absent values (a dataset recorded without
`step_fn` has `custom_data` None) stay None. `collate` stacks such items into
a batch, keeping None; pass it as `DataLoader(..., collate_fn=collate)`
(torch's default collate refuses None and strings).
"""

from __future__ import annotations

import collections.abc
import operator
import os
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

try:
  import torch
  from torch.utils import data as torch_data
except ImportError as e:  # pragma: no cover - exercised in a subprocess test.
  raise ImportError('envlogger.torch needs PyTorch: pip install envlogger[torch]') from e

from envlogger import reader as reader_lib
from envlogger import step_data
from envlogger.backends import backend_reader
from envlogger.backends import step_windows

DataDirectory = Union[str, os.PathLike]

# StepIterableDataset's default block: this many steps per step_arrays call
# (a few chunks of a typical dataset, small enough to spread over workers).
_DEFAULT_BLOCK_STEPS = 4096


def _map_structure(fn: Callable[..., Any], *trees: Any) -> Any:
  """`fn` applied to the leaves of `trees` (same structure), structure kept.

  Containers are dicts, lists, tuples and namedtuples (StepData, TimeStep);
  everything else (arrays, tensors, None) is a leaf.
  """
  first = trees[0]
  if isinstance(first, dict):
    return type(first)((k, _map_structure(fn, *(t[k] for t in trees))) for k in first)
  if isinstance(first, tuple) and hasattr(first, '_fields'):
    return type(first)(*(_map_structure(fn, *parts) for parts in zip(*trees)))
  if isinstance(first, (list, tuple)):
    return type(first)(_map_structure(fn, *parts) for parts in zip(*trees))
  return fn(*trees)


def _to_torch(value: Any) -> Any:
  """A numeric numpy array (or scalar) as a tensor; other leaves unchanged."""
  if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in 'biufc':
    array = np.asarray(value)
    if not array.flags.writeable:
      array = array.copy()  # torch.from_numpy warns about read-only memory.
    return torch.from_numpy(array)
  return value


def to_torch(data: Any) -> Any:
  """`data` (e.g. a StepData of numpy arrays) with numeric leaves as tensors.

  Numeric arrays become tensors sharing their memory; strings, objects and
  None are left as they are.
  """
  return _map_structure(_to_torch, data)


def _stack_leaves(*leaves: Any) -> Any:
  first = leaves[0]
  if first is None:
    if any(leaf is not None for leaf in leaves):
      raise ValueError('collate: a field is None in some items and not in others')
    return None
  if isinstance(first, torch.Tensor):
    return torch.stack(leaves)
  return np.stack([np.asarray(leaf) for leaf in leaves])


def collate(items: Sequence[Any]) -> Any:
  """Stacks items of the same structure along a new leading batch axis.

  Tensors are stacked with `torch.stack`, other leaves with `np.stack`;
  a None leaf stays None. Use as `DataLoader(..., collate_fn=collate)`.

  Raises:
    ValueError: `items` is empty, or a leaf is None in some items only.
  """
  if not items:
    raise ValueError('collate: no items')
  if isinstance(items, _Items):
    return items.stacked  # StepDataset.__getitems__ read them stacked.
  return _map_structure(_stack_leaves, *items)


def _concatenate(parts: List[Any]) -> Any:
  """Concatenates StepData of arrays along the step axis (None stays None)."""
  if len(parts) == 1:
    return parts[0]

  def concatenate(*leaves):
    if leaves[0] is None:
      return None
    return np.concatenate(leaves)

  return _map_structure(concatenate, *parts)


def _slice(data: Any, start: int, stop: int) -> Any:
  return _map_structure(lambda x: None if x is None else x[start:stop], data)


def _num_rows(data: step_data.StepData) -> int:
  return len(data.timestep.step_type)


class _LazyReader:
  """Holds a data directory and opens one reader per process on first use.

  Pickling keeps only the directory: a copy sent to a `DataLoader` worker
  opens its own reader there (and reads its own episode table).
  """

  def __init__(self, data_directory: DataDirectory):
    self._data_directory = os.fspath(data_directory)
    self._reader: Optional[reader_lib.Reader] = None
    self._pid: Optional[int] = None

  @property
  def data_directory(self) -> str:
    return self._data_directory

  @property
  def reader(self) -> reader_lib.Reader:
    if self._reader is None or self._pid != os.getpid():
      # After a fork the parent's reader (its file handles and locks) is not
      # used: every process opens its own.
      self._reader = reader_lib.Reader(self._data_directory)
      self._pid = os.getpid()
    return self._reader

  def windows(self, seq_len: int) -> step_windows.Windows:
    """The windows of `seq_len` steps inside episodes, as `Reader.sample` draws them.

    Built once per `seq_len` by the reader.

    Raises:
      ValueError: no episodes, or `seq_len` is longer than every episode.
    """
    try:
      return self.reader.windows(seq_len)
    except ValueError as e:
      raise ValueError(f'{self._data_directory}: {e}') from None

  def close(self) -> None:
    if self._reader is not None and self._pid == os.getpid():
      self._reader.close()
    self._reader = None

  def __getstate__(self) -> dict:
    return {
      '_data_directory': self._data_directory,
      '_reader': None,
      '_pid': None,
    }


class StepDataset(torch_data.Dataset):
  """Map-style dataset of single steps or of windows of `seq_len` steps.

  Without `seq_len`, item `i` is step `i` of the dataset (as `reader.steps[i]`,
  leaves as arrays/tensors). With `seq_len=L`, items are all windows of `L`
  consecutive steps that lie inside one episode, in dataset order: episode
  `e` with `n >= L` steps contributes `n - L + 1` windows; each leaf has a
  leading axis of `L`. Batch them with `DataLoader(ds, batch_size=B,
  shuffle=True, collate_fn=envlogger.torch.collate)`.
  """

  def __init__(
    self, data_directory: DataDirectory, *, seq_len: Optional[int] = None, as_tensors: bool = True
  ):
    """Opens the dataset once to count its steps (or windows).

    Args:
      data_directory: what `envlogger.Reader` opens.
      seq_len: None for single steps, else the window length (>= 1).
      as_tensors: numeric leaves as torch tensors (True) or numpy arrays.

    Raises:
      TypeError, ValueError: `seq_len` is not an int >= 1.
      ValueError: `seq_len` is longer than every episode, or there are none.
    """
    self._lazy = _LazyReader(data_directory)
    self._seq_len = None if seq_len is None else step_windows.check_count('seq_len', seq_len)
    self._as_tensors = as_tensors
    if self._seq_len is None:
      self._num_items = len(self._lazy.reader.steps)
    else:
      self._num_items = self._lazy.windows(self._seq_len).count
    # The parent process needs no open reader; workers open theirs.
    self._lazy.close()

  @property
  def seq_len(self) -> Optional[int]:
    return self._seq_len

  def __len__(self) -> int:
    return self._num_items

  def step_range(self, index: int) -> Tuple[int, int]:
    """The global [start, stop) step range of item `index` (negative from the end)."""
    index = operator.index(index)
    if not -self._num_items <= index < self._num_items:
      raise IndexError(
        f'index {index} is out of the range [{-self._num_items}, {self._num_items - 1}]'
      )
    if index < 0:
      index += self._num_items
    if self._seq_len is None:
      return index, index + 1
    windows = self._lazy.windows(self._seq_len)
    start = int(windows.first_steps(np.array([index]))[0])
    return start, start + self._seq_len

  def __getitem__(self, index: int) -> step_data.StepData:
    """Item `index` (see the class docstring).

    Raises:
      IndexError: `index` is out of range.
      DamagedDataError: a step of the item is in a damaged chunk.
    """
    start, stop = self.step_range(index)
    data = self._lazy.reader.step_arrays(start, stop)
    if _num_rows(data) != stop - start:
      raise backend_reader.DamagedDataError(
        f'{self._lazy.data_directory}: steps [{start}, {stop}) of item {index} are in a '
        'damaged chunk; see Reader.skipped_regions()'
      )
    if self._seq_len is None:
      data = _map_structure(lambda x: None if x is None else x[0], data)
    return to_torch(data) if self._as_tensors else data

  def __getitems__(self, indices: Sequence[int]) -> '_Items':
    """Items `indices` read together (what a `DataLoader` asks for a batch).

    The steps of all items are read in one chunk-aware call (each chunk is
    decoded at most once per batch). Returns a sequence of the items;
    `collate` takes their already stacked arrays from it without stacking.

    Raises:
      IndexError: an index is out of range.
      DamagedDataError: a step of an item is in a damaged chunk.
    """
    starts = np.array([self.step_range(i)[0] for i in indices], np.int64)
    windows = self._lazy.windows(self._seq_len or 1)
    reader = self._lazy.reader
    batch, damaged = reader.read_windows(windows, starts)
    if damaged.any():
      index = indices[int(np.argmax(damaged))]
      start = int(starts[np.argmax(damaged)])
      raise backend_reader.DamagedDataError(
        f'{self._lazy.data_directory}: steps [{start}, {start + (self._seq_len or 1)}) of '
        f'item {index} are in a damaged chunk; see Reader.skipped_regions()'
      )
    if self._seq_len is None:  # [n, 1, ...] -> [n, ...]
      batch = _map_structure(lambda x: None if x is None else x[:, 0], batch)
    return _Items(to_torch(batch) if self._as_tensors else batch, len(starts))

  def __del__(self):
    self._lazy.close()


class _Items(collections.abc.Sequence):
  """The items of a batch read together: a sequence of views into `stacked`.

  `stacked` holds their leaves stacked along a leading axis; `collate`
  returns it as it is. Items are made only when indexed.
  """

  def __init__(self, stacked: Any, count: int):
    self.stacked = stacked
    self._count = count

  def __len__(self) -> int:
    return self._count

  def __getitem__(self, k):
    if isinstance(k, slice):
      return [self[i] for i in range(*k.indices(self._count))]
    k = operator.index(k)
    if not -self._count <= k < self._count:
      raise IndexError(f'item {k} of {self._count}')
    return _map_structure(lambda x: None if x is None else x[k], self.stacked)


class StepIterableDataset(torch_data.IterableDataset):
  """Every step of the dataset once per epoch, split among DataLoader workers.

  The steps are cut into contiguous blocks of `block_steps`; a worker `w` of
  `n` reads blocks `w`, `w + n`, `w + 2n`, ... with one `step_arrays` call
  each, so together the workers yield every step exactly once. Within a
  worker steps come in dataset order (with `shuffle`, blocks are visited in a
  random order and steps shuffled inside a block: a cheap local shuffle).

  Without `batch_size` items are single steps (batch them with
  `DataLoader(ds, batch_size=B, collate_fn=envlogger.torch.collate)`); with
  `batch_size=B` items are batches of `B` steps, each leaf with a leading
  axis of `B` (the last one of a worker may be smaller unless `drop_last`),
  used with `DataLoader(ds, batch_size=None)`.
  """

  def __init__(
    self,
    data_directory: DataDirectory,
    *,
    batch_size: Optional[int] = None,
    drop_last: bool = False,
    shuffle: bool = False,
    seed: Optional[int] = None,
    block_steps: int = _DEFAULT_BLOCK_STEPS,
    as_tensors: bool = True,
  ):
    """Opens the dataset once to count its steps.

    Args:
      data_directory: what `envlogger.Reader` opens.
      batch_size: None to yield single steps, else steps per yielded batch.
      drop_last: with `batch_size`, drop each worker's last incomplete batch.
      shuffle: visit blocks in random order and shuffle steps inside blocks.
      seed: seed of the shuffle (drawn at random if None); the epoch set by
        `set_epoch` is mixed in, so call it to reshuffle between epochs.
      block_steps: steps per block (the unit of work of a worker).
      as_tensors: numeric leaves as torch tensors (True) or numpy arrays.

    Raises:
      TypeError, ValueError: `batch_size` or `block_steps` is not an int >= 1.
    """
    if batch_size is not None:
      batch_size = step_windows.check_count('batch_size', batch_size)
    block_steps = step_windows.check_count('block_steps', block_steps)
    self._lazy = _LazyReader(data_directory)
    self._num_steps = len(self._lazy.reader.steps)
    self._lazy.close()
    self._batch_size = batch_size
    self._drop_last = drop_last
    self._shuffle = shuffle
    # Drawn here when not given, so that every worker (a copy) shuffles alike.
    self._seed = seed if seed is not None else int(np.random.SeedSequence().entropy % (1 << 63))
    self._epoch = 0
    self._block_steps = block_steps
    self._as_tensors = as_tensors

  @property
  def num_steps(self) -> int:
    return self._num_steps

  def set_epoch(self, epoch: int) -> None:
    """Sets the epoch mixed into the shuffle seed (call before each epoch)."""
    self._epoch = epoch

  def blocks(self) -> List[Tuple[int, int]]:
    """The [start, stop) step ranges the steps are split into, in order."""
    return [
      (start, min(start + self._block_steps, self._num_steps))
      for start in range(0, self._num_steps, self._block_steps)
    ]

  def _worker_blocks(self, rng: Optional[np.random.Generator]) -> List[Tuple[int, int]]:
    blocks = self.blocks()
    if rng is not None:
      blocks = [blocks[i] for i in rng.permutation(len(blocks))]
    info = torch_data.get_worker_info()
    if info is None:
      return blocks
    return blocks[info.id :: info.num_workers]

  def _rng(self) -> Optional[np.random.Generator]:
    if not self._shuffle:
      return None
    # The same generator in every worker: all of them agree on the block order.
    return np.random.default_rng([self._seed, self._epoch])

  def _convert(self, data: Any) -> Any:
    return to_torch(data) if self._as_tensors else data

  def __iter__(self) -> Iterator[step_data.StepData]:
    rng = self._rng()
    reader = self._lazy.reader
    pending: List[Any] = []
    num_pending = 0
    for start, stop in self._worker_blocks(rng):
      data = reader.step_arrays(start, stop)
      if rng is not None:
        order = rng.permutation(_num_rows(data))
        data = _map_structure(lambda x: None if x is None else x[order], data)
      if self._batch_size is None:
        data = self._convert(data)
        for i in range(_num_rows(data)):
          yield _map_structure(lambda x, i=i: None if x is None else x[i], data)
        continue
      pending.append(data)
      num_pending += _num_rows(data)
      if num_pending < self._batch_size:
        continue
      merged = _concatenate(pending)
      full = num_pending - num_pending % self._batch_size
      for i in range(0, full, self._batch_size):
        yield self._convert(_slice(merged, i, i + self._batch_size))
      pending = [_slice(merged, full, num_pending)] if full < num_pending else []
      num_pending -= full
    if pending and not self._drop_last:
      yield self._convert(_concatenate(pending))
