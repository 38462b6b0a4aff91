r"""What recording a Gymnasium environment costs: envlogger vs Minari's DataCollector.

In one process, per workload, several environments are alive at once and
take turns in blocks of calls (rotating which goes first, so none always runs
right after another; the machine's speed drifts over seconds, and blocks are
shorter than the drifts). Each plays its own uninterrupted run with the same
seeded random actions, and every reset()/step() call is timed.

Workloads:
  * CartPole-v1 (`gymnasium.make`): bare, `envlogger.GymnasiumLogger`,
    `minari.DataCollector` (Minari's defaults: hdf5), and two floors of a
    recording wrapper: a `gymnasium.Wrapper` that only copies each observation,
    and one that copies it into a ring of 1024 preallocated observations (keeps
    the copy, as a recorder must until the step is written);
  * an 84x84x3 uint8 image environment (envlogger/testing/gym_toy_envs.py,
    cheap to step, so the recording dominates): the same variants, and its
    frames as a dm_env environment, bare and under `envlogger.EnvLogger`
    (overhead against that bare twin);
  * a SyncVectorEnv of 8 CartPole-v1 (next-step autoreset): bare,
    `envlogger.GymnasiumVectorLogger` (one native call per vector step), and
    8 GymnasiumLoggers inside the vector env (one Python call per
    sub-environment), timed per vector step;
  * the dm_env reference, the overhead GymnasiumLogger is meant to match:
    Catch, bare and under `envlogger.EnvLogger`.

Printed per variant: p50, p90, p99, p99.9 and mean of the µs per call, and the
overhead (variant minus bare at each statistic); then the time close() (or
Minari's create_dataset) took and the bytes per step on disk. Minari's
DataCollector keeps each episode in memory and writes it when the episode
ends, so its cost shows at the tail (the call that ends an episode); ours is
written by the writer thread as it goes.

Not part of the test run. Examples:
  PYTHONPATH=. .venv/bin/python benchmarks/gymnasium_benchmark.py --quick
  PYTHONPATH=. .venv/bin/python benchmarks/gymnasium_benchmark.py --steps=50000
"""

import os
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple
import warnings

from absl import app
from absl import flags
import dm_env
import gymnasium
import minari
import numpy as np

import envlogger
from envlogger.testing import catch_env
from envlogger.testing import gym_toy_envs

_STEPS = flags.DEFINE_integer('steps', 30_000, 'Calls per variant, CartPole and Catch.')
_IMAGE_STEPS = flags.DEFINE_integer('image_steps', 6_000, 'Calls per variant, 84x84x3.')
_VECTOR_STEPS = flags.DEFINE_integer(
  'vector_steps', 4_000, 'Vector steps per variant, 8 sub-environments.'
)
_BLOCK_MS = flags.DEFINE_float('block_ms', 10.0, 'About how long one block of calls runs.')
_QUICK = flags.DEFINE_bool('quick', False, 'A few seconds: 1/10 of every step count.')

_NUM_ENVS = 8


class _Player:
  """Plays one environment with seeded random actions, a block at a time.

  `api` is 'gym' (reset/step of gymnasium.Env), 'vector' (a VectorEnv: reset
  once, then steps with next-step autoreset) or 'dm_env'.
  """

  def __init__(self, env: Any, api: str, num_calls: int, num_actions: int, batch: int = 1):
    self.env = env
    self._api = api
    self._actions = np.random.default_rng(1).integers(
      0, num_actions, size=(num_calls, batch) if api == 'vector' else num_calls
    )
    self._needs_reset = True
    self._episodes = 0
    self.durations_us = np.empty(num_calls, np.float64)

  def play(self, begin: int, end: int) -> None:
    """Makes calls [begin, end) of the run, timing each."""
    env, api, actions, durations = self.env, self._api, self._actions, self.durations_us
    clock = time.perf_counter_ns
    for i in range(begin, end):
      if self._needs_reset:
        seed = self._episodes
        self._episodes += 1
        start = clock()
        if api == 'dm_env':
          env.reset()
        else:
          env.reset(seed=seed)
        durations[i] = (clock() - start) / 1e3
        self._needs_reset = False
        continue
      if api == 'dm_env':
        start = clock()
        timestep = env.step(int(actions[i]))
        durations[i] = (clock() - start) / 1e3
        self._needs_reset = timestep.last()
      elif api == 'gym':
        start = clock()
        _, _, terminated, truncated, _ = env.step(int(actions[i]))
        durations[i] = (clock() - start) / 1e3
        self._needs_reset = terminated or truncated
      else:
        start = clock()
        env.step(actions[i])
        durations[i] = (clock() - start) / 1e3


def _dir_size(path: str) -> int:
  return sum(
    os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names
  )


def _block_calls(make_player: Callable[[], _Player], num_calls: int) -> int:
  """Calls of the bare variant that take about --block_ms (>= 20 turns)."""
  player = make_player()
  start = time.perf_counter()
  player.play(0, 200)
  per_call_ms = (time.perf_counter() - start) * 1e3 / 200
  return max(1, min(int(_BLOCK_MS.value / per_call_ms), num_calls // 20))


def _run(
  title: str,
  players: Dict[str, _Player],
  num_calls: int,
  block: int,
  finish: Dict[str, Callable[[], Tuple[float, Optional[int]]]],
  per: str = 'call',
) -> None:
  """Interleaves the players, then prints the table and the finish costs."""
  names = list(players)
  for turn, begin in enumerate(range(0, num_calls, block)):
    first = turn % len(names)
    for name in names[first:] + names[:first]:
      players[name].play(begin, min(begin + block, num_calls))
  print(f'\n=== {title}: {num_calls} calls per variant, turns of {block} calls; µs per {per} ===')
  header = ''.join(f'{k:>9}' for k in ('p50', 'p90', 'p99', 'p99.9', 'mean'))
  print(f'{"variant":<26}{header}   overhead:{header}')
  overheads = {}
  for name, player in players.items():
    # A dm_env variant's overhead is against the bare dm_env twin.
    base = players['bare dm_env' if name.endswith('(dm_env)') else 'bare'].durations_us
    stats = list(np.percentile(player.durations_us, [50, 90, 99, 99.9]))
    stats.append(player.durations_us.mean())
    base_stats = list(np.percentile(base, [50, 90, 99, 99.9])) + [base.mean()]
    over = [v - b for v, b in zip(stats, base_stats)]
    overheads[name] = over[0]
    print(
      f'{name:<26}'
      + ''.join(f'{v:>9.1f}' for v in stats)
      + '            '
      + ''.join(f'{v:>9.1f}' for v in over)
    )
  for name, fn in finish.items():
    seconds, size = fn()
    line = f'{name}: finishing (close/create_dataset) {seconds:.2f} s'
    if size is not None:
      line += f', {size / num_calls:,.0f} bytes per call on disk'
    print(line)
  ours = [n for n in names if n.startswith(('GymnasiumLogger', 'GymnasiumVectorLogger'))]
  minari_names = [n for n in names if n.startswith('minari')]
  if ours and minari_names and overheads[ours[0]] > 0:
    print(
      f'p50 overhead {minari_names[0]} / {ours[0]}: '
      f'{overheads[minari_names[0]] / overheads[ours[0]]:.1f}x'
    )


def _closer(close: Callable[[], Any], directory: Optional[str]):
  def finish() -> Tuple[float, Optional[int]]:
    start = time.perf_counter()
    close()
    seconds = time.perf_counter() - start
    return seconds, None if directory is None else _dir_size(directory)

  return finish


class _FrameEnv(dm_env.Environment):
  """gym_toy_envs.ImageEnv's frames and episodes as a dm_env environment."""

  def __init__(self, length: int = 100):
    self._frames = gym_toy_envs.ImageEnv(length)._frames  # pylint: disable=protected-access
    self._length = length
    self._t = 0

  def reset(self) -> dm_env.TimeStep:
    self._t = 0
    return dm_env.restart(self._frames[0])

  def step(self, action) -> dm_env.TimeStep:
    self._t += 1
    frame = self._frames[self._t % len(self._frames)]
    if self._t >= self._length:
      return dm_env.termination(1.0, frame)
    return dm_env.transition(1.0, frame)

  def observation_spec(self):
    return dm_env.specs.BoundedArray((84, 84, 3), np.uint8, 0, 255, 'frame')

  def action_spec(self):
    return dm_env.specs.DiscreteArray(6, name='action')


class _CopyingWrapper(gymnasium.Wrapper):
  """The floor of any wrapper that keeps what it records: it copies each observation, nothing else.

  A recorder must copy an observation at the call (the environment may reuse
  its buffer); Minari's DataCollector postpones that to the episode's end.
  """

  def reset(self, **kwargs):
    observation, info = self.env.reset(**kwargs)
    return np.array(observation, copy=True), info

  def step(self, action):
    observation, reward, terminated, truncated, info = self.env.step(action)
    return np.array(observation, copy=True), reward, terminated, truncated, info


class _KeepingWrapper(gymnasium.Wrapper):
  """The floor of a wrapper that copies each observation and keeps the copy.

  It copies into a ring of `slots` preallocated arrays (a few episodes of
  frames, more than the CPU's caches hold), as a recorder that keeps its
  steps until they are written must: the copy goes to memory that is not in
  the cache, unlike the floor's copy, which reuses the block freed by the
  previous call's copy.
  """

  def __init__(self, env: gymnasium.Env, slots: int = 1024):
    super().__init__(env)
    space = env.observation_space
    # Written once, so that no page is first touched during the run.
    self._ring = np.ones((slots,) + space.shape, space.dtype)
    self._next = 0

  def reset(self, **kwargs):
    observation, info = self.env.reset(**kwargs)
    self._keep(observation)
    return observation, info

  def step(self, action):
    observation, reward, terminated, truncated, info = self.env.step(action)
    self._keep(observation)
    return observation, reward, terminated, truncated, info

  def _keep(self, observation) -> None:
    np.copyto(self._ring[self._next], observation)
    self._next = (self._next + 1) % len(self._ring)


def _single_env_workload(
  title: str,
  make_env: Callable[[], gymnasium.Env],
  num_calls: int,
  root: str,
  name: str,
  make_dm_env: Optional[Callable[[], dm_env.Environment]] = None,
) -> None:
  num_actions = int(make_env().action_space.n)
  block = _block_calls(lambda: _Player(make_env(), 'gym', 200, num_actions), num_calls)
  ours_dir = os.path.join(root, f'{name}-envlogger')
  logger = envlogger.GymnasiumLogger(make_env(), data_directory=ours_dir)
  collector = minari.DataCollector(make_env())
  dataset_id = f'bench/{name}-v0'

  def create_minari_dataset():
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')
      collector.create_dataset(dataset_id)
    collector.close()

  players = {
    'bare': _Player(make_env(), 'gym', num_calls, num_actions),
    'GymnasiumLogger': _Player(logger, 'gym', num_calls, num_actions),
    'minari.DataCollector': _Player(collector, 'gym', num_calls, num_actions),
    'floor: Wrapper copying each observation': _Player(
      _CopyingWrapper(make_env()), 'gym', num_calls, num_actions
    ),
    'floor: ... and keeping it': _Player(
      _KeepingWrapper(make_env()), 'gym', num_calls, num_actions
    ),
  }
  finish = {
    'GymnasiumLogger': _closer(logger.close, ours_dir),
    'minari.DataCollector': _closer(
      create_minari_dataset, str(minari.storage.get_dataset_path(dataset_id))
    ),
  }
  if make_dm_env is not None:
    dm_dir = os.path.join(root, f'{name}-dm_env-envlogger')
    dm_logger = envlogger.EnvLogger(make_dm_env(), data_directory=dm_dir)
    players['bare dm_env'] = _Player(make_dm_env(), 'dm_env', num_calls, num_actions)
    players['EnvLogger (dm_env)'] = _Player(dm_logger, 'dm_env', num_calls, num_actions)
    finish['EnvLogger (dm_env)'] = _closer(dm_logger.close, dm_dir)
  _run(title, players, num_calls, block, finish)


def _vector_workload(num_calls: int, root: str) -> None:
  def make_vector(wrap: Optional[Callable[[gymnasium.Env, int], gymnasium.Env]] = None):
    def make(i):
      return lambda: (
        gymnasium.make('CartPole-v1') if wrap is None else wrap(gymnasium.make('CartPole-v1'), i)
      )

    return gymnasium.vector.SyncVectorEnv([make(i) for i in range(_NUM_ENVS)])

  block = _block_calls(lambda: _Player(make_vector(), 'vector', 200, 2, _NUM_ENVS), num_calls)
  vector_dir = os.path.join(root, 'vector-envlogger')
  per_env_dir = os.path.join(root, 'per-env-envlogger')
  vector_logger = envlogger.GymnasiumVectorLogger(make_vector(), data_directory=vector_dir)
  per_env = make_vector(
    lambda env, i: envlogger.GymnasiumLogger(
      env, data_directory=os.path.join(per_env_dir, f'env_{i}')
    )
  )
  players = {
    'bare': _Player(make_vector(), 'vector', num_calls, 2, _NUM_ENVS),
    'GymnasiumVectorLogger': _Player(vector_logger, 'vector', num_calls, 2, _NUM_ENVS),
    f'{_NUM_ENVS} GymnasiumLoggers': _Player(per_env, 'vector', num_calls, 2, _NUM_ENVS),
  }
  _run(
    f'SyncVectorEnv of {_NUM_ENVS} CartPole-v1',
    players,
    num_calls,
    block,
    {
      'GymnasiumVectorLogger': _closer(vector_logger.close, vector_dir),
      f'{_NUM_ENVS} GymnasiumLoggers': _closer(per_env.close, per_env_dir),
    },
    per=f'vector step ({_NUM_ENVS} sub-environment steps)',
  )


def _dm_env_reference(
  title: str, make_env: Callable[[], dm_env.Environment], num_calls: int, root: str, name: str
) -> None:
  num_actions = make_env().action_spec().num_values
  block = _block_calls(lambda: _Player(make_env(), 'dm_env', 200, num_actions), num_calls)
  directory = os.path.join(root, f'{name}-envlogger')
  logger = envlogger.EnvLogger(make_env(), data_directory=directory)
  players = {
    'bare': _Player(make_env(), 'dm_env', num_calls, num_actions),
    'EnvLogger': _Player(logger, 'dm_env', num_calls, num_actions),
  }
  _run(
    f'dm_env reference: {title}',
    players,
    num_calls,
    block,
    {'EnvLogger': _closer(logger.close, directory)},
  )


def main(argv: List[str]) -> None:
  del argv
  scale = 10 if _QUICK.value else 1
  with tempfile.TemporaryDirectory() as root:
    os.environ['MINARI_DATASETS_PATH'] = os.path.join(root, 'minari')
    print(
      f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, '
      f'{os.cpu_count()} CPUs, gymnasium {gymnasium.__version__}, '
      f'minari {minari.__version__}'
    )
    _single_env_workload(
      'CartPole-v1', lambda: gymnasium.make('CartPole-v1'), _STEPS.value // scale, root, 'cartpole'
    )
    _single_env_workload(
      '84x84x3 uint8 frames',
      lambda: gym_toy_envs.ImageEnv(length=100),
      _IMAGE_STEPS.value // scale,
      root,
      'image',
      _FrameEnv,
    )
    _vector_workload(_VECTOR_STEPS.value // scale, root)
    _dm_env_reference('Catch 10x5', catch_env.Catch, _STEPS.value // scale, root, 'catch')


if __name__ == '__main__':
  app.run(main)
