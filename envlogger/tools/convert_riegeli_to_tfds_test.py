"""convert_riegeli_to_tfds against real TFDS and the Riegeli backend."""

import time

from absl import flags
from absl.testing import flagsaver
import dm_env
from dm_env import specs
import envlogger
from envlogger.backends import in_memory_backend
from envlogger.backends import tfds_backend_testlib as testlib
from envlogger.testing import catch_env
import numpy as np
import pytest


@pytest.fixture(name='tfds', scope='module')
def _tfds():
  return testlib.require_tfds()


@pytest.fixture(name='r2t', scope='module')
def _r2t(tfds):
  del tfds
  from envlogger.tools import convert_riegeli_to_tfds  # pylint: disable=g-import-not-at-top

  return convert_riegeli_to_tfds


def _record_riegeli_catch(data_dir, num_episodes, seed=0):
  """Records Catch into a Riegeli dataset; float64 wall-clock timestamps."""
  episode = {'n': -1}

  def episode_fn(timestep, unused_action, unused_env):
    if timestep.first():
      episode['n'] += 1
    return {'episode_id': np.int64(episode['n']), 'tag': f'ep{episode["n"]}'}

  with envlogger.EnvLogger(
    catch_env.Catch(seed=seed),
    data_directory=data_dir,
    metadata={'agent_type': 'random'},
    step_fn=lambda *unused: {'timestamp': time.time()},
    episode_fn=episode_fn,
  ) as env:
    testlib.run_catch(env, num_episodes, seed)


def _read(tfds, tfds_dir, split='train'):
  builder = tfds.builder_from_directory(tfds_dir)
  episodes = [
    {**ep, 'steps': list(ep['steps'])} for ep in tfds.as_numpy(builder.as_dataset(split=split))
  ]
  return builder, episodes


def test_catch_riegeli_dataset_to_tfds(tfds, r2t, tmp_path):
  riegeli_dir, tfds_dir = str(tmp_path / 'riegeli'), str(tmp_path / 'tfds')
  _record_riegeli_catch(riegeli_dir, num_episodes=3)
  with envlogger.Reader(riegeli_dir) as reader:
    assert r2t.convert_reader_to_tfds(reader, tfds_dir, 'catch') == 3
    recorded = [list(e) for e in reader.episodes]
    recorded_metadata = list(reader.episode_metadata())
  builder, episodes = _read(tfds, tfds_dir)
  assert builder.info.name == 'catch'
  step_features = builder.info.features['steps'].feature
  assert step_features['observation'].shape == (10, 5)
  assert step_features['observation'].np_dtype == np.float32
  assert step_features['action'].np_dtype == np.int64
  assert step_features['reward'].np_dtype == np.float64
  assert len(episodes) == 3
  placeholders = {'action': np.int64(0), 'reward': np.float64(0), 'discount': np.float64(0)}
  for e, (got, want) in enumerate(zip(episodes, recorded)):
    expected = testlib.expected_rlds_steps(want, placeholders)
    assert len(got['steps']) == len(expected) == 10
    for i, (g, w) in enumerate(zip(got['steps'], expected)):
      testlib.assert_step_equal(g, w, f'episode {e} step {i}')
      # float64 survives exactly (tf.train.Example alone keeps float32).
      assert g['timestamp'].dtype == np.float64
    assert got['episode_id'] == recorded_metadata[e]['episode_id'] == e
    assert got['tag'] == f'ep{e}'.encode()
  metadata = builder.info.metadata
  assert metadata['agent_type'] == 'random'
  assert metadata['environment_specs']['action_spec']['num_values'] == 3


class _NestedEnv(dm_env.Environment):
  """Two-step episodes with a nested observation including text."""

  def __init__(self, observation_spec=None):
    self._t = 0
    self._spec = observation_spec or {
      'pos': specs.Array((2,), np.float32),
      'inner': {'name': specs.StringArray(()), 'flags': specs.Array((3,), np.bool_)},
    }

  def _obs(self):
    return {
      'pos': np.array([self._t, -self._t], np.float32),
      'inner': {'name': f'state {self._t}', 'flags': np.array([self._t % 2 == 0, True, False])},
    }

  def reset(self):
    self._t = 0
    return dm_env.restart(self._obs())

  def step(self, action):
    self._t += 1
    if self._t == 2:
      return dm_env.termination(np.float32(1.0), self._obs())
    return dm_env.transition(np.float32(0.5), self._obs(), np.float32(0.9))

  def observation_spec(self):
    return self._spec

  def action_spec(self):
    return specs.BoundedArray((2,), np.int32, -1, 1)

  def reward_spec(self):
    return specs.Array((), np.float32)

  def discount_spec(self):
    return specs.Array((), np.float32)


def _in_memory_reader(env, num_episodes, custom_data=None):
  holder = []

  def make_backend(**kwargs):
    holder.append(in_memory_backend.InMemoryBackendWriter(**kwargs))
    return holder[-1]

  logger = envlogger.EnvLogger(
    env, backend=make_backend, step_fn=(lambda *unused: custom_data) if custom_data else None
  )
  for _ in range(num_episodes):
    timestep = logger.reset()
    while not timestep.last():
      timestep = logger.step(np.array([1, -1], np.int32))
  return envlogger.Reader(holder[0], backend=envlogger.BackendType.IN_MEMORY)


def test_nested_specs_from_an_in_memory_reader(tfds, r2t, tmp_path):
  reader = _in_memory_reader(_NestedEnv(), num_episodes=2)
  config = r2t.dataset_config_from_reader(reader, 'nested')
  assert isinstance(config.observation_info, tfds.features.FeaturesDict)
  assert isinstance(config.observation_info['inner']['name'], tfds.features.Text)
  assert config.step_metadata_info is None
  assert config.episode_metadata_info is None
  r2t.convert_reader_to_tfds(reader, str(tmp_path), ds_config=config)
  _, episodes = _read(tfds, str(tmp_path))
  assert len(episodes) == 2
  steps = episodes[1]['steps']
  assert [bool(s['is_last']) for s in steps] == [False, False, True]
  assert [bool(s['is_terminal']) for s in steps] == [False, False, True]
  for t, step in enumerate(steps):
    np.testing.assert_array_equal(step['observation']['pos'], [t, -t])
    assert step['observation']['inner']['name'] == f'state {t}'.encode()
    np.testing.assert_array_equal(step['observation']['inner']['flags'], [t % 2 == 0, True, False])
  np.testing.assert_array_equal(steps[0]['action'], [1, -1])
  np.testing.assert_array_equal(steps[2]['action'], [0, 0])
  assert steps[2]['action'].dtype == np.int32
  assert [float(s['reward']) for s in steps] == [0.5, 1.0, 0.0]
  assert [float(s['discount']) for s in steps] == pytest.approx([0.9, 0, 0])


def test_tuple_specs_have_no_feature(r2t):
  env = _NestedEnv(observation_spec=(specs.Array((), np.float32),))
  reader = _in_memory_reader(env, num_episodes=1)
  with pytest.raises(ValueError, match=r'observation_spec: tuple specs have no RLDS'):
    r2t.dataset_config_from_reader(reader, 'x')


def test_non_str_keys_and_unknown_values_are_named(r2t):
  with pytest.raises(ValueError, match=r"custom\['a'\]: key 3 is not a str"):
    r2t.feature_from_value({'a': {3: 1}}, 'custom')
  with pytest.raises(ValueError, match=r"custom\['a'\]: None has no"):
    r2t.feature_from_value({'a': None}, 'custom')
  with pytest.raises(ValueError, match=r'custom: list of mixed'):
    r2t.feature_from_value([1, 'a'], 'custom')
  with pytest.raises(ValueError, match=r'custom: list of mixed'):
    r2t.feature_from_value([None, 2], 'custom')


def test_feature_from_value(tfds, r2t):
  feature = r2t.feature_from_value(
    {
      'flag': True,
      'count': 3,
      'score': 0.25,
      'name': 'x',
      'blob': b'\x00',
      'vec': [1.5, 2.5],
      'u': np.uint64(7),
      'f': np.zeros((2, 3), np.float16),
    }
  )
  assert feature['flag'].np_dtype == np.bool_
  assert feature['count'].np_dtype == np.int64
  assert feature['score'].np_dtype == np.float64
  assert isinstance(feature['name'], tfds.features.Text)
  assert feature['blob'].np_dtype == np.object_
  assert feature['vec'].shape == (2,)
  assert feature['u'].np_dtype == np.uint64
  assert feature['f'].shape == (2, 3) and feature['f'].np_dtype == np.float16
  # Exactness needs raw bytes for float64/uint64; float16 fits tf.Example.
  assert feature['score']._encoding == tfds.features.Encoding.BYTES  # pylint: disable=protected-access
  assert feature['u']._encoding == tfds.features.Encoding.BYTES  # pylint: disable=protected-access
  assert feature['f']._encoding == tfds.features.Encoding.NONE  # pylint: disable=protected-access


def test_non_dict_episode_metadata_is_rejected(r2t):
  writer = in_memory_backend.InMemoryBackendWriter()
  logger = envlogger.EnvLogger(
    catch_env.Catch(), backend=writer, episode_fn=lambda *unused: 'not a dict'
  )
  testlib.run_catch(logger, 1, 0)
  reader = envlogger.Reader(writer, backend=envlogger.BackendType.IN_MEMORY)
  with pytest.raises(ValueError, match='episode metadata of type str'):
    r2t.dataset_config_from_reader(reader, 'x')


def test_empty_dataset_raises(r2t):
  reader = envlogger.Reader(
    in_memory_backend.InMemoryBackendWriter(), backend=envlogger.BackendType.IN_MEMORY
  )
  with pytest.raises(ValueError, match='the dataset has no steps'):
    r2t.dataset_config_from_reader(reader, 'x')


def test_main_cli(tfds, r2t, tmp_path):
  riegeli_dir, tfds_dir = str(tmp_path / 'riegeli'), str(tmp_path / 'tfds')
  _record_riegeli_catch(riegeli_dir, num_episodes=2)
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver(
    riegeli_dir=riegeli_dir,
    tfds_output_dir=tfds_dir,
    dataset_name='catch_cli',
    output_split='test',
    max_episodes_per_file=1,
  ):
    r2t.main(['convert_riegeli_to_tfds'])
  builder, episodes = _read(tfds, tfds_dir, split='test')
  assert builder.info.name == 'catch_cli'
  assert builder.info.splits['test'].shard_lengths == [1, 1]
  assert [len(e['steps']) for e in episodes] == [10, 10]
