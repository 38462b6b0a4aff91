"""Tests of Reader.step_arrays / episode_arrays / sample / batches.

Every backend must give the same arrays; the expected values are built here
from the per-step API with a plain loop (not with the code under test).
"""

import dm_env
import numpy as np
import pytest

import envlogger
from envlogger.backends import in_memory_backend
from envlogger.testing import lengths_env
from envlogger.testing import stacked

# Episode lengths of the dataset of most tests: a 1-step episode, short ones
# and longer ones.
_LENGTHS = (5, 1, 3, 8, 2, 6)


class _CountingEnv(lengths_env.LengthsEnv):
  """Episodes of _LENGTHS; observation and step_fn data tell where a step is."""

  mid_discount = 0.5

  def __init__(self):
    super().__init__(_LENGTHS)

  def observation(self):
    return {
      'pos': np.array([self.episode, self.t], np.int32),
      'frame': np.full((2, 3), self.t, np.uint8),
      'nested': (np.float32(self.t), [np.int64(self.episode), np.int64(1)], True),
    }

  def action_spec(self):
    return dm_env.specs.Array((), np.int64)


def _record(backend, **kwargs):
  """Records every episode of _LENGTHS; returns what Reader needs."""
  writer = None

  def factory(**writer_kwargs):
    nonlocal writer
    writer = in_memory_backend.InMemoryBackendWriter(**writer_kwargs)
    return writer

  counter = iter(range(10**6))
  step_fn = lambda ts, action, env: {'index': next(counter), 'label': 'x' * (action or 0)}
  if backend == 'riegeli':
    data_dir = kwargs['tmp_path']
    logger = envlogger.EnvLogger(_CountingEnv(), data_directory=str(data_dir), step_fn=step_fn)
  else:
    logger = envlogger.EnvLogger(_CountingEnv(), backend=factory, step_fn=step_fn)
  with logger as env:
    for length in _LENGTHS:
      env.reset()
      # Episodes of length 1 are a FIRST step only (never stepped).
      for a in range(max(length - 1, 0)):
        env.step(np.int64(a % 3))
  if backend == 'riegeli':
    return envlogger.Reader(str(data_dir))
  return envlogger.Reader(writer, backend=envlogger.BackendType.IN_MEMORY)


@pytest.fixture(params=['in_memory', 'riegeli'])
def reader(request, tmp_path):
  r = _record(request.param, tmp_path=tmp_path)
  yield r
  r.close()


def _expected_step_arrays(steps, dataset):
  fields = {
    'step_type': lambda s: s.timestep.step_type,
    'reward': lambda s: s.timestep.reward,
    'discount': lambda s: s.timestep.discount,
    'observation': lambda s: s.timestep.observation,
    'action': lambda s: s.action,
    'custom_index': lambda s: s.custom_data['index'],
  }
  return {
    k: stacked.stack_by_hand([f(s) for s in steps], [f(s) for s in dataset])
    for k, f in fields.items()
  }


def _check_equal(arrays, steps, dataset):
  expected = _expected_step_arrays(steps, dataset)
  stacked.assert_tree_equal(arrays.timestep.step_type, expected['step_type'])
  stacked.assert_tree_equal(arrays.timestep.reward, expected['reward'])
  stacked.assert_tree_equal(arrays.timestep.discount, expected['discount'])
  stacked.assert_tree_equal(arrays.timestep.observation, expected['observation'])
  stacked.assert_tree_equal(arrays.action, expected['action'])
  stacked.assert_tree_equal(arrays.custom_data['index'], expected['custom_index'])


def test_step_arrays_equal_the_per_step_api(reader):
  steps = list(reader.steps)
  assert len(steps) == sum(_LENGTHS)
  arrays = reader.step_arrays(ragged='custom_data/label')
  _check_equal(arrays, steps, steps)
  assert arrays.timestep.step_type.dtype == np.int64
  assert np.isnan(arrays.timestep.reward[0]) and arrays.timestep.reward.dtype == np.float32
  assert arrays.action[0] == 0 and arrays.action.dtype == np.int64
  assert arrays.custom_data['label'] == [s.custom_data['label'] for s in steps]


def test_step_arrays_ranges(reader):
  steps = list(reader.steps)
  n = len(steps)
  for start, stop in ((0, 1), (3, 9), (-4, None), (n - 1, n), (2, -2)):
    arrays = reader.step_arrays(start, stop, ragged=['custom_data/label'])
    _check_equal(arrays, steps[slice(start, stop)], steps)


def test_empty_range_keeps_the_layout(reader):
  arrays = reader.step_arrays(4, 4, ragged=('custom_data/label',))
  assert arrays.timestep.observation['frame'].shape == (0, 2, 3)
  assert arrays.timestep.observation['frame'].dtype == np.uint8
  assert arrays.timestep.reward.shape == (0,) and arrays.timestep.reward.dtype == np.float32
  assert arrays.custom_data['label'] == []


def test_all_none_leaf_takes_the_layout_of_the_dataset(reader):
  # Episode 1 is a single FIRST step: reward, discount and action are None.
  arrays = reader.episode_arrays(1, ragged='custom_data/label')
  assert arrays.timestep.reward.dtype == np.float32
  assert np.isnan(arrays.timestep.reward).all() and arrays.timestep.reward.shape == (1,)
  np.testing.assert_array_equal(arrays.action, np.zeros(1, np.int64))


def test_episode_arrays(reader):
  starts = np.cumsum((0,) + _LENGTHS)
  for i in range(-len(_LENGTHS), len(_LENGTHS)):
    e = i % len(_LENGTHS)
    arrays = reader.episode_arrays(i, ragged='custom_data/label')
    _check_equal(arrays, list(reader.episodes[i]), list(reader.steps))
    np.testing.assert_array_equal(arrays.custom_data['index'], np.arange(starts[e], starts[e + 1]))
  with pytest.raises(IndexError, match='out of the range'):
    reader.episode_arrays(len(_LENGTHS))


def test_changing_leaf_names_path_and_step(reader):
  # custom_data/label is '' then 'x', 'xx': '<U0', '<U1'... are one str dtype,
  # so it stacks; observation/frame changes in no step. A changing shape:
  with pytest.raises(ValueError, match=r"ragged names no part of the steps: \['nothing/here'\]"):
    reader.step_arrays(ragged='nothing/here')
  labels = reader.step_arrays().custom_data['label']
  assert labels.dtype == np.dtype('<U2')


def test_bad_arguments(reader):
  n = len(reader.steps)
  with pytest.raises(ValueError, match='start=5 is after stop=2'):
    reader.step_arrays(5, 2)
  with pytest.raises(IndexError, match=f'stop={n + 1} is out of the range'):
    reader.step_arrays(0, n + 1)
  with pytest.raises(TypeError, match='start must be an int'):
    reader.step_arrays(1.5)
  with pytest.raises(ValueError, match='batch_size must be at least 1, got 0'):
    reader.sample(0)
  with pytest.raises(ValueError, match='seq_len must be at least 1, got -1'):
    reader.sample(2, seq_len=-1)
  with pytest.raises(
    ValueError,
    match=r'seq_len=9 is longer than every episode \(the longest '
    r'has 8 steps\)',
  ):
    reader.sample(2, seq_len=9)
  with pytest.raises(ValueError, match='seq_len=9 is longer than every episode'):
    next(reader.batches(2, seq_len=9))
  with pytest.raises(TypeError, match='batch_size must be an int'):
    reader.sample(2.0)


def _window_ok(batch, seq_len, starts, lengths):
  index = batch.custom_data['index']
  assert index.shape[1] == seq_len
  for row in index:
    assert (np.diff(row) == 1).all()
    episode = np.searchsorted(starts, row[0], side='right') - 1
    assert row[-1] < starts[episode] + lengths[episode]


@pytest.mark.parametrize('seq_len', [1, 3, 8])
def test_sample_shapes_and_windows(reader, seq_len):
  starts = np.cumsum((0,) + _LENGTHS)[:-1]
  batch = reader.sample(16, seq_len=seq_len, seed=3, ragged='custom_data/label')
  assert batch.timestep.observation['frame'].shape == (16, seq_len, 2, 3)
  assert batch.timestep.reward.shape == (16, seq_len)
  assert batch.timestep.observation['nested'][1][0].shape == (16, seq_len)
  assert len(batch.custom_data['label']) == 16
  assert all(len(row) == seq_len for row in batch.custom_data['label'])
  _window_ok(batch, seq_len, starts, _LENGTHS)
  # Every row equals the per-step API at those indices.
  steps = list(reader.steps)
  for b in range(16):
    rows = [steps[i] for i in batch.custom_data['index'][b]]
    expected = stacked.stack_by_hand([s.timestep.observation for s in rows])
    stacked.assert_tree_equal(
      {k: v[b] for k, v in batch.timestep.observation.items() if k != 'nested'},
      {k: v for k, v in expected.items() if k != 'nested'},
    )
    assert batch.custom_data['label'][b] == [s.custom_data['label'] for s in rows]


def test_sample_is_uniform_over_windows(reader):
  # seq_len=6 fits in episodes of 8 (3 windows) and 6 (1 window): window
  # first steps must be these 4, each about a quarter of the draws.
  starts = np.cumsum((0,) + _LENGTHS)[:-1]
  firsts = reader.sample(4000, seq_len=6, seed=1).custom_data['index'][:, 0]
  allowed = [starts[3], starts[3] + 1, starts[3] + 2, starts[5]]
  values, counts = np.unique(firsts, return_counts=True)
  assert list(values) == allowed
  assert (np.abs(counts - 1000) < 150).all(), counts


def test_sample_seeds(reader):
  a = reader.sample(32, seq_len=2, seed=7).custom_data['index']
  b = reader.sample(32, seq_len=2, seed=7).custom_data['index']
  c = reader.sample(32, seq_len=2, seed=8).custom_data['index']
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  rng = np.random.default_rng(7)
  d = reader.sample(32, seq_len=2, seed=rng).custom_data['index']
  e = reader.sample(32, seq_len=2, seed=rng).custom_data['index']
  np.testing.assert_array_equal(a, d)
  assert not np.array_equal(d, e)


@pytest.mark.parametrize('seq_len,batch_size', [(1, 4), (2, 5), (5, 3)])
def test_batches_cover_every_window_once(reader, seq_len, batch_size):
  starts = np.cumsum((0,) + _LENGTHS)[:-1]
  expected = sorted(s + o for s, n in zip(starts, _LENGTHS) for o in range(n - seq_len + 1))
  batches = list(reader.batches(batch_size, seq_len=seq_len, seed=0))
  firsts = np.concatenate([b.custom_data['index'][:, 0] for b in batches])
  assert sorted(firsts) == expected
  assert all(len(b.custom_data['index']) == batch_size for b in batches[:-1])
  for b in batches:
    _window_ok(b, seq_len, starts, _LENGTHS)
  again = np.concatenate(
    [b.custom_data['index'][:, 0] for b in reader.batches(batch_size, seq_len=seq_len, seed=0)]
  )
  np.testing.assert_array_equal(firsts, again)
  dropped = list(reader.batches(batch_size, seq_len=seq_len, seed=0, drop_last=True))
  assert all(len(b.custom_data['index']) == batch_size for b in dropped)
  assert len(dropped) == len(expected) // batch_size


def test_read_windows_reads_the_windows_asked_for(reader):
  starts = np.cumsum((0,) + _LENGTHS)[:-1]
  windows = reader.windows(3)
  assert windows.seq_len == 3
  # Windows of 3 steps begin wherever 3 steps of one episode follow.
  firsts = np.array([starts[0], starts[3] + 5, starts[0] + 2, starts[2]], np.int64)
  batch, damaged = reader.read_windows(windows, firsts)
  assert not damaged.any() and damaged.shape == (4,)
  np.testing.assert_array_equal(batch.custom_data['index'], firsts[:, None] + np.arange(3))
  steps = list(reader.steps)
  expected = stacked.stack_by_hand([steps[i].timestep.observation['frame'] for i in firsts + 1])
  np.testing.assert_array_equal(batch.timestep.observation['frame'][:, 1], expected)
  with pytest.raises(ValueError, match='seq_len'):
    reader.windows(0)
