"""Writer names: one dataset per writer under a common root.

Many processes (on one machine or many sharing a file system) record into
one root, each into its own subdirectory `<root>/<writer_name>/`, an
ordinary dataset. A writer claims its name by holding an exclusive `flock`
on `<root>/<writer_name>/writer.lock` for as long as it records; the kernel
releases it when the process ends, even by SIGKILL. So:

* a name is *taken* while another live process holds its lock, and claiming
  it then fails with `WriterNameTakenError` naming the directory;
* a name whose writer has ended (closed or killed) may be claimed again: the
  new writer adds shards to the same dataset (its metadata must be the same);
* readers tell a live writer from a finished one by the same lock
  (`is_live`), which is how `envlogger.Reader` knows whether a writer's last
  episode may still grow.

Upstream's reader ignores the lock file (it only lists subdirectories).
"""

import errno
import fcntl
import os
import secrets
import socket
import time
from typing import Optional, Union

LOCK_FILENAME = 'writer.lock'
# A reader probing liveness holds a shared lock for microseconds; claiming
# retries for this long before calling a name taken.
_CLAIM_RETRY_SECONDS = 0.25
_FORBIDDEN_NAMES = ('', '.', '..')


class WriterNameTakenError(RuntimeError):
  """Another live process is recording under this writer name."""


def unique_writer_name(prefix: str = '') -> str:
  """A writer name unique across hosts and processes: host, pid, random part.

  E.g. 'node7-12345-9f2c4a1b' (`prefix` is prepended, joined with '-').
  Sorting by name groups a host's writers together.
  """
  host = socket.gethostname().split('.')[0] or 'host'
  host = ''.join(c if c.isalnum() or c in '-_' else '_' for c in host)
  name = f'{host}-{os.getpid()}-{secrets.token_hex(4)}'
  return f'{prefix}-{name}' if prefix else name


def check_writer_name(writer_name: str) -> str:
  """Returns `writer_name` if it can name a subdirectory, else ValueError."""
  if not isinstance(writer_name, str):
    raise TypeError(f'writer_name must be a str, not {type(writer_name).__name__}')
  if writer_name in _FORBIDDEN_NAMES or '/' in writer_name or '\0' in writer_name:
    raise ValueError(
      f'writer_name {writer_name!r} cannot name a subdirectory: use a '
      'non-empty name without "/", e.g. envlogger.unique_writer_name()'
    )
  return writer_name


class WriterClaim:
  """Holds the lock of `<root>/<writer_name>/` until `release()`."""

  def __init__(self, root: Union[str, os.PathLike], writer_name: str):
    """Creates `<root>/<writer_name>/` if needed and claims it.

    Raises:
      WriterNameTakenError: another live process holds the name.
      ValueError, TypeError: `writer_name` cannot name a subdirectory.
      OSError: the directory or its lock file cannot be created.
    """
    self._fd: Optional[int] = None
    self.directory = os.path.join(os.fspath(root), check_writer_name(writer_name))
    os.makedirs(self.directory, exist_ok=True)
    lock_path = os.path.join(self.directory, LOCK_FILENAME)
    self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    deadline = time.monotonic() + _CLAIM_RETRY_SECONDS
    while True:
      try:
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
      except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN) or time.monotonic() > deadline:
          holder = _read_holder(self._fd)
          os.close(self._fd)
          self._fd = None
          if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
          raise WriterNameTakenError(
            f'writer name {writer_name!r} is already taken: {self.directory} is being '
            f'written by another process{holder} (it holds {lock_path}). Choose another '
            'writer_name, e.g. envlogger.unique_writer_name().'
          ) from None
        time.sleep(0.01)
    os.ftruncate(self._fd, 0)
    os.pwrite(self._fd, f'{socket.gethostname()} {os.getpid()}\n'.encode(), 0)

  def release(self) -> None:
    """Releases the name (idempotent)."""
    fd, self._fd = getattr(self, '_fd', None), None
    if fd is not None:
      os.close(fd)  # Closing the only descriptor releases the flock.

  def __del__(self):
    self.release()


def _read_holder(fd: int) -> str:
  """' (host pid)' as the holder wrote it in the lock file, or ''."""
  try:
    text = os.pread(fd, 256, 0).decode(errors='replace').strip()
  except OSError:
    return ''
  return f' ({text})' if text else ''


def is_live(dataset_dir: Union[str, os.PathLike]) -> bool:
  """True while a writer process holds `dataset_dir`'s writer lock.

  False for a dataset without a lock file (not recorded with a writer name)
  and for one whose writer has closed or died.
  """
  try:
    fd = os.open(os.path.join(os.fspath(dataset_dir), LOCK_FILENAME), os.O_RDONLY | os.O_CLOEXEC)
  except OSError:
    return False
  try:
    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
  except OSError as e:
    return e.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
  finally:
    os.close(fd)  # Also releases the shared lock if it was taken.
  return False
