"""ComputeStats: per-field statistics, episode returns and lengths, as a Beam CombineFn."""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List

import apache_beam as beam
import numpy as np

from envlogger import work_units

_EPISODE_RETURN = 'episode_return'
_EPISODE_LENGTH = 'episode_length'


def _new() -> List[float]:
  return [0, 0.0, 0.0, math.inf, -math.inf]  # count, sum, sum of squares, min, max.


def _add(acc: List[float], values: np.ndarray) -> None:
  values = np.asarray(values, dtype=np.float64).ravel()
  if not values.size:
    return
  acc[0] += values.size
  acc[1] += float(values.sum())
  acc[2] += float(np.square(values).sum())
  acc[3] = min(acc[3], float(values.min()))
  acc[4] = max(acc[4], float(values.max()))


def _numeric(values: List[Any]) -> bool:
  return all(np.asarray(v).dtype.kind in 'biuf' for v in values)


def episode_summary(episode: Dict[str, Any]) -> Dict[str, List[float]]:
  """The accumulators of one episode (elements of ReadEpisodes with arrays=False).

  Every numeric field counts each value it holds, over the steps where it is
  present (the first step of an episode has no action, reward or discount);
  each element of an array field counts once.
  """
  per_field: Dict[str, List[Any]] = {}
  for step in episode['steps']:
    for name, value in work_units.step_fields(step).items():
      per_field.setdefault(name, []).append(value)
  acc: Dict[str, List[float]] = {}
  for name, values in per_field.items():
    if name == 'step_type' or not _numeric(values):
      continue
    acc[name] = _new()
    try:
      _add(acc[name], np.stack(values))  # One reduction per field and episode.
    except ValueError:  # Values of different shapes.
      for value in values:
        _add(acc[name], value)
  rewards = per_field.get('reward', [])
  acc[_EPISODE_RETURN] = _new()
  _add(acc[_EPISODE_RETURN], np.sum([np.sum(r) for r in rewards]) if rewards else 0.0)
  acc[_EPISODE_LENGTH] = _new()
  _add(acc[_EPISODE_LENGTH], len(episode['steps']))
  return acc


class _StatsFn(beam.CombineFn):
  """Merges per-episode accumulators; extracts mean/std/min/max/count per field."""

  def create_accumulator(self) -> Dict[str, List[float]]:
    return {}

  def add_input(self, acc: Dict[str, List[float]], episode: Dict[str, Any]) -> Dict[str, Any]:
    return self.merge_accumulators([acc, episode_summary(episode)])

  def merge_accumulators(self, accs: Iterable[Dict[str, List[float]]]) -> Dict[str, List[float]]:
    merged: Dict[str, List[float]] = {}
    for acc in accs:
      for name, (count, total, squares, low, high) in acc.items():
        m = merged.setdefault(name, _new())
        m[0] += count
        m[1] += total
        m[2] += squares
        m[3] = min(m[3], low)
        m[4] = max(m[4], high)
    return merged

  def extract_output(self, acc: Dict[str, List[float]]) -> Dict[str, Dict[str, float]]:
    out = {}
    for name in sorted(acc):
      count, total, squares, low, high = acc[name]
      if not count:
        continue
      mean = total / count
      out[name] = {
        'count': int(count),
        'mean': mean,
        'std': math.sqrt(max(squares / count - mean * mean, 0.0)),
        'min': low,
        'max': high,
      }
    return out


class ComputeStats(beam.PTransform):
  """Episodes (ReadEpisodes(..., arrays=False)) -> one dict of statistics.

  Keys: every numeric step field ('reward', 'discount', 'observation' or
  'observation/<key>', 'action', 'custom_data/...'), 'episode_return' (sum
  of an episode's rewards) and 'episode_length' (its steps), each
  {'count', 'mean', 'std' (population), 'min', 'max'}. The number of
  episodes is episode_length's count, the number of steps its mean times
  its count.
  """

  def expand(self, episodes: beam.PCollection) -> beam.PCollection:
    return episodes | 'Stats' >> beam.CombineGlobally(_StatsFn())
