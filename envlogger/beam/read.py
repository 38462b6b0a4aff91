"""ReadEpisodes: a Beam source of the episodes of an envlogger dataset, root, glob or list."""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from envlogger import work_units


class ReadEpisodes(beam.PTransform):
  """Reads every episode of `source` (what `envlogger.Reader` opens).

  The source is cut into work units (`envlogger/work_units.py`): runs of
  consecutive episodes of one shard of one writer, at most
  `max_episodes_per_unit` episodes and `max_steps_per_unit` steps each, so a
  root is split by writer and by shard, and a large shard by episode range. The plan is made on a
  worker from the index files only; the units are then redistributed
  (`Reshuffle`), so every worker reads its share and opens only the writer
  directories it needs.

  Each element is a dict: 'steps' (with `arrays`, a dict of numpy arrays
  with one row per step: 'step_type', 'reward', 'discount', 'observation'
  (nested as 'observation/<key>'), 'action', 'custom_data/...'; missing
  values such as the first step's action are zeros; else the list of
  `StepData`), 'metadata' (the episode's metadata or None), 'episode' (its
  index in `envlogger.Reader(source)`), 'writer' and 'episode_in_writer'
  (`Reader.episode_origin`), 'first_step' (global index of its first step).
  """

  def __init__(
    self,
    source: Any,
    arrays: bool = True,
    max_episodes_per_unit: int = work_units.DEFAULT_MAX_EPISODES,
    max_steps_per_unit: int = work_units.DEFAULT_MAX_STEPS,
  ):
    super().__init__()
    if max_episodes_per_unit < 1 or max_steps_per_unit < 1:
      raise ValueError(
        f'max_episodes_per_unit ({max_episodes_per_unit}) and '
        f'max_steps_per_unit ({max_steps_per_unit}) must be >= 1'
      )
    self._source = source
    self._arrays = arrays
    self._max_episodes = max_episodes_per_unit
    self._max_steps = max_steps_per_unit

  def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
    max_episodes, max_steps, arrays = self._max_episodes, self._max_steps, self._arrays
    return (
      pbegin
      | 'Source' >> beam.Create([self._source])
      | 'Plan' >> beam.FlatMap(work_units.plan, max_episodes, max_steps)
      | 'Distribute' >> beam.Reshuffle()
      | 'Read' >> beam.FlatMap(work_units.read_unit, arrays)
    )
