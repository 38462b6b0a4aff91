"""Tests of `envlogger merge`, `split` and `filter`: outputs read back and verified."""

import os
import re

from absl.testing import absltest
from absl.testing import parameterized

import envlogger
from envlogger.testing import compare
from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib
from envlogger.tools import verify


def _read(path):
  """(metadata, episodes as lists of step tuples, episode metadata, specs) of a dataset."""
  with envlogger.Reader(path) as reader:
    return (
      reader.metadata(),
      [[tuple(s) for s in ep] for ep in reader.episodes],
      list(reader.episode_metadata()),
      (
        reader.observation_spec(),
        reader.action_spec(),
        reader.reward_spec(),
        reader.discount_spec(),
      ),
    )


def _expected(name):
  want = upstream_fixtures.expected(name)
  episodes = [want['steps'][start : start + n] for start, n in want['episodes']]
  return want['metadata'], episodes, want['episode_metadata'], want['specs']


def _layout(path):
  """(top-level files, shard-name shapes, files of each shard) of a dataset directory."""
  names = sorted(os.listdir(path))
  shards = [n for n in names if os.path.isdir(os.path.join(path, n))]
  return (
    [n for n in names if n not in shards],
    {re.sub('[0-9]', '9', n) for n in shards},
    {tuple(sorted(os.listdir(os.path.join(path, n)))) for n in shards},
  )


def _shards(path):
  return sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))


class EditTest(parameterized.TestCase):
  def setUp(self):
    super().setUp()
    self.tmp = cli_testlib.temp_dir(self)

  def check_output(self, dst, metadata, episodes, episode_metadata, specs):
    # The files and names upstream's Reader looks for, as in a dataset upstream wrote.
    like = 'multishard' if episodes else 'empty'
    self.assertEqual(_layout(dst), _layout(os.path.join(upstream_fixtures.DIRECTORY, like)))
    report = verify.verify(dst)
    self.assertTrue(report.ok, report.lines())
    got = _read(dst)
    compare.assert_strictly_equal(got[0], metadata, 'metadata')
    compare.assert_strictly_equal(got[1], episodes, 'episodes')
    compare.assert_strictly_equal(got[2], episode_metadata, 'episode_metadata')
    compare.assert_strictly_equal(got[3], specs, 'specs')
    status, out, _ = cli_testlib.run('verify', dst, '-q')
    self.assertEqual(status, 0, out)

  @parameterized.parameters(('catch_default', 6, 4), ('all_types', 2, 3), ('multishard', 20, 1))
  def test_split_upstream_fixture(self, name, per_shard, num_shards):
    src = os.path.join(upstream_fixtures.DIRECTORY, name)
    before = cli_testlib.snapshot(src)
    dst = os.path.join(self.tmp, 'dst')
    status, out, err = cli_testlib.run(
      'split', src, '-o', dst, '--episodes-per-shard', str(per_shard)
    )
    self.assertEqual(status, 0, err)
    self.assertIn(f'at most {per_shard} per shard', out)
    self.assertLen(_shards(dst), num_shards)
    self.check_output(dst, *_expected(name))
    self.assertEqual(cli_testlib.snapshot(src), before)

  def test_merge(self):
    fresh = os.path.join(self.tmp, 'fresh')
    cli_testlib.record_catch(fresh, num_episodes=4, max_episodes_per_file=3)
    names = ['multishard', 'catch_default']
    sources = [os.path.join(upstream_fixtures.DIRECTORY, n) for n in names]
    dst = os.path.join(self.tmp, 'dst')
    status, out, err = cli_testlib.run(
      'merge', *sources, fresh, '-o', dst, '--writer-options', 'zstd'
    )
    self.assertEqual(status, 0, err)
    self.assertIn('35 episodes from 3 datasets', out)
    metadata, episodes, episode_metadata, specs = _expected(names[0])
    for name in names[1:]:
      _, more, more_metadata, _ = _expected(name)
      episodes += more
      episode_metadata += more_metadata
    _, more, more_metadata, _ = _read(fresh)
    self.check_output(dst, metadata, episodes + more, episode_metadata + more_metadata, specs)
    status, info, _ = cli_testlib.run('info', dst)
    self.assertIn('writer options: zstd ', info)

  def test_merge_refuses_different_specs(self):
    sources = [os.path.join(upstream_fixtures.DIRECTORY, n) for n in ('catch_default', 'images')]
    dst = os.path.join(self.tmp, 'dst')
    status, _, err = cli_testlib.run('merge', *sources, '-o', dst)
    self.assertEqual(status, 2)
    self.assertIn('specs differ', err)
    self.assertFalse(os.path.exists(dst))

  def test_filter_fresh_recording(self):
    src = os.path.join(self.tmp, 'src')
    cli_testlib.record_catch(src, num_episodes=12, max_episodes_per_file=5)
    metadata, episodes, episode_metadata, specs = _read(src)
    returns = [sum(s[0].reward for s in ep if s[0].reward is not None) for ep in episodes]
    cases = {
      'return > 0': [i for i, r in enumerate(returns) if r > 0],
      'return <= -1 and index >= 3': [i for i, r in enumerate(returns) if r <= -1 and i >= 3],
      'metadata.tag == "even"': list(range(0, 12, 2)),
      "not (metadata.tag == 'even') or metadata.ball_x < 2": [
        i for i in range(12) if i % 2 or episode_metadata[i]['ball_x'] < 2
      ],
      'length != 10': [],
    }
    for n, (where, kept) in enumerate(cases.items()):
      dst = os.path.join(self.tmp, f'dst{n}')
      status, out, err = cli_testlib.run('filter', src, '-o', dst, '--where', where)
      self.assertEqual(status, 0, f'{where}: {err}')
      self.assertIn(f'{len(kept)} of 12 episodes kept', out)
      self.check_output(
        dst, metadata, [episodes[i] for i in kept], [episode_metadata[i] for i in kept], specs
      )
    dst = os.path.join(self.tmp, 'range')
    status, _, err = cli_testlib.run(
      'filter',
      src,
      '-o',
      dst,
      '--episodes',
      '3:9',
      '--where',
      'metadata.episode >= 5',
      '--episodes-per-shard',
      '2',
    )
    self.assertEqual(status, 0, err)
    self.assertLen(_shards(dst), 2)
    self.check_output(dst, metadata, episodes[5:9], episode_metadata[5:9], specs)

  def test_filter_episodes_without_metadata(self):
    name = 'multishard'  # Episode metadata only where e % 3 != 1.
    metadata, episodes, episode_metadata, specs = _expected(name)
    kept = [i for i, m in enumerate(episode_metadata) if m is not None and m['episode'] > 4]
    dst = os.path.join(self.tmp, 'dst')
    status, _, err = cli_testlib.run(
      'filter',
      os.path.join(upstream_fixtures.DIRECTORY, name),
      '-o',
      dst,
      '--where',
      'metadata.episode > 4',
    )
    self.assertEqual(status, 0, err)
    self.check_output(
      dst, metadata, [episodes[i] for i in kept], [episode_metadata[i] for i in kept], specs
    )

  def test_failed_filter_leaves_nothing(self):
    src = os.path.join(upstream_fixtures.DIRECTORY, 'multishard')
    empty_dst = os.path.join(self.tmp, 'empty_dst')
    os.mkdir(empty_dst)
    for where, message in (
      ('metadata.nokey > 1', 'no episode has the metadata key metadata.nokey'),
      ('metadata.episode > "x"', 'a string and a number'),
    ):
      for dst in (os.path.join(self.tmp, 'dst'), empty_dst):
        status, _, err = cli_testlib.run('filter', src, '-o', dst, '--where', where)
        self.assertEqual(status, 2, where)
        self.assertIn(message, err)
        self.assertEqual(os.listdir(self.tmp), ['empty_dst'])
        self.assertEqual(os.listdir(empty_dst), [])

  def test_root_and_glob_sources(self):
    # A root: one ordinary dataset per writer subdirectory, read in writer-name order.
    root = os.path.join(self.tmp, 'root')
    cli_testlib.record_catch(os.path.join(root, 'w1'), num_episodes=5, seed=1)
    cli_testlib.record_catch(os.path.join(root, 'w0'), num_episodes=4, seed=2)
    metadata, episodes, episode_metadata, specs = _read(os.path.join(root, 'w0'))
    _, more, more_metadata, _ = _read(os.path.join(root, 'w1'))
    episodes += more
    episode_metadata += more_metadata
    before = cli_testlib.snapshot(root)
    dst = os.path.join(self.tmp, 'split')
    status, out, err = cli_testlib.run('split', root, '-o', dst, '--episodes-per-shard', '4')
    self.assertEqual(status, 0, err)
    self.assertIn('9 episodes', out)
    self.assertLen(_shards(dst), 3)
    self.check_output(dst, metadata, episodes, episode_metadata, specs)
    # `index` and --episodes count across the writers: global 3..6 is w0[3] and w1[0:3].
    dst = os.path.join(self.tmp, 'filter')
    status, out, err = cli_testlib.run(
      'filter',
      os.path.join(root, 'w*'),
      '-o',
      dst,
      '--episodes',
      '2:8',
      '--where',
      'index >= 3 and index < 7',
    )
    self.assertEqual(status, 0, err)
    self.assertIn('4 of 9 episodes kept', out)
    self.check_output(dst, metadata, episodes[3:7], episode_metadata[3:7], specs)
    catch = os.path.join(upstream_fixtures.DIRECTORY, 'catch_default')
    dst = os.path.join(self.tmp, 'merge')
    status, out, err = cli_testlib.run('merge', catch, root, '-o', dst)
    self.assertEqual(status, 0, err)
    self.assertIn('29 episodes from 3 datasets', out)
    want = _expected('catch_default')
    self.check_output(dst, want[0], want[1] + episodes, want[2] + episode_metadata, want[3])
    # An output inside a source root would change the source: refused.
    status, _, err = cli_testlib.run(
      'split', root, '-o', os.path.join(root, 'w2'), '--episodes-per-shard', '1'
    )
    self.assertEqual(status, 2)
    self.assertIn('inside one', err)
    self.assertEqual(cli_testlib.snapshot(root), before)

  def test_output_cannot_be_the_source(self):
    src = os.path.join(self.tmp, 'src')
    os.mkdir(src)
    status, _, err = cli_testlib.run('split', src, '-o', src, '--episodes-per-shard', '1')
    self.assertEqual(status, 2)
    self.assertIn('cannot be a source', err)


if __name__ == '__main__':
  absltest.main()
