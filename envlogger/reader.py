"""Reader: random access to a dataset recorded by `EnvLogger`."""

import copy
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from envlogger import step_data
from envlogger.backends import backend_reader
from envlogger.backends import step_stacking
from envlogger.backends import step_windows
from envlogger.backends import backend_type
from envlogger.converters import spec_codec


def _dataset_sources() -> Any:
  """The module that tells roots and globs from datasets, imported only when needed (native code)."""
  from envlogger.backends import dataset_sources  # pylint: disable=g-import-not-at-top

  return dataset_sources


def _multi_reader() -> Any:
  """The multi-writer reader module, imported only when needed (native code)."""
  from envlogger.backends import multi_reader  # pylint: disable=g-import-not-at-top

  return multi_reader


def _backend_reader_class(backend: backend_type.BackendType) -> type:
  """The reader class of a built-in backend, imported only when needed."""
  if backend == backend_type.BackendType.RIEGELI:
    # Imported lazily: it needs the native extension.
    from envlogger.backends import riegeli_backend_reader  # pylint: disable=g-import-not-at-top

    return riegeli_backend_reader.RiegeliBackendReader
  if backend == backend_type.BackendType.IN_MEMORY:
    from envlogger.backends import in_memory_backend  # pylint: disable=g-import-not-at-top

    return in_memory_backend.InMemoryBackendReader
  raise TypeError(f'Unsupported backend: {backend}')


def _riegeli_source(backend_args: tuple, backend_kwargs: dict) -> Any:
  """The data directory (or root, glob, list) given to a RIEGELI reader, else None."""
  kwargs = {k: v for k, v in backend_kwargs.items() if k != 'cache_bytes'}
  if len(backend_args) == 1 and not kwargs:
    return backend_args[0]
  if not backend_args and list(kwargs) == ['data_directory']:
    return kwargs['data_directory']
  return None


class Reader:
  """Reads steps, episodes, metadata and specs of a dataset.

  Typical use: `Reader('/path/to/dataset')` or
  `Reader(data_directory='/path/to/dataset')`. The path may also be a root
  whose subdirectories are datasets (one per writer, as recorded by
  `EnvLogger(..., writer_name=...)`), a glob, or a list of dataset
  directories: they are read as one dataset (writers by name, then each
  writer's episodes; see `envlogger/backends/multi_reader.py`), and
  `episode_origin(i)` and `writer_metadata()` tell where things came from.
  `refresh()` adds what live writers flushed since. `steps[i]` is a `StepData`,
  `episodes[i]` a lazy sequence of `StepData`; both support `len()`, negative
  indices and slices (which return lists). Use `copy()` to get an independent
  reader for another thread.
  """

  def __init__(
    self,
    *backend_args,
    backend: Union[backend_reader.BackendReader, backend_type.BackendType] = (
      backend_type.BackendType.RIEGELI
    ),
    **backend_kwargs,
  ):
    """Opens a dataset.

    Args:
      *backend_args: positional arguments of the backend reader (e.g. the data
        directory for RIEGELI, the `InMemoryBackendWriter` for IN_MEMORY).
      backend: a `BackendReader` instance (used as is) or a `BackendType`.
      **backend_kwargs: keyword arguments of the backend reader.

    Raises:
      TypeError: `backend` is neither a BackendReader nor a BackendType.
      FileNotFoundError: a root, glob or list holds no readable dataset.
      ValueError: writers of a root recorded different environment specs.
    """
    self._source = None  # A single Riegeli dataset directory, for refresh().
    self._cache_bytes = None  # Its cache_bytes, for refresh().
    if isinstance(backend, backend_reader.BackendReader):
      self._backend = backend
    elif isinstance(backend, backend_type.BackendType):
      source = (
        _riegeli_source(backend_args, backend_kwargs)
        if backend == backend_type.BackendType.RIEGELI
        else None
      )
      if source is not None and _dataset_sources().needs_multi_reader(source):
        self._backend = _multi_reader().MultiBackendReader(
          source, cache_bytes=backend_kwargs.get('cache_bytes')
        )
      else:
        self._backend = _backend_reader_class(backend)(*backend_args, **backend_kwargs)
        self._source = source
        self._cache_bytes = backend_kwargs.get('cache_bytes')
    else:
      raise TypeError(f'Unsupported backend: {backend}')
    self._set_specs()

  def refresh(self) -> range:
    """Adds the steps and episodes that writers flushed since opening.

    Returns the range of the new episodes' indices. Over a root, glob or
    list, new episodes (and writers) are appended after all earlier ones and
    a live writer's unfinished last episode is shown only once it ends, so
    no index changes meaning and no step is shown twice. For a single
    dataset directory the dataset is reopened: its steps and episodes are
    appended in place, and its last episode may have grown.

    Raises:
      TypeError: the backend cannot be refreshed (e.g. IN_MEMORY).
    """
    refresh = getattr(self._backend, 'refresh', None)
    if refresh is not None:
      return refresh()
    if self._source is None:
      raise TypeError(f'{type(self._backend).__name__} cannot be refreshed')
    first = len(self._backend.episodes)
    backend = _backend_reader_class(backend_type.BackendType.RIEGELI)(
      self._source, cache_bytes=self._cache_bytes
    )
    self._backend.close()
    self._backend = backend
    return range(first, len(backend.episodes))

  def episode_origin(self, i: int) -> Tuple[str, int]:
    """(writer name, index within that writer's dataset) of episode `i`.

    For a single dataset directory the writer name is the directory itself.
    """
    origin = getattr(self._backend, 'episode_origin', None)
    if origin is not None:
      return origin(i)
    num_episodes = len(self._backend.episodes)
    if not -num_episodes <= i < num_episodes:
      raise IndexError(f'Episode {i} is not in [0, {num_episodes})')
    return self._writer_name(), i % num_episodes

  def writer_metadata(self) -> Dict[str, Dict[str, Any]]:
    """{writer name: a copy of that writer's dataset metadata}."""
    per_writer = getattr(self._backend, 'writer_metadata', None)
    if per_writer is not None:
      return copy.deepcopy(per_writer())
    return {self._writer_name(): self.metadata()}

  def _writer_name(self) -> str:
    return os.fspath(self._source) if self._source is not None else ''

  def copy(self) -> 'Reader':
    """An independent reader (own file handles) over the same dataset."""
    c = copy.copy(self)
    c._backend = self._backend.copy()  # pylint: disable=protected-access
    return c

  def close(self) -> None:
    if getattr(self, '_backend', None) is not None:
      self._backend.close()

  def __enter__(self) -> 'Reader':
    return self

  def __exit__(self, exc_type, exc_value, tb) -> None:
    self.close()

  def __del__(self):
    self.close()

  def cache_stats(self) -> Optional[Dict[str, int]]:
    """Size and counters of the decoded-chunk cache (`cache_bytes=` of a
    Riegeli dataset), or None for backends without one. See
    `BackendReader.cache_stats`."""
    return self._backend.cache_stats()

  def metadata(self) -> Dict[str, Any]:
    """A copy of the dataset metadata, incl. the encoded `environment_specs`.

    Mutating the returned dict does not affect the reader (upstream returned
    its live dict).
    """
    return copy.deepcopy(self._backend.metadata() or {})

  @property
  def steps(self) -> Sequence[Any]:
    """Lazy sequence of all `StepData` of the dataset."""
    return self._backend.steps

  @property
  def episodes(self) -> Sequence[Sequence[Any]]:
    """Lazy sequence of episodes, each a lazy sequence of `StepData`."""
    return self._backend.episodes

  def step_arrays(
    self, start: int = 0, stop: Optional[int] = None, *, ragged: step_stacking.Ragged = ()
  ) -> step_data.StepData:
    """Steps [start, stop) as a StepData of numpy arrays with a leading step axis.

    Each leaf is `np.stack` of the per-step values (dtype included); None
    is NaN in floating leaves, 0 / False / '' in others; leaves that change
    shape or dtype raise ValueError naming the path and step unless listed
    in `ragged` (returned as lists). See `BackendReader.step_arrays`.
    """
    return self._backend.step_arrays(start, stop, ragged=ragged)

  def episode_arrays(self, index: int, *, ragged: step_stacking.Ragged = ()) -> step_data.StepData:
    """Episode `index` (negative from the end) as arrays, as `step_arrays`."""
    return self._backend.episode_arrays(index, ragged=ragged)

  def sample(
    self, batch_size: int, *, seq_len: int = 1, seed: Any = None, ragged: step_stacking.Ragged = ()
  ) -> step_data.StepData:
    """`batch_size` uniformly drawn windows of `seq_len` steps inside episodes.

    Leaves are shaped [batch_size, seq_len, ...]; `seed` is an int (same
    batch every time), a `np.random.Generator` (a stream) or None. See
    `BackendReader.sample`.
    """
    return self._backend.sample(batch_size, seq_len=seq_len, seed=seed, ragged=ragged)

  def batches(
    self,
    batch_size: int,
    *,
    seq_len: int = 1,
    seed: Any = None,
    drop_last: bool = False,
    ragged: step_stacking.Ragged = (),
  ) -> Iterator[step_data.StepData]:
    """One epoch over every window of `seq_len` steps, without replacement.

    Batches are shaped as `sample`'s; the last is smaller unless
    `drop_last`. See `BackendReader.batches`.
    """
    return self._backend.batches(
      batch_size, seq_len=seq_len, seed=seed, drop_last=drop_last, ragged=ragged
    )

  def windows(self, seq_len: int) -> step_windows.Windows:
    """The windows of `seq_len` steps inside episodes, as `sample` draws them."""
    return self._backend.windows(seq_len)

  def read_windows(
    self, windows: step_windows.Windows, firsts: np.ndarray, ragged: step_stacking.Ragged = ()
  ) -> Tuple[Optional[step_data.StepData], np.ndarray]:
    """`(batch, damaged)` of the windows beginning at steps `firsts`.

    See `BackendReader.read_windows`.
    """
    return self._backend.read_windows(windows, firsts, ragged)

  def skipped_regions(self) -> List[backend_reader.SkippedRegion]:
    """The damaged parts of the dataset met by reading so far.

    Iterating `steps` or an episode skips steps whose chunk is damaged (or
    cut off by a truncation) and logs a warning per damaged region; indexing
    such a step raises `backend_reader.DamagedDataError` (a RuntimeError)
    naming the file and the position. Each region is listed once, as a
    `SkippedRegion(path, begin, end, message, steps)`: the unreadable byte
    range of the file and the global indices of the steps lost in it.
    Damaged episode metadata reads as None and is listed here too. Each
    `copy()` has its own list.
    """
    return self._backend.skipped_regions()

  def episode_metadata(self) -> Sequence[Any]:
    """Lazy sequence of the episodes' metadata (None where absent)."""
    return self._backend.episode_metadata()

  def observation_spec(self) -> Optional[Any]:
    return self._observation_spec

  def action_spec(self) -> Optional[Any]:
    return self._action_spec

  def reward_spec(self) -> Optional[Any]:
    return self._reward_spec

  def discount_spec(self) -> Optional[Any]:
    return self._discount_spec

  def _set_specs(self) -> None:
    metadata = self._backend.metadata() or {}
    env_specs = spec_codec.decode_environment_specs(metadata.get('environment_specs', {}))
    self._observation_spec = env_specs['observation_spec']
    self._action_spec = env_specs['action_spec']
    self._reward_spec = env_specs['reward_spec']
    self._discount_spec = env_specs['discount_spec']
