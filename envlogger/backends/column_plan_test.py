"""Tests of the native columnar path of step_arrays / sample (column_plan.py).

The expected arrays are built here from the per-step API (`reader.steps`)
with np.stack and a by-hand None rule, never with the code under test. Each
test also checks that the native path was taken (a plan exists and
`ColumnPlan.read` decodes the steps), so a silent fallback to per-step
stacking cannot make it pass.
"""

import os
import shutil

import dm_env
import hypothesis
import numpy as np
import pytest

import envlogger
from envlogger import _native
from envlogger.backends import column_plan
from envlogger.testing import catch_env
from envlogger.testing import damage_harness
from envlogger.testing import dtypes
from envlogger.testing import lengths_env
from envlogger.testing import stacked
from envlogger.testing import upstream_fixtures

# Episode lengths of the typed dataset.
_LENGTHS = (4, 1, 7, 3, 9, 2)

# Every dtype the native decoder writes, as observation leaves.
_DTYPES = dtypes.NUMERIC_DTYPES


class _TypedEnv(lengths_env.LengthsEnv):
  """Observations with a leaf of every native dtype, nested, scalar and shaped."""

  mid_discount = 0.25

  def __init__(self):
    super().__init__(_LENGTHS)

  def observation(self):
    t = self.t + 10 * self.episode
    leaves = {np.dtype(d).name: np.arange(t, t + 6).reshape(2, 3).astype(d) for d in _DTYPES}
    return {
      'typed': leaves,
      'scalars': (np.float32(t / 3), np.int16(-t), np.uint64(2**63 + t), np.bool_(t % 2)),
      'nested': ([{'x': np.full((1, 2, 1), -t, np.int32)}], (np.float64(t),)),
      'negative': np.array([-t, -(2**62)], np.int64),
    }

  def transition_reward(self):
    return np.float32(-self.t)

  def action_spec(self):
    return dm_env.specs.Array((2,), np.float32)


def _record_typed(path, writer_options=None):
  counter = iter(range(10**6))
  step_fn = lambda ts, action, env: {'index': next(counter), 'weight': 0.5, 'flag': True}
  kwargs = {} if writer_options is None else {'writer_options': writer_options}
  with envlogger.EnvLogger(_TypedEnv(), data_directory=path, step_fn=step_fn, **kwargs) as env:
    for length in _LENGTHS:
      env.reset()
      for a in range(max(length - 1, 0)):
        env.step(np.array([a, -a], np.float32))


def _assert_stacks(arrays, steps, dataset=()):
  """`arrays` equals the per-step `steps` (of `dataset`) stacked by hand."""
  timestep = arrays.timestep
  stacked.assert_tree_equal(
    timestep.step_type, np.array([int(s.timestep.step_type) for s in steps], np.int64), 'step_type'
  )
  for name in ('reward', 'discount', 'observation'):
    get = lambda s: getattr(s.timestep, name)  # pylint: disable=cell-var-from-loop
    stacked.assert_tree_equal(
      getattr(timestep, name),
      stacked.stack_by_hand([get(s) for s in steps], [get(s) for s in dataset]),
      name,
    )
  stacked.assert_tree_equal(
    arrays.action,
    stacked.stack_by_hand([s.action for s in steps], [s.action for s in dataset]),
    'action',
  )
  stacked.assert_tree_equal(
    arrays.custom_data,
    stacked.stack_by_hand([s.custom_data for s in steps], [s.custom_data for s in dataset]),
    'custom_data',
  )


def _native_read(reader, indices, descending=False):
  """Steps `indices` decoded by the native path only (fails if it declines)."""
  backend = reader._backend  # pylint: disable=protected-access
  plan = backend._column_plan()  # pylint: disable=protected-access
  assert plan is not None, 'the native path declined the dataset'
  result = plan.read(backend._reader, np.asarray(indices, np.int64), descending)  # pylint: disable=protected-access
  assert result is not None, 'the native path declined the steps'
  return result


@pytest.fixture(name='typed', scope='module')
def _typed(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('typed') / 'd')
  _record_typed(path, 'transpose,zstd:1,chunk_size:4k')
  return path


def test_every_dtype_equals_the_per_step_api(typed):
  with envlogger.Reader(typed) as reader:
    steps = list(reader.steps)
    assert len(steps) == sum(_LENGTHS)
    native, readable = _native_read(reader, range(len(steps)))
    assert readable.all()
    _assert_stacks(native, steps)
    _assert_stacks(reader.step_arrays(), steps)
    assert np.isnan(native.timestep.reward[0]) and native.timestep.reward.dtype == np.float32
    assert native.custom_data['index'].dtype == np.int64  # Python ints.
    assert native.custom_data['weight'].dtype == np.float64  # Python floats.
    assert native.custom_data['flag'].dtype == np.bool_


def test_ranges_episodes_and_unordered_indices(typed):
  with envlogger.Reader(typed) as reader:
    steps = list(reader.steps)
    n = len(steps)
    for start, stop in ((0, 1), (3, 17), (-5, None), (n - 1, n), (7, 7)):
      _assert_stacks(reader.step_arrays(start, stop), steps[start:stop], steps)
    starts = np.cumsum((0,) + _LENGTHS)
    for i in (0, 1, 2, -1, -len(_LENGTHS)):
      j = i % len(_LENGTHS)
      _assert_stacks(reader.episode_arrays(i), steps[starts[j] : starts[j + 1]], steps)
    order = [25, 3, 3, 0, n - 1, 12]
    for descending in (False, True):
      native, _ = _native_read(reader, order, descending)
      _assert_stacks(native, [steps[i] for i in order])


def test_sample_rows_are_windows_of_the_dataset(typed):
  with envlogger.Reader(typed) as reader:
    steps = list(reader.steps)
    episode_of = np.repeat(np.arange(len(_LENGTHS)), _LENGTHS)
    batch = reader.sample(64, seq_len=3, seed=7)
    index = batch.custom_data['index']
    assert index.shape == (64, 3)
    np.testing.assert_array_equal(index[:, 1:] - index[:, :-1], 1)  # Consecutive steps...
    assert (episode_of[index[:, 0]] == episode_of[index[:, -1]]).all()  # ...of one episode.
    flat = [steps[i] for i in index.reshape(-1)]
    expected = stacked.stack_by_hand([s.timestep.observation for s in flat])
    actual = batch.timestep.observation
    stacked.assert_tree_equal(
      actual['typed'], {k: v.reshape((64, 3) + v.shape[1:]) for k, v in expected['typed'].items()}
    )
    again = reader.sample(64, seq_len=3, seed=7)
    np.testing.assert_array_equal(again.custom_data['index'], index)


def test_a_leaf_that_changes_names_path_and_step(tmp_path):
  path = str(tmp_path / 'd')
  # Beyond the steps the plan is learned from, so the native path meets it.
  changed = 100
  counter = iter(range(10**6))
  step_fn = lambda ts, a, e: np.zeros(3 if next(counter) == changed else 2)
  with envlogger.EnvLogger(catch_env.Catch(seed=1), data_directory=path, step_fn=step_fn) as logged:
    for _ in range(20):
      timestep = logged.reset()
      while not timestep.last():
        timestep = logged.step(np.int64(1))
  with envlogger.Reader(path) as reader:
    steps = list(reader.steps)
    assert len(steps) > changed + 1
    native, _ = _native_read(reader, range(changed))
    _assert_stacks(native, steps[:changed])
    backend = reader._backend  # pylint: disable=protected-access
    plan = backend._column_plan()  # pylint: disable=protected-access
    assert plan.read(backend._reader, np.arange(len(steps))) is None  # pylint: disable=protected-access
    with pytest.raises(ValueError, match=rf"'custom_data'.* step {changed} has shape \(3,\)"):
      reader.step_arrays()
    arrays = reader.step_arrays(ragged='custom_data')
    assert isinstance(arrays.custom_data, list) and len(arrays.custom_data) == len(steps)
    np.testing.assert_array_equal(arrays.custom_data[changed], np.zeros(3))
    _assert_stacks(reader.step_arrays(changed + 1), steps[changed + 1 :])


@pytest.mark.parametrize(
  'dataset', [d for d in upstream_fixtures.DATASETS if d not in ('all_types', 'empty')]
)
def test_upstream_fixtures(dataset):
  with envlogger.Reader(os.path.join(upstream_fixtures.DIRECTORY, dataset)) as reader:
    steps = list(reader.steps)
    native, readable = _native_read(reader, range(len(steps)))
    assert readable.all()
    _assert_stacks(native, steps)
    _assert_stacks(reader.step_arrays(), steps)


def test_damaged_chunk_is_skipped_as_by_iteration(tmp_path):
  clean_path = str(tmp_path / 'clean')
  env = catch_env.Catch(seed=3)
  counter = iter(range(10**6))
  with envlogger.EnvLogger(
    env,
    data_directory=clean_path,
    step_fn=lambda ts, a, e: next(counter),
    writer_options='transpose,brotli:6,chunk_size:2k',
  ) as logged:
    for _ in range(40):
      timestep = logged.reset()
      while not timestep.last():
        timestep = logged.step(np.int64(0))
  clean = damage_harness.load_clean(clean_path)
  rel, chunks = next(
    (rel, chunks) for rel, chunks in sorted(clean.step_chunks.items()) if len(chunks) >= 3
  )
  begin, unused_end, lost = chunks[len(chunks) // 2]
  path = str(tmp_path / 'damaged')
  shutil.copytree(clean_path, path)
  damage_harness.flip_byte(os.path.join(path, rel), begin + 30, mask=0x5A)
  with envlogger.Reader(path) as iterated:
    kept = list(iterated.steps)
    expected_regions = iterated.skipped_regions()
  assert len(kept) == len(clean.steps) - len(lost)
  with envlogger.Reader(path) as reader:
    native, readable = _native_read(reader, range(len(clean.steps)), descending=True)
    np.testing.assert_array_equal(np.flatnonzero(~readable), lost)
    _assert_stacks(native, kept)
    assert reader.skipped_regions() == expected_regions
  with envlogger.Reader(path) as reader:
    _assert_stacks(reader.step_arrays(), kept)
    assert reader.skipped_regions() == expected_regions
    batch = reader.sample(200, seq_len=2, seed=0)
    assert batch.custom_data.shape == (200, 2)
    assert not np.isin(batch.custom_data, lost).any()


def test_plan_declines_what_it_cannot_express():
  step = lambda obs: envlogger.StepData(dm_env.restart(obs), None, None)
  assert column_plan.ColumnPlan.from_reference([]) is None
  assert column_plan.ColumnPlan.from_reference([step('text')]) is None  # str leaf.
  assert column_plan.ColumnPlan.from_reference([step({1: np.int32(0)})]) is None  # Non-str key.
  assert column_plan.ColumnPlan.from_reference([step(np.zeros(2, np.complex64))]) is None
  assert column_plan.ColumnPlan.from_reference([step({'a': np.zeros(2, np.float32)})]) is not None


# Layouts of the Hypothesis steps: ('leaf', dtype, shape) for numpy arrays,
# numpy scalars (shape None) and Python scalars (dtype int / float / bool);
# ('list', [layout, ...]), ('tuple', [layout, ...]) and dicts of layouts.
_SHAPES = ((), (0,), (3,), (2, 0), (2, 3))
_st = hypothesis.strategies


def _leaf_layouts():
  arrays = _st.tuples(_st.just('leaf'), _st.sampled_from(_DTYPES), _st.sampled_from(_SHAPES))
  numpy_scalars = _st.tuples(_st.just('leaf'), _st.sampled_from(_DTYPES), _st.none())
  python_scalars = _st.tuples(_st.just('leaf'), _st.sampled_from((int, float, bool)), _st.none())
  return _st.one_of(arrays, numpy_scalars, python_scalars)


def _layouts():
  keys = _st.text('abcxyz', min_size=1, max_size=3)
  return _st.recursive(
    _leaf_layouts(),
    lambda children: _st.one_of(
      _st.dictionaries(keys, children, min_size=1, max_size=3),
      # The codec wants lists of one element type: repeat one leaf layout.
      _st.tuples(_leaf_layouts(), _st.integers(1, 3)).map(lambda x: ('list', [x[0]] * x[1])),
      _st.lists(children, min_size=1, max_size=3).map(lambda xs: ('tuple', xs)),
    ),
    max_leaves=6,
  )


def _value(layout, rng):
  """A random value of `layout`."""
  if isinstance(layout, dict):
    return {k: _value(v, rng) for k, v in layout.items()}
  if layout[0] == 'list':
    return [_value(v, rng) for v in layout[1]]
  if layout[0] == 'tuple':
    return tuple(_value(v, rng) for v in layout[1])
  _, dtype, shape = layout
  if dtype in (int, float, bool):
    return {
      int: int(rng.integers(-(2**40), 2**40)),
      float: float(rng.normal()),
      bool: bool(rng.integers(2)),
    }[dtype]
  dtype = np.dtype(dtype)
  size = int(np.prod(shape or ()))
  if dtype.kind == 'f':
    values = rng.normal(size=size) * 1e3
  elif dtype.kind == 'b':
    values = rng.integers(0, 2, size)
  else:
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)
  array = values.astype(dtype).reshape(shape or ())
  return array[()] if shape is None else array


@hypothesis.settings(
  max_examples=40,
  deadline=None,
  suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
  layout=_layouts(),
  action_layout=_leaf_layouts(),
  seed=hypothesis.strategies.integers(0, 2**32 - 1),
  lengths=hypothesis.strategies.lists(hypothesis.strategies.integers(1, 4), min_size=1, max_size=3),
)
def test_generated_steps_equal_the_per_step_api(tmp_path, layout, action_layout, seed, lengths):
  rng = np.random.default_rng(seed)
  path = str(tmp_path / f'h{seed}_{len(os.listdir(tmp_path))}')
  with envlogger.EnvLogger(
    _ScriptedEnv(lambda: _value(layout, rng), lengths),
    data_directory=path,
    step_fn=lambda ts, a, e: _value(layout, rng),
  ) as env:
    for length in lengths:
      env.reset()
      for _ in range(length - 1):
        env.step(_value(action_layout, rng))
  with envlogger.Reader(path) as reader:
    steps = list(reader.steps)
    assert len(steps) == sum(lengths)
    native, readable = _native_read(reader, range(len(steps)))
    assert readable.all()
    _assert_stacks(native, steps)
    _assert_stacks(reader.step_arrays(), steps)


class _ScriptedEnv(dm_env.Environment):
  """Episodes of `lengths` steps whose observations `make` returns."""

  def __init__(self, make, lengths):
    self._make = make
    self._lengths = list(lengths)
    self._t = 0
    self._length = 0

  def reset(self):
    self._t = 0
    self._length = self._lengths.pop(0)
    return dm_env.restart(self._make())

  def step(self, action):
    self._t += 1
    if self._t >= self._length - 1:
      return dm_env.TimeStep(dm_env.StepType.LAST, np.float32(1), np.float32(0), self._make())
    return dm_env.transition(np.float32(0.5), self._make(), np.float32(1))

  def observation_spec(self):
    return {}

  def action_spec(self):
    return {}


def test_a_dataset_whose_writer_is_running(tmp_path):
  path = str(tmp_path / 'live')
  with envlogger.EnvLogger(catch_env.Catch(seed=2), data_directory=path) as env:
    for _ in range(5):
      timestep = env.reset()
      while not timestep.last():
        timestep = env.step(np.int64(2))
    env._backend.flush()  # pylint: disable=protected-access
    env.reset()
    env.step(np.int64(0))  # Not flushed: not indexed yet.
    with envlogger.Reader(path) as reader:
      steps = list(reader.steps)
      assert steps
      native, readable = _native_read(reader, range(len(steps)))
      assert readable.all()
      _assert_stacks(native, steps)
      _assert_stacks(reader.step_arrays(), steps)
      batch = reader.sample(16, seq_len=2, seed=0)
      assert batch.timestep.observation.shape == (16, 2, 10, 5)


def test_read_columns_rejects_bad_arguments(typed):
  with envlogger.Reader(typed) as reader:
    native = reader._backend._reader  # pylint: disable=protected-access
    indices = np.arange(2, dtype=np.int64)
    good = lambda: [('<f4', False, np.zeros((2,), np.float32), np.zeros(2, np.uint8))]
    readable = np.ones(2, np.uint8)
    with pytest.raises(ValueError, match='unsupported leaf dtype <c8'):
      native.read_columns(
        indices,
        ('leaf', 0),
        [('<c8', False, np.zeros(2, np.complex64), np.zeros(2, np.uint8))],
        readable,
      )
    with pytest.raises(ValueError, match='one row per index'):
      native.read_columns(
        indices,
        ('leaf', 0),
        [('<f4', False, np.zeros(3, np.float32), np.zeros(2, np.uint8))],
        readable,
      )
    with pytest.raises(TypeError, match='writable C-contiguous'):
      native.read_columns(
        indices,
        ('leaf', 0),
        [('<f4', False, np.zeros((2, 2), np.float32)[:, 0], np.zeros(2, np.uint8))],
        readable,
      )
    with pytest.raises(ValueError, match='plan names leaf 3 of 1'):
      native.read_columns(indices, ('leaf', 3), good(), readable)
    with pytest.raises(ValueError, match='unknown plan node set'):
      native.read_columns(indices, ('set', []), good(), readable)
    with pytest.raises(ValueError, match='readable holds 1 bytes, expected 2'):
      native.read_columns(indices, ('leaf', 0), good(), np.ones(1, np.uint8))
    with pytest.raises(TypeError, match='Expected an envlogger._native.dataset_io'):
      _native.step_columns.read_columns(object(), indices, ('leaf', 0), good(), readable)
