"""Tests of `envlogger verify` and `recover` beyond cli_test.py: --json, roots and globs."""

import json
import os
import shutil

from absl.testing import absltest

from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib


def _flip_middle_byte(path):
  with open(path, 'r+b') as f:
    data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    f.seek(0)
    f.write(data)


class CheckCommandsTest(absltest.TestCase):
  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    # A root as many writers leave it: one ordinary dataset per writer subdirectory
    # (names out of creation order, so order comes from sorting, not from the disk).
    cls.root = os.path.join(cli_testlib.class_temp_dir(cls), 'root')
    cli_testlib.record_catch(os.path.join(cls.root, 'writer_b'), num_episodes=5, seed=1)
    cli_testlib.record_catch(
      os.path.join(cls.root, 'writer_a'), num_episodes=3, seed=2, max_episodes_per_file=2
    )

  def test_verify_json_of_a_root(self):
    before = cli_testlib.snapshot(self.root)
    status, out, err = cli_testlib.run('verify', self.root, '--json')
    self.assertEqual(status, 0, err)
    reports = json.loads(out)
    self.assertEqual(
      [r['data_dir'] for r in reports],
      [os.path.join(self.root, 'writer_a'), os.path.join(self.root, 'writer_b')],
    )
    self.assertEqual(
      [(r['ok'], r['num_episodes'], r['num_steps'], r['damage']) for r in reports],
      [(True, 3, 30, []), (True, 5, 50, [])],
    )  # Catch: 10 steps an episode.
    self.assertEqual(cli_testlib.snapshot(self.root), before)

  def test_verify_glob_reports_the_damaged_writer(self):
    tmp = cli_testlib.temp_dir(self)
    root = os.path.join(tmp, 'root')
    shutil.copytree(self.root, root)
    shard = sorted(os.listdir(os.path.join(root, 'writer_b')))[0]
    _flip_middle_byte(os.path.join(root, 'writer_b', shard, 'steps.riegeli'))
    status, out, _ = cli_testlib.run('verify', os.path.join(root, 'writer_*'), '--json', '-q')
    self.assertEqual(status, 1)
    reports = json.loads(out)
    self.assertEqual([os.path.basename(r['data_dir']) for r in reports], ['writer_a', 'writer_b'])
    self.assertEqual([r['ok'] for r in reports], [True, False])
    self.assertTrue(any(shard in d for d in reports[1]['damage']), reports[1]['damage'])

  def test_recover_dry_run_json(self):
    status, out, err = cli_testlib.run('recover', self.root, '--dry-run', '--json')
    self.assertEqual(status, 0, err)
    reports = json.loads(out)
    self.assertLen(reports, 2)
    a, b = reports
    self.assertTrue(a['dry_run'])
    self.assertEqual(a['written'], [])
    self.assertLen(a['shards'], 2)  # 3 episodes, at most 2 per shard.
    self.assertEqual([s['num_episodes'] for s in a['shards']], [2, 1])
    self.assertEqual([s['num_steps'] for s in b['shards']], [50])
    self.assertEqual(sum(s['lost_steps'] + s['unindexed_steps'] for s in a['shards']), 0)

  def test_recover_leaves_a_healthy_root_untouched(self):
    before = cli_testlib.snapshot(self.root)
    status, out, err = cli_testlib.run('recover', self.root, '--json', '-q')
    self.assertEqual(status, 0, err)
    reports = json.loads(out)
    self.assertEqual([(r['healthy'], r['written']) for r in reports], [(True, [])] * 2)
    self.assertEqual([s['intact'] for r in reports for s in r['shards']], [True] * 3)
    self.assertEqual(cli_testlib.snapshot(self.root), before)

  def test_recover_json_after_an_unclosed_writer(self):
    tmp = cli_testlib.temp_dir(self)
    src = os.path.join(upstream_fixtures.DIRECTORY, 'catch_default')
    path = os.path.join(tmp, 'catch')
    shutil.copytree(src, path)
    shard = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))[0]
    index = os.path.join(path, shard, 'step_offsets.riegeli')
    os.remove(index)  # As a writer killed before writing its index would leave it.
    status, out, err = cli_testlib.run('recover', path, '--json')
    self.assertEqual(status, 0, err)
    (report,) = json.loads(out)
    self.assertFalse(report['healthy'])
    (shard_report,) = report['shards']
    self.assertEqual(shard_report['num_steps'], 200)  # 20 episodes of 10 steps.
    self.assertEqual(shard_report['unindexed_steps'], 200)
    self.assertIn(index, report['written'])
    self.assertTrue(os.path.exists(index))

  def test_a_root_without_datasets_is_refused(self):
    tmp = cli_testlib.temp_dir(self)
    os.mkdir(os.path.join(tmp, 'not_a_writer'))
    for command in ('verify', 'recover'):
      status, _, err = cli_testlib.run(command, tmp)
      self.assertEqual(status, 2)
      self.assertIn('not an envlogger dataset', err)
      status, _, err = cli_testlib.run(command, os.path.join(tmp, 'nothing*'))
      self.assertEqual(status, 2)
      self.assertIn('No dataset matches', err)
    self.assertEqual(os.listdir(tmp), ['not_a_writer'])


if __name__ == '__main__':
  absltest.main()
