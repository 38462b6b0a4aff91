"""Reader of Riegeli datasets, under upstream's module and class names.

`RiegeliDatasetReader` is upstream's `envlogger.backends.python.
riegeli_dataset_reader.RiegeliDatasetReader`: random access to the steps and
episodes of a dataset written by envlogger (ours or upstream's). Errors are
raised as `RuntimeError("<CODE>: <message>")` naming the path, of the
`dataset_errors` class of their code, e.g. `dataset_errors.EmptyShardError`
"NOT_FOUND: Empty steps in <shard>/step_offsets.riegeli" for a shard whose
writer never flushed (the other shards stay readable).
"""

from typing import Any, Optional, Type, TypeVar, Union

from google.protobuf import message

from envlogger import _native
from envlogger.backends.python import dataset_errors
from envlogger.backends.python import episode_info
from envlogger.proto import storage_pb2

T = TypeVar('T')


class RiegeliDatasetReader:
  """Reads a Riegeli dataset. Call `init()` first.

  One reader serializes concurrent calls; for parallel reading give each
  thread its own `clone()` (clones share the index, not the files). Not
  picklable.
  """

  def __init__(self):
    self._reader = _native.dataset_io.RiegeliDatasetReader()

  @classmethod
  def _wrap(cls, native: Any) -> 'RiegeliDatasetReader':
    reader = cls.__new__(cls)
    reader._reader = native
    return reader

  def init(self, data_dir: str) -> None:
    """Loads the index of every shard of `data_dir`.

    Raises:
      RuntimeError: `data_dir` does not exist or has no metadata.riegeli, or
        a shard failed to load (the reader is then still usable with the
        shards that loaded), or the metadata record is not an envlogger.Data
        ("INTERNAL: Failed to parse riegeli record. ...", as upstream).
    """
    self._reader.init(str(data_dir))
    if self.metadata() is None and self._reader.serialized_metadata() is not None:
      raise dataset_errors.InternalError(
        'INTERNAL: Failed to parse riegeli record. The record of '
        f'{data_dir}/metadata.riegeli is not an envlogger.Data'
      )

  def recovery_reports(self) -> list[str]:
    """One line per shard whose index was completed from its steps.riegeli.

    A shard whose writer was killed (no close()) has steps, and episode
    starts, that its index files lack; `init()` recovers them and says so
    here, naming the shard, what was recovered, and any damaged or
    incomplete chunk that was skipped. Empty for cleanly closed datasets.
    """
    return list(self._reader.recovery_reports())

  def shard_episode_starts(self) -> list[int]:
    """The index of each shard's first episode, in shard order."""
    return list(self._reader.shard_episode_starts())

  def skipped_regions(self) -> list[tuple[str, int, int, str, int, int]]:
    """The damaged byte ranges met by reads of this reader so far.

    One `(path, begin, end, message, first_step, last_step)` per region, in
    the order met: a step or episode metadata record whose chunk is damaged
    or truncated raises "DATA_LOSS: ... is in a damaged chunk: ..." and its
    region is added once; `first_step..last_step` are the global indices of
    the steps lost in it (-1, -1 for episode metadata). Clones keep their
    own list.
    """
    return list(self._reader.skipped_regions())

  def clone(self) -> Optional['RiegeliDatasetReader']:
    """A reader of the same dataset with its own files; None on failure."""
    try:
      return RiegeliDatasetReader._wrap(self._reader.clone())
    except RuntimeError:
      return None

  def metadata(self) -> Optional[storage_pb2.Data]:
    """The dataset metadata, or None if it could not be read or parsed."""
    serialized = self._reader.serialized_metadata()
    if serialized is None:
      return None
    try:
      return storage_pb2.Data.FromString(serialized)
    except message.DecodeError:
      return None

  def serialized_metadata(self) -> Optional[bytes]:
    """The dataset metadata record as stored, or None."""
    return self._reader.serialized_metadata()

  @property
  def num_steps(self) -> int:
    return self._reader.num_steps

  @property
  def num_episodes(self) -> int:
    return self._reader.num_episodes

  def data_dir(self) -> str:
    return self._reader.data_dir()

  def step(
    self, step_index: int, data: Union[None, Type[T], T] = None
  ) -> Optional[Union[storage_pb2.Data, T]]:
    """Step `step_index` parsed as `storage_pb2.Data`, or with `data.FromString`.

    Args:
      step_index: global step index; None is returned outside
        [0, num_steps).
      data: a message class or instance whose `FromString` parses the
        record (upstream's overload for non-Data payloads).

    Raises:
      RuntimeError: the record cannot be read.
      TypeError: `data` has no `FromString`.
    """
    parse = storage_pb2.Data.FromString if data is None else getattr(data, 'FromString', None)
    if parse is None:
      raise TypeError(f'{type(data).__name__} has no FromString')
    serialized = self._reader.serialized_step(step_index)
    if serialized is None:
      return None
    return parse(serialized)

  def serialized_step(self, step_index: int) -> Optional[bytes]:
    """Step `step_index` as stored; None outside [0, num_steps)."""
    return self._reader.serialized_step(step_index)

  def read_steps(
    self,
    start: int,
    stop: int,
    max_count: int,
    max_bytes: int,
    step_data_class: type,
    timestep_class: type,
    step_types: dict[Any, Any],
  ) -> list[Any]:
    """Steps `start`, `start` + 1, ... before `stop`, decoded, in one call.

    Each step is `step_data_class(timestep_class(step_types[step_type],
    reward, discount, observation), action, custom_data)` (namedtuple
    classes, e.g. StepData and dm_env.TimeStep) from the native codec. At
    most `max_count` steps, and past the first about `max_bytes` of records,
    are read with the GIL released, then decoded. The list ends early,
    without an error, before the first step that cannot be read or decoded;
    read that step with `serialized_step` to get its error. Empty outside
    [0, num_steps).
    """
    return self._reader.read_steps(
      start, stop, max_count, max_bytes, step_data_class, timestep_class, step_types
    )

  def set_step_cache_bytes(self, max_bytes: int) -> None:
    """Bounds the steps files' decoded-chunk caches, in total (split over shards)."""
    self._reader.set_step_cache_bytes(max_bytes)

  def step_cache_stats(self) -> dict[str, int]:
    """max_bytes, bytes, chunks, hits, misses, evictions of those caches."""
    return self._reader.step_cache_stats()

  def read_columns(
    self, indices: Any, plan: tuple, leaves: list, readable: Any, descending: bool = False
  ) -> tuple[int, int]:
    """Decodes steps `indices` straight into preallocated numpy arrays.

    With the GIL released, no Python object per step, reading the indices
    last to first if `descending`; see
    envlogger/backends/python/step_columns_bindings.cc for the arguments.
    Returns (0, -1), or (code, row) of the first step that does not fit
    `plan` (1) or fails to read other than as damage (2). Steps in damaged
    chunks get readable[row] = 0 and their region is recorded.
    """
    return _native.step_columns.read_columns(
      self._reader, indices, plan, leaves, readable, descending
    )

  def episode(
    self, episode_index: int, include_metadata: bool = False
  ) -> Optional[episode_info.EpisodeInfo]:
    """Start (global step index), length and optionally metadata of an episode.

    Returns None outside [0, num_episodes). `metadata` is a storage_pb2.Data
    when requested and present, else None.
    """
    info = self._reader.episode(episode_index, include_metadata)
    if info is None:
      return None
    start, num_steps, metadata = info
    return episode_info.EpisodeInfo(
      start=start,
      num_steps=num_steps,
      metadata=None if metadata is None else storage_pb2.Data.FromString(metadata),
    )

  def close(self) -> None:
    """Releases the files (clones keep theirs)."""
    self._reader.close()

  def __reduce__(self):
    raise TypeError('RiegeliDatasetReader cannot be pickled')
