"""`envlogger plot DIR -o FILE.png|svg`: a dataset's returns, episode lengths and actions.

One figure, drawn without a display (matplotlib's Agg canvas): the return of
each episode with its moving average (`--window` episodes, by default a tenth
of the episodes), the histogram of episode lengths, and the histogram of the
actions when they are integers. The numbers are those of `envlogger stats`.
Needs matplotlib: `pip install envlogger[viz]`.
"""

from __future__ import annotations

import argparse
from typing import Any, Optional

import numpy as np

from envlogger.tools import cli_support
from envlogger.tools import stats as stats_lib

_SUFFIXES = ('.png', '.svg')


def _figure_class() -> Any:
  try:
    from matplotlib import figure  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise cli_support.CliError(
      'envlogger plot needs matplotlib: pip install envlogger[viz]'
    ) from None
  return figure.Figure


def moving_average(values: list[Optional[float]], window: int) -> np.ndarray:
  """The mean of the last `window` known values at each episode (NaN before any)."""
  a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
  out = np.full(a.shape, np.nan)
  for i in range(a.size):
    chunk = a[max(0, i - window + 1) : i + 1]
    chunk = chunk[~np.isnan(chunk)]
    if chunk.size:
      out[i] = chunk.mean()
  return out


def make_figure(
  stats: dict[str, Any], window: Optional[int] = None, title: Optional[str] = None
) -> Any:
  """The matplotlib Figure of `stats` (from `stats.compute_stats`)."""
  from matplotlib import ticker  # pylint: disable=g-import-not-at-top

  figure = _figure_class()(figsize=(12, 3.6), dpi=100, layout='constrained')
  ax_returns, ax_lengths, ax_actions = figure.subplots(1, 3, width_ratios=[2, 1, 1])
  returns = stats['returns']
  n = len(returns)
  window = window or max(1, n // 10)
  episodes = np.arange(n)
  known = [(i, r) for i, r in enumerate(returns) if r is not None]
  if known:
    ax_returns.plot(
      [i for i, _ in known], [r for _, r in known], '.', color='tab:blue', alpha=0.5, label='return'
    )
    ax_returns.plot(
      episodes, moving_average(returns, window), color='tab:red', label=f'moving average ({window})'
    )
    ax_returns.legend(loc='best', fontsize='small')
  else:
    ax_returns.text(
      0.5, 0.5, 'rewards are not numeric scalars', ha='center', transform=ax_returns.transAxes
    )
  ax_returns.set(xlabel='episode', ylabel='return', title='Episode returns')
  lengths = stats['lengths']
  if lengths:
    lo, hi = min(lengths), max(lengths)
    bins = np.arange(lo, hi + 2) - 0.5 if hi - lo < 50 else 30
    ax_lengths.hist(lengths, bins=bins, color='tab:green')
    if hi - lo < 50:  # Whole steps: a margin of one on each side keeps the ticks integers.
      ax_lengths.set_xlim(lo - 1.5, hi + 1.5)
  ax_lengths.set(xlabel='steps', ylabel='episodes', title='Episode lengths')
  histogram = stats['action_histogram']
  if histogram:
    ax_actions.bar([str(a) for a in histogram], list(histogram.values()), color='tab:purple')
  else:
    ax_actions.text(0.5, 0.5, 'no discrete actions', ha='center', transform=ax_actions.transAxes)
  ax_actions.set(xlabel='action', ylabel='steps', title='Actions')
  for ax in (ax_returns, ax_lengths):
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  ax_lengths.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  if title:
    figure.suptitle(title)
  return figure


def draw(
  stats: dict[str, Any], output: str, window: Optional[int] = None, title: Optional[str] = None
) -> None:
  """Writes the figure of `stats` to `output`; a PNG is saved with a palette.

  A plot has few colours, so an adaptive 256-colour palette keeps its look at a
  third of the size of the RGBA file (the README's figure is about 20 KB).
  """
  figure = make_figure(stats, window, title)
  if not output.lower().endswith('.png'):
    figure.savefig(output)
    return
  from matplotlib.backends import backend_agg  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top  (a matplotlib dependency)

  canvas = backend_agg.FigureCanvasAgg(figure)
  canvas.draw()
  image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert('RGB')
  image.quantize(colors=256).save(output, optimize=True)  # Median cut, for RGB.


def _run(args: argparse.Namespace) -> int:
  cli_support.check_output_file(args.output, _SUFFIXES)
  _figure_class()
  with cli_support.open_reader(args.dir) as reader:
    if not len(reader.episodes):
      raise cli_support.CliError(f'{args.dir}: the dataset has no episodes to plot')
    with cli_support.Progress(len(reader.steps), 'plot', args.quiet) as progress:
      stats = stats_lib.compute_stats(reader, args.dir, progress)
  draw(stats, args.output, args.window, args.title)
  print(f'{args.output}: {stats["num_episodes"]} episodes')
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `plot` to the `envlogger` command."""
  parser = subparsers.add_parser(
    'plot',
    help='draw returns, episode lengths and actions to PNG or SVG',
    description=__doc__.split('\n\n')[1],
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  parser.add_argument(
    '-o', '--output', required=True, metavar='FILE', help='output file, .png or .svg'
  )
  parser.add_argument(
    '--window',
    type=cli_support.positive_int,
    default=None,
    help='moving-average window in episodes (default: a tenth of them)',
  )
  parser.add_argument('--title', help='figure title')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_run)
