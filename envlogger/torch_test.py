"""Tests of envlogger.torch with real torch DataLoaders and worker processes.

Expected values come from the per-step Reader API (`reader.steps[i]`) and
from what `varied_env` records (step t of episode e observes pos [t, e]),
never from the arrays API the datasets are built on.
"""

import collections
import os
import pickle

import numpy as np
import pytest

import envlogger
from envlogger.testing import child_env
from envlogger.testing import stacked
from envlogger.testing import upstream_fixtures
from envlogger.testing import varied_env

_LENGTHS = (3, 7, 2, 12, 5, 4, 9)
# Small chunks and two episodes per shard: blocks span chunks and shards.
_OPTIONS = 'transpose,brotli:6,chunk_size:512'


@pytest.fixture(scope='module')
def et():
  pytest.importorskip('torch', reason='envlogger.torch needs torch (envlogger[torch])')
  import envlogger.torch as et  # pylint: disable=g-import-not-at-top

  return et


@pytest.fixture(scope='module')
def path(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('varied'))
  varied_env.record(path, _LENGTHS, writer_options=_OPTIONS, max_episodes_per_file=2)
  return path


@pytest.fixture(scope='module')
def steps(path):
  with envlogger.Reader(path) as reader:
    return list(reader.steps)


def _all_positions():
  return sorted((e, t) for e, n in enumerate(_LENGTHS) for t in range(n))


def _positions(batch):
  """(episode, t) of every step in a batch whose observation leaves have a step axis."""
  pos = batch.timestep.observation['pos'].reshape(-1, 2).tolist()
  return [(e, t) for t, e in pos]


def _expected_leaf(value, like):
  """The per-step value as the arrays rule gives it (None is NaN/0)."""
  if value is None:
    fill = np.nan if np.asarray(like).dtype.kind == 'f' else 0
    return np.full(np.shape(like), fill, np.asarray(like).dtype)
  return np.asarray(value)


def _assert_step_equal(item, step, torch):
  """A single-step item equals the per-step StepData `step` (values and dtypes)."""
  timestep = step.timestep
  assert torch.is_tensor(item.timestep.step_type)
  assert int(item.timestep.step_type) == int(timestep.step_type)
  for got, want in (
    (item.timestep.reward, timestep.reward),
    (item.timestep.discount, timestep.discount),
    (item.action, step.action),
  ):
    assert torch.is_tensor(got)
    want = _expected_leaf(want, got.numpy())
    assert got.numpy().dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want)
  for key, want in timestep.observation.items():
    got = item.timestep.observation[key]
    assert torch.is_tensor(got)
    assert got.numpy().dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got.numpy(), want)
  assert int(item.custom_data['t']) == int(step.custom_data['t'])
  assert item.custom_data['tag'] == step.custom_data['tag']  # A numpy string.


def _loader(dataset, torch, **kwargs):
  return torch.utils.data.DataLoader(dataset, **kwargs)


def test_map_style_steps_equal_per_step_api(et, path, steps):
  import torch  # pylint: disable=g-import-not-at-top

  dataset = et.StepDataset(path)
  assert len(dataset) == len(steps) == sum(_LENGTHS)
  for i, step in enumerate(steps):
    _assert_step_equal(dataset[i], step, torch)
  _assert_step_equal(dataset[-1], steps[-1], torch)
  with pytest.raises(IndexError, match='out of the range'):
    dataset[len(steps)]


def test_map_style_numpy_items(et, path, steps):
  item = et.StepDataset(path, as_tensors=False)[4]
  assert isinstance(item.timestep.observation['frame'], np.ndarray)
  np.testing.assert_array_equal(
    item.timestep.observation['frame'], steps[4].timestep.observation['frame']
  )


def test_windows_never_cross_an_episode(et, path, steps):
  seq_len = 4
  dataset = et.StepDataset(path, seq_len=seq_len)
  expected = [(e, t) for e, n in enumerate(_LENGTHS) for t in range(n - seq_len + 1)]
  assert len(dataset) == len(expected)
  starts = np.cumsum((0,) + _LENGTHS)
  for i, (e, t) in enumerate(expected):
    item = dataset[i]
    pos = item.timestep.observation['pos'].numpy()
    assert pos.shape == (seq_len, 2)
    np.testing.assert_array_equal(pos[:, 1], [e] * seq_len)  # One episode.
    np.testing.assert_array_equal(pos[:, 0], np.arange(t, t + seq_len))
    first = starts[e] + t
    np.testing.assert_array_equal(
      item.timestep.step_type.numpy(),
      [int(s.timestep.step_type) for s in steps[first : first + seq_len]],
    )


@pytest.mark.parametrize(
  'seq_len, error, match',
  [
    (13, ValueError, 'seq_len=13 is longer than every episode'),
    (0, ValueError, 'seq_len must be at least 1'),
    ('2', TypeError, 'seq_len must be an int'),
  ],
)
def test_bad_seq_len(et, path, seq_len, error, match):
  with pytest.raises(error, match=match):
    et.StepDataset(path, seq_len=seq_len)


def test_missing_directory(et, tmp_path):
  with pytest.raises(RuntimeError, match='nowhere'):
    et.StepDataset(str(tmp_path / 'nowhere'))


# torch warns that 3 workers exceed the 2 CPUs of the test machines.
_MANY_WORKERS = pytest.mark.filterwarnings('ignore:This DataLoader will create')


@_MANY_WORKERS
@pytest.mark.parametrize('num_workers', [0, 1, 3])
def test_map_style_dataloader_every_window_once(et, path, num_workers):
  import torch  # pylint: disable=g-import-not-at-top

  dataset = et.StepDataset(path, seq_len=2)
  loader = _loader(
    dataset,
    torch,
    batch_size=5,
    shuffle=True,
    num_workers=num_workers,
    collate_fn=et.collate,
    generator=torch.Generator().manual_seed(0),
  )
  firsts = []
  for batch in loader:
    pos = batch.timestep.observation['pos']
    assert torch.is_tensor(pos) and pos.shape[1:] == (2, 2)
    assert batch.custom_data['tag'].shape == (len(pos), 2)  # np.stack of strings.
    firsts.extend((int(e), int(t)) for t, e in pos[:, 0].tolist())
    assert (pos[:, 1, 1] == pos[:, 0, 1]).all()
  expected = [(e, t) for e, n in enumerate(_LENGTHS) for t in range(n - 1)]
  assert sorted(firsts) == expected


@_MANY_WORKERS
@pytest.mark.parametrize('num_workers', [0, 1, 3])
@pytest.mark.parametrize('batch_size', [None, 4])
def test_iterable_every_step_once(et, path, num_workers, batch_size):
  import torch  # pylint: disable=g-import-not-at-top

  dataset = et.StepIterableDataset(path, batch_size=batch_size, block_steps=6)
  if batch_size is None:
    loader = _loader(dataset, torch, batch_size=5, num_workers=num_workers, collate_fn=et.collate)
  else:
    loader = _loader(dataset, torch, batch_size=None, num_workers=num_workers)
  seen = []
  for batch in loader:
    assert torch.is_tensor(batch.timestep.reward)
    assert len(batch.timestep.reward) <= (batch_size or 5)
    positions = _positions(batch)
    reward = batch.timestep.reward.numpy()
    for (e, t), r in zip(positions, reward):  # Rows stay aligned across leaves.
      if t == 0:
        assert np.isnan(r)
      else:
        assert r == np.float32(t + e / 10)
    seen.extend(positions)
  counts = collections.Counter(seen)
  assert sorted(counts) == _all_positions()
  assert set(counts.values()) == {1}


def test_iterable_full_batches_and_drop_last(et, path):
  dataset = et.StepIterableDataset(path, batch_size=8, block_steps=5, drop_last=True)
  sizes = [len(b.timestep.step_type) for b in dataset]
  assert sizes == [8] * (sum(_LENGTHS) // 8)
  dataset = et.StepIterableDataset(path, batch_size=8, block_steps=5)
  sizes = [len(b.timestep.step_type) for b in dataset]
  assert sizes == [8] * (sum(_LENGTHS) // 8) + [sum(_LENGTHS) % 8]


def test_iterable_blocks_cover_the_steps(et, path):
  dataset = et.StepIterableDataset(path, block_steps=10)
  assert dataset.blocks() == [(0, 10), (10, 20), (20, 30), (30, 40), (40, 42)]
  assert dataset.num_steps == sum(_LENGTHS) == 42


def test_iterable_shuffle(et, path):
  def order(seed, epoch=None):
    dataset = et.StepIterableDataset(path, shuffle=True, block_steps=6, seed=seed)
    if epoch is not None:
      dataset.set_epoch(epoch)
    return [p for item in dataset for p in _positions(item)]

  first = order(seed=3)
  assert sorted(first) == _all_positions()
  assert first != _all_positions()
  assert order(seed=3) == first
  assert order(seed=4) != first
  assert sorted(order(seed=3, epoch=1)) == _all_positions()
  assert order(seed=3, epoch=1) != first


def test_iterable_in_spawned_worker(et, path):
  """A worker started with spawn gets the dataset by pickle: it carries no reader."""
  import torch  # pylint: disable=g-import-not-at-top

  dataset = et.StepIterableDataset(path, batch_size=16)
  next(iter(dataset))  # The parent has a reader open now.
  loader = _loader(dataset, torch, batch_size=None, num_workers=1, multiprocessing_context='spawn')
  seen = [p for batch in loader for p in _positions(batch)]
  assert seen == _all_positions()


def test_pickle_holds_only_the_path_and_options(et, path):
  dataset = et.StepDataset(path, seq_len=3)
  dataset[0]  # Opens a reader in this process.
  state = pickle.dumps(dataset)
  assert len(state) < 4096
  copy = pickle.loads(state)
  assert copy._lazy._reader is None  # pylint: disable=protected-access
  assert len(copy) == len(dataset)
  np.testing.assert_array_equal(
    copy[5].timestep.observation['pos'].numpy(), dataset[5].timestep.observation['pos'].numpy()
  )


def test_collate(et):
  import torch  # pylint: disable=g-import-not-at-top

  items = [
    {'x': torch.tensor([i, i]), 's': np.str_(f'a{i}'), 'none': None, 't': (i * 1.5,)}
    for i in range(3)
  ]
  batch = et.collate(items)
  assert torch.equal(batch['x'], torch.tensor([[0, 0], [1, 1], [2, 2]]))
  np.testing.assert_array_equal(batch['s'], ['a0', 'a1', 'a2'])
  assert batch['none'] is None
  np.testing.assert_array_equal(batch['t'][0], [0.0, 1.5, 3.0])
  with pytest.raises(ValueError, match='None in some items'):
    et.collate([{'x': None}, {'x': torch.tensor(1)}])
  with pytest.raises(ValueError, match='no items'):
    et.collate([])


def test_custom_data_none_stays_none(et, tmp_path):
  import torch  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'plain')
  varied_env.record(path, (3, 4), custom_data=False)
  dataset = et.StepDataset(path)
  assert dataset[0].custom_data is None
  batch = next(iter(_loader(dataset, torch, batch_size=7, collate_fn=et.collate)))
  assert batch.custom_data is None
  assert batch.timestep.observation['frame'].shape == (7, 3, 4)


def test_import_without_torch_names_the_extra():
  message = child_env.import_error_without('torch', 'envlogger.torch')
  assert 'envlogger.torch needs PyTorch: pip install envlogger[torch]' in message


def test_damaged_chunk_is_skipped_by_workers(et, tmp_path):
  import torch  # pylint: disable=g-import-not-at-top
  from envlogger.backends import backend_reader  # pylint: disable=g-import-not-at-top
  from envlogger.testing import damage_harness  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'damaged')
  varied_env.record(path, _LENGTHS, writer_options=_OPTIONS)
  [(steps_file, chunks)] = damage_harness.load_clean(path).step_chunks.items()
  assert len(chunks) >= 3, chunks
  begin, end, lost = chunks[len(chunks) // 2]
  damage_harness.flip_byte(os.path.join(path, steps_file), (begin + end) // 2, mask=0x5A)
  kept = [p for i, p in enumerate(_all_positions()) if i not in lost]  # Positions in order.

  dataset = et.StepIterableDataset(path, batch_size=4, block_steps=6)
  loader = _loader(dataset, torch, batch_size=None, num_workers=2)
  assert sorted(p for batch in loader for p in _positions(batch)) == kept
  steps = et.StepDataset(path)
  with pytest.raises(backend_reader.DamagedDataError, match='damaged chunk'):
    steps[lost[0]]
  assert _positions(et.collate([steps[lost[-1] + 1]])) == [_all_positions()[lost[-1] + 1]]


def _numpy_tree(tree):
  """A batch's tensors as numpy arrays (structure kept; None and numpy leaves as they are)."""
  import torch  # pylint: disable=g-import-not-at-top

  if isinstance(tree, dict):
    return {k: _numpy_tree(v) for k, v in tree.items()}
  if isinstance(tree, tuple) and hasattr(tree, '_fields'):
    return type(tree)(*(_numpy_tree(v) for v in tree))
  if isinstance(tree, (list, tuple)):
    return type(tree)(_numpy_tree(v) for v in tree)
  return tree.numpy() if isinstance(tree, torch.Tensor) else tree


def _concatenated(batches):
  """Batches (StepData of arrays) joined along the step axis."""

  def join(*leaves):
    return None if leaves[0] is None else np.concatenate(leaves)

  from envlogger import torch as et  # pylint: disable=g-import-not-at-top

  return et._map_structure(join, *batches)  # pylint: disable=protected-access


@_MANY_WORKERS
@pytest.mark.parametrize(
  'dataset', [d for d in upstream_fixtures.DATASETS if d not in ('all_types', 'empty')]
)
def test_upstream_fixtures(et, dataset):
  """Datasets written by upstream 1.3: every step as upstream's Reader returned it."""
  import torch  # pylint: disable=g-import-not-at-top

  want = upstream_fixtures.expected(dataset)
  # Two workers on the dataset of several shards; in-process elsewhere (fast).
  num_workers = 2 if dataset == 'multishard' else 0
  iterable = et.StepIterableDataset(
    os.path.join(upstream_fixtures.DIRECTORY, dataset), batch_size=16, block_steps=40
  )
  batches = [
    _numpy_tree(b) for b in _loader(iterable, torch, batch_size=None, num_workers=num_workers)
  ]
  got = _concatenated(batches)
  if num_workers:  # Workers interleave their batches: restore the dataset's order.
    order = np.argsort([s for b in batches for s in b.custom_data['step']], kind='stable')
    assert len(batches) > 1
  steps = want['steps']
  assert len(got.timestep.step_type) == want['num_steps']
  if num_workers:
    got = et._map_structure(lambda x: None if x is None else x[order], got)  # pylint: disable=protected-access
    steps = sorted(steps, key=lambda s: s[2]['step'])
  stacked.assert_stacked(got.timestep.step_type, [int(s[0].step_type) for s in steps], 'step_type')
  for field in ('reward', 'discount', 'observation'):
    stacked.assert_stacked(
      getattr(got.timestep, field), [getattr(s[0], field) for s in steps], field
    )
  stacked.assert_stacked(got.action, [s[1] for s in steps], 'action')
  stacked.assert_stacked(got.custom_data, [s[2] for s in steps], 'custom_data')


def test_upstream_fixtures_that_do_not_stack(et):
  empty = os.path.join(upstream_fixtures.DIRECTORY, 'empty')
  assert list(et.StepIterableDataset(empty, batch_size=4)) == []
  assert len(et.StepDataset(empty)) == 0
  all_types = et.StepIterableDataset(os.path.join(upstream_fixtures.DIRECTORY, 'all_types'))
  with pytest.raises(ValueError, match="'timestep/reward' changes between steps"):
    next(iter(all_types))


def _leaves(tree):
  """The leaves of a StepData of tensors/arrays as numpy arrays, in order (None kept)."""
  import torch  # pylint: disable=g-import-not-at-top

  if isinstance(tree, dict):
    return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
  if isinstance(tree, (list, tuple)):
    return [leaf for part in tree for leaf in _leaves(part)]
  return [tree.numpy() if isinstance(tree, torch.Tensor) else tree]


@pytest.mark.parametrize('seq_len', [None, 3])
def test_items_read_together_equal_items_read_alone(et, path, seq_len):
  dataset = et.StepDataset(path, seq_len=seq_len)
  indices = [5, 0, len(dataset) - 1, 5, -2]
  items = dataset.__getitems__(indices)
  assert len(items) == len(indices)
  batch = et.collate(items)
  for k, i in enumerate(indices):
    alone = _leaves(dataset[i])
    for got, want in zip(_leaves(items[k]), alone):
      np.testing.assert_array_equal(got, want)
      assert got.dtype == want.dtype
    for got, want in zip(_leaves(batch), alone):
      np.testing.assert_array_equal(got[k], want)
  with pytest.raises(IndexError, match='out of the range'):
    dataset.__getitems__([0, len(dataset)])


def test_damaged_chunk_in_a_batch_of_the_map_style_dataset(et, tmp_path):
  import torch  # pylint: disable=g-import-not-at-top
  from envlogger.backends import backend_reader  # pylint: disable=g-import-not-at-top
  from envlogger.testing import damage_harness  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'damaged')
  varied_env.record(path, _LENGTHS, writer_options=_OPTIONS)
  [(steps_file, chunks)] = damage_harness.load_clean(path).step_chunks.items()
  begin, end, lost = chunks[len(chunks) // 2]
  damage_harness.flip_byte(os.path.join(path, steps_file), (begin + end) // 2, mask=0x5A)
  dataset = et.StepDataset(path)
  loader = _loader(
    dataset, torch, batch_size=4, collate_fn=et.collate, sampler=[lost[-1] + 1, 0, lost[0], 1]
  )
  with pytest.raises(backend_reader.DamagedDataError, match=f'item {lost[0]} are in a damaged'):
    next(iter(loader))
  readable = _loader(dataset, torch, batch_size=2, collate_fn=et.collate, sampler=[lost[-1] + 1, 0])
  assert _positions(next(iter(readable))) == [_all_positions()[lost[-1] + 1], (0, 0)]


@_MANY_WORKERS
def test_dataset_whose_writer_is_still_running(et, tmp_path):
  """Workers read what the running writer has indexed (here: all it flushed)."""
  import torch  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'live')
  env = varied_env.VariedEnv(_LENGTHS)
  with envlogger.EnvLogger(env, data_directory=path, flush_scheduler=lambda data: True) as logged:
    for _ in range(3):
      timestep = logged.reset()
      while not timestep.last():
        timestep = logged.step(np.zeros(2, np.float32))
    logged.reset()  # The first step of a fourth episode.
    with envlogger.Reader(path) as reader:
      indexed = [
        (int(s.timestep.observation['pos'][1]), int(s.timestep.observation['pos'][0]))
        for s in reader.steps
      ]
    assert indexed[: sum(_LENGTHS[:3])] == _all_positions()[: sum(_LENGTHS[:3])]
    dataset = et.StepIterableDataset(path, batch_size=4, block_steps=5)
    loader = _loader(dataset, torch, batch_size=None, num_workers=2)
    assert sorted(p for batch in loader for p in _positions(batch)) == sorted(indexed)


def test_import_envlogger_needs_no_extra():
  """`import envlogger` and reading arrays import neither torch nor TensorFlow."""
  code = (
    'import sys\n'
    'import envlogger\n'
    'from envlogger.backends import step_windows, step_stacking\n'
    'print(sorted(m for m in ("torch", "tensorflow", "tensorflow_datasets")'
    ' if m in sys.modules))\n'
  )
  assert child_env.run_python(code).strip() == '[]'
