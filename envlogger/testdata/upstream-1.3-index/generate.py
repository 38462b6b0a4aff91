"""Writes what the C++ dataset tests expect of the upstream-1.3 fixtures.

The fixtures' raw records are Python pickles (see ../upstream-1.3/README.md),
which C++ tests cannot load. This script turns them, and the counts and
episode lists of `*.expected.json`, into one line-oriented text file per
dataset, `<dataset>.index.txt`:

  num_steps <n>
  num_episodes <n>
  episode <global start> <num_steps>                 one per episode, in order
  metadata <length> <fnv1a64>                         the metadata.riegeli record
  shard <shard directory name>                        shards in directory order
  step_offsets <position> <record hex>                the shard's index records
  episode_index <position> <record hex>
  episode_metadata <position> <length> <fnv1a64>      records of episode_metadata.riegeli
  step <position> <length> <fnv1a64>                  one per indexed step, in order

Step and metadata records are large, so only their length and 64-bit FNV-1a
hash (hex) are stored; the index records are stored whole. Everything comes
from the fixtures (written by upstream's library), nothing from our code.

Run from anywhere: `python envlogger/testdata/upstream-1.3-index/generate.py`.
"""

import json
import pathlib
import pickle

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / 'upstream-1.3'


def fnv1a64(data: bytes) -> str:
  h = 0xCBF29CE484222325
  for byte in data:
    h ^= byte
    h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
  return f'{h:016x}'


def load_records(path: pathlib.Path) -> list[tuple[int, bytes]]:
  with path.open('rb') as f:
    return pickle.load(f)


def describe(dataset: pathlib.Path) -> list[str]:
  expected = json.loads(dataset.with_suffix('.expected.json').read_text())
  records_dir = dataset.with_name(dataset.name + '.records')
  lines = [f'num_steps {expected["num_steps"]}', f'num_episodes {expected["num_episodes"]}']
  lines += [f'episode {start} {n}' for start, n in expected['episodes']]
  for _, record in load_records(records_dir / 'metadata.records.pkl')[:1]:
    lines.append(f'metadata {len(record)} {fnv1a64(record)}')
  shards = sorted(p for p in dataset.iterdir() if (p / 'step_offsets.riegeli').exists())
  for shard in shards:
    lines.append(f'shard {shard.name}')
    for kind in ('step_offsets', 'episode_index'):
      for pos, record in load_records(records_dir / shard.name / f'{kind}.records.pkl'):
        lines.append(f'{kind} {pos} {record.hex()}')
    for pos, record in load_records(records_dir / shard.name / 'episode_metadata.records.pkl'):
      lines.append(f'episode_metadata {pos} {len(record)} {fnv1a64(record)}')
    for pos, record in load_records(records_dir / shard.name / 'steps.records.pkl'):
      lines.append(f'step {pos} {len(record)} {fnv1a64(record)}')
  return lines


def main() -> None:
  datasets = sorted(
    p for p in FIXTURES.iterdir() if p.is_dir() and (p / 'metadata.riegeli').exists()
  )
  for dataset in datasets:
    out = HERE / f'{dataset.name}.index.txt'
    out.write_text('\n'.join(describe(dataset)) + '\n')
    print(f'wrote {out}')


if __name__ == '__main__':
  main()
