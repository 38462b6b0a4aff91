"""Tests of `envlogger stats`: numbers against numpy over the steps read independently."""

import json
import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import envlogger
from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib


def _summary_of(values):
  a = np.asarray(values, dtype=np.float64)
  return {
    'count': a.size,
    'mean': a.mean(),
    'std': a.std(),
    'min': a.min(),
    '25%': np.quantile(a, 0.25),
    '50%': np.median(a),
    '75%': np.quantile(a, 0.75),
    'max': a.max(),
  }


class StatsTest(parameterized.TestCase):
  def assert_summary(self, found, values):
    expected = _summary_of(values)
    self.assertEqual(found['count'], expected.pop('count'))
    for key, value in expected.items():
      self.assertAlmostEqual(found[key], value, places=9, msg=key)

  def check_catch(self, stats, episodes):
    """`episodes`: per episode a list of (reward, action, observation, custom_data)."""
    returns = [sum(r for r, *_ in ep if r is not None) for ep in episodes]
    self.assert_summary(stats['episode_returns'], returns)
    self.assert_summary(stats['episode_lengths'], [len(ep) for ep in episodes])
    self.assertEqual(stats['returns'], returns)
    steps = [s for ep in episodes for s in ep]
    boards = np.stack([s[2] for s in steps]).astype(np.float64)
    field = stats['fields']['observation']
    self.assertEqual((field['steps'], field['elements']), (len(steps), boards.size))
    self.assertAlmostEqual(field['mean'], boards.mean(), places=9)
    self.assertAlmostEqual(field['std'], boards.std(), places=9)
    self.assertEqual((field['min'], field['max']), (boards.min(), boards.max()))
    actions = np.array([s[1] for s in steps if s[1] is not None])
    field = stats['fields']['action']
    self.assertEqual(field['steps'], actions.size)
    self.assertAlmostEqual(field['mean'], actions.mean(), places=9)
    self.assertAlmostEqual(field['std'], actions.std(), places=9)
    counts = np.bincount(actions, minlength=3)
    self.assertEqual(stats['action_histogram'], {str(a): int(c) for a, c in enumerate(counts)})
    rewards = np.array([s[0] for s in steps if s[0] is not None])
    self.assertAlmostEqual(stats['fields']['reward']['mean'], rewards.mean(), places=9)
    stamps = np.array([s[3]['timestamp'] for s in steps])
    field = stats['fields']['custom_data.timestamp']
    self.assertAlmostEqual(field['mean'], stamps.mean(), places=4)
    self.assertAlmostEqual(field['std'], stamps.std(), places=6)
    self.assertEqual((field['min'], field['max']), (stamps.min(), stamps.max()))

  @parameterized.parameters('catch_default', 'catch_options_zstd', 'multishard', 'flushed_often')
  def test_upstream_catch(self, name):
    expected = upstream_fixtures.expected(name)
    steps = expected['steps']
    episodes = [
      [(ts.reward, a, ts.observation, cd) for ts, a, cd in steps[start : start + n]]
      for start, n in expected['episodes']
    ]
    status, out, err = cli_testlib.run(
      'stats', os.path.join(upstream_fixtures.DIRECTORY, name), '--json'
    )
    self.assertEqual(status, 0, err)
    self.check_catch(json.loads(out), episodes)

  def test_fresh_recording(self):
    path = os.path.join(cli_testlib.temp_dir(self), 'catch')
    cli_testlib.record_catch(path, num_episodes=9, max_episodes_per_file=4)
    with envlogger.Reader(path) as reader:
      episodes = [
        [(s.timestep.reward, s.action, s.timestep.observation, s.custom_data) for s in ep]
        for ep in reader.episodes
      ]
    status, out, err = cli_testlib.run('stats', path, '--json', '-q')
    self.assertEqual(status, 0, err)
    stats = json.loads(out)
    self.assertEqual((stats['num_episodes'], stats['num_steps']), (9, 90))
    self.check_catch(stats, episodes)
    status, text, _ = cli_testlib.run('stats', path)
    self.assertEqual(status, 0)
    returns = [sum(r for r, *_ in ep if r is not None) for ep in episodes]
    self.assertRegex(text, rf'return\s+9\s+{np.mean(returns):.4g}')
    self.assertRegex(text, r'length\s+9\s+10\s+0\s+10')

  def test_all_types(self):
    """Nested and odd values: numeric leaves counted, others (strings, dict rewards) left out."""
    expected = upstream_fixtures.expected('all_types')
    status, out, err = cli_testlib.run(
      'stats', os.path.join(upstream_fixtures.DIRECTORY, 'all_types'), '--json'
    )
    self.assertEqual(status, 0, err)
    stats = json.loads(out)
    self.assertEqual(stats['num_steps'], expected['num_steps'])
    self.assertEqual(stats['episode_lengths']['count'], expected['num_episodes'])
    values = [
      ts.observation['arrays']['float32']
      for ts, _, _ in expected['steps']
      if isinstance(ts.observation, dict) and 'arrays' in ts.observation
    ]
    a = np.concatenate([np.asarray(v, np.float64).ravel() for v in values])
    finite = a[np.isfinite(a)]
    field = stats['fields']['observation.arrays.float32']
    self.assertEqual(field['elements'], finite.size)
    self.assertEqual(field.get('non_finite', 0), a.size - finite.size)
    self.assertAlmostEqual(field['mean'], finite.mean(), places=6)
    self.assertNotIn('observation.arrays.str', stats['fields'])

  def test_empty_dataset(self):
    status, out, _ = cli_testlib.run(
      'stats', os.path.join(upstream_fixtures.DIRECTORY, 'empty'), '--json'
    )
    self.assertEqual(status, 0)
    stats = json.loads(out)
    self.assertEqual(stats['episode_returns'], {'count': 0})
    self.assertIsNone(stats['action_histogram'])


if __name__ == '__main__':
  absltest.main()
