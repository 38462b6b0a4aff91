"""Tests of `envlogger info` on upstream's datasets and on fresh recordings."""

import datetime
import json
import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from envlogger.testing import compare
from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib


def _disk(path):
  total, shards = 0, []
  for root, _, files in os.walk(path):
    total += sum(os.stat(os.path.join(root, f)).st_size for f in files)
    if 'steps.riegeli' in files:
      shards.append(os.path.basename(root))
  return total, sorted(shards)


def _expected_options(options: str) -> str:
  """'transpose,zstd' from a writer options string such as 'transpose,zstd:3'."""
  names = [o.split(':')[0].strip() for o in options.split(' ')[0].split(',')]
  compressor = next(
    (n for n in names if n in ('brotli', 'zstd', 'snappy', 'uncompressed')), 'brotli'
  )  # Riegeli's default compressor.
  return ('transpose,' if 'transpose' in names else '') + compressor


def _shard_time(name):
  return datetime.datetime(
    int(name[0:4]),
    int(name[4:6]),
    int(name[6:8]),
    int(name[9:11]),
    int(name[11:13]),
    int(name[13:15]),
    int(name[15:21]),
    tzinfo=datetime.timezone.utc,
  ).isoformat()


class InfoTest(parameterized.TestCase):
  @parameterized.parameters(
    'catch_default',
    'catch_options_snappy',
    'catch_options_uncompressed',
    'catch_options_transpose_zstd3',
    'multishard',
    'all_types',
    'images',
    'empty',
    'single_step',
  )
  def test_upstream_fixture(self, name):
    path = os.path.join(upstream_fixtures.DIRECTORY, name)
    status, out, err = cli_testlib.run('info', path, '--json')
    self.assertEqual(status, 0, err)
    info = json.loads(out)
    expected = upstream_fixtures.expected(name)
    self.assertEqual(info['num_steps'], expected['num_steps'])
    self.assertEqual(info['num_episodes'], expected['num_episodes'])
    disk, shards = _disk(path)
    self.assertEqual(info['bytes_on_disk'], disk)
    self.assertEqual(info['num_shards'], len(shards))
    if expected['num_steps']:
      self.assertAlmostEqual(info['bytes_per_step'], disk / expected['num_steps'])
    with open(os.path.join(upstream_fixtures.DIRECTORY, f'{name}.expected.json')) as f:
      options = json.load(f)['writer_options']
    self.assertEqual(info['writer_options'], [_expected_options(options)] if shards else [])
    if shards:
      self.assertEqual(info['time_span']['first_shard_created'], _shard_time(shards[0]))
      self.assertEqual(info['time_span']['last_shard_created'], _shard_time(shards[-1]))
    stamps = [
      s[2]['timestamp']
      for s in expected['steps']
      if isinstance(s[2], dict) and isinstance(s[2].get('timestamp'), float)
    ]
    if stamps:
      self.assertEqual(info['time_span']['first_step_timestamp'], min(stamps))
      self.assertEqual(info['time_span']['last_step_timestamp'], max(stamps))
    else:
      self.assertNotIn('first_step_timestamp', info['time_span'])
    metadata = dict(expected['metadata'])
    metadata.pop('environment_specs')
    self.assertSameElements(info['metadata'], [str(k) for k in metadata])
    observation_spec = expected['specs'][0]
    if hasattr(observation_spec, 'shape'):
      self.assertEqual(info['specs']['observation']['shape'], list(observation_spec.shape))
      self.assertEqual(info['specs']['observation']['dtype'], str(observation_spec.dtype))
    status, text, _ = cli_testlib.run('info', path)
    self.assertEqual(status, 0)
    self.assertIn(f'episodes:       {expected["num_episodes"]}\n', text)
    self.assertIn(f'steps:          {expected["num_steps"]}\n', text)

  def test_nested_specs_as_a_tree(self):
    path = os.path.join(upstream_fixtures.DIRECTORY, 'all_types')
    status, out, _ = cli_testlib.run('info', path, '--json')
    self.assertEqual(status, 0)
    specs = json.loads(out)['specs']
    expected = upstream_fixtures.expected('all_types')['specs']
    uint8 = expected[0]['arrays']['uint8']
    self.assertEqual(specs['observation']['arrays']['uint8']['shape'], list(uint8.shape))
    self.assertEqual(specs['observation']['arrays']['uint8']['dtype'], 'uint8')
    self.assertEqual(specs['action']['discrete']['num_values'], expected[1]['discrete'].num_values)
    status, text, _ = cli_testlib.run('info', path)
    self.assertIn('      uint8: uint8[2, 3, 2] in [0, 255] (uint8)\n', text)

  def test_fresh_recording(self):
    path = os.path.join(cli_testlib.temp_dir(self), 'catch')
    cli_testlib.record_catch(
      path, num_episodes=7, max_episodes_per_file=3, rows=6, writer_options='transpose,zstd:5'
    )
    before = cli_testlib.snapshot(path)
    status, out, err = cli_testlib.run('info', path, '--json', '--quiet')
    self.assertEqual(status, 0, err)
    info = json.loads(out)
    self.assertEqual((info['num_episodes'], info['num_steps'], info['num_shards']), (7, 42, 3))
    self.assertEqual(info['writer_options'], ['transpose,zstd'])
    compare.assert_strictly_equal(info['metadata'], {'agent': 'random', 'seed': 3})
    self.assertEqual(info['time_span']['first_step_timestamp'], cli_testlib.START_TIME)
    self.assertAlmostEqual(
      info['time_span']['last_step_timestamp'], cli_testlib.START_TIME + 41 / 10
    )
    self.assertEqual(info['time_span']['first_step_time'], '2026-01-01T00:00:00+00:00')
    self.assertEqual(
      info['specs']['observation'],
      {
        'class': 'BoundedArray',
        'shape': [6, 5],
        'dtype': 'float32',
        'name': 'board',
        'minimum': 0.0,
        'maximum': 1.0,
      },
    )
    self.assertEqual(info['specs']['action']['num_values'], 3)
    disk, _ = _disk(path)
    self.assertEqual(info['bytes_on_disk'], disk)
    self.assertEqual(cli_testlib.snapshot(path), before)
    self.assertTrue(np.isfinite(info['bytes_per_step']))


if __name__ == '__main__':
  absltest.main()
