"""Writers of Riegeli datasets, under upstream's module and class names.

`RiegeliDatasetWriter` is upstream's `envlogger.backends.python.
riegeli_dataset_writer.RiegeliDatasetWriter`: it writes on the calling thread.
`AsyncRiegeliDatasetWriter` has the same methods but only queues steps; a
background thread compresses and writes them (see
`envlogger/backends/cc/async_dataset_writer.h`).

Records are serialized `envlogger.Data` messages (or any protobuf message):
methods accept bytes-like objects or message instances (serialized with
`SerializeToString()`). Errors are raised as `RuntimeError("<CODE>: <message>")`
with the path in the message, of the `dataset_errors` class of their code.
"""

from typing import Any, Optional, Union

from envlogger import _native
from envlogger.backends.python import dataset_errors
from envlogger.proto import storage_pb2

# Upstream's default, 'transpose,brotli:6,chunk_size:1M', as the C++ writer
# defines it (riegeli_dataset_writer.h).
DEFAULT_WRITER_OPTIONS: str = _native.dataset_io.DEFAULT_WRITER_OPTIONS
DEFAULT_MAX_QUEUED_BYTES = 64 << 20

Record = Union[bytes, bytearray, memoryview, Any]


def _serialized(data: Record) -> Union[bytes, bytearray, memoryview]:
  """Returns `data` as bytes-like: messages are serialized, bytes pass through."""
  if isinstance(data, (bytes, bytearray, memoryview)):
    return data
  serialize = getattr(data, 'SerializeToString', None)
  if serialize is None:
    raise TypeError(
      f'Expected a protobuf message or a bytes-like object, got {type(data).__name__}'
    )
  return serialize()


class RiegeliDatasetWriter:
  """Writes steps, episode metadata and the index of a Riegeli dataset.

  Call `init()` first. Calls from several threads are serialized. Not
  picklable.
  """

  def __init__(self):
    self._writer = _native.dataset_io.RiegeliDatasetWriter()

  def init(
    self,
    data_dir: str,
    metadata: Optional[Record] = None,
    max_episodes_per_shard: int = 0,
    writer_options: str = DEFAULT_WRITER_OPTIONS,
  ) -> None:
    """Opens `data_dir` (created if missing) for writing.

    Args:
      data_dir: the dataset directory.
      metadata: dataset metadata (`storage_pb2.Data` or its serialization),
        written to metadata.riegeli only if that file does not exist yet.
        Defaults to an empty Data.
      max_episodes_per_shard: episodes per shard directory; <= 0: one shard.
      writer_options: Riegeli writer options for the shard files.

    Raises:
      RuntimeError: empty or unusable `data_dir`, invalid options, or an I/O
        error; the message names the problem and the path.
    """
    if metadata is None:
      metadata = storage_pb2.Data()
    self._writer.init(
      str(data_dir), _serialized(metadata), int(max_episodes_per_shard), writer_options
    )

  def add_step(self, data: Record, is_new_episode: bool = False) -> bool:
    """Writes one step.

    Returns:
      True if written; False if rejected as upstream does: no shard is open
      (with max_episodes_per_shard > 0 the first step must start an
      episode; or the writer was closed or never initialised).

    Raises:
      RuntimeError: an I/O error.
    """
    return self._writer.add_step(_serialized(data), bool(is_new_episode))

  def set_episode_metadata(self, data: Record) -> None:
    """Sets the metadata of the episode in progress (the last call wins)."""
    self._writer.set_episode_metadata(_serialized(data))

  def flush(self) -> None:
    """Ends the current chunks and indexes every step written so far."""
    self._writer.flush()

  def close(self) -> None:
    """Flushes, indexes the episode in progress and closes the files."""
    self._writer.close()

  def data_dir(self) -> str:
    return self._writer.data_dir()

  def max_episodes_per_shard(self) -> int:
    return self._writer.max_episodes_per_shard()

  def writer_options(self) -> str:
    return self._writer.writer_options()

  def episode_counter(self) -> int:
    return self._writer.episode_counter()

  def __reduce__(self):
    raise TypeError('RiegeliDatasetWriter cannot be pickled')


class AsyncRiegeliDatasetWriter:
  """Like RiegeliDatasetWriter, but compresses and writes on its own thread.

  `add_step()` and `set_episode_metadata()` only queue the record (blocking
  only while more than `max_queued_bytes` are queued); `flush()` and
  `close()` return once everything queued before them is written and
  indexed. An error of the background thread (e.g. a full disk) is raised as
  RuntimeError by every later call. Closing happens at garbage collection if
  `close()` was not called. Not picklable.
  """

  def __init__(self):
    self._writer = None

  def init(
    self,
    data_dir: str,
    metadata: Optional[Record] = None,
    max_episodes_per_shard: int = 0,
    writer_options: str = DEFAULT_WRITER_OPTIONS,
    max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
  ) -> None:
    """Opens `data_dir` and starts the writer thread (see RiegeliDatasetWriter.init).

    Raises:
      RuntimeError: as RiegeliDatasetWriter.init.
    """
    if metadata is None:
      metadata = storage_pb2.Data()
    if self._writer is not None:
      self._writer.close()
    self._writer = _native.dataset_io.AsyncRiegeliDatasetWriter(
      str(data_dir),
      _serialized(metadata),
      int(max_episodes_per_shard),
      writer_options,
      int(max_queued_bytes),
    )

  def _checked(self):
    if self._writer is None:
      raise dataset_errors.FailedPreconditionError('FAILED_PRECONDITION: init() was not called')
    return self._writer

  def add_step(self, data: Record, is_new_episode: bool = False) -> None:
    """Queues one step.

    Raises:
      RuntimeError: an earlier write failed, the writer is closed, or (with
        max_episodes_per_shard > 0) no episode has started yet.
    """
    self._checked().add_step(_serialized(data), bool(is_new_episode))

  def set_episode_metadata(self, data: Record) -> None:
    """Queues the metadata of the episode in progress (the last call wins)."""
    self._checked().set_episode_metadata(_serialized(data))

  def flush(self) -> None:
    """Waits until everything queued is written, then flushes and indexes it."""
    self._checked().flush()

  def close(self) -> None:
    """Writes everything queued, closes the dataset and stops the thread."""
    self._checked().close()

  def data_dir(self) -> str:
    return self._checked().data_dir()

  def max_episodes_per_shard(self) -> int:
    return self._checked().max_episodes_per_shard()

  def writer_options(self) -> str:
    return self._checked().writer_options()

  def queued_bytes(self) -> int:
    """Bytes waiting for the writer thread (for monitoring)."""
    return self._checked().queued_bytes()

  def __reduce__(self):
    raise TypeError('AsyncRiegeliDatasetWriter cannot be pickled')
