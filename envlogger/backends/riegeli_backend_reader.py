"""RiegeliBackendReader: random access to a Riegeli dataset, ours or upstream's.

The C++ reader loads the small index files of every shard once; each step is
then one seek into `steps.riegeli` (decoded chunks are cached, so sequential
and nearby reads decode each chunk once) and one native decode from wire bytes
to Python/numpy values. Iteration reads batches: one native call fetches up to
_BATCH_STEPS records with the GIL released and decodes them straight into
StepData; a step the batch cannot return is read alone, through bytes and the
codec, which raises its error.
"""

import copy
from typing import Any, Optional

import numpy as np

from absl import logging
import dm_env

from envlogger import _native
from envlogger import step_data
from envlogger.backends import backend_reader
from envlogger.backends import column_plan
from envlogger.backends import step_stacking
from envlogger.backends.python import dataset_errors
from envlogger.backends.python import episode_info
from envlogger.backends.python import riegeli_dataset_reader
from envlogger.converters import native_codec

# Hot path of reading: native calls without their Python wrappers, and the
# StepType members by value (calling the IntEnum is ~1 µs).
_decode = _native.codec.decode
_STEP_TYPES = {member.value: member for member in dm_env.StepType}
_TimeStep = dm_env.TimeStep
_StepData = step_data.StepData

# Sequential reads fetch and decode this many steps per native call (fewer
# when their records exceed _BATCH_BYTES): enough to amortize the call, few
# enough that iteration stays lazy and a batch of large steps stays small.
_BATCH_STEPS = 256
_BATCH_BYTES = 1 << 20


class RiegeliBackendReader(backend_reader.BackendReader):
  """Reads a dataset written by RiegeliBackendWriter (or upstream envlogger)."""

  def __init__(self, data_directory: str, cache_bytes: Optional[int] = None):
    """Opens the dataset in `data_directory`.

    Args:
      data_directory: the dataset (metadata.riegeli and shard directories).
      cache_bytes: bytes of decoded step chunks kept in memory for random
        access (`steps[i]`, `sample`, `batches`), in total over the shards,
        split evenly between them; least recently used chunks are evicted.
        None (the default): 64 MiB per shard. 0 keeps no chunk but the one
        being read. A cache at least as large as the decoded steps (see
        `cache_stats()['bytes']` after one pass) decodes each chunk once.
        Copies (`copy()`, loader workers) each have their own cache of
        this size.

    Raises:
      ValueError: `cache_bytes` is not None or an int >= 0.
      RuntimeError: the directory does not exist, is not a dataset (no
        metadata.riegeli), or a file in it cannot be read. Shards whose index
        is empty are skipped with a warning instead.
    """
    if cache_bytes is not None and (
      isinstance(cache_bytes, bool)
      or not isinstance(cache_bytes, (int, np.integer))
      or cache_bytes < 0
    ):
      raise ValueError(f'cache_bytes must be None or an int >= 0, got {cache_bytes!r}')
    self._reader = riegeli_dataset_reader.RiegeliDatasetReader()
    try:
      self._reader.init(data_directory)
    except dataset_errors.EmptyShardError as e:
      # As upstream's reader: reported, and the other shards stay usable.
      logging.warning(
        'Skipping a shard of %s without indexed steps (%s). Was the writer '
        'closed? Data written after its last flush is not indexed.',
        data_directory,
        e,
      )
    if cache_bytes is not None:
      self._reader.set_step_cache_bytes(int(cache_bytes))
    for report in self._reader.recovery_reports():
      logging.warning(
        'Dataset %s was not closed by its writer or is damaged: %s', data_directory, report
      )
    metadata = self._reader.serialized_metadata()
    decoded = native_codec.decode(metadata) if metadata is not None else None
    self._metadata = decoded if isinstance(decoded, dict) else {}
    self._num_reported_regions = 0
    self._bind_native()
    super().__init__()

  def _bind_native(self) -> None:
    """Caches the native reader's bound methods (used for every access).

    They keep working, with an error saying the reader is closed, after
    close() drops `self._reader`.
    """
    self._serialized_step = self._reader.serialized_step
    self._read_steps = self._reader.read_steps
    self._episode = self._reader.episode

  def recovery_reports(self) -> list[str]:
    """What opening the dataset recovered beyond its index files, one line per shard.

    Steps (and episode starts) that a killed writer wrote but never indexed
    are read from steps.riegeli; each line names the shard, counts what was
    recovered and lists skipped damaged or incomplete chunks. Empty for a
    dataset whose writer closed it. `envlogger recover` writes the
    recovered index to disk.
    """
    return self._reader.recovery_reports()

  def shard_episode_starts(self) -> list[int]:
    """The index of each shard's first episode, in shard order (how work is split by shard)."""
    return self._reader.shard_episode_starts()

  def skipped_regions(self) -> list[backend_reader.SkippedRegion]:
    """The damaged byte ranges met by reads so far (see BackendReader)."""
    if self._reader is None:
      return []
    return [
      backend_reader.SkippedRegion(
        path, begin, end, message, range(first, last + 1) if first >= 0 else range(0)
      )
      for path, begin, end, message, first, last in self._reader.skipped_regions()
    ]

  def cache_stats(self) -> dict[str, int]:
    """The decoded-chunk caches of the steps files (see BackendReader)."""
    if self._reader is None:
      return dict(max_bytes=0, bytes=0, chunks=0, hits=0, misses=0, evictions=0)
    return self._reader.step_cache_stats()

  def _read_error(self, error: RuntimeError) -> RuntimeError:
    """`error` of a native read; logs each damaged region the first time it is met.

    Damage is raised natively as dataset_errors.DamagedChunkError, a
    backend_reader.DamagedDataError.
    """
    if not isinstance(error, backend_reader.DamagedDataError):
      return error
    self._report_new_regions()
    return error

  def _report_new_regions(self) -> None:
    """Logs the damaged regions met since the last call, once each."""
    regions = self.skipped_regions()
    for region in regions[self._num_reported_regions :]:
      logging.warning(
        'Skipping damaged data in %s: bytes [%d, %d) are unreadable, %d steps lost%s: %s',
        region.path,
        region.begin,
        region.end,
        len(region.steps),
        f' (steps {region.steps.start}..{region.steps.stop - 1})' if region.steps else '',
        region.message,
      )
    self._num_reported_regions = len(regions)

  def _init_visitors(self) -> None:
    super()._init_visitors()
    self._column_plan_cache = None
    self._descending = False

  def _column_plan(self) -> Optional[column_plan.ColumnPlan]:
    """The native decoding plan learned from the first steps (False: none)."""
    if self._column_plan_cache is None:
      self._column_plan_cache = (
        column_plan.ColumnPlan.from_reference(self._reference_steps()) or False
      )
    return self._column_plan_cache or None

  def _stack_steps(
    self, indices: np.ndarray, ragged: step_stacking.Ragged
  ) -> backend_reader.StackedSteps:
    """Decodes the steps natively into arrays when the plan fits them.

    Falls back to stacking per-step values (the base class) with `ragged`
    parts, or when a step does not fit the plan or fails to read, so the
    result and errors are the same either way. A range of steps whose
    arrays exceed the chunk cache is read forwards (the record reader's
    sequential path, which decodes each chunk into a reused buffer without
    caching it: ~2x faster than backwards for frames that overflow the
    cache); a range that fits is read like a batch, so that its chunks stay
    cached for the next pass. Successive other calls read in
    alternating directions: the decoded chunks still cached from the end of
    one call are the first the next call needs (a sorted sweep that always
    ran one way would evict each chunk just before it is needed again,
    when a batch touches more chunks than the cache holds).
    """
    plan = None if step_stacking.ragged_paths(ragged) else self._column_plan()
    if plan is not None and self._reader is not None and len(indices):
      if (
        indices[-1] - indices[0] + 1 == len(indices)
        and len(indices) * plan.row_bytes > self._reader.step_cache_stats()['max_bytes']
      ):
        descending = False  # A range larger than the cache: forwards, reusing one buffer.
      else:
        self._descending = descending = not self._descending
      result = plan.read(self._reader, indices, descending)
      if result is not None:
        step, readable = result
        if not readable.all():
          self._report_new_regions()
        return backend_reader.StackedSteps(step, readable, frozenset())
    return super()._stack_steps(indices, ragged)

  def _copy(self) -> 'RiegeliBackendReader':
    clone = copy.copy(self)
    clone._metadata = copy.deepcopy(self._metadata)
    clone._num_reported_regions = 0
    clone._reader = self._reader.clone()
    clone._bind_native()
    return clone

  def close(self) -> None:
    reader = getattr(self, '_reader', None)
    if reader is not None:
      self._reader = None
      reader.close()

  def _get_nth_step(self, i: int) -> step_data.StepData:
    steps = self._read_steps(i, i + 1, 1, 0, _StepData, _TimeStep, _STEP_TYPES)
    return steps[0] if steps else self._read_step_alone(i)

  def _read_step_alone(self, i: int) -> step_data.StepData:
    """Step `i` through bytes and the codec, raising its read or decode error.

    For steps the native batch path did not return: a damaged chunk
    (DamagedDataError), an unreadable or malformed record, a closed reader.
    """
    try:
      serialized = self._serialized_step(i)
    except RuntimeError as e:
      raise self._read_error(e) from None
    if serialized is None:
      raise IndexError(f'Step {i} could not be read from the dataset.')
    timestep, action, custom_data = _decode(serialized)
    step_type, reward, discount, observation = timestep
    member = _STEP_TYPES.get(step_type)
    if member is None:
      member = dm_env.StepType(step_type)  # Raises ValueError naming it.
    return _StepData(_TimeStep(member, reward, discount, observation), action, custom_data)

  def _get_steps(self, start: int, stop: int) -> list[step_data.StepData]:
    """Up to _BATCH_STEPS steps from `start` in one native call.

    The native batch ends before a step that cannot be read or decoded;
    if that is `start` itself, it is read alone to raise its error (or to
    return it, should the failure have been transient).
    """
    steps = self._read_steps(
      start, stop, _BATCH_STEPS, _BATCH_BYTES, _StepData, _TimeStep, _STEP_TYPES
    )
    return steps if steps else [self._read_step_alone(start)]

  def _get_num_steps(self) -> int:
    return self._reader.num_steps

  def _get_num_episodes(self) -> int:
    return self._reader.num_episodes

  def _get_nth_episode_info(
    self, i: int, include_metadata: bool = False
  ) -> episode_info.EpisodeInfo:
    """Start, length and metadata of episode `i`.

    Metadata in a damaged chunk of episode_metadata.riegeli is None (as for
    an episode without metadata), logged and listed by skipped_regions().
    """
    try:
      return self._episode(i, include_metadata)
    except RuntimeError as e:
      error = self._read_error(e)
      if include_metadata and isinstance(error, backend_reader.DamagedDataError):
        return self._episode(i, False)
      raise error from None

  def metadata(self) -> dict[str, Any]:
    return self._metadata
