"""`envlogger stats DIR`: episode returns and lengths, per-field statistics, actions.

* Episode returns (the sum of the numeric scalar rewards of an episode's
  steps; a FIRST step's reward is None and counts as nothing) and episode
  lengths (steps per episode): count, mean, std, min, quartiles, max. An
  episode whose rewards are not numeric scalars has no return.
* Per field of the observation, action, reward, discount and custom data
  (nested dicts, lists and tuples are walked; a field is named by its path,
  e.g. `observation.pixels` or `custom_data.timestamp`): mean, std, min and
  max over every element of every step where the field is numeric (bool,
  int, float), with the number of steps and of elements counted.
* The action histogram when actions are integer scalars (a DiscreteArray
  action spec gives the bins 0..num_values-1).

`compute_stats(reader)` returns the same as a dict (what `--json` prints).
With `--beam` the statistics are computed by a Beam pipeline instead
(envlogger/beam/stats.py: per-field count/mean/std/min/max, episode returns
and lengths, no quartiles or histogram), on the DirectRunner by default or on
the runner `--beam_args` names; its result is printed as JSON.
"""

from __future__ import annotations

import argparse
import collections
import math
from typing import Any, Iterator, Optional

import numpy as np

import envlogger
from envlogger.tools import cli_support
from envlogger.tools import convert

# Above this many distinct integer actions, no histogram is kept.
_MAX_HISTOGRAM_BINS = 1000


class _Moments:
  """Count, mean, M2 (Chan et al.'s parallel update), min and max of values.

  Values are accumulated relative to the first one seen, so that large
  offsets (timestamps) do not cost the spread its precision.
  """

  def __init__(self):
    self.steps = 0
    self.count = 0
    self.mean = 0.0
    self.m2 = 0.0
    self.non_finite = 0
    self.shift = None
    self.min = math.inf
    self.max = -math.inf

  def add(self, values: np.ndarray) -> None:
    finite = np.isfinite(values)
    self.non_finite += int(values.size - finite.sum())
    values = values[finite]
    self.steps += 1
    n = values.size
    if not n:
      return
    self.min = min(self.min, float(values.min()))
    self.max = max(self.max, float(values.max()))
    if self.shift is None:
      self.shift = float(values[0])
    with np.errstate(over='ignore', invalid='ignore'):  # Huge values: an infinite spread.
      values = values - self.shift
      mean = float(values.mean())
      m2 = float(((values - mean) ** 2).sum())
    total = self.count + n
    delta = mean - self.mean
    self.mean += delta * n / total
    self.m2 += m2 + delta * delta * self.count * n / total
    self.count = total

  def as_dict(self) -> dict[str, Any]:
    out = {'steps': self.steps, 'elements': self.count}
    if self.count:
      out.update(
        mean=self.mean + self.shift, std=math.sqrt(self.m2 / self.count), min=self.min, max=self.max
      )
    if self.non_finite:
      out['non_finite'] = self.non_finite
    return out


def _numeric_leaves(value: Any, path: str) -> Iterator[tuple[str, np.ndarray]]:
  """(path, float64 array) of every numeric leaf of a nested value."""
  if isinstance(value, dict):
    for k, v in value.items():
      yield from _numeric_leaves(v, f'{path}.{k}')
  elif isinstance(value, (list, tuple)):
    for i, v in enumerate(value):
      yield from _numeric_leaves(v, f'{path}[{i}]')
  elif isinstance(value, (bool, int, float, np.ndarray, np.generic)):
    array = np.asarray(value)
    if array.dtype.kind in 'biuf':
      yield path, array.astype(np.float64).reshape(-1)


def summary(values: list[float]) -> dict[str, Any]:
  """count, mean, std (population), min, 25%, 50%, 75%, max of `values`."""
  if not values:
    return {'count': 0}
  a = np.asarray(values, dtype=np.float64)
  q1, q2, q3 = np.percentile(a, [25, 50, 75])
  return {
    'count': int(a.size),
    'mean': float(a.mean()),
    'std': float(a.std()),
    'min': float(a.min()),
    '25%': float(q1),
    '50%': float(q2),
    '75%': float(q3),
    'max': float(a.max()),
  }


def scalar_reward(reward: Any) -> Optional[float]:
  """A step's reward as a float (None reward: 0.0); None if not a numeric scalar."""
  if reward is None:
    return 0.0
  if isinstance(reward, (bool, str, bytes)):
    return None
  array = np.asarray(reward)
  if array.shape == () and array.dtype.kind in 'biuf':
    return float(array)
  return None


def _integer_action(action: Any) -> Optional[int]:
  if isinstance(action, (bool, np.bool_)):
    return None
  if isinstance(action, (int, np.integer)):
    return int(action)
  if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in 'iu':
    return int(action)
  return None


def compute_stats(
  reader: envlogger.Reader, path: str = '', progress: Optional[cli_support.Progress] = None
) -> dict[str, Any]:
  """Everything `envlogger stats` shows, as a dict; reads every step once."""
  progress = progress or cli_support.Progress(None, '', quiet=True)
  returns, lengths, episode_returns = [], [], []
  fields: dict[str, _Moments] = collections.defaultdict(_Moments)
  actions: collections.Counter = collections.Counter()
  discrete = True
  for _, steps in cli_support.read_episodes(reader, path, range(len(reader.episodes)), progress):
    lengths.append(len(steps))
    total: Optional[float] = 0.0
    for step in steps:
      ts = step.timestep
      r = scalar_reward(ts.reward)
      total = None if total is None or r is None else total + r
      for name, value in (
        ('observation', ts.observation),
        ('action', step.action),
        ('reward', ts.reward),
        ('discount', ts.discount),
        ('custom_data', step.custom_data),
      ):
        for leaf, array in _numeric_leaves(value, name):
          fields[leaf].add(array)
      if discrete:
        a = _integer_action(step.action)
        if a is None and step.action is not None:
          discrete = False
        elif a is not None:
          actions[a] += 1
          discrete = len(actions) <= _MAX_HISTOGRAM_BINS
    episode_returns.append(total)
    if total is not None:
      returns.append(total)
  histogram = None
  if discrete and actions:
    spec = reader.action_spec()
    num_values = getattr(spec, 'num_values', None)
    if isinstance(num_values, int) and all(0 <= a < num_values for a in actions):
      histogram = {a: actions.get(a, 0) for a in range(num_values)}
    else:
      histogram = dict(sorted(actions.items()))
  return {
    'path': path,
    'num_episodes': len(lengths),
    'num_steps': sum(lengths),
    'episode_returns': summary(returns),
    'episode_lengths': summary(lengths),
    'returns': episode_returns,
    'lengths': lengths,
    'fields': {k: fields[k].as_dict() for k in sorted(fields)},
    'action_histogram': histogram,
  }


def format_stats(stats: dict[str, Any]) -> str:
  """The human-readable form of `compute_stats` (without per-episode lists)."""
  keys = ['count', 'mean', 'std', 'min', '25%', '50%', '75%', 'max']
  rows = [
    [name] + [stats[key].get(k, '-') for k in keys]
    for name, key in (('return', 'episode_returns'), ('length', 'episode_lengths'))
  ]
  out = [
    f'{stats["path"]}: {stats["num_episodes"]} episodes, {stats["num_steps"]} steps',
    '',
    cli_support.format_table(['episode'] + keys, rows),
    '',
  ]
  field_keys = ['steps', 'elements', 'mean', 'std', 'min', 'max']
  rows = [[name] + [s.get(k, '-') for k in field_keys] for name, s in stats['fields'].items()]
  out.append(cli_support.format_table(['field'] + field_keys, rows))
  if stats['action_histogram']:
    total = sum(stats['action_histogram'].values())
    out += [
      '',
      cli_support.format_table(
        ['action', 'count', 'share'],
        [[a, n, f'{n / total:.1%}'] for a, n in stats['action_histogram'].items()],
      ),
    ]
  return '\n'.join(out)


def _run_beam(args: argparse.Namespace) -> int:
  try:
    from envlogger.beam import pipelines  # pylint: disable=g-import-not-at-top

    stats = pipelines.compute_stats(args.dir, options=convert.beam_options(args))
  except (ImportError, OSError, ValueError, RuntimeError) as e:
    raise cli_support.CliError(str(e)) from e
  cli_support.print_json(stats)
  return 0


def _run(args: argparse.Namespace) -> int:
  if args.beam:
    return _run_beam(args)
  with cli_support.open_reader(args.dir) as reader:
    with cli_support.Progress(len(reader.steps), 'stats', args.quiet) as progress:
      stats = compute_stats(reader, args.dir, progress)
  if args.json:
    cli_support.print_json(stats)
  else:
    print(format_stats(stats))
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `stats` to the `envlogger` command."""
  parser = subparsers.add_parser(
    'stats',
    help='returns, lengths, per-field mean/std/min/max, action histogram',
    description=__doc__.split('\n\n')[0],
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  parser.add_argument(
    '--json', action='store_true', help='print JSON (with the per-episode returns and lengths)'
  )
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.add_argument(
    '--beam',
    action='store_true',
    help='compute on a Beam pipeline (needs envlogger[beam]); prints JSON',
  )
  convert.add_beam_arguments(parser)
  parser.set_defaults(run=_run)
