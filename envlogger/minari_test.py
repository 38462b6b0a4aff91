"""Tests of envlogger.minari against the real `minari` package.

Every Minari dataset lives in a temporary MINARI_DATASETS_PATH. Expected values
come from the trajectories the environments returned (kept by the test as
they happened), or from arrays the test builds itself, never from the code
under test.
"""

import os
from unittest import mock

from absl.testing import absltest
import dm_env
from dm_env import specs
import gymnasium
from gymnasium import spaces
import minari
from minari.data_collector.episode_buffer import EpisodeBuffer
import numpy as np

import envlogger
from envlogger import minari as envlogger_minari
from envlogger.testing import child_env
from envlogger.testing import catch_env
from envlogger.testing import gym_toy_envs
from envlogger.testing import minari_case

_AUTHORSHIP = dict(
  author='envlogger tests',
  author_email='tests@example.com',
  algorithm_name='random',
  code_permalink='https://example.com',
  description='test dataset',
)


def _run_episode(env, seed=None):
  """One episode with random actions; the env's returns, call by call."""
  observation, info = env.reset(seed=seed)
  calls = [(observation, None, None, False, False, info)]
  while True:
    action = env.action_space.sample()
    observation, reward, terminated, truncated, info = env.step(action)
    calls.append((observation, action, reward, terminated, truncated, info))
    if terminated or truncated:
      return calls


def _stacked(values):
  """Per-step values stacked leaf by leaf (dicts and tuples kept)."""
  if isinstance(values[0], dict):
    return {key: _stacked([v[key] for v in values]) for key in values[0]}
  if isinstance(values[0], tuple):
    return tuple(_stacked([v[i] for v in values]) for i in range(len(values[0])))
  return np.stack([np.asarray(v) for v in values])


class MinariTestCase(minari_case.MinariRootTestCase):
  def setUp(self):
    super().setUp()
    self.ours = os.path.join(self.tmp, 'ours')

  def assert_tree_equal(self, expected, actual, path='value'):
    if isinstance(expected, dict):
      self.assertIsInstance(actual, dict, path)
      self.assertCountEqual(list(expected), list(actual), path)
      for key in expected:
        self.assert_tree_equal(expected[key], actual[key], f'{path}[{key!r}]')
    elif isinstance(expected, tuple):
      self.assertIsInstance(actual, tuple, path)
      self.assertLen(actual, len(expected), path)
      for i, (e, a) in enumerate(zip(expected, actual)):
        self.assert_tree_equal(e, a, f'{path}[{i}]')
    else:
      expected, actual = np.asarray(expected), np.asarray(actual)
      self.assertEqual(expected.dtype, actual.dtype, path)
      np.testing.assert_array_equal(expected, actual, err_msg=path)

  def record(self, env, seeds, **kwargs):
    """Records one episode per seed with GymnasiumLogger; the traces."""
    with envlogger.GymnasiumLogger(env, data_directory=self.ours, **kwargs) as logger:
      return [_run_episode(logger, seed) for seed in seeds]

  def assert_minari_episode(self, trace, episode, info_keys=()):
    """A Minari episode holds exactly the trace's values."""
    transitions = trace[1:]
    self.assert_tree_equal(
      _stacked([call[0] for call in trace]), episode.observations, 'observations'
    )
    self.assert_tree_equal(_stacked([call[1] for call in transitions]), episode.actions, 'actions')
    np.testing.assert_array_equal([call[2] for call in transitions], episode.rewards)
    np.testing.assert_array_equal([call[3] for call in transitions], episode.terminations)
    np.testing.assert_array_equal([call[4] for call in transitions], episode.truncations)
    for key in info_keys:
      np.testing.assert_array_equal(
        [call[5][key] for call in trace], episode.infos[key], err_msg=key
      )


class ToMinariTest(MinariTestCase):
  def test_minari_opens_the_recorded_values(self):
    env = gymnasium.wrappers.TimeLimit(gym_toy_envs.CountingEnv(3, 8), max_episode_steps=5)
    seeds = list(range(8))
    traces = self.record(env, seeds, info_filter=['t', 'noise'])
    ends = [(trace[-1][3], trace[-1][4]) for trace in traces]
    self.assertIn((True, False), ends)  # Both kinds of ending are covered.
    self.assertIn((False, True), ends)

    envlogger_minari.to_minari(self.ours, 'toy/counting-v0', **_AUTHORSHIP)

    dataset = minari.load_dataset('toy/counting-v0')
    self.assertEqual(dataset.total_episodes, len(traces))
    self.assertEqual(dataset.total_steps, sum(len(t) - 1 for t in traces))
    self.assertEqual(dataset.observation_space, env.observation_space)
    self.assertEqual(dataset.action_space, env.action_space)
    for trace, episode in zip(traces, dataset.iterate_episodes()):
      self.assert_minari_episode(trace, episode, info_keys=('t', 'noise'))
    self.assertEqual(
      [meta['seed'] for meta in dataset.storage.get_episode_metadata(range(8))], seeds
    )

  def test_nested_spaces(self):
    observation_space = spaces.Dict(
      {
        'pos': spaces.Box(-2, 2, shape=(2,), dtype=np.float32),
        'grid': spaces.Tuple((spaces.MultiBinary(3), spaces.Discrete(5, start=2))),
      }
    )
    action_space = spaces.MultiDiscrete([3, 4])
    env = gym_toy_envs.CountingEnv(2, 4, observation_space, action_space)
    traces = self.record(env, [1, 2, 3])

    dataset = envlogger_minari.to_minari(self.ours, 'toy/nested-v0', **_AUTHORSHIP)

    for trace, episode in zip(traces, dataset.iterate_episodes()):
      self.assert_minari_episode(trace, episode)
    # Dict, Tuple, Box and Discrete come back as they were; MultiBinary and
    # MultiDiscrete as integer Boxes with their bounds.
    grid = dataset.observation_space['grid']
    self.assertEqual(dataset.observation_space['pos'], observation_space['pos'])
    self.assertEqual(grid[0], spaces.Box(0, 1, shape=(3,), dtype=np.int8))
    self.assertEqual(grid[1], spaces.Discrete(5, start=2))
    self.assertEqual(
      dataset.action_space, spaces.Box(np.array([0, 0]), np.array([2, 3]), dtype=np.int64)
    )

  def test_images_are_lossless_in_arrow_format(self):
    env = gym_toy_envs.ImageEnv(length=4)
    traces = self.record(env, [0, 1])

    dataset = envlogger_minari.to_minari(
      self.ours, 'toy/image-v0', data_format='arrow', **_AUTHORSHIP
    )

    self.assertEqual(dataset.storage.FORMAT, 'arrow')
    for trace, episode in zip(traces, dataset.iterate_episodes()):
      self.assert_minari_episode(trace, episode)

  def test_reset_only_episode_left_out_and_unfinished_episode_kept(self):
    env = gym_toy_envs.CountingEnv(3, 3)
    with envlogger.GymnasiumLogger(env, data_directory=self.ours) as logger:
      finished = _run_episode(logger, seed=5)
      logger.reset(seed=6)  # No step: no transition for Minari.
      observation, _ = logger.reset(seed=7)
      action = logger.action_space.sample()
      next_observation, reward, *_ = logger.step(action)  # Then closed.

    dataset = envlogger_minari.to_minari(self.ours, 'toy/partial-v0', **_AUTHORSHIP)

    self.assertEqual(dataset.total_episodes, 2)
    first, unfinished = dataset.iterate_episodes()
    self.assert_minari_episode(finished, first)
    self.assert_minari_episode(
      [
        (observation, None, None, False, False, {}),
        (next_observation, action, reward, False, False, {}),
      ],
      unfinished,
    )
    self.assertEqual([m['seed'] for m in dataset.storage.get_episode_metadata([0, 1])], [5, 7])

  def test_written_in_batches(self):
    self.enter_context(mock.patch.object(envlogger_minari, '_EPISODES_PER_WRITE', 2))
    env = gym_toy_envs.CountingEnv(1, 3)
    traces = self.record(env, range(5))

    dataset = envlogger_minari.to_minari(self.ours, 'toy/batches-v0', **_AUTHORSHIP)

    self.assertEqual(dataset.total_episodes, 5)
    self.assertEqual(sorted(dataset.episode_indices), [0, 1, 2, 3, 4])
    for trace, episode in zip(traces, dataset.iterate_episodes()):
      self.assert_minari_episode(trace, episode)

  def test_dm_env_dataset_from_an_open_reader(self):
    env = catch_env.Catch(rows=3, columns=3, seed=4)
    expected = []
    with envlogger.EnvLogger(env, data_directory=self.ours) as logger:
      timestep = logger.reset()
      observations, actions, rewards = [timestep.observation], [], []
      while not timestep.last():
        action = np.int64(len(actions) % 3)
        timestep = logger.step(action)
        observations.append(timestep.observation)
        actions.append(action)
        rewards.append(timestep.reward)
      expected.append((observations, actions, rewards, timestep.discount == 0))

    with envlogger.Reader(self.ours) as reader:
      dataset = envlogger_minari.to_minari(reader, 'catch/catch-v0', **_AUTHORSHIP)

    episode = next(iter(dataset.iterate_episodes()))
    observations, actions, rewards, terminated = expected[0]
    np.testing.assert_array_equal(np.stack(observations), episode.observations)
    np.testing.assert_array_equal(actions, episode.actions)
    np.testing.assert_array_equal(rewards, episode.rewards)
    self.assertEqual(episode.terminations.tolist(), [False] * (len(actions) - 1) + [terminated])
    self.assertEqual(episode.truncations.tolist(), [False] * (len(actions) - 1) + [not terminated])

  def test_existing_dataset_id_is_an_error_and_kept(self):
    self.record(gym_toy_envs.CountingEnv(), [0])
    envlogger_minari.to_minari(self.ours, 'toy/twice-v0', **_AUTHORSHIP)
    with self.assertRaisesRegex(FileExistsError, 'toy/twice-v0'):
      envlogger_minari.to_minari(self.ours, 'toy/twice-v0', **_AUTHORSHIP)
    self.assertEqual(minari.load_dataset('toy/twice-v0').total_episodes, 1)

  def test_missing_source_is_an_error_naming_it(self):
    missing = os.path.join(self.tmp, 'missing')
    with self.assertRaisesRegex(Exception, missing):
      envlogger_minari.to_minari(missing, 'toy/missing-v0', **_AUTHORSHIP)
    self.assertFalse(os.path.exists(os.path.join(self.minari_root, 'toy', 'missing-v0')))

  def test_no_transition_is_an_error_and_leaves_nothing(self):
    with envlogger.GymnasiumLogger(gym_toy_envs.CountingEnv(), data_directory=self.ours) as logger:
      logger.reset(seed=1)
    with self.assertRaisesRegex(ValueError, 'no episode with a transition'):
      envlogger_minari.to_minari(self.ours, 'toy/empty-v0', **_AUTHORSHIP)
    self.assertFalse(os.path.exists(os.path.join(self.minari_root, 'toy', 'empty-v0')))

  def test_failed_conversion_leaves_no_half_dataset(self):
    self.record(gym_toy_envs.CountingEnv(), [0])
    wrong_space = spaces.Dict({'a': spaces.Box(-1, 1, shape=(3,), dtype=np.float32)})
    with self.assertRaises(Exception):
      envlogger_minari.to_minari(
        self.ours, 'toy/wrong-v0', observation_space=wrong_space, **_AUTHORSHIP
      )
    self.assertFalse(os.path.exists(os.path.join(self.minari_root, 'toy', 'wrong-v0')))
    # The same id works once the spaces are right.
    dataset = envlogger_minari.to_minari(self.ours, 'toy/wrong-v0', **_AUTHORSHIP)
    self.assertEqual(dataset.total_episodes, 1)


class FromMinariTest(MinariTestCase):
  def test_hand_built_minari_dataset(self):
    rng = np.random.default_rng(3)
    lengths, ends = [3, 2], ['terminated', 'truncated']
    buffers, expected = [], []
    for length, end in zip(lengths, ends):
      observations = rng.normal(size=(length + 1, 2)).astype(np.float32)
      actions = rng.integers(0, 3, size=length)
      rewards = rng.normal(size=length)
      infos = {'k': np.arange(length + 1) * 10}
      terminations = np.zeros(length, bool)
      truncations = np.zeros(length, bool)
      (terminations if end == 'terminated' else truncations)[-1] = True
      buffers.append(
        EpisodeBuffer(
          seed=100 + length,
          options={'level': length} if length == 2 else None,
          observations=observations,
          actions=actions,
          rewards=list(rewards),
          terminations=list(terminations),
          truncations=list(truncations),
          infos=infos,
        )
      )
      expected.append((observations, actions, rewards, end, infos))
    observation_space = spaces.Box(-10, 10, shape=(2,), dtype=np.float32)
    action_space = spaces.Discrete(3)
    minari.create_dataset_from_buffers(
      'hand/built-v0',
      buffers,
      observation_space=observation_space,
      action_space=action_space,
      **_AUTHORSHIP,
    )

    envlogger_minari.from_minari('hand/built-v0', self.ours)

    with envlogger.Reader(self.ours) as reader:
      self.assertEqual(reader.metadata()['minari_dataset_id'], 'hand/built-v0')
      self.assertEqual(
        reader.observation_spec(),
        specs.BoundedArray((2,), np.float32, -10, 10, name='observation_space'),
      )
      self.assertEqual(
        reader.action_spec(), specs.DiscreteArray(3, dtype=np.int64, name='action_space')
      )
      self.assertEqual(
        list(reader.episode_metadata()), [{'seed': 103}, {'seed': 102, 'options': {'level': 2}}]
      )
      self.assertLen(reader.episodes, 2)
      for (observations, actions, rewards, end, infos), episode in zip(expected, reader.episodes):
        steps = list(episode)
        self.assertLen(steps, len(observations))
        step_types = [s.timestep.step_type for s in steps]
        self.assertEqual(
          step_types,
          [dm_env.StepType.FIRST]
          + [dm_env.StepType.MID] * (len(actions) - 1)
          + [dm_env.StepType.LAST],
        )
        np.testing.assert_array_equal(
          np.stack([s.timestep.observation for s in steps]), observations
        )
        self.assertIsNone(steps[0].action)
        self.assertIsNone(steps[0].timestep.reward)
        np.testing.assert_array_equal([s.action for s in steps[1:]], actions)
        np.testing.assert_array_equal([s.timestep.reward for s in steps[1:]], rewards)
        discounts = [s.timestep.discount for s in steps[1:]]
        self.assertEqual(discounts[-1], 0.0 if end == 'terminated' else 1.0)
        self.assertEqual(discounts[:-1], [1.0] * (len(actions) - 1))
        self.assertEqual([s.custom_data['info']['k'] for s in steps], list(infos['k']))

  def test_data_collector_dataset(self):
    env = gymnasium.wrappers.TimeLimit(gym_toy_envs.CountingEnv(2, 6), max_episode_steps=4)
    collector = minari.DataCollector(env, record_infos=True)
    traces = [_run_episode(collector, seed) for seed in (11, 12, 13, 14)]
    collector.create_dataset('collected/counting-v0', **_AUTHORSHIP)
    collector.close()

    envlogger_minari.from_minari('collected/counting-v0', self.ours, with_infos=False)

    with envlogger.Reader(self.ours) as reader:
      self.assertEqual([m['seed'] for m in reader.episode_metadata()], [11, 12, 13, 14])
      for trace, episode in zip(traces, reader.episodes):
        steps = list(episode)
        self.assertLen(steps, len(trace))
        for call, step in zip(trace, steps):
          observation, action, reward, terminated, truncated, _ = call
          np.testing.assert_array_equal(observation, step.timestep.observation)
          self.assertIsNone(step.custom_data)
          if action is None:
            self.assertTrue(step.timestep.first())
            continue
          self.assertEqual(action, step.action)
          self.assertEqual(reward, step.timestep.reward)
          self.assertEqual(terminated or truncated, step.timestep.last())
          self.assertEqual(step.timestep.discount, 0.0 if terminated else 1.0)

  def test_round_trip_keeps_every_step(self):
    env = gymnasium.wrappers.TimeLimit(gym_toy_envs.CountingEnv(2, 6), max_episode_steps=4)
    original = os.path.join(self.tmp, 'original')
    with envlogger.GymnasiumLogger(env, data_directory=original, info_filter=['t']) as logger:
      for seed in range(5):
        _run_episode(logger, seed)

    envlogger_minari.to_minari(original, 'trip/counting-v0', **_AUTHORSHIP)
    envlogger_minari.from_minari('trip/counting-v0', self.ours)

    with envlogger.Reader(original) as before, envlogger.Reader(self.ours) as after:
      self.assertEqual(list(before.episode_metadata()), list(after.episode_metadata()))
      self.assertEqual(before.observation_spec(), after.observation_spec())
      self.assertLen(after.steps, len(before.steps))
      for b, a in zip(before.steps, after.steps):
        self.assertEqual(b.timestep.step_type, a.timestep.step_type)
        np.testing.assert_array_equal(b.timestep.observation, a.timestep.observation)
        self.assertEqual(b.timestep.reward, a.timestep.reward)
        self.assertEqual(b.timestep.discount, a.timestep.discount)
        self.assertEqual(b.action, a.action)
        self.assertEqual(b.custom_data, a.custom_data)

  def test_unknown_dataset_id(self):
    with self.assertRaisesRegex(FileNotFoundError, 'nowhere/none-v0'):
      envlogger_minari.from_minari('nowhere/none-v0', self.ours)
    self.assertFalse(os.path.exists(self.ours))


class ImportTest(absltest.TestCase):
  def test_missing_minari_names_the_extra(self):
    output = child_env.import_error_without('minari', 'envlogger.minari')
    self.assertIn('pip install envlogger[minari]', output)


if __name__ == '__main__':
  absltest.main()
