"""`envlogger info DIR`: what a dataset holds.

Shards, episodes, steps, bytes on disk (and per step), the writer options
seen in the files, the time span, the dataset metadata and the specs as a
tree with shapes and dtypes. DIR may also be a root or a glob (where
`envlogger.Reader` reads those); the files of all its datasets are counted.
`dataset_info(reader, path)` returns the same as a dict (what `--json`
prints).

The time span comes from the shard directory names (upstream names a shard
after its UTC creation time, `%Y%m%dT%H%M%S` plus 6 microsecond digits) and,
when the step custom data is a dict with a numeric `timestamp` (seconds since
the epoch), from the smallest and largest such timestamp.

The writer options are read from the header of the first chunk of each
shard's steps.riegeli: whether chunks are transposed and which compressor
they use. Compression levels and chunk sizes are not stored in the files.
"""

from __future__ import annotations

import argparse
import datetime
import os
from typing import Any, Optional

import envlogger
from envlogger.tools import cli_support

_SHARD_NAME_FORMAT = '%Y%m%dT%H%M%S%f'
# Riegeli file layout: a 24-byte block header, then the 40-byte file signature
# chunk header; the first data chunk's header starts at byte 64, its chunk type
# is byte 24 of that header and its data (first byte: the compression type)
# follows the header.
_FIRST_CHUNK = 64
_CHUNK_TYPE_OFFSET = 24
_CHUNK_HEADER_SIZE = 40
_CHUNK_TYPES = {ord('r'): None, ord('t'): 'transpose'}
_COMPRESSORS = {0: 'uncompressed', ord('b'): 'brotli', ord('z'): 'zstd', ord('s'): 'snappy'}
# A plausible epoch-seconds timestamp (2001..2096) is also shown as a date.
_EPOCH_RANGE = (1e9, 4e9)


def _shard_dirs(path: str) -> list[str]:
  """Directories under `path` holding a steps.riegeli, sorted."""
  found = []
  for root, dirs, files in os.walk(path):
    dirs.sort()
    if 'steps.riegeli' in files:
      found.append(root)
  return sorted(found)


def _disk_bytes(path: str) -> int:
  return sum(
    os.path.getsize(os.path.join(root, name)) for root, _, files in os.walk(path) for name in files
  )


def _writer_options(steps_path: str) -> Optional[str]:
  """'transpose,brotli', 'zstd', ... from the first chunk; None if unknown."""
  try:
    with open(steps_path, 'rb') as f:
      f.seek(_FIRST_CHUNK)
      header = f.read(_CHUNK_HEADER_SIZE + 1)
  except OSError:
    return None
  if len(header) < _CHUNK_HEADER_SIZE + 1:
    return None
  chunk_type, compressor = header[_CHUNK_TYPE_OFFSET], header[_CHUNK_HEADER_SIZE]
  if chunk_type not in _CHUNK_TYPES or compressor not in _COMPRESSORS:
    return None
  return ','.join(p for p in (_CHUNK_TYPES[chunk_type], _COMPRESSORS[compressor]) if p)


def _shard_time(name: str) -> Optional[datetime.datetime]:
  try:
    return datetime.datetime.strptime(name, _SHARD_NAME_FORMAT).replace(
      tzinfo=datetime.timezone.utc
    )
  except ValueError:
    return None


def _step_timestamp(custom_data: Any) -> Optional[float]:
  if isinstance(custom_data, dict):
    value = custom_data.get('timestamp')
    if value is not None and not isinstance(value, (bool, str, bytes)):
      try:
        return float(value)
      except (TypeError, ValueError):
        return None
  return None


def _as_date(seconds: float) -> Optional[str]:
  if _EPOCH_RANGE[0] <= seconds <= _EPOCH_RANGE[1]:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()
  return None


def spec_tree(spec: Any) -> Any:
  """Specs as nested dicts/lists whose leaves describe shape, dtype and bounds."""
  if spec is None:
    return None
  if isinstance(spec, dict):
    return {str(k): spec_tree(v) for k, v in spec.items()}
  if isinstance(spec, (list, tuple)):
    return [spec_tree(v) for v in spec]
  leaf = {
    'class': type(spec).__name__,
    'shape': list(getattr(spec, 'shape', ())),
    'dtype': str(getattr(spec, 'dtype', '?')),
  }
  if getattr(spec, 'name', None):
    leaf['name'] = spec.name
  for attr in ('num_values', 'minimum', 'maximum'):
    if hasattr(spec, attr):
      leaf[attr] = cli_support.to_jsonable(getattr(spec, attr))
  return leaf


def dataset_info(
  reader: envlogger.Reader, path: str, progress: Optional[cli_support.Progress] = None
) -> dict[str, Any]:
  """Everything `envlogger info` shows, as a dict; reads every step once."""
  progress = progress or cli_support.Progress(None, '', quiet=True)
  dirs = [d for d in cli_support.dataset_dirs(path) if os.path.isdir(d)]
  shards = sorted(s for d in dirs for s in _shard_dirs(d))
  num_steps = len(reader.steps)
  disk = sum(_disk_bytes(d) for d in dirs) if dirs else None
  # Shard names relative to `path`, or for a glob to the directory its datasets share.
  base = (
    path
    if os.path.isdir(path)
    else (os.path.commonpath(dirs) if len(dirs) > 1 else os.path.dirname(dirs[0]) if dirs else path)
  )
  stamps = []
  for step in reader.steps:
    t = _step_timestamp(step.custom_data)
    if t is not None:
      stamps.append(t)
    progress.update()
  cli_support.check_damage(reader, path)
  shard_times = [t for t in (_shard_time(os.path.basename(s)) for s in shards) if t]
  metadata = reader.metadata()
  metadata.pop('environment_specs', None)
  time_span = {}
  if shard_times:
    time_span['first_shard_created'] = min(shard_times).isoformat()
    time_span['last_shard_created'] = max(shard_times).isoformat()
  if stamps:
    time_span['first_step_timestamp'] = min(stamps)
    time_span['last_step_timestamp'] = max(stamps)
    for key in ('first_step_timestamp', 'last_step_timestamp'):
      date = _as_date(time_span[key])
      if date:
        time_span[key.replace('timestamp', 'time')] = date
  return {
    'path': path,
    'num_datasets': len(dirs),
    'shards': [os.path.relpath(s, base) for s in shards],
    'num_shards': len(shards),
    'num_episodes': len(reader.episodes),
    'num_steps': num_steps,
    'bytes_on_disk': disk,
    'bytes_per_step': (disk / num_steps) if disk is not None and num_steps else None,
    'writer_options': sorted(
      {o or 'unknown' for o in (_writer_options(os.path.join(s, 'steps.riegeli')) for s in shards)}
    ),
    'time_span': time_span,
    'metadata': metadata,
    'specs': {
      'observation': spec_tree(reader.observation_spec()),
      'action': spec_tree(reader.action_spec()),
      'reward': spec_tree(reader.reward_spec()),
      'discount': spec_tree(reader.discount_spec()),
    },
  }


def _tree_lines(value: Any, indent: str) -> list[str]:
  """Lines of a spec tree: containers nest, leaves on one line."""
  if isinstance(value, dict) and 'class' not in value:
    lines = []
    for k, v in value.items():
      sub = _tree_lines(v, indent + '  ')
      if len(sub) == 1 and not sub[0].startswith(indent + '  -'):
        lines.append(f'{indent}{k}: {sub[0].strip()}')
      else:
        lines.append(f'{indent}{k}:')
        lines.extend(sub)
    return lines or [f'{indent}{{}}']
  if isinstance(value, list):
    lines = []
    for i, v in enumerate(value):
      sub = _tree_lines(v, indent + '  ')
      lines.append(f'{indent}[{i}]: {sub[0].strip()}' if len(sub) == 1 else f'{indent}[{i}]:')
      lines.extend(sub[1:] if len(sub) == 1 else sub)
    return lines or [f'{indent}[]']
  if value is None:
    return [f'{indent}-']
  text = f'{value["dtype"]}{value["shape"]}'
  if 'num_values' in value:
    text += f' {value["num_values"]} values'
  elif 'minimum' in value:
    text += f' in [{_short(value["minimum"])}, {_short(value["maximum"])}]'
  if value.get('name'):
    text += f' ({value["name"]})'
  return [indent + text]


def _short(value: Any) -> str:
  text = str(value)
  return text if len(text) <= 30 else text[:27] + '...'


def format_info(info: dict[str, Any]) -> str:
  """The human-readable form of `dataset_info`."""
  per_step = info['bytes_per_step']
  lines = [
    f'dataset:        {info["path"]}',
    f'shards:         {info["num_shards"]}'
    + (f' in {info["num_datasets"]} datasets' if info['num_datasets'] > 1 else ''),
    f'episodes:       {info["num_episodes"]}',
    f'steps:          {info["num_steps"]}',
  ]
  if info['bytes_on_disk'] is not None:
    lines.append(
      f'bytes on disk:  {info["bytes_on_disk"]}'
      + (f' ({per_step:.1f} per step)' if per_step else '')
    )
  lines.append(
    f'writer options: {", ".join(info["writer_options"]) or "-"}'
    ' (levels and chunk sizes are not stored)'
  )
  for key, value in info['time_span'].items():
    lines.append(f'{key.replace("_", " ")}: {value}')
  lines.append('metadata:')
  lines.extend(f'  {k}: {cli_support.summarize(v)}' for k, v in info['metadata'].items())
  lines.append('specs:')
  for name, tree in info['specs'].items():
    sub = _tree_lines(tree, '    ')
    if len(sub) == 1:
      lines.append(f'  {name}: {sub[0].strip()}')
    else:
      lines.append(f'  {name}:')
      lines.extend(sub)
  return '\n'.join(lines)


def _run(args: argparse.Namespace) -> int:
  with cli_support.open_reader(args.dir) as reader:
    with cli_support.Progress(len(reader.steps), 'info', args.quiet) as progress:
      info = dataset_info(reader, args.dir, progress)
  if args.json:
    cli_support.print_json(info)
  else:
    print(format_info(info))
  return 0


def register(subparsers: argparse._SubParsersAction) -> None:
  """Adds `info` to the `envlogger` command."""
  parser = subparsers.add_parser(
    'info',
    help='counts, sizes, writer options, time span, metadata and specs',
    description=__doc__.split('\n\n')[1],
  )
  parser.add_argument('dir', metavar='DIR', help='dataset directory (or root or glob)')
  parser.add_argument('--json', action='store_true', help='print JSON')
  parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
  parser.set_defaults(run=_run)
