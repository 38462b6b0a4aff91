"""Tests of `envlogger show`."""

import json
import os

from absl.testing import absltest
import numpy as np

import envlogger
from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib


class ShowTest(absltest.TestCase):
  def test_upstream_episode_and_step_range(self):
    path = os.path.join(upstream_fixtures.DIRECTORY, 'multishard')
    expected = upstream_fixtures.expected('multishard')
    start, length = expected['episodes'][4]
    status, out, err = cli_testlib.run('show', path, '--episode', '4', '--steps', '2:5', '--json')
    self.assertEqual(status, 0, err)
    rows = json.loads(out)
    self.assertEqual([r['step'] for r in rows], [start + 2, start + 3, start + 4])
    self.assertEqual([r['episode_step'] for r in rows], [2, 3, 4])
    for row in rows:
      timestep, action, custom_data = expected['steps'][row['step']]
      self.assertEqual(row['step_type'], timestep.step_type.name)
      self.assertEqual(row['reward'], timestep.reward)
      self.assertEqual(row['action'], int(action))
      np.testing.assert_array_equal(np.array(row['observation'], np.float32), timestep.observation)
      self.assertEqual(row['custom_data'], custom_data)
    self.assertLess(length, 100)

  def test_table_of_a_fresh_recording(self):
    path = os.path.join(cli_testlib.temp_dir(self), 'catch')
    cli_testlib.record_catch(path, num_episodes=3, max_episodes_per_file=2)
    status, out, err = cli_testlib.run('show', path, '--episode', '-1')
    self.assertEqual(status, 0, err)
    lines = out.splitlines()
    self.assertIn('episode 2 of 3, steps 0..9 of 10', lines[0])
    self.assertEqual(lines[1].split()[:3], ['step', 'ep.step', 'type'])
    rows = [l.split() for l in lines[3:]]
    self.assertLen(rows, 10)
    with envlogger.Reader(path) as reader:
      steps = list(reader.episodes[2])
    for row, step in zip(rows, steps):
      self.assertEqual(row[2], step.timestep.step_type.name)
      self.assertEqual(row[5], repr(step.action) if step.action is not None else 'None')
      self.assertEqual(row[6], 'float32[10,')  # Arrays by dtype, shape and range:
      self.assertEqual(row[7:10], ['5]', '[0,', '1]'])
    self.assertEqual(rows[0][0], '20')
    self.assertEqual(rows[-1][3], repr(float(steps[-1].timestep.reward)))

  def test_bad_ranges(self):
    path = os.path.join(upstream_fixtures.DIRECTORY, 'catch_default')
    for argv in (['--episode', '20'], ['--episode', 'x'], ['--steps', '1:2:3']):
      status, _, err = cli_testlib.run('show', path, *argv)
      self.assertEqual(status, 2, argv)
      self.assertIn('episode' if 'episode' in argv[0] else 'steps', err)
    status, _, err = cli_testlib.run('show', os.path.join(upstream_fixtures.DIRECTORY, 'empty'))
    self.assertEqual(status, 2)
    self.assertIn('no episodes', err)


if __name__ == '__main__':
  absltest.main()
