"""Records a random agent playing Catch, then summarizes what was recorded.

  python -m envlogger.examples.random_agent_catch --num_episodes=100 \
      --trajectories_dir=/tmp/catch_data/

The output directory is created if missing. The dataset is written with the
default (Riegeli) backend and read back with `envlogger.Reader`.
"""

import os
import time
from typing import Any, Callable, Dict, Optional

from absl import app
from absl import flags
from absl import logging
import dm_env
import numpy as np

import envlogger
from envlogger.testing import catch_env

_NUM_EPISODES = flags.DEFINE_integer('num_episodes', 1000, 'Number of episodes to log.')
_TRAJECTORIES_DIR = flags.DEFINE_string(
  'trajectories_dir',
  '/tmp/catch_data/',
  'Directory to write the trajectories to (created if missing).',
)


def _step_fn(
  unused_timestep: dm_env.TimeStep, unused_action: Any, unused_env: dm_env.Environment
) -> Dict[str, float]:
  return {'timestamp': time.time()}


def record(
  num_episodes: int,
  make_logger: Callable[..., envlogger.EnvLogger],
  rng: Optional[np.random.Generator] = None,
) -> None:
  """Plays `num_episodes` episodes of Catch with uniformly random actions.

  Args:
    num_episodes: how many episodes to play.
    make_logger: called as `make_logger(env, metadata=..., step_fn=...)`; must
      return an `EnvLogger` wrapping `env` (this is where the backend is
      chosen).
    rng: source of the random actions (a fresh unseeded one by default).
  """
  rng = rng if rng is not None else np.random.default_rng()
  env = catch_env.Catch()
  metadata = {
    'agent_type': 'random',
    'env_type': type(env).__name__,
    'num_episodes': num_episodes,
  }
  with make_logger(env, metadata=metadata, step_fn=_step_fn) as logged_env:
    for _ in range(num_episodes):
      timestep = logged_env.reset()
      while not timestep.last():
        timestep = logged_env.step(int(rng.integers(0, 3)))


def summarize(reader: envlogger.Reader) -> str:
  """A short human-readable summary of a recorded dataset."""
  lines = [
    f'episodes: {len(reader.episodes)}',
    f'steps: {len(reader.steps)}',
    f'metadata keys: {sorted(reader.metadata())}',
  ]
  if len(reader.episodes):
    returns = [
      sum(float(step.timestep.reward or 0.0) for step in episode) for episode in reader.episodes
    ]
    caught = sum(r > 0 for r in returns)
    lines.append(
      f'episode returns: {caught} caught, '
      f'{len(returns) - caught} missed, mean {np.mean(returns):+.2f}'
    )
    rewards = [_plain(step.timestep.reward) for step in reader.episodes[0]]
    lines.append(f'first episode rewards: {rewards}')
  return '\n'.join(lines)


def _plain(value: Any) -> Any:
  """numpy scalars as Python numbers, so that they print plainly."""
  return value.item() if isinstance(value, np.generic) else value


def main(unused_argv) -> None:
  trajectories_dir = _TRAJECTORIES_DIR.value
  os.makedirs(trajectories_dir, exist_ok=True)
  logging.info('Recording %d episodes to %s', _NUM_EPISODES.value, trajectories_dir)

  def make_logger(env, **kwargs):
    return envlogger.EnvLogger(
      env, data_directory=trajectories_dir, max_episodes_per_file=1000, **kwargs
    )

  record(_NUM_EPISODES.value, make_logger)
  with envlogger.Reader(trajectories_dir) as reader:
    print(summarize(reader))


if __name__ == '__main__':
  app.run(main)
