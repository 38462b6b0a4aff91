"""Tests of GymnasiumVectorLogger against the sub-environments' own trajectories.

Each sub-environment is wrapped (inside the vector env, so also inside an
AsyncVectorEnv's worker process) by `_Trace`, which writes every reset() and
step() it sees to a file when closed. The recorded datasets must equal these
traces episode by episode, step by step.
"""

import os
import pickle
import sys
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import dm_env
import gymnasium
from gymnasium.vector import AutoresetMode
import numpy as np

import envlogger
from envlogger.converters import gym_spaces
from envlogger.testing import gym_toy_envs


class _Trace(gymnasium.Wrapper):
  """Writes the calls the env received (and their results) to `path` on close."""

  def __init__(self, env, path):
    super().__init__(env)
    self._path = path
    self._calls = []

  def reset(self, **kwargs):
    observation, info = self.env.reset(**kwargs)
    self._calls.append(('reset', kwargs.get('seed'), observation, info.get('t')))
    return observation, info

  def step(self, action):
    result = self.env.step(action)
    observation, reward, terminated, truncated, info = result
    self._calls.append(('step', action, observation, reward, terminated, truncated, info.get('t')))
    return result

  def close(self):
    with open(self._path, 'wb') as f:
      pickle.dump(self._calls, f)
    super().close()


def _make_env(path):
  # Episodes of 2 to 6 steps, cut at 4: both terminations and truncations.
  return lambda: _Trace(
    gymnasium.wrappers.TimeLimit(gym_toy_envs.CountingEnv(min_length=2, max_length=6), 4), path
  )


def _expected_episodes(calls):
  """The episodes (lists of steps) that a sub-env's trace makes."""
  episodes = []
  for call in calls:
    if call[0] == 'reset':
      _, seed, observation, t = call
      episodes.append(
        {'seed': seed, 'steps': [(dm_env.StepType.FIRST, None, None, observation, None, t)]}
      )
    else:
      _, action, observation, reward, terminated, truncated, t = call
      step_type = dm_env.StepType.LAST if terminated or truncated else dm_env.StepType.MID
      episodes[-1]['steps'].append(
        (step_type, reward, 0.0 if terminated else 1.0, observation, action, t)
      )
  return episodes


class GymnasiumVectorLoggerTest(parameterized.TestCase):
  def _tempdir(self) -> str:
    directory = tempfile.TemporaryDirectory()
    self.addCleanup(directory.cleanup)
    return directory.name

  def _check_against_traces(self, logger_dirs, trace_paths, info_recorded):
    for index, (directory, trace_path) in enumerate(zip(logger_dirs, trace_paths)):
      with open(trace_path, 'rb') as f:
        expected = _expected_episodes(pickle.load(f))
      with envlogger.Reader(directory) as reader:
        self.assertEqual(reader.metadata()['vector_env']['index'], index)
        self.assertLen(reader.episodes, len(expected), directory)
        metadata = list(reader.episode_metadata())
        for e, (episode, expected_episode) in enumerate(zip(reader.episodes, expected)):
          seed = expected_episode['seed']
          self.assertEqual(metadata[e], None if seed is None else {'seed': seed})
          self.assertLen(episode, len(expected_episode['steps']), f'{directory} #{e}')
          for k, (step, want) in enumerate(zip(episode, expected_episode['steps'])):
            where = f'sub-env {index} episode {e} step {k}'
            step_type, reward, discount, observation, action, t = want
            ts = step.timestep
            self.assertEqual(ts.step_type, step_type, where)
            np.testing.assert_array_equal(ts.observation, observation, err_msg=where)
            if step_type == dm_env.StepType.FIRST:
              self.assertIsNone(ts.reward, where)
              self.assertIsNone(ts.discount, where)
              self.assertIsNone(step.action, where)
            else:
              self.assertEqual(ts.reward, reward, where)
              self.assertEqual(ts.discount, discount, where)
              self.assertEqual(step.action, action, where)
            if info_recorded:
              self.assertEqual(step.custom_data, {'info': {'t': t}}, where)
            else:
              self.assertIsNone(step.custom_data, where)

  @parameterized.parameters(
    (gymnasium.vector.SyncVectorEnv, AutoresetMode.NEXT_STEP, False),
    (gymnasium.vector.SyncVectorEnv, AutoresetMode.NEXT_STEP, True),
    (gymnasium.vector.SyncVectorEnv, AutoresetMode.SAME_STEP, False),
    (gymnasium.vector.SyncVectorEnv, AutoresetMode.SAME_STEP, True),
    # Async: both modes, few worker processes.
    (gymnasium.vector.AsyncVectorEnv, AutoresetMode.NEXT_STEP, False),
    (gymnasium.vector.AsyncVectorEnv, AutoresetMode.SAME_STEP, True),
  )
  def test_matches_sub_environment_trajectories(self, vector_class, mode, info):
    traces = self._tempdir()
    num_envs = 3 if vector_class is gymnasium.vector.SyncVectorEnv else 2
    paths = [os.path.join(traces, f'{i}.pkl') for i in range(num_envs)]
    kwargs = {'context': 'fork'} if vector_class is gymnasium.vector.AsyncVectorEnv else {}
    vector_env = vector_class([_make_env(p) for p in paths], autoreset_mode=mode, **kwargs)
    root = self._tempdir()
    logger = envlogger.GymnasiumVectorLogger(
      vector_env, data_directory=root, info_filter=['t'] if info else None
    )
    logger.action_space.seed(5)
    logger.reset(seed=100)
    terminated = truncated = 0
    for _ in range(40):
      _, _, term, trunc, _ = logger.step(logger.action_space.sample())
      terminated += term.sum()
      truncated += trunc.sum()
    logger.close()
    self.assertGreater(terminated, 0)
    self.assertGreater(truncated, 0)
    self.assertEqual(sorted(os.listdir(root)), [f'env_{i}' for i in range(num_envs)])
    self._check_against_traces(logger.directories, paths, info)

  def test_disabled_mode_with_reset_mask(self):
    traces = self._tempdir()
    paths = [os.path.join(traces, f'{i}.pkl') for i in range(3)]
    vector_env = gymnasium.vector.SyncVectorEnv(
      [_make_env(p) for p in paths], autoreset_mode=AutoresetMode.DISABLED
    )
    root = self._tempdir()
    with envlogger.GymnasiumVectorLogger(vector_env, data_directory=root) as logger:
      logger.action_space.seed(1)
      logger.reset(seed=[7, None, 9])
      for _ in range(30):
        _, _, term, trunc, _ = logger.step(logger.action_space.sample())
        done = term | trunc
        if done.any():
          logger.reset(options={'reset_mask': done})
    self._check_against_traces(logger.directories, paths, False)

  def test_one_native_call_per_vector_step(self):
    counts = {}
    for num_envs in (2, 6):
      vector_env = gymnasium.vector.SyncVectorEnv(
        [gym_toy_envs.CountingEnv for _ in range(num_envs)]
      )
      with envlogger.GymnasiumVectorLogger(vector_env, data_directory=self._tempdir()) as logger:
        logger.reset(seed=0)
        actions = logger.action_space.sample()
        calls = []

        def profile(frame, event, arg):
          if event == 'c_call' and getattr(arg, '__name__', '') == 'record_step':
            calls.append('record_step')
          elif event == 'call' and frame.f_code.co_filename.endswith('gymnasium_vector_logger.py'):
            calls.append(frame.f_code.co_name)

        sys.setprofile(profile)
        try:
          logger.step(actions)
        finally:
          sys.setprofile(None)
        counts[num_envs] = calls
    self.assertEqual(counts[2], counts[6])
    self.assertEqual(counts[2].count('record_step'), 1)

  def test_dict_observations_and_specs(self):
    space = gymnasium.spaces.Dict(
      {
        'pos': gymnasium.spaces.Box(-1, 1, (2,), np.float32),
        'pair': gymnasium.spaces.Tuple(
          (gymnasium.spaces.Discrete(3), gymnasium.spaces.MultiBinary(2))
        ),
      }
    )
    make = lambda: gym_toy_envs.CountingEnv(observation_space=space)
    vector_env = gymnasium.vector.SyncVectorEnv([make, make])
    root = self._tempdir()
    with envlogger.GymnasiumVectorLogger(vector_env, data_directory=root) as logger:
      observations, _ = logger.reset(seed=3)
    for i, directory in enumerate(logger.directories):
      with envlogger.Reader(directory) as reader:
        recorded = reader.steps[0].timestep.observation
        np.testing.assert_array_equal(recorded['pos'], observations['pos'][i])
        self.assertEqual(recorded['pair'][0], observations['pair'][0][i])
        np.testing.assert_array_equal(recorded['pair'][1], observations['pair'][1][i])
        self.assertEqual(reader.observation_spec()['pair'][0].num_values, 3)

  def test_bad_input(self):
    bad = lambda: gym_toy_envs.CountingEnv(
      observation_space=gymnasium.spaces.Dict({'x': gymnasium.spaces.Text(4)})
    )
    with self.assertRaisesRegex(
      gym_spaces.UnsupportedSpaceError, r"observation_space\['x'\]: Text"
    ):
      envlogger.GymnasiumVectorLogger(
        gymnasium.vector.SyncVectorEnv([bad]), data_directory=self._tempdir()
      )
    root = self._tempdir()
    logger = envlogger.GymnasiumVectorLogger(
      gymnasium.vector.SyncVectorEnv([gym_toy_envs.CountingEnv] * 2),
      data_directory=root,
      info_filter=lambda info: object() if info['t'] else None,
    )
    with self.assertRaisesRegex(RuntimeError, r'step\(\) needs a reset\(\)'):
      logger.step(np.zeros(2, np.int64))
    logger.reset()
    with self.assertRaisesRegex(TypeError, 'Cannot record the step of sub-environment 0'):
      logger.step(np.zeros(2, np.int64))
    logger.close()
    with self.assertRaisesRegex(RuntimeError, r'step\(\) after close\(\)'):
      logger.step(np.zeros(2, np.int64))
    for directory in logger.directories:
      with envlogger.Reader(directory) as reader:
        self.assertLen(reader.steps, 1)  # The reset; nothing of the failed step.


if __name__ == '__main__':
  absltest.main()
