"""Checks a Riegeli dataset for damage: `envlogger verify DIR`.

`verify(data_dir)` reads every file of the dataset with Riegeli recovery, so
every chunk's hash (and every block header's) is checked, and compares each
shard's index files with what its steps.riegeli holds:
* every step position in step_offsets.riegeli must hold a readable record;
* every readable step record must be indexed (unindexed steps mean the writer
  did not close, or the index is damaged: `envlogger recover` indexes them);
* every FIRST step must start an episode in episode_index.riegeli, and every
  episode start must be an indexed step (otherwise episodes are merged);
* every episode metadata position must hold a readable record;
* metadata.riegeli must hold an envlogger.Data record.

A dataset with any such finding is damaged. Episodes without a LAST step and
metadata records that belong to no episode (after `recover` could not
attribute them) are listed but are not damage.
"""

import dataclasses
import os
from typing import Callable, Optional

from envlogger.tools import recover as recover_lib
from envlogger.tools import shard_scan


@dataclasses.dataclass
class VerifyReport:
  """Findings of `verify`: `damage` makes the dataset damaged, `notes` do not."""

  data_dir: str
  damage: list = dataclasses.field(default_factory=list)  # str
  notes: list = dataclasses.field(default_factory=list)  # str
  num_steps: int = 0
  num_episodes: int = 0

  @property
  def ok(self) -> bool:
    return not self.damage

  def lines(self) -> list[str]:
    out = [f'{self.data_dir}: {self.num_steps} readable steps in {self.num_episodes} episodes']
    out.extend(f'DAMAGE: {d}' for d in self.damage)
    out.extend(f'note: {n}' for n in self.notes)
    out.append(
      'OK'
      if self.ok
      else f'DAMAGED: {len(self.damage)} problems; `envlogger recover {self.data_dir}` '
      'rebuilds the index from what is readable'
    )
    return out


def _check_shard(shard: recover_lib.ShardReport, report: VerifyReport) -> None:
  name = shard.shard
  report.damage.extend(str(d) for d in shard.damage)
  report.damage.extend(f'{name}: {p}' for p in shard.problems)
  if shard.lost_steps:
    report.damage.append(
      f'{name}: {shard.lost_steps} of the {shard.old_num_steps} indexed steps '
      'point at no readable record'
    )
  if shard.unindexed_steps:
    report.damage.append(
      f'{name}: {shard.unindexed_steps} steps in steps.riegeli are not indexed '
      '(the writer did not close, or the index is damaged)'
    )
  positions = shard.index.step_positions
  rebuilt = {positions[s] for s in shard.index.episode_starts}
  old = set(shard.old_start_positions)
  # Within the old index's steps, an episode start the index lacks merges
  # two episodes.
  old_steps = set(shard.old_step_positions)
  merged = sorted(p for p in rebuilt - old if p in old_steps)
  if merged:
    report.damage.append(
      f'{name}: {len(merged)} episode starts (FIRST steps) are missing from '
      'episode_index.riegeli, so episodes are merged (the first at step '
      f'position {merged[0]})'
    )
  for e in shard.incomplete_episodes:
    report.notes.append(f'{name}: episode {e} has no LAST step')
  for e in shard.headless_episodes:
    report.notes.append(f'{name}: episode {e} does not start with a FIRST step')
  if shard.unattributed_metadata:
    report.notes.append(
      f'{name}: {shard.unattributed_metadata} episode metadata records belong to no indexed episode'
    )


def verify(data_dir: str, progress: Optional[Callable[[str], None]] = None) -> VerifyReport:
  """Checks every file and index entry of the dataset `data_dir`.

  `progress` is called with each shard directory once it has been read.

  Raises:
    NotADirectoryError / FileNotFoundError: `data_dir` is not a directory.
  """
  dry = recover_lib.recover(data_dir, dry_run=True, progress=progress)
  report = VerifyReport(data_dir=data_dir)
  if dry.metadata_problem:
    report.damage.append(f'{os.path.join(data_dir, shard_scan.METADATA)}: {dry.metadata_problem}')
  else:
    scan = shard_scan.scan_file(
      os.path.join(data_dir, shard_scan.METADATA), shard_scan.is_data_record
    )
    report.damage.extend(str(d) for d in scan.damage)
    if not scan.values[0]:
      report.damage.append(f'{scan.path}: its first record is not an envlogger.Data')
  for shard in dry.shards:
    _check_shard(shard, report)
    report.num_steps += shard.num_steps
    report.num_episodes += shard.num_episodes
  return report
