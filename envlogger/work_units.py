"""Work units: a dataset (or root, glob, list) cut into pieces workers read alone.

Used by the Beam and Ray readers (`envlogger/beam/`, `envlogger/ray.py`). A
`WorkUnit` is a run of consecutive episodes of one shard of one writer's
dataset (at most `max_episodes` episodes and, past the first, `max_steps`
steps), so a root of many writers gives at least one unit per shard and a
large shard several.
Units carry global episode and step indices (the order of
`envlogger.Reader(source)`), so workers need no coordination and the union of
their output is exactly the Reader's dataset.

`episode_columns` turns an episode's steps into columns of stacked numpy
arrays, nested observations (dicts, lists) flattened to 'observation/key'
names; `read_unit` yields one dict per episode.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np

from envlogger import reader as reader_lib

DEFAULT_MAX_EPISODES = 256
DEFAULT_MAX_STEPS = 100_000


@dataclasses.dataclass(frozen=True)
class WorkUnit:
  """Episodes [episode_start, episode_stop) of the dataset at `path`.

  Attributes:
    path: the writer's dataset directory.
    writer: the writer's name in the root (see `Reader.episode_origin`).
    episode_start, episode_stop: the writer-local episode range.
    global_episode: the global index of `episode_start`.
    global_step: the global index of its first step.
    num_steps: steps in the range.
  """

  path: str
  writer: str
  episode_start: int
  episode_stop: int
  global_episode: int
  global_step: int
  num_steps: int


def plan(
  source: Any, max_episodes: int = DEFAULT_MAX_EPISODES, max_steps: int = DEFAULT_MAX_STEPS
) -> List[WorkUnit]:
  """Cuts `source` (a dataset, root, glob or list) into work units, in global order.

  Opens the source once (index files only).

  Raises:
    FileNotFoundError: nothing readable in `source`.
  """
  if max_episodes < 1 or max_steps < 1:
    raise ValueError(f'max_episodes ({max_episodes}) and max_steps ({max_steps}) must be >= 1')
  units: List[WorkUnit] = []
  with reader_lib.Reader(source) as reader:
    paths = _writer_paths(reader, source)
    shard_starts = _shard_starts(reader)
    backend = reader._backend  # pylint: disable=protected-access
    current: Optional[Dict[str, Any]] = None
    for i in range(len(reader.episodes)):
      writer, local = reader.episode_origin(i)
      info = backend._get_nth_episode_info(i)  # pylint: disable=protected-access
      if (
        current is None
        or current['writer'] != writer
        or current['stop'] != local
        or local in shard_starts.get(writer, ())
        or current['stop'] - current['start'] >= max_episodes
        or current['steps'] + info.num_steps > max_steps
      ):
        if current is not None:
          units.append(_unit(current, paths))
        current = dict(
          writer=writer, start=local, stop=local, global_episode=i, global_step=info.start, steps=0
        )
      current['stop'] += 1
      current['steps'] += info.num_steps
    if current is not None:
      units.append(_unit(current, paths))
  return units


def _writer_paths(reader: reader_lib.Reader, source: Any) -> Dict[str, str]:
  paths = getattr(reader._backend, 'writer_paths', None)  # pylint: disable=protected-access
  if paths is not None:
    return paths()
  return {reader._writer_name(): str(source)}  # pylint: disable=protected-access


def _shard_starts(reader: reader_lib.Reader) -> Dict[str, frozenset]:
  """{writer name: writer-local indices of the episodes that begin a shard}."""
  backend = reader._backend  # pylint: disable=protected-access
  per_writer = getattr(backend, 'writer_shard_episode_starts', None)
  if per_writer is not None:
    return {name: frozenset(starts) for name, starts in per_writer().items()}
  return {reader._writer_name(): frozenset(backend.shard_episode_starts())}  # pylint: disable=protected-access


def _unit(current: Dict[str, Any], paths: Dict[str, str]) -> WorkUnit:
  return WorkUnit(
    paths[current['writer']],
    current['writer'],
    current['start'],
    current['stop'],
    current['global_episode'],
    current['global_step'],
    current['steps'],
  )


def _flatten(prefix: str, value: Any, out: Dict[str, Any]) -> None:
  """Adds `value` to `out` under `prefix`, nested dicts/lists/tuples as 'prefix/key'."""
  if isinstance(value, dict):
    for key, item in value.items():
      _flatten(f'{prefix}/{key}', item, out)
  elif isinstance(value, (list, tuple)) and not _is_leaf_sequence(value):
    for key, item in enumerate(value):
      _flatten(f'{prefix}/{key}', item, out)
  elif value is not None:
    out[prefix] = value


def _is_leaf_sequence(value: Sequence[Any]) -> bool:
  """A list of plain numbers stacks as one array, not one column per element."""
  return all(isinstance(v, (int, float, bool, np.generic)) for v in value)


def step_fields(step: Any) -> Dict[str, Any]:
  """A StepData as flat {'observation/...': value, 'action': ..., ...} (None left out)."""
  fields: Dict[str, Any] = {}
  timestep = step.timestep
  fields['step_type'] = np.uint8(timestep.step_type)
  _flatten('reward', timestep.reward, fields)
  _flatten('discount', timestep.discount, fields)
  _flatten('observation', timestep.observation, fields)
  _flatten('action', step.action, fields)
  _flatten('custom_data', step.custom_data, fields)
  return fields


def episode_columns(steps: Sequence[Any]) -> Dict[str, np.ndarray]:
  """Columns of stacked arrays, one row per step, of the fields of `steps`.

  A field absent (None) in some steps, e.g. the action of a FIRST step, is
  filled with zeros of the other steps' shape and dtype there.
  """
  rows = [step_fields(step) for step in steps]
  names: Dict[str, None] = {}
  for row in rows:
    names.update(dict.fromkeys(row))
  columns = {}
  for name in names:
    values = [row.get(name) for row in rows]
    template = next(np.asarray(v) for v in values if v is not None)
    columns[name] = np.stack(
      [np.asarray(v) if v is not None else np.zeros_like(template) for v in values]
    )
  return columns


def read_unit(unit: WorkUnit, arrays: bool = True) -> Iterator[Dict[str, Any]]:
  """The episodes of `unit`, each a dict.

  Keys: 'steps' (`episode_columns` if `arrays`, else the list of StepData),
  'metadata' (the episode's metadata or None), 'episode' (global index),
  'writer', 'episode_in_writer', 'first_step' (global index of its first
  step).
  """
  with reader_lib.Reader(unit.path) as reader:
    global_step = unit.global_step
    for offset, local in enumerate(range(unit.episode_start, unit.episode_stop)):
      steps = list(reader.episodes[local])
      yield {
        'steps': episode_columns(steps) if arrays else steps,
        'metadata': reader.episode_metadata()[local],
        'episode': unit.global_episode + offset,
        'writer': unit.writer,
        'episode_in_writer': local,
        'first_step': global_step,
      }
      global_step += len(steps)
