"""WriteDataset: a Beam sink writing episodes as an envlogger root."""

from __future__ import annotations

import os
import shutil
from typing import Any, Dict, Iterator, Optional

import apache_beam as beam
import dm_env
import numpy as np

from envlogger import step_data
from envlogger import writer_name as writer_names
from envlogger.backends import riegeli_backend_writer

_TMP_PREFIX = '.unfinished-'


def _unflatten(columns: Dict[str, np.ndarray], prefix: str, row: int) -> Any:
  """Row `row` of the columns under `prefix` (nested 'prefix/key' ones as dicts), or None."""
  if prefix in columns:
    return columns[prefix][row]
  nested = {}
  start = prefix + '/'
  for name in columns:
    if name.startswith(start):
      key = name[len(start) :].split('/', 1)[0]
      nested[key] = None
  if not nested:
    return None
  return {key: _unflatten(columns, start + key, row) for key in nested}


def steps_of(episode: Dict[str, Any]) -> list:
  """The StepData of an episode element of `ReadEpisodes` (arrays or steps).

  From arrays, nested fields come back as dicts, and the first step's
  action, reward and discount as None (as dm_env.restart and upstream have
  them).
  """
  steps = episode['steps']
  if not isinstance(steps, dict):
    return list(steps)
  result = []
  for row in range(len(steps['step_type'])):
    step_type = dm_env.StepType(int(steps['step_type'][row]))
    first = step_type == dm_env.StepType.FIRST
    timestep = dm_env.TimeStep(
      step_type,
      None if first else _unflatten(steps, 'reward', row),
      None if first else _unflatten(steps, 'discount', row),
      _unflatten(steps, 'observation', row),
    )
    result.append(
      step_data.StepData(
        timestep,
        None if first else _unflatten(steps, 'action', row),
        _unflatten(steps, 'custom_data', row),
      )
    )
  return result


class _WriteBundles(beam.DoFn):
  """Writes each bundle's episodes into a new writer directory of the root."""

  def __init__(
    self,
    path: str,
    metadata: Optional[Dict[str, Any]],
    max_episodes_per_file: int,
    writer_options: str,
  ):
    super().__init__()
    self._path = path
    self._metadata = metadata
    self._max_episodes_per_file = max_episodes_per_file
    self._writer_options = writer_options
    self._writer = None
    self._name = None

  def start_bundle(self) -> None:
    self._writer = None

  def _open(self, first: Dict[str, Any]) -> None:
    # Named after the bundle's first episode, so that a root read back lists
    # bundles roughly in the source's order. Written under a hidden name,
    # renamed when complete: a retried bundle's failed attempt leaves only a
    # hidden directory, which readers skip.
    episode = first.get('episode')
    prefix = 'beam' if episode is None else f'beam-{int(episode):012d}'
    self._name = writer_names.unique_writer_name(prefix)
    os.makedirs(self._path, exist_ok=True)
    self._writer = riegeli_backend_writer.RiegeliBackendWriter(
      os.path.join(self._path, _TMP_PREFIX + self._name),
      metadata=self._metadata,
      max_episodes_per_file=self._max_episodes_per_file,
      writer_options=self._writer_options,
    )

  def process(self, episode: Dict[str, Any]) -> Iterator[Any]:
    if self._writer is None:
      self._open(episode)
    for i, step in enumerate(steps_of(episode)):
      self._writer.record_step(step, is_new_episode=(i == 0))
    if episode.get('metadata') is not None:
      self._writer.set_episode_metadata(episode['metadata'])
    return iter(())

  def finish_bundle(self) -> Iterator[Any]:
    if self._writer is None:
      return
    self._writer.close()
    self._writer = None
    tmp = os.path.join(self._path, _TMP_PREFIX + self._name)
    final = os.path.join(self._path, self._name)
    os.rename(tmp, final)
    yield beam.transforms.window.GlobalWindows.windowed_value(final)

  def teardown(self) -> None:
    if self._writer is not None:  # A failed bundle: its output is not kept.
      self._writer.close()
      shutil.rmtree(os.path.join(self._path, _TMP_PREFIX + self._name), ignore_errors=True)


class WriteDataset(beam.PTransform):
  """Writes episodes (elements as `ReadEpisodes` yields them) as a root at `path`.

  Each bundle becomes one writer directory
  `<path>/beam-<first episode>-<host>-<pid>-<random>/` (named after the
  global index of the first episode it wrote, when the elements have one),
  an ordinary dataset (upstream's Reader opens it), so `envlogger.Reader(path)`
  reads the result as one dataset. A directory appears only once its bundle is
  complete. The output is the list of directories written.

  Args:
    path: the root (created if missing; may already hold writers).
    metadata: the dataset metadata of every writer, normally
      `envlogger.Reader(source).metadata()` (it holds the `environment_specs`
      that the Reader compares between writers).
    max_episodes_per_file: episodes per shard of each writer.
    writer_options: Riegeli options of the shard files.
  """

  def __init__(
    self,
    path: str,
    metadata: Optional[Dict[str, Any]] = None,
    max_episodes_per_file: int = 10000,
    writer_options: str = riegeli_backend_writer.DEFAULT_WRITER_OPTIONS,
  ):
    super().__init__()
    if not isinstance(path, (str, os.PathLike)):
      raise TypeError(f'path must be a str or os.PathLike, not {type(path).__name__}')
    if os.path.exists(path) and not os.path.isdir(path):
      raise NotADirectoryError(f'WriteDataset: {path} exists and is not a directory')
    self._fn = _WriteBundles(os.fspath(path), metadata, max_episodes_per_file, writer_options)

  def expand(self, episodes: beam.PCollection) -> beam.PCollection:
    return episodes | 'WriteBundles' >> beam.ParDo(self._fn)
