"""Damages one byte (or the tail) of a dataset file and measures what is lost.

Used by envlogger/tools/damage_test.py (a sample of bytes) and
benchmarks/damage_benchmark.py (every byte). For a clean dataset `source`,
`flip_and_check` copies it, XORs one byte of one file, runs
`envlogger recover` on the copy, reads it back with the Reader and compares
with what the clean dataset holds:

* the steps read back must be clean steps in their original order, and every
  episode must hold steps of one clean episode only (nothing merged);
* the steps lost must all lie in the chunk of steps.riegeli that holds the
  flipped byte (none if the byte is in another file or in a chunk without
  records: signature, padding);
* dataset metadata may be lost only if the byte is in metadata.riegeli, and
  episode metadata only for records in the hit chunk of
  episode_metadata.riegeli.

Chunk extents come from the clean file's record positions (a record-bearing
chunk spans from its first record's chunk begin to the next chunk's begin).
"""

import dataclasses
import os
import shutil
import tempfile
from typing import Optional

import envlogger
from envlogger.testing import compare
from envlogger.tools import recover
from envlogger.tools import shard_scan


@dataclasses.dataclass
class CleanDataset:
  """What the undamaged dataset holds."""

  path: str
  steps: list  # tuple(StepData) per step.
  episodes: list  # (start, length) per episode.
  episode_metadata: list
  metadata: dict
  files: list  # Relative paths of the .riegeli files.
  # Relative path of a shard's steps.riegeli -> list of (chunk begin, chunk
  # end, global indices of the steps in that chunk).
  step_chunks: dict


def load_clean(path: str) -> CleanDataset:
  """Reads the clean dataset at `path` and maps its step chunks."""
  with envlogger.Reader(path) as reader:
    steps = [tuple(s) for s in reader.steps]
    episodes, start = [], 0
    for episode in reader.episodes:
      episodes.append((start, len(episode)))
      start += len(episode)
    episode_metadata = list(reader.episode_metadata())
    metadata = reader.metadata()
  files = sorted(
    os.path.relpath(os.path.join(root, name), path)
    for root, _, names in os.walk(path)
    for name in names
    if name.endswith('.riegeli')
  )
  step_chunks, offset = {}, 0
  for shard in shard_scan.shard_dirs(path):
    steps_path = os.path.join(shard, shard_scan.STEPS)
    positions = shard_scan.scan_file(steps_path).positions
    size = os.path.getsize(steps_path)
    chunks, begins = [], []
    for i, p in enumerate(positions):
      if i == 0 or p != positions[i - 1] + 1:
        begins.append((p, i))
    for j, (begin, first) in enumerate(begins):
      end = begins[j + 1][0] if j + 1 < len(begins) else size
      last = begins[j + 1][1] if j + 1 < len(begins) else len(positions)
      chunks.append((begin, end, list(range(offset + first, offset + last))))
    step_chunks[os.path.relpath(steps_path, path)] = chunks
    offset += len(positions)
  return CleanDataset(path, steps, episodes, episode_metadata, metadata, files, step_chunks)


@dataclasses.dataclass
class DamageResult:
  file: str
  offset: int
  lost_steps: int
  allowed_lost: int  # Steps in the hit chunk.
  errors: list  # Broken rules; empty if none.


def _allowed_losses(clean: CleanDataset, rel: str, offset: int) -> set:
  for begin, end, steps in clean.step_chunks.get(rel, []):
    if begin <= offset < end:
      return set(steps)
  return set()


def check_damaged_copy(
  clean: CleanDataset, copy: str, rel: str, allowed: set, metadata_may_go: bool
) -> list:
  """Recovers and reads `copy`; returns the broken rules."""
  errors = []
  recover.recover(copy)
  try:
    with envlogger.Reader(copy) as reader:
      steps = [tuple(s) for s in reader.steps]
      episodes = [len(e) for e in reader.episodes]
      metadata = reader.metadata()
  except Exception as e:  # pylint: disable=broad-except
    return [f'{rel}: the recovered dataset does not open: {type(e).__name__}: {e}']
  # Match every step read to a clean step, in order.
  matched, j = [], 0
  for step in steps:
    while j < len(clean.steps) and compare.differences(step, clean.steps[j]):
      j += 1
    if j == len(clean.steps):
      errors.append(f'step {len(matched)} is not a clean step (or out of order)')
      return errors
    matched.append(j)
    j += 1
  lost = set(range(len(clean.steps))) - set(matched)
  if not lost <= allowed:
    errors.append(
      f'lost {len(lost - allowed)} steps outside the damaged chunk '
      f'(e.g. step {min(lost - allowed)})'
    )
  owner = {}
  for e, (start, n) in enumerate(clean.episodes):
    for i in range(start, start + n):
      owner[i] = e
  flat = 0
  for k, n in enumerate(episodes):
    owners = {owner.get(matched[flat + i]) for i in range(n)}
    if len(owners) > 1:
      errors.append(
        f'episode {k} merges clean episodes {sorted(o for o in owners if o is not None)}'
      )
    flat += n
  if not metadata_may_go and compare.differences(metadata, clean.metadata):
    errors.append('dataset metadata changed')
  return errors


def flip_byte(path: str, offset: int, mask: int = 0xFF) -> None:
  """XORs the byte at `offset` of the file `path` with `mask`, in place."""
  with open(path, 'r+b') as f:
    f.seek(offset)
    byte = f.read(1)
    f.seek(offset)
    f.write(bytes([byte[0] ^ mask]))


def flip_and_check(
  clean: CleanDataset, rel: str, offset: int, workdir: Optional[str] = None
) -> DamageResult:
  """Flips byte `offset` of file `rel` in a copy of `clean` and checks it."""
  with tempfile.TemporaryDirectory(dir=workdir) as tmp:
    copy = os.path.join(tmp, 'd')
    shutil.copytree(clean.path, copy)
    flip_byte(os.path.join(copy, rel), offset)
    allowed = _allowed_losses(clean, rel, offset)
    errors = check_damaged_copy(clean, copy, rel, allowed, rel == shard_scan.METADATA)
    with envlogger.Reader(copy) as reader:
      lost = len(clean.steps) - len(reader.steps)
  return DamageResult(rel, offset, lost, len(allowed), errors)


def truncate_and_check(clean: CleanDataset, rel: str, size: int) -> DamageResult:
  """Cuts file `rel` of a copy of `clean` to `size` bytes and checks it.

  Allowed loss: the steps of steps.riegeli chunks that end after `size`.
  """
  with tempfile.TemporaryDirectory() as tmp:
    copy = os.path.join(tmp, 'd')
    shutil.copytree(clean.path, copy)
    with open(os.path.join(copy, rel), 'r+b') as f:
      f.truncate(size)
    allowed = set()
    for _, end, steps in clean.step_chunks.get(rel, []):
      if end > size:
        allowed.update(steps)
    errors = check_damaged_copy(clean, copy, rel, allowed, rel == shard_scan.METADATA)
    with envlogger.Reader(copy) as reader:
      lost = len(clean.steps) - len(reader.steps)
  return DamageResult(rel, size, lost, len(allowed), errors)
