"""`envlogger video DIR --episode N -o FILE.mp4|gif`: an episode's image observations.

The image field is found from the observation spec: the first `uint8` array
shaped HxW, HxWx1, HxWx3 or HxWx4 (depth-first through dicts, lists and
tuples). `--field` names another, by its path as `envlogger stats` prints it
(`observation`, `observation.pixels`, `observation[0]`); a float or integer
field of those shapes is drawn too, scaled from its spec's bounds (a
BoundedArray) or else from [0, 1] to 0..255, so a board such as Catch's 10x5
float32 observation becomes a grey-level picture. Frames are enlarged by an
integer factor (`--scale`, by default up to about 128 pixels on the short
side), one frame per step at `--fps`. `--grid A:B` tiles episodes A..B-1 side
by side; an episode that has ended keeps showing its last frame.

GIFs are written by imageio's pillow plugin, MP4 by imageio-ffmpeg; both come
with `pip install envlogger[viz]`. Pillow merges identical consecutive GIF
frames into one longer frame.
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Iterator, Optional

import numpy as np

from envlogger.tools import cli_support

_SUFFIXES = ('.gif', '.mp4')
_TARGET_SIDE = 128


def _imageio() -> Any:
  try:
    import imageio.v2  # pylint: disable=g-import-not-at-top
    import imageio.v3  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    raise cli_support.CliError(
      'envlogger video needs imageio: pip install envlogger[viz]'
    ) from None
  return imageio


def _is_image_shape(shape: tuple) -> bool:
  return len(shape) == 2 or (len(shape) == 3 and shape[2] in (1, 3, 4))


def image_fields(spec: Any, path: str = 'observation') -> Iterator[tuple[str, Any]]:
  """(path, leaf spec) of every array spec of an image shape, depth first."""
  if isinstance(spec, dict):
    for k, v in spec.items():
      yield from image_fields(v, f'{path}.{k}')
  elif isinstance(spec, (list, tuple)):
    for i, v in enumerate(spec):
      yield from image_fields(v, f'{path}[{i}]')
  elif spec is not None and _is_image_shape(tuple(getattr(spec, 'shape', ()))):
    if np.dtype(spec.dtype).kind in 'biuf':
      yield path, spec


def choose_field(spec: Any, field: Optional[str]) -> tuple[str, Any]:
  """The image field to show: `field` if given, else the first uint8 one."""
  fields = dict(image_fields(spec))
  if field is not None:
    if field not in fields:
      raise cli_support.CliError(
        f'--field {field!r} is not an array of shape HxW, HxWx1, HxWx3 or HxWx4 in the '
        'observation spec' + (f'; candidates: {", ".join(fields)}' if fields else '')
      )
    return field, fields[field]
  for path, leaf in fields.items():
    if np.dtype(leaf.dtype) == np.uint8:
      return path, leaf
  raise cli_support.CliError(
    'the observation spec has no image field (uint8 arrays shaped HxW, HxWx1, HxWx3 or HxWx4)'
    + (f'; other arrays of an image shape, for --field: {", ".join(fields)}' if fields else '')
  )


def _get(observation: Any, path: str) -> Any:
  """The part of `observation` at `path` ('observation.a[0].b')."""
  value = observation
  for part in path[len('observation') :].replace('[', '.[').split('.')[1:]:
    if part.startswith('['):
      value = value[int(part[1:-1])]
    elif isinstance(value, dict) and part not in value and part.lstrip('-').isdigit():
      value = value[int(part)]
    else:
      value = value[part]
  return value


def to_rgb(frame: Any, spec: Any) -> np.ndarray:
  """An HxWx3 uint8 picture of one observation field (see the module doc for scaling)."""
  a = np.asarray(frame)
  if a.ndim == 3 and a.shape[2] == 1:
    a = a[:, :, 0]
  if a.dtype != np.uint8:
    lo, hi = 0.0, 1.0
    if hasattr(spec, 'minimum') and np.size(spec.minimum) == 1 and np.size(spec.maximum) == 1:
      lo, hi = float(np.min(spec.minimum)), float(np.max(spec.maximum))
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
      lo, hi = 0.0, 1.0
    a = np.nan_to_num((a.astype(np.float64) - lo) / (hi - lo))
    a = np.round(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)
  if a.ndim == 2:
    a = np.stack([a] * 3, axis=-1)
  return np.ascontiguousarray(a[:, :, :3])


def _tile(frames: list[np.ndarray]) -> np.ndarray:
  """Frames of equal size side by side, about square, black where none."""
  cols = math.ceil(math.sqrt(len(frames)))
  rows = math.ceil(len(frames) / cols)
  h, w, _ = frames[0].shape
  out = np.zeros((rows * h, cols * w, 3), np.uint8)
  for n, f in enumerate(frames):
    r, c = divmod(n, cols)
    out[r * h : (r + 1) * h, c * w : (c + 1) * w] = f
  return out


def make_frames(episodes: list[list], field: str, spec: Any, scale: int) -> list[np.ndarray]:
  """One picture per step of the longest episode; several episodes are tiled."""
  pictures = [
    [to_rgb(_get(s.timestep.observation, field), spec) for s in steps] for steps in episodes
  ]
  sizes = {p.shape for ep in pictures for p in ep}
  if len(sizes) > 1:
    raise cli_support.CliError(f'{field}: frames change size ({sorted(sizes)}), cannot be a video')
  frames = []
  for t in range(max(len(ep) for ep in pictures)):
    now = [ep[min(t, len(ep) - 1)] for ep in pictures]
    frame = now[0] if len(now) == 1 else _tile(now)
    frames.append(np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1))
  return frames


def write(frames: list[np.ndarray], output: str, fps: float) -> None:
  """Writes `frames` as a looping GIF or an MP4, by the suffix of `output`."""
  imageio = _imageio()
  if output.lower().endswith('.gif'):
    imageio.v3.imwrite(
      output, np.stack(frames), extension='.gif', duration=int(round(1000 / fps)), loop=0
    )
    return
  h, w, _ = frames[0].shape
  pad = ((0, h % 2), (0, w % 2), (0, 0))  # H.264 wants even sides.
  try:
    writer = imageio.v2.get_writer(output, format='FFMPEG', fps=fps, macro_block_size=1)
  except (ImportError, RuntimeError, ValueError) as e:
    raise cli_support.CliError(f'cannot write MP4 ({e}): pip install envlogger[viz]') from None
  with writer:
    for f in frames:
      writer.append_data(np.pad(f, pad))


def _run(args: argparse.Namespace) -> int:
  suffix = cli_support.check_output_file(args.output, _SUFFIXES)
  if args.fps <= 0 or not math.isfinite(args.fps):
    raise cli_support.CliError(f'--fps must be positive, not {args.fps}')
  _imageio()
  with cli_support.open_reader(args.dir) as reader:
    num_episodes = len(reader.episodes)
    if not num_episodes:
      raise cli_support.CliError(f'{args.dir}: the dataset has no episodes')
    field, spec = choose_field(reader.observation_spec(), args.field)
    indices = cli_support.parse_range(args.grid or str(args.episode), num_episodes, 'episode')
    if not indices:
      raise cli_support.CliError(f'--grid {args.grid}: no episodes in that range')
    total = sum(len(reader.episodes[i]) for i in indices)
    with cli_support.Progress(total, 'video', args.quiet) as progress:
      episodes = [
        steps for _, steps in cli_support.read_episodes(reader, args.dir, indices, progress)
      ]
  shape = tuple(spec.shape)
  scale = args.scale or max(1, _TARGET_SIDE // max(1, min(shape[0], shape[1])))
  frames = make_frames(episodes, field, spec, scale)
  write(frames, args.output, args.fps)
  print(
    f'{args.output}: {len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]} '
    f'from {field} of episode{"s" if len(indices) > 1 else ""} '
    f'{", ".join(map(str, indices))} ({suffix[1:]}, {args.fps:g} fps)'
  )
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `video` to the `envlogger` command."""
  parser = subparsers.add_parser(
    'video',
    help="an episode's image observations as a GIF or MP4",
    description=__doc__.split('\n\n')[1],
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  parser.add_argument('-o', '--output', required=True, metavar='FILE', help='.gif or .mp4')
  parser.add_argument('--episode', type=int, default=0, help='episode index (default 0)')
  parser.add_argument('--grid', metavar='A:B', help='tile episodes A..B-1 instead')
  parser.add_argument('--field', help='observation field to show (default: the first uint8 image)')
  parser.add_argument('--fps', type=float, default=10.0, help='frames per second (default 10)')
  parser.add_argument(
    '--scale',
    type=cli_support.positive_int,
    default=None,
    help=f'enlarge frames by this factor (default: up to ~{_TARGET_SIDE} px)',
  )
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_run)
