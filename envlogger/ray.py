"""Ray Data: read envlogger datasets (a dataset, root of writers, glob, list) as a ray.data.Dataset.

    import envlogger.ray
    ds = envlogger.ray.read_envlogger('/data/experiment', unit='steps')

One read task per work unit (a run of consecutive episodes of one shard of
one writer, see `envlogger/work_units.py`), planned from the index files only;
tasks run wherever Ray schedules them (a local Ray by default, a cluster
unchanged), each opening its own reader. Needs the `ray` extra:
`pip install envlogger[ray]`.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

try:
  import ray  # pylint: disable=g-import-not-at-top
  from ray import data as ray_data  # pylint: disable=g-import-not-at-top
  from ray.data import block as ray_block  # pylint: disable=g-import-not-at-top
except ImportError as e:
  raise ImportError(f'envlogger.ray needs Ray Data: pip install envlogger[ray] ({e})') from e
import numpy as np

from envlogger import work_units

UNITS = ('steps', 'episodes')


def _steps_block(episodes: Iterable[Dict[str, Any]]) -> Dict[str, np.ndarray]:
  """One row per step of `episodes`, with their origin columns."""
  parts: List[Dict[str, np.ndarray]] = []
  for episode in episodes:
    columns = dict(episode['steps'])
    n = len(columns['step_type'])
    columns['episode'] = np.full(n, episode['episode'], np.int64)
    columns['writer'] = np.array([episode['writer']] * n, dtype=object)
    columns['episode_in_writer'] = np.full(n, episode['episode_in_writer'], np.int64)
    columns['step_in_episode'] = np.arange(n, dtype=np.int64)
    columns['step'] = episode['first_step'] + np.arange(n, dtype=np.int64)
    parts.append(columns)
  names: Dict[str, np.ndarray] = {}  # Field -> a column that has it (its row shape, dtype).
  for part in parts:
    for name, column in part.items():
      names.setdefault(name, column)
  # A field an episode lacks (e.g. the action of an episode of a single FIRST
  # step) is zeros there, as `work_units.episode_columns` fills steps.
  return {
    name: np.concatenate(
      [
        p[name] if name in p else np.zeros((len(p['step_type']),) + like.shape[1:], like.dtype)
        for p in parts
      ]
    )
    for name, like in names.items()
  }


def _episode_row(episode: Dict[str, Any]) -> Dict[str, Any]:
  row = {f'steps/{name}': value for name, value in episode['steps'].items()}
  row.update(
    episode=episode['episode'],
    writer=episode['writer'],
    episode_in_writer=episode['episode_in_writer'],
    num_steps=len(episode['steps']['step_type']),
    metadata=episode['metadata'],
  )
  return row


def _read(unit: work_units.WorkUnit, kind: str) -> Iterable[Any]:
  episodes = work_units.read_unit(unit)
  if kind == 'steps':
    yield ray_block.BlockAccessor.batch_to_block(_steps_block(episodes))
    return
  for episode in episodes:
    row = _episode_row(episode)
    yield ray_block.BlockAccessor.batch_to_block({k: _one_row(v) for k, v in row.items()})


def _one_row(value: Any) -> np.ndarray:
  """A batch column holding the single value `value`."""
  if isinstance(value, np.ndarray):
    return value[None]
  if np.isscalar(value):
    return np.array([value])
  column = np.empty(1, dtype=object)
  column[0] = value
  return column


class EnvloggerDatasource(ray_data.Datasource):
  """A Ray Datasource of an envlogger dataset, root of writers, glob or list."""

  def __init__(
    self,
    source: Any,
    unit: str = 'steps',
    max_episodes_per_task: int = work_units.DEFAULT_MAX_EPISODES,
    max_steps_per_task: int = work_units.DEFAULT_MAX_STEPS,
  ):
    super().__init__()
    if unit not in UNITS:
      raise ValueError(f'unit must be one of {UNITS}, not {unit!r}')
    self._unit = unit
    self._units = work_units.plan(source, max_episodes_per_task, max_steps_per_task)

  def get_name(self) -> str:
    return 'Envlogger'

  def estimate_inmemory_data_size(self) -> Optional[int]:
    return None

  def get_read_tasks(
    self, parallelism: int, per_task_row_limit: Optional[int] = None, data_context: Any = None
  ) -> List[ray_data.ReadTask]:
    """One task per work unit (`parallelism` is not needed to split further)."""
    del parallelism, data_context
    tasks = []
    for unit in self._units:
      rows = unit.num_steps if self._unit == 'steps' else unit.episode_stop - unit.episode_start
      metadata = ray_block.BlockMetadata(
        num_rows=rows, size_bytes=None, input_files=[unit.path], exec_stats=None
      )
      tasks.append(
        ray_data.ReadTask(
          lambda unit=unit, kind=self._unit: _read(unit, kind),
          metadata,
          per_task_row_limit=per_task_row_limit,
        )
      )
    return tasks


def read_envlogger(
  path_or_glob: Any,
  *,
  unit: str = 'steps',
  max_episodes_per_task: int = work_units.DEFAULT_MAX_EPISODES,
  max_steps_per_task: int = work_units.DEFAULT_MAX_STEPS,
  **read_args,
) -> ray_data.Dataset:
  """A ray.data.Dataset of the steps (or episodes) of a dataset, root, glob or list.

  Rows are in `envlogger.Reader(path_or_glob)`'s order. With unit='steps'
  each row is a step: 'step_type', 'reward', 'discount', 'observation'
  (nested ones as 'observation/<key>'), 'action', 'custom_data' where
  present, and its origin: 'episode' (global index), 'writer',
  'episode_in_writer', 'step_in_episode', 'step' (global index). With
  unit='episodes' each row is an episode: the same step fields stacked over
  its steps as 'steps/<field>', plus 'episode', 'writer',
  'episode_in_writer', 'num_steps' and 'metadata'.

  Args:
    path_or_glob: what `envlogger.Reader` opens.
    unit: 'steps' or 'episodes'.
    max_episodes_per_task, max_steps_per_task: the size of a read task.
    **read_args: passed to `ray.data.read_datasource` (e.g. `concurrency`).

  Raises:
    FileNotFoundError: nothing readable at `path_or_glob`.
    ValueError: `unit` is neither 'steps' nor 'episodes'.
  """
  if not ray.is_initialized():
    ray.init()
  datasource = EnvloggerDatasource(path_or_glob, unit, max_episodes_per_task, max_steps_per_task)
  return ray_data.read_datasource(datasource, **read_args)
