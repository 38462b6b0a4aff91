"""RiegeliBackendWriter: records steps into an upstream-compatible Riegeli dataset.

Steps are encoded to `envlogger.Data` wire bytes by the native codec on the
caller's thread (a few microseconds), straight into a buffer that the
background thread recycles once it has written it, and handed to that thread,
which chunks, compresses, hashes and writes them; see
`envlogger/backends/cc/async_dataset_writer.h`. `flush()` and `close()` wait
until everything handed over before them is on disk and indexed. An error on
the writer thread (a full disk, say) is raised by the next call into the
writer, never dropped.
"""

import datetime
import operator
import os
import time
from typing import Any, Callable, Optional

from envlogger import step_data
from envlogger.backends import backend_writer
from envlogger.backends import schedulers
from envlogger import _native
from envlogger.backends.python import dataset_errors  # noqa: F401 (registers the native error classes)
from envlogger.backends.python import riegeli_dataset_writer
from envlogger.converters import native_codec

DEFAULT_WRITER_OPTIONS = riegeli_dataset_writer.DEFAULT_WRITER_OPTIONS
DEFAULT_FLUSH_INTERVAL = datetime.timedelta(minutes=10)

# Names of the StepData / TimeStep fields, for errors that say which part of a
# step could not be encoded.
_STEP_FIELDS = (
  ('timestep.step_type', lambda d: d.timestep.step_type),
  ('timestep.reward', lambda d: d.timestep.reward),
  ('timestep.discount', lambda d: d.timestep.discount),
  ('timestep.observation', lambda d: d.timestep.observation),
  ('action', lambda d: d.action),
  ('custom_data', lambda d: d.custom_data),
)


class RiegeliBackendWriter(backend_writer.BackendWriter):
  """Writes a dataset of Riegeli files in upstream envlogger's layout."""

  def __init__(
    self,
    data_directory: str,
    max_episodes_per_file: int = 10000,
    writer_options: str = DEFAULT_WRITER_OPTIONS,
    flush_scheduler: Optional[schedulers.Scheduler] = None,
    **base_kwargs,
  ):
    """Opens (and if needed creates) `data_directory` for writing.

    Args:
      data_directory: Where the dataset goes. Created if missing; an existing
        dataset there keeps its metadata and gets new shard directories.
      max_episodes_per_file: Episodes per shard directory; <= 0 means one
        shard for everything.
      writer_options: Riegeli RecordWriter options for the shard files, e.g.
        'transpose,brotli:6,chunk_size:1M' (the default).
      flush_scheduler: Called with each recorded step; when it returns True the
        dataset is flushed (chunks closed, indexes written). By default the
        dataset is flushed every 10 minutes (DEFAULT_FLUSH_INTERVAL), as a
        `schedulers.TimeScheduler` would, checked inline on the hot path.
      **base_kwargs: `metadata` and `scheduler`, see BackendWriter.

    Raises:
      RuntimeError: the directory cannot be created or written, or the
        options are invalid. The message names the problem and the path.
    """
    if not isinstance(data_directory, (str, os.PathLike)):
      raise TypeError(
        f'data_directory must be a str or os.PathLike, not {type(data_directory).__name__}'
      )
    try:
      max_episodes_per_file = operator.index(max_episodes_per_file)
    except TypeError:
      raise TypeError(
        f'max_episodes_per_file must be an int, not {type(max_episodes_per_file).__name__}'
      ) from None
    if not -(2**63) <= max_episodes_per_file < 2**63:
      raise ValueError(f'max_episodes_per_file={max_episodes_per_file} does not fit in 64 bits')
    super().__init__(**base_kwargs)
    # None: flush every DEFAULT_FLUSH_INTERVAL, with TimeScheduler's rule
    # (time.monotonic() has reached the deadline; the next one is counted from
    # then), without a Python call per step.
    self._flush_scheduler = flush_scheduler
    self._flush_interval_seconds = DEFAULT_FLUSH_INTERVAL.total_seconds()
    self._next_flush_time = time.monotonic() + self._flush_interval_seconds
    self._data_directory = data_directory
    # Set when the first step of an episode could not be encoded, so that the
    # next step recorded opens a new episode instead of joining the previous.
    self._episode_start_pending = False
    # The native writer itself, not its Python wrapper: this is the hot path.
    self._writer = _native.dataset_io.AsyncRiegeliDatasetWriter(
      os.fspath(data_directory),
      native_codec.encode(self._metadata or {}),
      max_episodes_per_file,
      writer_options,
      riegeli_dataset_writer.DEFAULT_MAX_QUEUED_BYTES,
    )

  def step_recorder(self) -> Optional[Callable[[Any, Any, Any, bool], None]]:
    """EnvLogger's hot path, if `record_step` may be bypassed (see BackendWriter).

    Returns:
      `f(timestep, action, custom_data, is_new_episode)` recording
      `StepData(timestep, action, custom_data)` exactly as `record_step`
      would, without building the StepData; or None when something must see
      that StepData: a step scheduler, a flush scheduler, or a subclass that
      overrides `record_step` or `_record_step`.
    """
    if (
      self._scheduler is None
      and self._flush_scheduler is None
      and type(self).record_step is backend_writer.BackendWriter.record_step
      and type(self)._record_step is RiegeliBackendWriter._record_step
    ):
      return self._queue_step
    return None

  def gym_step_recorder(self) -> Optional[Callable[[Any, Any], bool]]:
    """GymnasiumLogger's hot path, when `step_recorder()` has one.

    Returns:
      The native `f(result, action) -> is_last` recording a Gymnasium
      `step()` result (observation, reward, terminated, truncated, info) as
      `f(step_timestep(result), action, None, False)` of `step_recorder()`
      would (the same bytes; see envlogger/gymnasium_logger.py), without
      building the TimeStep, inside an episode whose first step was recorded.
      It raises TypeError, having recorded nothing, for what it cannot
      record (a result that is not a tuple of 5, an unencodable step):
      record that through `step_recorder()`, which records it or raises the
      error that names the bad part. None when `step_recorder()` is None.
    """
    if self.step_recorder() is None:
      return None
    return self._writer.record_gym_step

  def _record_step(self, data: step_data.StepData, is_new_episode: bool) -> None:
    self._queue_step(*data, is_new_episode)
    if self._flush_scheduler is not None and self._flush_scheduler(data):
      self._writer.flush()

  def _queue_step(self, timestep: Any, action: Any, custom_data: Any, is_new_episode: bool) -> None:
    """Encodes and queues a step; flushes if the default schedule says so."""
    writer = self._writer
    if writer is None:
      raise RuntimeError(f'Cannot record a step: the writer of {self._data_directory} is closed')
    try:
      # Encodes and queues in one native call; an unencodable step raises
      # TypeError before anything is queued.
      writer.record_step(
        timestep, action, custom_data, is_new_episode or self._episode_start_pending
      )
    except TypeError as e:
      self._episode_start_pending |= is_new_episode
      raise TypeError(
        _describe_unencodable_step(step_data.StepData(timestep, action, custom_data), e)
      ) from None
    self._episode_start_pending = False
    if self._flush_scheduler is None:
      now = time.monotonic()
      if now >= self._next_flush_time:
        self._next_flush_time = now + self._flush_interval_seconds
        writer.flush()

  def set_episode_metadata(self, data: Any) -> None:
    if self._writer is None:
      raise RuntimeError(
        f'Cannot set episode metadata: the writer of {self._data_directory} is closed'
      )
    self._writer.set_episode_metadata(native_codec.encode(data))

  def flush(self) -> None:
    """Writes everything recorded so far to disk and indexes it."""
    if self._writer is None:
      raise RuntimeError(f'Cannot flush: the writer of {self._data_directory} is closed')
    self._writer.flush()

  def close(self) -> None:
    """Flushes and closes the dataset. Idempotent."""
    writer = getattr(self, '_writer', None)
    if writer is not None:
      self._writer = None
      writer.close()


def _describe_unencodable_step(data: step_data.StepData, error: TypeError) -> str:
  """Names the StepData field that the codec rejected, for error messages."""
  for name, getter in _STEP_FIELDS:
    try:
      native_codec.encode(getter(data))
    except TypeError as field_error:
      return f'Cannot record {name}: {field_error}'
    except AttributeError:
      break
  return f'Cannot record step: {error}'
