"""Tests of `envlogger video`: the videos are opened, their frames counted and measured."""

import os

from absl.testing import absltest
import imageio.v2 as imageio_v2
import imageio.v3 as iio
import numpy as np

import envlogger
from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib


class VideoTest(absltest.TestCase):
  def setUp(self):
    super().setUp()
    self.tmp = cli_testlib.temp_dir(self)

  def test_gif_of_catch_board(self):
    name = 'catch_default'
    expected = upstream_fixtures.expected(name)
    start, length = expected['episodes'][3]
    out = os.path.join(self.tmp, 'catch.gif')
    status, stdout, err = cli_testlib.run(
      'video',
      os.path.join(upstream_fixtures.DIRECTORY, name),
      '--episode',
      '3',
      '--field',
      'observation',
      '--scale',
      '4',
      '--fps',
      '5',
      '-o',
      out,
    )
    self.assertEqual(status, 0, err)
    self.assertIn(f'{length} frames', stdout)
    frames = iio.imread(out, index=None)
    self.assertEqual(frames.shape[:3], (length, 40, 20))
    for t, frame in enumerate(frames):
      board = expected['steps'][start + t][0].observation  # float32 in [0, 1].
      grey = frame[::4, ::4, 0]
      np.testing.assert_array_equal(grey, np.round(board * 255).astype(np.uint8), f'frame {t}')
      # Each board cell is a 4x4 block.
      np.testing.assert_array_equal(frame[:, :, 0], np.kron(grey, np.ones((4, 4), np.uint8)))
    self.assertEqual(iio.immeta(out, index=0)['duration'], 200)

  def test_mp4_of_uint8_frames_found_from_the_specs(self):
    name = 'images'
    expected = upstream_fixtures.expected(name)
    _, length = expected['episodes'][1]
    height, width, _ = expected['steps'][0][0].observation['pixels'].shape
    out = os.path.join(self.tmp, 'images.mp4')
    status, stdout, err = cli_testlib.run(
      'video', os.path.join(upstream_fixtures.DIRECTORY, name), '--episode', '1', '-o', out
    )
    self.assertEqual(status, 0, err)
    self.assertIn('observation.pixels', stdout)
    with imageio_v2.get_reader(out) as reader:
      self.assertEqual(reader.count_frames(), length)
      self.assertEqual(reader.get_data(0).shape, (height, width, 3))

  def test_grid_of_fresh_recording(self):
    path = os.path.join(self.tmp, 'catch')
    cli_testlib.record_catch(path, num_episodes=5, max_episodes_per_file=2, rows=6)
    out = os.path.join(self.tmp, 'grid.gif')
    status, _, err = cli_testlib.run(
      'video', path, '--grid', '1:4', '--field', 'observation', '--scale', '2', '-o', out, '-q'
    )
    self.assertEqual(status, 0, err)
    frames = iio.imread(out, index=None)
    with envlogger.Reader(path) as reader:
      episodes = [list(reader.episodes[i]) for i in (1, 2, 3)]
    self.assertLen(frames, max(len(e) for e in episodes))
    # Three 6x5 boards, scaled by 2, in a 2x2 grid; the fourth tile is black.
    self.assertEqual(frames.shape[1:3], (2 * 6 * 2, 2 * 5 * 2))
    last = frames[-1][::2, ::2, 0]
    for n, steps in enumerate(episodes):
      r, c = divmod(n, 2)
      board = steps[-1].timestep.observation
      np.testing.assert_array_equal(
        last[r * 6 : (r + 1) * 6, c * 5 : (c + 1) * 5], np.round(board * 255).astype(np.uint8)
      )
    self.assertEqual(last[6:, 5:].max(), 0)

  def test_refusals(self):
    catch = os.path.join(upstream_fixtures.DIRECTORY, 'catch_default')
    out = os.path.join(self.tmp, 'x.gif')
    status, _, err = cli_testlib.run('video', catch, '-o', out)
    self.assertEqual(status, 2)
    self.assertIn('no image field', err)
    self.assertIn('--field: observation', err)
    status, _, err = cli_testlib.run('video', catch, '-o', out, '--field', 'observation.nope')
    self.assertEqual(status, 2)
    self.assertIn("'observation.nope'", err)
    status, _, err = cli_testlib.run(
      'video', catch, '-o', os.path.join(self.tmp, 'x.avi'), '--field', 'observation'
    )
    self.assertEqual(status, 2)
    self.assertIn('.gif, .mp4', err)
    status, _, err = cli_testlib.run(
      'video', catch, '-o', out, '--field', 'observation', '--episode', '20'
    )
    self.assertEqual(status, 2)
    self.assertIn('out of range', err)
    status, _, err = cli_testlib.run('video', catch, '-o', out, '--fps', '0')
    self.assertEqual(status, 2)
    self.assertEqual(os.listdir(self.tmp), [])


if __name__ == '__main__':
  absltest.main()
