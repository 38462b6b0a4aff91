"""Tests of GymnasiumLogger: recording Gymnasium environments."""

import os
import shutil
import subprocess
import sys
import tempfile

from absl.testing import absltest
from dm_env import specs
import dm_env
import gymnasium
from gymnasium import spaces
import numpy as np

import envlogger
from envlogger.converters import gym_spaces
from envlogger.testing import gym_toy_envs


def _assert_tree_equal(test, expected, actual, path='value'):
  """Same nested structure (dict/tuple) and equal arrays/scalars."""
  if isinstance(expected, dict):
    test.assertIsInstance(actual, dict, path)
    test.assertEqual(list(expected), list(actual), path)
    for key in expected:
      _assert_tree_equal(test, expected[key], actual[key], f'{path}[{key!r}]')
  elif isinstance(expected, tuple):
    test.assertIsInstance(actual, tuple, path)
    test.assertLen(actual, len(expected), path)
    for i, (e, a) in enumerate(zip(expected, actual)):
      _assert_tree_equal(test, e, a, f'{path}[{i}]')
  else:
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    test.assertEqual(expected.dtype, actual.dtype, path)
    np.testing.assert_array_equal(expected, actual, err_msg=path)


def _run_episode(env, seed=None, policy=None):
  """Runs one episode; returns what the env returned, call by call."""
  observation, info = env.reset(seed=seed)
  calls = [(observation, None, None, False, False, info)]
  while True:
    action = policy(len(calls)) if policy else env.action_space.sample()
    observation, reward, terminated, truncated, info = env.step(action)
    calls.append((observation, action, reward, terminated, truncated, info))
    if terminated or truncated:
      return calls


class GymnasiumLoggerTest(absltest.TestCase):
  def setUp(self):
    super().setUp()
    self.directory = self._tempdir()

  def _tempdir(self) -> str:
    directory = tempfile.TemporaryDirectory()
    self.addCleanup(directory.cleanup)
    return directory.name

  def test_steps_match_what_the_env_returned(self):
    env = gym_toy_envs.CountingEnv()
    env.action_space.seed(1)
    episodes = []
    with envlogger.GymnasiumLogger(env, data_directory=self.directory) as logger:
      for seed in (1, 2, None):
        episodes.append(_run_episode(logger, seed=seed))
    with envlogger.Reader(self.directory) as reader:
      self.assertLen(reader.episodes, 3)
      for calls, episode in zip(episodes, reader.episodes):
        self.assertLen(episode, len(calls))
        for k, (call, step) in enumerate(zip(calls, episode)):
          observation, action, reward, terminated, _, _ = call
          ts = step.timestep
          np.testing.assert_array_equal(ts.observation, observation)
          if k == 0:
            self.assertEqual(ts.step_type, dm_env.StepType.FIRST)
            self.assertIsNone(ts.reward)
            self.assertIsNone(ts.discount)
            self.assertIsNone(step.action)
          else:
            self.assertEqual(
              ts.step_type, dm_env.StepType.LAST if k == len(calls) - 1 else dm_env.StepType.MID
            )
            self.assertEqual(ts.reward, reward)
            self.assertEqual(np.asarray(ts.reward).dtype, np.float64)
            self.assertEqual(ts.discount, 0.0 if terminated else 1.0)
            self.assertEqual(step.action, action)
          self.assertIsNone(step.custom_data)
      self.assertEqual(reader.episode_metadata()[0], {'seed': 1})
      self.assertEqual(reader.episode_metadata()[1], {'seed': 2})
      self.assertIsNone(reader.episode_metadata()[2])

  def test_terminated_and_truncated(self):
    # Episodes of 5 steps, cut at 3 (truncated) or left whole (terminated).
    def make(limit):
      return gymnasium.wrappers.TimeLimit(
        gym_toy_envs.CountingEnv(min_length=5, max_length=5), limit
      )

    for limit, terminated in ((3, False), (10, True)):
      directory = self._tempdir()
      with envlogger.GymnasiumLogger(make(limit), data_directory=directory) as logger:
        calls = _run_episode(logger, seed=0)
      self.assertEqual(calls[-1][3], terminated)
      self.assertEqual(calls[-1][4], not terminated)
      with envlogger.Reader(directory) as reader:
        steps = list(reader.steps)
      self.assertLen(steps, 4 if limit == 3 else 6)
      self.assertEqual([s.timestep.step_type for s in steps], [0] + [1] * (len(steps) - 2) + [2])
      self.assertEqual(
        [s.timestep.discount for s in steps[1:]],
        [1.0] * (len(steps) - 2) + [0.0 if terminated else 1.0],
      )

  def test_every_space_type_nested(self):
    observation_space = spaces.Dict(
      {
        'box': spaces.Box(-2.0, np.array([1.0, np.inf]), dtype=np.float64),
        'discrete': spaces.Discrete(5),
        'shifted': spaces.Discrete(3, start=-1),
        'multi': spaces.MultiDiscrete([[2, 3], [4, 5]]),
        'binary': spaces.MultiBinary(4),
        'nested': spaces.Tuple(
          (
            spaces.Box(0, 255, (2, 2), np.uint8),
            spaces.Dict({'inner': spaces.MultiBinary([2, 2])}),
          )
        ),
      }
    )
    action_space = spaces.Tuple((spaces.Discrete(2), spaces.Box(-1, 1, (2,), np.float32)))
    env = gym_toy_envs.CountingEnv(observation_space=observation_space, action_space=action_space)
    env.action_space.seed(0)
    with envlogger.GymnasiumLogger(env, data_directory=self.directory) as logger:
      calls = _run_episode(logger, seed=3)
    with envlogger.Reader(self.directory) as reader:
      steps = list(reader.steps)
      observation_spec = reader.observation_spec()
      action_spec = reader.action_spec()
      reward_spec = reader.reward_spec()
      discount_spec = reader.discount_spec()
    self.assertLen(steps, len(calls))
    for call, step in zip(calls, steps):
      _assert_tree_equal(self, call[0], step.timestep.observation)
      if call[1] is not None:
        _assert_tree_equal(self, call[1], step.action)
    expected = {
      'box': specs.BoundedArray((2,), np.float64, [-2.0, -2.0], [1.0, np.inf]),
      'discrete': specs.DiscreteArray(5, dtype=np.int64),
      'shifted': specs.BoundedArray((), np.int64, -1, 1),
      'multi': specs.BoundedArray((2, 2), np.int64, 0, [[1, 2], [3, 4]]),
      'binary': specs.BoundedArray((4,), np.int8, 0, 1),
      'nested': (
        specs.BoundedArray((2, 2), np.uint8, 0, 255),
        {'inner': specs.BoundedArray((2, 2), np.int8, 0, 1)},
      ),
    }
    self._assert_specs_equal(expected, observation_spec)
    self._assert_specs_equal(
      (specs.DiscreteArray(2, dtype=np.int64), specs.BoundedArray((2,), np.float32, -1, 1)),
      action_spec,
    )
    self._assert_specs_equal(specs.Array((), np.float64), reward_spec)
    self._assert_specs_equal(specs.BoundedArray((), np.float64, 0, 1), discount_spec)
    self.assertEqual(
      observation_spec['nested'][1]['inner'].name, "observation_space['nested'][1]['inner']"
    )

  def _assert_specs_equal(self, expected, actual, path='spec'):
    if isinstance(expected, dict):
      self.assertEqual(sorted(expected), sorted(actual), path)
      for key in expected:
        self._assert_specs_equal(expected[key], actual[key], f'{path}[{key!r}]')
      return
    if isinstance(expected, tuple):
      self.assertLen(actual, len(expected), path)
      for i, (e, a) in enumerate(zip(expected, actual)):
        self._assert_specs_equal(e, a, f'{path}[{i}]')
      return
    self.assertIs(type(actual), type(expected), path)
    self.assertEqual(actual.shape, expected.shape, path)
    self.assertEqual(actual.dtype, expected.dtype, path)
    if isinstance(expected, specs.BoundedArray):
      np.testing.assert_array_equal(
        np.broadcast_to(actual.minimum, expected.shape),
        np.broadcast_to(expected.minimum, expected.shape),
        path,
      )
      np.testing.assert_array_equal(
        np.broadcast_to(actual.maximum, expected.shape),
        np.broadcast_to(expected.maximum, expected.shape),
        path,
      )
    if isinstance(expected, specs.DiscreteArray):
      self.assertEqual(actual.num_values, expected.num_values, path)

  def test_seeded_episode_replays(self):
    env = gym_toy_envs.CountingEnv(min_length=4, max_length=12)
    env.action_space.seed(7)
    with envlogger.GymnasiumLogger(env, data_directory=self.directory) as logger:
      for seed in (11, 12):
        _run_episode(logger, seed=seed)
    with envlogger.Reader(self.directory) as reader:
      for episode, metadata in zip(reader.episodes, reader.episode_metadata()):
        replay = gym_toy_envs.CountingEnv(min_length=4, max_length=12)
        observation, _ = replay.reset(seed=metadata['seed'])
        np.testing.assert_array_equal(observation, episode[0].timestep.observation)
        for step in episode[1:]:
          observation, reward, terminated, _, _ = replay.step(step.action)
          np.testing.assert_array_equal(observation, step.timestep.observation)
          self.assertEqual(reward, step.timestep.reward)
        self.assertTrue(terminated)

  def test_reset_options_and_episode_fn_merge(self):
    def episode_fn(timestep, action, env):
      del action
      self.assertIsInstance(env, gym_toy_envs.CountingEnv)
      return {'length': env._t} if timestep.last() else None

    with envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(), episode_fn=episode_fn, data_directory=self.directory
    ) as logger:
      logger.reset(seed=4, options={'level': 2})
      while not logger.step(0)[2]:
        pass
      calls = _run_episode(logger)
    with envlogger.Reader(self.directory) as reader:
      metadata = list(reader.episode_metadata())
      first_length = len(reader.episodes[0]) - 1
    self.assertEqual(metadata[0], {'seed': 4, 'options': {'level': 2}, 'length': first_length})
    self.assertEqual(metadata[1], {'length': len(calls) - 1})

  def test_episode_fn_key_clash_and_non_dict(self):
    with envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(),
      episode_fn=lambda *_: {'seed': 'mine'},
      data_directory=self.directory,
    ) as logger:
      with self.assertRaisesRegex(ValueError, r"keys \['seed'\]"):
        logger.reset(seed=1)
    directory = self._tempdir()
    with envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(), episode_fn=lambda *_: 42, data_directory=directory
    ) as logger:
      logger.reset(seed=1)
    with envlogger.Reader(directory) as reader:
      self.assertEqual(reader.episode_metadata()[0], {'seed': 1, 'episode_fn': 42})

  def test_info_filter_keys_and_callable(self):
    for info_filter, expected in (
      (['noise'], lambda info: {'noise': info['noise']}),
      (['t', 'absent'], lambda info: {'t': info['t']}),
      (lambda info: info['t'] * 10, lambda info: info['t'] * 10),
    ):
      directory = self._tempdir()
      with envlogger.GymnasiumLogger(
        gym_toy_envs.CountingEnv(), info_filter=info_filter, data_directory=directory
      ) as logger:
        calls = _run_episode(logger, seed=5)
      with envlogger.Reader(directory) as reader:
        stored = [step.custom_data for step in reader.steps]
      self.assertEqual(stored, [{'info': expected(call[5])} for call in calls])

  def test_info_filter_with_step_fn(self):
    step_fn = lambda timestep, action, env: int(timestep.step_type)
    with envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(min_length=1, max_length=1),
      info_filter=['t'],
      step_fn=step_fn,
      data_directory=self.directory,
    ) as logger:
      _run_episode(logger)
    with envlogger.Reader(self.directory) as reader:
      self.assertEqual(
        [s.custom_data for s in reader.steps],
        [{'info': {'t': 0}, 'step_fn': 0}, {'info': {'t': 1}, 'step_fn': 2}],
      )

  def test_in_memory_backend(self):
    logger = envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(), backend=envlogger.BackendType.IN_MEMORY
    )
    calls = _run_episode(logger, seed=0)
    backend = logger._logger._backend  # pylint: disable=protected-access
    reader = envlogger.Reader(backend, backend=envlogger.BackendType.IN_MEMORY)
    self.assertLen(reader.steps, len(calls))
    logger.close()

  def test_unsupported_spaces_name_the_path(self):
    for space, path in (
      (spaces.Graph(spaces.Box(0, 1, (2,)), None), 'observation_space'),
      (
        spaces.Dict({'a': spaces.Tuple((spaces.Discrete(2), spaces.Text(5)))}),
        r"observation_space\['a'\]\[1\]",
      ),
      (spaces.Sequence(spaces.Discrete(2)), 'observation_space'),
    ):
      env = gym_toy_envs.CountingEnv(observation_space=space)
      with self.assertRaisesRegex(
        gym_spaces.UnsupportedSpaceError,
        f'Cannot record {path}: '
        + type(space if path == 'observation_space' else spaces.Text(5)).__name__,
      ):
        envlogger.GymnasiumLogger(env, data_directory=self.directory)

  def test_step_before_reset_after_end_and_after_close(self):
    logger = envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(min_length=1, max_length=1), data_directory=self.directory
    )
    with self.assertRaisesRegex(RuntimeError, r'step\(\) needs a reset\(\)'):
      logger.step(0)
    logger.reset()
    logger.step(0)  # Ends the episode.
    with self.assertRaisesRegex(RuntimeError, r'needs a reset\(\)'):
      logger.step(0)
    logger.close()
    logger.close()  # Idempotent.
    with self.assertRaisesRegex(RuntimeError, r'step\(\) after close\(\)'):
      logger.step(0)
    with self.assertRaisesRegex(RuntimeError, r'reset\(\) after close\(\)'):
      logger.reset()
    with envlogger.Reader(self.directory) as reader:
      self.assertLen(reader.steps, 2)

  def test_bad_info_filter(self):
    for bad in ('t', 3, [1]):
      with self.assertRaisesRegex(TypeError, 'info_filter'):
        envlogger.GymnasiumLogger(
          gym_toy_envs.CountingEnv(), info_filter=bad, data_directory=self.directory
        )

  def test_unencodable_info_is_a_clear_error(self):
    with envlogger.GymnasiumLogger(
      gym_toy_envs.CountingEnv(), info_filter=lambda info: object(), data_directory=self.directory
    ) as logger:
      with self.assertRaisesRegex(TypeError, 'Cannot record custom_data'):
        logger.reset()

  def test_import_envlogger_does_not_import_gymnasium(self):
    code = (
      'import sys, envlogger; assert "gymnasium" not in sys.modules; '
      'envlogger.GymnasiumLogger; assert "gymnasium" in sys.modules'
    )
    subprocess.run([sys.executable, '-c', code], check=True)


class _ScriptedEnv(gymnasium.Env):
  """Replays scripted step() results (whatever their types); reset gives obs 0."""

  metadata = {'render_modes': []}

  def __init__(self, results):
    self.observation_space = spaces.Dict(
      {'frame': spaces.Box(0, 255, (4, 3), np.uint8), 'x': spaces.Box(-9, 9, (2,), np.float64)}
    )
    self.action_space = spaces.Discrete(3)
    self._results = results
    self._t = 0

  def reset(self, *, seed=None, options=None):
    super().reset(seed=seed)
    return self.observation(0), {}

  @staticmethod
  def observation(t):
    return {'frame': np.full((4, 3), t, np.uint8), 'x': np.array([t, -t], np.float64)}

  def step(self, action):
    result = self._results[self._t % len(self._results)]
    self._t += 1
    return result


class GymnasiumLoggerNativePathTest(absltest.TestCase):
  """step() without step_fn/info_filter/episode_fn hands the result to native code."""

  # Rewards of every type float() takes, flags of numpy's bool type, and the
  # three endings: terminated, truncated, both.
  _OBS = _ScriptedEnv.observation
  _RESULTS = [
    (_OBS(1), 0.5, False, False, {}),
    (_OBS(2), np.float32(0.25), np.bool_(False), np.bool_(False), {'a': 1}),
    (_OBS(3), 7, False, False, {}),
    (_OBS(4), True, False, False, {}),
    (_OBS(5), np.float64(-1.5), np.bool_(True), False, {}),
    (_OBS(6), np.int64(3), False, np.bool_(True), {}),
    (_OBS(7), -2.0, True, True, {}),
  ]
  # Steps per episode: an episode ends at results 4, 5 and 6.
  _EPISODES = [5, 1, 1]

  def _record(self, directory, **kwargs):
    logger = envlogger.GymnasiumLogger(
      _ScriptedEnv(self._RESULTS), data_directory=directory, **kwargs
    )
    with logger:
      for length in self._EPISODES:
        logger.reset(seed=length)
        for _ in range(length):
          logger.step(1)
      return logger

  def test_same_bytes_as_the_general_path(self):
    native_dir = tempfile.mkdtemp()
    general_dir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, native_dir)
    self.addCleanup(shutil.rmtree, general_dir)
    native = self._record(native_dir)
    # A step_fn returning None stores the same custom data (None) through
    # EnvLogger's general path.
    general = self._record(general_dir, step_fn=lambda timestep, action, env: None)
    self.assertIsNotNone(native._record_gym)  # pylint: disable=protected-access
    self.assertIsNone(general._record_gym)  # pylint: disable=protected-access
    (native_shard,) = [d for d in os.listdir(native_dir) if d != 'metadata.riegeli']
    (general_shard,) = [d for d in os.listdir(general_dir) if d != 'metadata.riegeli']
    names = sorted(os.listdir(os.path.join(native_dir, native_shard)))
    self.assertEqual(names, sorted(os.listdir(os.path.join(general_dir, general_shard))))
    for name in names:
      with open(os.path.join(native_dir, native_shard, name), 'rb') as f:
        native_bytes = f.read()
      with open(os.path.join(general_dir, general_shard, name), 'rb') as f:
        self.assertEqual(native_bytes, f.read(), name)
    # And what was stored is what the env returned, by the rule of the docs.
    with envlogger.Reader(native_dir) as reader:
      steps = [step for episode in reader.episodes for step in list(episode)[1:]]
    expected = [
      (float(r), 2 if (te or tr) else 1, 0.0 if te else 1.0, o) for o, r, te, tr, _ in self._RESULTS
    ]
    self.assertLen(steps, len(expected))
    for step, (reward, step_type, discount, observation) in zip(steps, expected):
      self.assertEqual(step.timestep.reward, reward)
      self.assertIsInstance(step.timestep.reward, float)
      self.assertEqual(int(step.timestep.step_type), step_type)
      self.assertEqual(step.timestep.discount, discount)
      np.testing.assert_array_equal(step.timestep.observation['frame'], observation['frame'])
      np.testing.assert_array_equal(step.timestep.observation['x'], observation['x'])
      self.assertEqual(step.action, 1)

  def test_a_list_result_is_recorded_by_the_general_path(self):
    directory = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, directory)
    result = [_ScriptedEnv.observation(9), 1.5, True, False, {}]
    with envlogger.GymnasiumLogger(_ScriptedEnv([result]), data_directory=directory) as logger:
      logger.reset()
      self.assertIs(logger.step(2), result)
      with self.assertRaisesRegex(RuntimeError, r'needs a reset\(\)'):
        logger.step(2)
    with envlogger.Reader(directory) as reader:
      (episode,) = reader.episodes
      last = list(episode)[1]
    self.assertEqual((last.timestep.step_type, last.timestep.reward), (dm_env.StepType.LAST, 1.5))
    self.assertEqual(last.timestep.discount, 0.0)

  def test_unencodable_step_is_a_clear_error_and_records_nothing(self):
    directory = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, directory)
    bad = ({'frame': object(), 'x': np.zeros(2)}, 1.0, False, False, {})
    good = (_ScriptedEnv.observation(1), 2.0, True, False, {})
    with envlogger.GymnasiumLogger(_ScriptedEnv([bad, good]), data_directory=directory) as logger:
      logger.reset()
      with self.assertRaisesRegex(TypeError, r'Cannot record timestep.observation.*object'):
        logger.step(0)
      with self.assertRaisesRegex(TypeError, 'float'):
        logger._record_gym((_ScriptedEnv.observation(1), None, False, False, {}), 0)  # pylint: disable=protected-access
      logger.step(0)
    with envlogger.Reader(directory) as reader:
      rewards = [step.timestep.reward for step in reader.steps]
    self.assertEqual(rewards, [None, 2.0])


if __name__ == '__main__':
  absltest.main()
