"""Tests of envlogger.tf.as_dataset: element specs and values, tfds.as_numpy.

Expected RLDS episodes are built here from the per-step Reader API
(`reader.episodes[i]`) by RLDS's rule (step i: observation and flags of
recorded step i, action/reward/discount of recorded step i + 1, zeros after
the last), not from the arrays API `as_dataset` reads with.
"""

import os

import dm_env
from dm_env import specs
import numpy as np
import pytest

import envlogger
from envlogger import step_data
from envlogger.backends import riegeli_backend_writer
from envlogger.backends import tfds_backend_testlib
from envlogger.testing import child_env
from envlogger.testing import catch_env
from envlogger.testing import stacked
from envlogger.testing import upstream_fixtures
from envlogger.testing import varied_env

_LENGTHS = (3, 7, 2, 12, 5)


@pytest.fixture(scope='module')
def tfds():
  return tfds_backend_testlib.require_tfds()


@pytest.fixture(scope='module')
def etf(tfds):
  del tfds  # Brings TensorFlow.
  import envlogger.tf as etf  # pylint: disable=g-import-not-at-top

  return etf


@pytest.fixture(scope='module')
def path(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('varied'))
  varied_env.record(
    path,
    _LENGTHS,
    metadata_missing=(2,),
    writer_options='transpose,brotli:6,chunk_size:512',
    max_episodes_per_file=2,
  )
  return path


def _expected_episodes(path):
  """RLDS episodes from the per-step API, as numpy (strings as bytes)."""
  episodes = []
  with envlogger.Reader(path) as reader:
    for i, episode in enumerate(reader.episodes):
      steps = list(episode)
      rows = []
      for j, step in enumerate(steps):
        following = steps[j + 1] if j + 1 < len(steps) else None
        last = step.timestep.step_type == dm_env.StepType.LAST
        rows.append(
          {
            'observation': step.timestep.observation,
            'action': following.action if following else np.zeros(2, np.float32),
            'reward': following.timestep.reward if following else np.float32(0),
            'discount': following.timestep.discount if following else np.float32(0),
            'is_first': step.timestep.step_type == dm_env.StepType.FIRST,
            'is_last': last,
            'is_terminal': bool(last and step.timestep.discount == 0),
            't': step.custom_data['t'],
            'tag': step.custom_data['tag'].encode(),
          }
        )
      metadata = reader.episode_metadata()[i]
      episodes.append(
        {
          'steps': rows,
          'score': metadata['score'] if metadata else 0.0,
          'name': metadata['name'].encode() if metadata else b'',
        }
      )
  return episodes


def _assert_rows_equal(got, rows):
  """`got` (stacked RLDS steps) equals the per-step `rows`, dtype for dtype."""
  for key in ('action', 'reward', 'discount', 'is_first', 'is_last', 'is_terminal', 't', 'tag'):
    want = np.array([row[key] for row in rows])
    np.testing.assert_array_equal(got[key], want, err_msg=key)
    if want.dtype.kind not in 'SU':
      assert got[key].dtype == want.dtype, key
  for key in ('pos', 'frame', 'flag'):
    want = np.array([row['observation'][key] for row in rows])
    np.testing.assert_array_equal(got['observation'][key], want, err_msg=key)
    assert got['observation'][key].dtype == want.dtype, key


def test_episode_specs(etf, path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  spec = etf.as_dataset(path).element_spec
  steps = {
    'observation': {
      'pos': tf.TensorSpec((None, 2), tf.int32),
      'frame': tf.TensorSpec((None, 3, 4), tf.uint8),
      'flag': tf.TensorSpec((None,), tf.bool),
    },
    'action': tf.TensorSpec((None, 2), tf.float32),
    'reward': tf.TensorSpec((None,), tf.float32),
    'discount': tf.TensorSpec((None,), tf.float32),
    'is_first': tf.TensorSpec((None,), tf.bool),
    'is_last': tf.TensorSpec((None,), tf.bool),
    'is_terminal': tf.TensorSpec((None,), tf.bool),
    't': tf.TensorSpec((None,), tf.int64),
    'tag': tf.TensorSpec((None,), tf.string),
  }
  assert spec == {
    'steps': steps,
    'score': tf.TensorSpec((), tf.float64),
    'name': tf.TensorSpec((), tf.string),
  }


def test_episode_values_with_tfds_as_numpy(etf, tfds, path):
  expected = _expected_episodes(path)
  got = list(tfds.as_numpy(etf.as_dataset(path)))
  assert len(got) == len(expected) == len(_LENGTHS)
  for episode, want in zip(got, expected):
    assert set(episode) == {'steps', 'score', 'name'}
    assert episode['name'] == want['name']  # b'' for the episode without metadata.
    assert episode['score'] == want['score']
    _assert_rows_equal(episode['steps'], want['steps'])
  # Both kinds of LAST step: terminated (even episodes) and truncated (odd).
  assert [bool(e['steps']['is_terminal'][-1]) for e in got] == [True, False, True, False, True]


def test_steps_level(etf, tfds, path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  dataset = etf.as_dataset(path, level='steps')
  assert dataset.element_spec['observation']['frame'] == tf.TensorSpec((3, 4), tf.uint8)
  assert dataset.element_spec['reward'] == tf.TensorSpec((), tf.float32)
  rows = [row for episode in _expected_episodes(path) for row in episode['steps']]
  got = list(tfds.as_numpy(dataset))
  assert len(got) == len(rows) == sum(_LENGTHS)
  assert set(got[0]) == set(dataset.element_spec)  # No episode metadata.
  stacked = {key: np.stack([g[key] for g in got]) for key in got[0] if key != 'observation'}
  stacked['observation'] = {
    key: np.stack([g['observation'][key] for g in got]) for key in got[0]['observation']
  }
  _assert_rows_equal(stacked, rows)
  # A tf.data pipeline over it: batches of 8 steps.
  batches = list(tfds.as_numpy(dataset.batch(8)))
  assert [len(b['reward']) for b in batches] == [8, 8, 8, 5]


def test_catch_without_custom_data(etf, tfds, tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'catch')
  rng = np.random.default_rng(0)
  with envlogger.EnvLogger(catch_env.Catch(), data_directory=path) as env:
    for _ in range(3):
      timestep = env.reset()
      while not timestep.last():
        timestep = env.step(int(rng.integers(3)))
  dataset = etf.as_dataset(path)
  assert dataset.element_spec == {
    'steps': {
      'observation': tf.TensorSpec((None, 10, 5), tf.float32),
      'action': tf.TensorSpec((None,), tf.int64),
      'reward': tf.TensorSpec((None,), tf.float64),
      'discount': tf.TensorSpec((None,), tf.float64),
      'is_first': tf.TensorSpec((None,), tf.bool),
      'is_last': tf.TensorSpec((None,), tf.bool),
      'is_terminal': tf.TensorSpec((None,), tf.bool),
    }
  }
  with envlogger.Reader(path) as reader:
    for episode, steps in zip(tfds.as_numpy(dataset), reader.episodes):
      steps = list(steps)
      np.testing.assert_array_equal(episode['steps']['action'], [s.action for s in steps[1:]] + [0])
      np.testing.assert_array_equal(
        episode['steps']['reward'], [s.timestep.reward for s in steps[1:]] + [0.0]
      )
      np.testing.assert_array_equal(
        episode['steps']['observation'], [s.timestep.observation for s in steps]
      )


def test_specs_from_values_without_environment_specs(etf, tfds, tmp_path):
  """A dataset written without an environment: specs come from the first episode."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'nospecs')
  writer = riegeli_backend_writer.RiegeliBackendWriter(path, metadata={'note': 'no env'})
  for e in range(2):
    for t in range(3):
      step_type = (
        dm_env.StepType.FIRST
        if t == 0
        else (dm_env.StepType.LAST if t == 2 else dm_env.StepType.MID)
      )
      timestep = dm_env.TimeStep(
        step_type, None if t == 0 else float(t), None if t == 0 else 1.0, np.array([e, t], np.int16)
      )
      writer.record_step(
        step_data.StepData(timestep, None if t == 0 else 'go', None), is_new_episode=t == 0
      )
  writer.close()
  dataset = etf.as_dataset(path)
  steps = dataset.element_spec['steps']
  assert steps['observation'] == tf.TensorSpec((None, 2), tf.int16)
  assert steps['action'] == tf.TensorSpec((None,), tf.string)
  assert steps['reward'] == tf.TensorSpec((None,), tf.float64)
  episodes = list(tfds.as_numpy(dataset))
  np.testing.assert_array_equal(episodes[1]['steps']['observation'], [[1, 0], [1, 1], [1, 2]])
  np.testing.assert_array_equal(episodes[1]['steps']['action'], [b'go', b'go', b''])
  np.testing.assert_array_equal(episodes[1]['steps']['reward'], [1.0, 2.0, 0.0])
  np.testing.assert_array_equal(episodes[1]['steps']['is_terminal'], [False, False, False])


class _LyingEnv(varied_env.VariedEnv):
  """Declares 3-element actions but is given 2-element ones."""

  def action_spec(self):
    return specs.Array((3,), np.float32, name='action')


def test_values_that_contradict_the_specs_name_the_field(etf, tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'lying')
  with envlogger.EnvLogger(_LyingEnv((3,)), data_directory=path) as env:
    env.reset()
    env.step(np.zeros(2, np.float32))
    env.step(np.zeros(2, np.float32))
  dataset = etf.as_dataset(path)
  with pytest.raises(
    (ValueError, tf.errors.InvalidArgumentError),
    match=r"episode 0: steps\['action'\] has shape \(3, 2\), expected ",
  ):
    list(dataset)


def test_bad_level(etf, path):
  with pytest.raises(ValueError, match="level must be one of .* got 'step'"):
    etf.as_dataset(path, level='step')


def test_missing_directory(etf, tmp_path):
  with pytest.raises(RuntimeError, match='nowhere'):
    etf.as_dataset(str(tmp_path / 'nowhere'))


def test_import_without_tensorflow_names_the_extra():
  message = child_env.import_error_without('tensorflow', 'envlogger.tf')
  assert 'envlogger.tf needs TensorFlow: pip install envlogger[tf]' in message


def _upstream_rlds_episodes(want):
  """RLDS episodes (lists of per-step values) of what upstream's Reader returned."""
  _, action_spec, reward_spec, discount_spec = want['specs']

  def shifted(values, spec):
    return values[1:] + [np.zeros(spec.shape, spec.dtype)]

  # An episode without metadata has zeros (b'' for strings) in the fields the others have.
  some = next(m for m in want['episode_metadata'] if m is not None)
  zeros = {k: b'' if isinstance(v, str) else np.zeros_like(v) for k, v in some.items()}
  episodes = []
  for i, (start, num_steps) in enumerate(want['episodes']):
    steps = want['steps'][start : start + num_steps]
    types = [s[0].step_type for s in steps]
    rows = {
      'observation': [s[0].observation for s in steps],
      'action': shifted([s[1] for s in steps], action_spec),
      'reward': shifted([s[0].reward for s in steps], reward_spec),
      'discount': shifted([s[0].discount for s in steps], discount_spec),
      'is_first': [t == dm_env.StepType.FIRST for t in types],
      'is_last': [t == dm_env.StepType.LAST for t in types],
      'is_terminal': [
        t == dm_env.StepType.LAST and s[0].discount == 0 for t, s in zip(types, steps)
      ],
    }
    for key in steps[0][2] or {}:
      rows[key] = [s[2][key] for s in steps]
    metadata = want['episode_metadata'][i]
    episodes.append((rows, zeros if metadata is None else metadata))
  return episodes


@pytest.mark.parametrize(
  'dataset', [d for d in upstream_fixtures.DATASETS if d not in ('all_types', 'empty')]
)
def test_upstream_fixtures(etf, tfds, dataset):
  """Datasets written by upstream 1.3: RLDS episodes of what upstream's Reader returned."""
  want = upstream_fixtures.expected(dataset)
  got = list(tfds.as_numpy(etf.as_dataset(os.path.join(upstream_fixtures.DIRECTORY, dataset))))
  expected = _upstream_rlds_episodes(want)
  assert len(got) == len(expected) == want['num_episodes']
  for i, (episode, (rows, metadata)) in enumerate(zip(got, expected)):
    assert set(episode) == {'steps', *metadata}, i
    for key, value in metadata.items():
      if isinstance(value, (str, bytes)):  # tf.string comes back as bytes.
        assert episode[key] == (value.encode() if isinstance(value, str) else value), (i, key)
      else:
        assert episode[key] == value and episode[key].dtype == np.asarray(value).dtype, (i, key)
    assert set(episode['steps']) == set(rows), i
    for key, values in rows.items():
      stacked.assert_stacked(episode['steps'][key], values, f'episode {i} {key}')


def test_upstream_fixtures_that_do_not_stack(etf, tfds):
  empty = etf.as_dataset(os.path.join(upstream_fixtures.DIRECTORY, 'empty'), level='steps')
  assert list(tfds.as_numpy(empty)) == []
  with pytest.raises(ValueError, match="'timestep/reward' changes between steps"):
    etf.as_dataset(os.path.join(upstream_fixtures.DIRECTORY, 'all_types'))


@pytest.mark.parametrize('run_steps', [1, 10])
def test_episodes_read_in_runs_of_any_size(etf, tfds, path, monkeypatch, run_steps):
  """Episodes are read several at a time; where the runs split changes nothing."""
  monkeypatch.setattr(etf, '_RUN_STEPS', run_steps)
  expected = _expected_episodes(path)
  got = list(tfds.as_numpy(etf.as_dataset(path)))
  assert len(got) == len(expected)
  for episode, want in zip(got, expected):
    _assert_rows_equal(episode['steps'], want['steps'])
  rows = [row for episode in expected for row in episode['steps']]
  batches = list(tfds.as_numpy(etf.as_dataset(path, level='steps').batch(29)))
  assert len(batches) == 1
  _assert_rows_equal(batches[0], rows)


def test_damaged_chunk_is_skipped(etf, tfds, tmp_path):
  from envlogger.testing import damage_harness  # pylint: disable=g-import-not-at-top

  path = str(tmp_path / 'damaged')
  varied_env.record(path, _LENGTHS, writer_options='transpose,brotli:6,chunk_size:512')
  [(steps_file, chunks)] = damage_harness.load_clean(path).step_chunks.items()
  assert len(chunks) >= 3, chunks
  begin, end, lost = chunks[len(chunks) // 2]
  damage_harness.flip_byte(os.path.join(path, steps_file), (begin + end) // 2, mask=0x5A)
  positions = [(e, t) for e, n in enumerate(_LENGTHS) for t in range(n)]
  kept = [p for i, p in enumerate(positions) if i not in lost]

  steps = list(tfds.as_numpy(etf.as_dataset(path, level='steps')))
  assert [tuple(s['observation']['pos'][::-1]) for s in steps] == kept
  episodes = list(tfds.as_numpy(etf.as_dataset(path)))
  assert len(episodes) == len(_LENGTHS)  # An episode keeps the steps that could be read.
  assert [len(e['steps']['is_first']) for e in episodes] == [
    sum(1 for e, _ in kept if e == i) for i in range(len(_LENGTHS))
  ]
  for i, episode in enumerate(episodes):
    assert [e for _, e in episode['steps']['observation']['pos']] == [i] * len(
      episode['steps']['is_first']
    )
