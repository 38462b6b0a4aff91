"""Tests of `envlogger plot`: the figure files are opened and looked at."""

import os
import xml.etree.ElementTree as ElementTree

from absl.testing import absltest
import numpy as np
from PIL import Image

from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib
from envlogger.tools import plot

_PURPLE = (0x94, 0x67, 0xBD)  # matplotlib's tab:purple (action bars).
_GREEN = (0x2C, 0xA0, 0x2C)  # tab:green (episode-length bars).
_RED = (0xD6, 0x27, 0x28)  # tab:red (moving average).


def _pixels_of(image, color):
  a = np.asarray(image.convert('RGB')).astype(int)
  return np.all(np.abs(a - np.array(color)) <= 2, axis=-1)


class PlotTest(absltest.TestCase):
  def check_png(self, path, num_actions):
    with Image.open(path) as image:
      self.assertEqual(image.format, 'PNG')
      self.assertEqual(image.size, (1200, 360))  # 12 x 3.6 inches at 100 dpi.
      purple = _pixels_of(image, _PURPLE)
      green = _pixels_of(image, _GREEN)
      red = _pixels_of(image, _RED)
    # Each panel in its place: returns left, lengths in the middle, actions right.
    self.assertGreater(red[:, :600].sum(), 100)
    self.assertGreater(green[:, 600:900].sum(), 1000)
    self.assertEqual(green[:, :600].sum() + green[:, 900:].sum(), 0)
    self.assertGreater(purple[:, 900:].sum(), 1000)
    # One bar per action: purple runs along a row through the bars.
    row = purple[300, 900:]
    runs = np.count_nonzero(np.diff(row.astype(int)) == 1) + int(row[0])
    self.assertEqual(runs, num_actions)

  def test_png_of_upstream_fixture(self):
    out = os.path.join(cli_testlib.temp_dir(self), 'catch.png')
    status, stdout, err = cli_testlib.run(
      'plot', os.path.join(upstream_fixtures.DIRECTORY, 'catch_default'), '-o', out
    )
    self.assertEqual(status, 0, err)
    self.assertIn('20 episodes', stdout)
    self.check_png(out, 3)

  def test_svg_of_fresh_recording(self):
    tmp = cli_testlib.temp_dir(self)
    path = os.path.join(tmp, 'catch')
    cli_testlib.record_catch(path, num_episodes=15, max_episodes_per_file=4)
    out = os.path.join(tmp, 'catch.svg')
    status, _, err = cli_testlib.run('plot', path, '-o', out, '--window', '3', '--title', 'Catch')
    self.assertEqual(status, 0, err)
    root = ElementTree.parse(out).getroot()
    self.assertEqual(root.tag, '{http://www.w3.org/2000/svg}svg')
    self.assertEqual(root.get('width'), '864pt')  # 12 inches.
    with open(out) as f:
      text = f.read()
    for title in ('Episode returns', 'Episode lengths', 'Actions', 'moving average (3)'):
      self.assertIn(title, text)
    out = os.path.join(tmp, 'catch.png')
    self.assertEqual(cli_testlib.run('plot', path, '-o', out, '-q')[0], 0)
    self.check_png(out, 3)

  def test_moving_average(self):
    values = [1.0, None, 3.0, -1.0, 5.0, 2.0]
    found = plot.moving_average(values, 3)
    expected = [1.0, 1.0, 2.0, 1.0, 7 / 3, 2.0]  # Means of the known values in each window.
    np.testing.assert_allclose(found, expected)

  def test_constant_lengths_get_integer_ticks(self):
    stats = {'returns': [1.0, -1.0, 1.0], 'lengths': [10, 10, 10], 'action_histogram': {}}
    ax_lengths = plot.make_figure(stats).axes[1]
    self.assertEqual(ax_lengths.get_title(), 'Episode lengths')
    ticks = [
      t
      for t in ax_lengths.get_xticks()
      if ax_lengths.get_xlim()[0] <= t <= ax_lengths.get_xlim()[1]
    ]
    self.assertIn(10, ticks)
    self.assertEqual(ticks, [round(t) for t in ticks])

  def test_png_is_saved_with_a_palette(self):
    out = os.path.join(cli_testlib.temp_dir(self), 'p.png')
    plot.draw({'returns': [1.0, -1.0], 'lengths': [3, 4], 'action_histogram': {0: 2, 1: 5}}, out)
    with Image.open(out) as image:
      self.assertEqual(image.mode, 'P')
      self.assertEqual(image.size, (1200, 360))
    self.assertLess(os.path.getsize(out), 40_000)

  def test_refusals(self):
    tmp = cli_testlib.temp_dir(self)
    catch = os.path.join(upstream_fixtures.DIRECTORY, 'catch_default')
    status, _, err = cli_testlib.run('plot', catch, '-o', os.path.join(tmp, 'x.jpg'))
    self.assertEqual(status, 2)
    self.assertIn('.png, .svg', err)
    status, _, err = cli_testlib.run(
      'plot', os.path.join(upstream_fixtures.DIRECTORY, 'empty'), '-o', os.path.join(tmp, 'x.png')
    )
    self.assertEqual(status, 2)
    self.assertIn('no episodes', err)
    self.assertEqual(os.listdir(tmp), [])


if __name__ == '__main__':
  absltest.main()
