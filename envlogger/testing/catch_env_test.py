"""Tests of the Catch environment."""

import os
import pickle

from absl.testing import absltest
import dm_env
from dm_env import specs
from dm_env import test_utils
import numpy as np
import pytest

from envlogger.testing import catch_env
from envlogger.testing import compare

_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'testdata', 'upstream-1.3')


class CatchConformanceTest(test_utils.EnvironmentTestMixin, absltest.TestCase):
  """dm_env's generic conformance checks (specs vs. returned timesteps)."""

  def make_object_under_test(self):
    return catch_env.Catch()


def test_episode_has_ten_timesteps():
  env = catch_env.Catch()
  timestep = env.reset()
  types = [timestep.step_type]
  while not timestep.last():
    timestep = env.step(1)
    types.append(timestep.step_type)
  assert types == ([dm_env.StepType.FIRST] + [dm_env.StepType.MID] * 8 + [dm_env.StepType.LAST])
  assert timestep.discount == 0.0 and timestep.reward in (-1.0, 1.0)


def test_observation_and_rewards():
  env = catch_env.Catch(rows=4, columns=3, seed=0)
  timestep = env.reset()
  ball_x = int(np.argmax(timestep.observation[0]))
  expected = np.zeros((4, 3), np.float32)
  expected[0, ball_x] = 1.0
  expected[3, 1] = 1.0
  compare.assert_strictly_equal(timestep.observation, expected)
  # Move the paddle under the ball: 0 = left, 2 = right.
  action = {0: 0, 1: 1, 2: 2}[ball_x]
  timestep = env.step(action)
  assert timestep.reward == 0.0 and timestep.discount == 1.0
  assert timestep.observation[1, ball_x] == 1.0
  env.step(1)
  timestep = env.step(1)
  assert timestep.last() and timestep.reward == 1.0


def test_missing_the_ball_gives_minus_one():
  env = catch_env.Catch(rows=3, columns=5, seed=3)
  timestep = env.reset()
  ball_x = int(np.argmax(timestep.observation[0]))
  away = 0 if ball_x >= 2 else 2  # move away from the ball
  timestep = env.step(away)
  timestep = env.step(away)
  assert timestep.last() and timestep.reward == -1.0


def test_paddle_is_clipped():
  env = catch_env.Catch(rows=10, columns=5)
  env.reset()
  for _ in range(4):
    timestep = env.step(0)
  assert timestep.observation[9, 0] == 1.0


def test_step_without_reset_resets():
  env = catch_env.Catch()
  assert env.step(2).first()


def test_specs():
  env = catch_env.Catch()
  compare.assert_strictly_equal(
    env.observation_spec(), specs.BoundedArray((10, 5), np.float32, 0.0, 1.0, 'board')
  )
  compare.assert_strictly_equal(env.action_spec(), specs.DiscreteArray(3, dtype=int, name='action'))


@pytest.mark.parametrize('seed', [1, 7])
def test_same_seed_same_trajectories(seed):
  def play(env, rng):
    out = []
    for _ in range(5):
      timestep = env.reset()
      out.append(timestep.observation)
      while not timestep.last():
        timestep = env.step(int(rng.integers(3)))
        out.append(timestep.observation)
    return np.stack(out)

  a = play(catch_env.Catch(seed=seed), np.random.default_rng(0))
  b = play(catch_env.Catch(seed=seed), np.random.default_rng(0))
  np.testing.assert_array_equal(a, b)


# The generator seeds Catch with the fixture seed (1000) plus a per-dataset
# offset; these are the seeds whose ball columns match each recording.
@pytest.mark.parametrize(
  'dataset,seed',
  [
    ('catch_default', 1000),
    ('catch_options_zstd', 1011),
    ('multishard', 1030),
    ('flushed_often', 1040),
  ],
)
def test_replays_upstream_recordings(dataset, seed):
  """Replaying the recorded actions gives upstream's timesteps bit for bit
  (ball columns, paddle moves, rewards, discounts, step types)."""
  with open(os.path.join(_FIXTURES, f'{dataset}.expected.pkl'), 'rb') as f:
    expected = pickle.load(f)
  env = catch_env.Catch(seed=seed)
  for i, (timestep, action, _) in enumerate(expected['steps']):
    got = env.reset() if timestep.first() else env.step(action)
    assert got.step_type == timestep.step_type, i
    assert got.reward == timestep.reward and got.discount == timestep.discount
    np.testing.assert_array_equal(got.observation, timestep.observation)
    assert got.observation.dtype == np.float32
