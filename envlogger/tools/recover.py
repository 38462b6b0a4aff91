"""Rebuilds the index files of a Riegeli dataset from its steps.

`recover(data_dir)` makes a dataset whose writer died without `close()`
(SIGKILL, OOM, power loss) or whose files were damaged readable again, by
upstream's reader as well as ours: for every shard it rewrites
`step_offsets.riegeli` and `episode_index.riegeli` from what
`steps.riegeli` really holds.

How the index is rebuilt (`rebuild_shard_index`):
* Steps: every readable record of steps.riegeli, in file order. Records in a
  corrupted or incomplete chunk are lost (and reported); everything else is
  kept, including steps the old index never listed.
* Episode starts: where the old index said so, and wherever the C++ reader's
  episode-boundary rule puts one (backends/cc/shard_index_recovery.h, called
  through envlogger._native.shard_recovery): a step starts an episode if its
  step type is FIRST or if it follows damage (a skipped region) or a LAST
  step. So two episodes are never merged: an episode whose end was not
  written (no LAST) ends where the next one starts and is reported as
  incomplete; steps after a lost chunk form their own, headless, episode
  instead of joining the one before.
* Episode metadata: kept from the old index where its position still holds a
  record. Metadata records of episodes the old index never listed are
  attributed only when that is unambiguous (exactly one record per unlisted
  episode and no damage among their steps); otherwise they are left
  unattributed and counted in the report.
* The dataset metadata (metadata.riegeli) cannot be rebuilt; if it is
  unreadable, recover writes an empty one so that readers open the dataset,
  and says so.

A healthy shard (no damage, and its index is exactly the rebuilt one) is
left untouched, and the report says so. Index files are replaced atomically
(written to a temporary file, fsynced, renamed) and the originals are kept as
`<name>.bak` (`.bak1`, `.bak2`, ... after earlier recoveries). An incomplete
chunk at the end of steps.riegeli or episode_metadata.riegeli (the writer died
while writing it; no record in it is readable) is cut off and saved as
`<name>.tail.bak`. A steps or episode metadata file with damage before its end
is rewritten with its readable records (original kept as .bak): Riegeli readers, upstream's included, cannot
seek past a corrupted chunk header, so an index skipping the damaged chunk
would not be enough.
"""

import dataclasses
import os
from typing import Callable, Optional

from envlogger import _native
from envlogger import riegeli
from envlogger.backends.python import riegeli_dataset_writer
from envlogger.proto import storage_pb2
from envlogger.tools import shard_scan

# Writer options of the rebuilt files: upstream's defaults.
INDEX_WRITER_OPTIONS = riegeli_dataset_writer.DEFAULT_WRITER_OPTIONS
_rule = _native.shard_recovery
# Positions per step_offsets record (upstream writes one record per flush).
_POSITIONS_PER_RECORD = 1 << 16


@dataclasses.dataclass
class ShardIndex:
  """An index of one shard, in the terms of its files."""

  step_positions: list  # Numeric positions in steps.riegeli, one per step.
  episode_starts: list  # Shard-local index of each episode's first step.
  metadata_positions: list  # Position in episode_metadata.riegeli, or -1.


@dataclasses.dataclass
class ShardReport:
  """What rebuilding one shard's index found."""

  shard: str
  index: ShardIndex
  old_num_steps: int = 0  # Steps the old index listed.
  old_num_episodes: int = 0
  # Positions in steps.riegeli of the first steps of the old index's episodes.
  old_start_positions: list = dataclasses.field(default_factory=list)
  # The old index's step positions.
  old_step_positions: list = dataclasses.field(default_factory=list)
  # The old index as read (as far as readable).
  old_index: ShardIndex = dataclasses.field(default_factory=lambda: ShardIndex([], [], []))
  lost_steps: int = 0  # Listed by the old index, record unreadable.
  unindexed_steps: int = 0  # Readable records the old index did not list.
  incomplete_episodes: list = dataclasses.field(default_factory=list)  # Without LAST.
  headless_episodes: list = dataclasses.field(default_factory=list)  # Not starting with FIRST.
  unattributed_metadata: int = 0
  damage: list = dataclasses.field(default_factory=list)  # shard_scan.SkippedRegion
  problems: list = dataclasses.field(default_factory=list)  # Human-readable strings.
  # (path, offset): files that end in an incomplete chunk, from `offset`.
  torn_tails: list = dataclasses.field(default_factory=list)
  # Files with damage before their end: readers (ours and upstream's) cannot
  # seek past a corrupted chunk header, so recover rewrites them.
  files_to_rewrite: list = dataclasses.field(default_factory=list)

  @property
  def num_steps(self) -> int:
    return len(self.index.step_positions)

  @property
  def num_episodes(self) -> int:
    return len(self.index.episode_starts)

  @property
  def index_changed(self) -> bool:
    return bool(
      self.lost_steps
      or self.unindexed_steps
      or self.problems
      or self.num_episodes != self.old_num_episodes
    )

  @property
  def intact(self) -> bool:
    """Whether the shard needs no repair: no damage, and its index is the rebuilt one."""
    return (
      not (
        self.damage
        or self.problems
        or self.torn_tails
        or self.files_to_rewrite
        or self.unattributed_metadata
      )
      and self.index == self.old_index
    )


@dataclasses.dataclass
class DatasetReport:
  """What `recover` (or a dry run of it) found and did."""

  data_dir: str
  shards: list  # ShardReport
  metadata_problem: Optional[str] = None
  written: list = dataclasses.field(default_factory=list)  # Files replaced.

  @property
  def healthy(self) -> bool:
    """Whether nothing needs repair (so `recover` writes nothing)."""
    return not self.metadata_problem and all(s.intact for s in self.shards)

  def lines(self) -> list[str]:
    """A human-readable report, one line per fact."""
    out = []
    if self.metadata_problem:
      out.append(f'{self.data_dir}: {self.metadata_problem}')
    for s in self.shards:
      out.append(
        f'{s.shard}: {s.num_steps} steps in {s.num_episodes} episodes '
        f'(index listed {s.old_num_steps} steps in {s.old_num_episodes} episodes)'
      )
      if s.unindexed_steps:
        out.append(
          f'  {s.unindexed_steps} steps were on disk but not indexed (writer did not close?)'
        )
      if s.lost_steps:
        out.append(
          f'  {s.lost_steps} indexed steps are unreadable (damaged chunks) and were dropped'
        )
      for d in s.damage:
        out.append(f'  damage: {d}')
      for e in s.incomplete_episodes:
        out.append(f'  episode {e} is incomplete: its LAST step was never written')
      for e in s.headless_episodes:
        out.append(f'  episode {e} has no FIRST step (it was lost): kept as a separate episode')
      if s.unattributed_metadata:
        out.append(
          f'  {s.unattributed_metadata} episode metadata records could not be attributed '
          'to an episode unambiguously and are not indexed'
        )
      out.extend(f'  {p}' for p in s.problems)
      if s.intact:
        out.append('  intact: its index is the one rebuilt from its steps; nothing to rewrite')
    for path in self.written:
      out.append(f'rewrote {path}')
    if self.healthy:
      out.append(f'{self.data_dir}: healthy, left untouched')
    return out


def _read_old_index(shard: str, report: ShardReport) -> tuple[list, list]:
  """Old step positions and (start, metadata position) rows, as far as readable."""
  positions, rows = [], []
  offsets = shard_scan.scan_file(
    os.path.join(shard, shard_scan.STEP_OFFSETS), shard_scan.int64_array_of
  )
  for value in offsets.values:
    if value is not None and len(value[0]) == 1:
      positions.extend(value[1])
  index = shard_scan.scan_file(
    os.path.join(shard, shard_scan.EPISODE_INDEX), shard_scan.int64_array_of
  )
  for value in index.values:
    if value is not None and len(value[0]) == 2 and value[0][1] == 2:
      flat = value[1]
      rows.extend((flat[i], flat[i + 1]) for i in range(0, len(flat), 2))
  for scan in (offsets, index):
    report.damage.extend(scan.damage)
    if not scan.exists:
      report.problems.append(f'{scan.path} is missing')
    elif scan.error:
      report.problems.append(f'{scan.path} is unreadable: {scan.error}')
  report.old_num_steps, report.old_num_episodes = len(positions), len(rows)
  report.old_index = ShardIndex(positions, [start for start, _ in rows], [meta for _, meta in rows])
  return positions, rows


def rebuild_shard_index(shard: str) -> ShardReport:
  """Computes the index of `shard` from its files (see the module docstring).

  Reads only; `recover` writes the result.
  """
  report = ShardReport(shard=shard, index=ShardIndex([], [], []))
  old_positions, old_rows = _read_old_index(shard, report)
  steps = shard_scan.scan_file(os.path.join(shard, shard_scan.STEPS), _rule.step_type_of)
  metadata = shard_scan.scan_file(os.path.join(shard, shard_scan.EPISODE_METADATA))
  report.damage.extend(steps.damage + metadata.damage)
  report.torn_tails = [
    (scan.path, scan.torn_tail) for scan in (steps, metadata) if scan.torn_tail is not None
  ]
  report.files_to_rewrite = [
    scan.path for scan in (steps, metadata) if any(d.begin != scan.torn_tail for d in scan.damage)
  ]
  for scan in (steps, metadata):
    if not scan.exists:
      report.problems.append(f'{scan.path} is missing')
    elif scan.error:
      report.problems.append(f'{scan.path} is unreadable: {scan.error}')

  found = set(steps.positions)
  old_listed = set(old_positions)
  report.lost_steps = sum(1 for p in old_positions if p not in found)
  report.unindexed_steps = sum(1 for p in steps.positions if p not in old_listed)
  metadata_records = set(metadata.positions)
  # Old episode starts by the position of their first step.
  old_starts = {}
  for start, meta in old_rows:
    if 0 <= start < len(old_positions):
      old_starts[old_positions[start]] = meta
    else:
      report.problems.append(
        f'the old index starts an episode at step {start}, outside its {len(old_positions)} steps'
      )
  report.old_start_positions = list(old_starts)
  report.old_step_positions = old_positions

  starts, meta_positions, new_episodes = [], [], []
  known_starts = [i for i, position in enumerate(steps.positions) if position in old_starts]
  damage_before = sorted(g for g in steps.gaps_before if g < len(steps.positions))
  for i in _rule.episode_starts(steps.values, damage_before, known_starts):
    position, step_type = steps.positions[i], steps.values[i]
    if step_type not in (_rule.FIRST, None):
      report.headless_episodes.append(len(starts))
    meta = old_starts.get(position, -1)
    if meta != -1 and meta not in metadata_records:
      report.problems.append(f'metadata of episode {len(starts)} at position {meta} is unreadable')
      meta = -1
    if position not in old_starts:
      new_episodes.append(len(starts))
    starts.append(i)
    meta_positions.append(meta)
  for e, start in enumerate(starts):
    end = starts[e + 1] if e + 1 < len(starts) else len(steps.positions)
    if steps.values[end - 1] not in (_rule.LAST, None):
      report.incomplete_episodes.append(e)

  # Metadata of episodes the old index did not list: the records after the
  # last one still attributed. A record is written when the next episode
  # starts or at close, and episodes without metadata have none, so the
  # records can be matched to episodes only if every unlisted episode has
  # one (and no damage hides an episode).
  attributed = [m for m in meta_positions if m != -1]
  unclaimed = [p for p in metadata.positions if not attributed or p > max(attributed)]
  first_new_step = starts[new_episodes[0]] if new_episodes else len(steps.positions)
  damage_among_new = any(g >= first_new_step for g in steps.gaps_before)
  if unclaimed and len(unclaimed) == len(new_episodes) and not damage_among_new:
    for e, position in zip(new_episodes, unclaimed):
      meta_positions[e] = position
  else:
    report.unattributed_metadata = len(unclaimed)

  report.index = ShardIndex(list(steps.positions), starts, meta_positions)
  return report


def _int64_datum(shape: tuple, values: list) -> bytes:
  datum = storage_pb2.Datum()
  for size in shape:
    datum.shape.dim.add(size=size)
  datum.values.int64_values.extend(values)
  return datum.SerializeToString()


def _backup_name(path: str) -> str:
  """`path`.bak, or `path`.bak1, .bak2, ... if earlier recoveries left one."""
  candidate, n = path + '.bak', 0
  while os.path.exists(candidate):
    n += 1
    candidate = f'{path}.bak{n}'
  return candidate


def _fsync_dir(path: str) -> None:
  dir_fd = os.open(os.path.dirname(path) or '.', os.O_RDONLY)
  try:
    os.fsync(dir_fd)
  finally:
    os.close(dir_fd)


def _rewrite_readable_records(path: str, written: list) -> dict:
  """Rewrites `path` with only its readable records; returns old -> new positions.

  The original is kept under a .bak name.
  """
  tmp = path + '.recover.tmp'
  mapping = {}
  try:
    with riegeli.RecordWriter(tmp, options=INDEX_WRITER_OPTIONS) as writer:

      def sink(position: int, record: bytes) -> None:
        writer.write_record(record)
        mapping[position] = writer.last_pos.numeric

      shard_scan.scan_file(path, sink=sink)
      writer.flush(riegeli.FlushType.FROM_MACHINE)
  except riegeli.RiegeliError as e:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise OSError(f'Cannot write {path}: {e}') from e
  os.link(path, _backup_name(path))
  os.replace(tmp, path)
  _fsync_dir(path)
  written.append(path)
  return mapping


def _replace(path: str, records: list[bytes], written: list) -> None:
  """Writes `records` as the Riegeli file `path`, atomically, keeping a .bak."""
  tmp = path + '.recover.tmp'
  try:
    with riegeli.RecordWriter(tmp, options=INDEX_WRITER_OPTIONS) as writer:
      for record in records:
        writer.write_record(record)
      writer.flush(riegeli.FlushType.FROM_MACHINE)
  except riegeli.RiegeliError as e:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise OSError(f'Cannot write {path}: {e}') from e
  if os.path.exists(path):
    os.link(path, _backup_name(path))
  os.replace(tmp, path)
  _fsync_dir(path)
  written.append(path)


def _cut_torn_tail(path: str, offset: int, written: list) -> None:
  """Cuts the incomplete last chunk off `path`, saving it as .tail.bak.

  The chunk holds no readable record (its writer died while writing it);
  cutting it makes the file valid again, so that it verifies clean and can be
  appended to.
  """
  with open(path, 'r+b') as f:
    f.seek(offset)
    tail = f.read()
    with open(path + '.tail.bak', 'wb') as backup:
      backup.write(tail)
      backup.flush()
      os.fsync(backup.fileno())
    f.truncate(offset)
    os.fsync(f.fileno())
  written.append(path)


def _write_shard_index(shard: str, index: ShardIndex, written: list) -> None:
  positions = index.step_positions
  step_records = [
    _int64_datum((len(chunk),), chunk)
    for chunk in (
      positions[i : i + _POSITIONS_PER_RECORD]
      for i in range(0, len(positions), _POSITIONS_PER_RECORD)
    )
  ]
  rows = [v for pair in zip(index.episode_starts, index.metadata_positions) for v in pair]
  index_records = [_int64_datum((len(index.episode_starts), 2), rows)] if rows else []
  _replace(os.path.join(shard, shard_scan.STEP_OFFSETS), step_records, written)
  _replace(os.path.join(shard, shard_scan.EPISODE_INDEX), index_records, written)
  metadata_path = os.path.join(shard, shard_scan.EPISODE_METADATA)
  if not os.path.exists(metadata_path):
    _replace(metadata_path, [], written)


def _check_metadata(data_dir: str) -> tuple[Optional[str], bool]:
  """(What is wrong with metadata.riegeli or None, whether it must be rewritten)."""
  scan = shard_scan.scan_file(os.path.join(data_dir, shard_scan.METADATA))
  if not scan.exists:
    return 'metadata.riegeli is missing', True
  if scan.error:
    return f'metadata.riegeli is unreadable: {scan.error}', True
  if not scan.positions:
    return 'metadata.riegeli holds no readable record' + (
      f' ({scan.damage[0]})' if scan.damage else ''
    ), True
  if scan.damage:
    return f'metadata.riegeli is damaged but its record is readable ({scan.damage[0]})', True
  return None, False


def recover(
  data_dir: str, dry_run: bool = False, progress: Optional[Callable[[str], None]] = None
) -> DatasetReport:
  """Rebuilds the index files of every shard of `data_dir` from their steps.

  Args:
    data_dir: a dataset directory (holding metadata.riegeli and shard
      directories).
    dry_run: only report what would be done.
    progress: called with each shard directory once it has been scanned.

  Returns:
    The report; `written` lists the files replaced (originals kept as .bak).

  Raises:
    NotADirectoryError / FileNotFoundError: `data_dir` is not a directory.
    OSError: a file could not be written (e.g. the disk is full); files not
      yet replaced are unchanged.
  """
  if not os.path.isdir(data_dir):
    if os.path.exists(data_dir):
      raise NotADirectoryError(f'Not a dataset directory: {data_dir}')
    raise FileNotFoundError(f'No such dataset directory: {data_dir}')
  report = DatasetReport(data_dir=data_dir, shards=[])
  report.metadata_problem, rewrite_metadata = _check_metadata(data_dir)
  for shard in shard_scan.shard_dirs(data_dir):
    report.shards.append(rebuild_shard_index(shard))
    if progress is not None:
      progress(shard)
  if dry_run:
    return report
  metadata_path = os.path.join(data_dir, shard_scan.METADATA)
  if rewrite_metadata and 'record is readable' in report.metadata_problem:
    _rewrite_readable_records(metadata_path, report.written)
    report.metadata_problem += '; rewrote it with that record'
  elif rewrite_metadata:
    _replace(metadata_path, [storage_pb2.Data().SerializeToString()], report.written)
    report.metadata_problem += '; wrote an empty metadata record (environment specs are lost)'
  for shard in report.shards:
    if shard.intact:  # A healthy shard is left untouched (no rewrite, no .bak).
      continue
    index = shard.index
    for path in shard.files_to_rewrite:
      mapping = _rewrite_readable_records(path, report.written)
      if path.endswith(shard_scan.STEPS):
        index.step_positions = [mapping[p] for p in index.step_positions]
      else:
        index.metadata_positions = [mapping.get(p, -1) for p in index.metadata_positions]
    _write_shard_index(shard.shard, index, report.written)
    for path, offset in shard.torn_tails:
      if path not in shard.files_to_rewrite:
        _cut_torn_tail(path, offset, report.written)
  return report
