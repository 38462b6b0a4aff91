"""Tests of the random_agent_catch example."""

import os
import subprocess
import sys

import dm_env
import numpy as np

import envlogger
from envlogger.backends import in_memory_backend
from envlogger.examples import random_agent_catch

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _record_in_memory(num_episodes: int):
  writers = []

  def make_logger(env, **kwargs):
    writer = in_memory_backend.InMemoryBackendWriter(metadata=kwargs.pop('metadata'))
    writers.append(writer)
    kwargs['metadata'] = None  # ignored with a writer instance
    return envlogger.EnvLogger(env, backend=writer, **kwargs)

  random_agent_catch.record(num_episodes, make_logger, np.random.default_rng(0))
  (writer,) = writers
  return envlogger.Reader(writer, backend=envlogger.BackendType.IN_MEMORY)


def test_record_plays_whole_episodes_with_upstream_metadata():
  reader = _record_in_memory(4)
  assert len(reader.episodes) == 4 and len(reader.steps) == 40
  assert reader.metadata() == {'agent_type': 'random', 'env_type': 'Catch', 'num_episodes': 4}
  for episode in reader.episodes:
    types = [s.timestep.step_type for s in episode]
    assert types[0] == dm_env.StepType.FIRST
    assert types[-1] == dm_env.StepType.LAST
    assert all(0 <= s.action <= 2 for s in episode[1:])
  assert all(set(s.custom_data) == {'timestamp'} for s in reader.steps)
  stamps = [s.custom_data['timestamp'] for s in reader.steps]
  assert stamps == sorted(stamps)


def test_summarize():
  reader = _record_in_memory(2)
  summary = random_agent_catch.summarize(reader)
  rewards = [s.timestep.reward for s in reader.episodes[0]]
  returns = [sum(s.timestep.reward or 0.0 for s in e) for e in reader.episodes]
  caught = sum(r == 1.0 for r in returns)
  assert summary.splitlines() == [
    'episodes: 2',
    'steps: 20',
    "metadata keys: ['agent_type', 'env_type', 'num_episodes']",
    f'episode returns: {caught} caught, {2 - caught} missed, mean {sum(returns) / 2:+.2f}',
    'first episode rewards: ' + str([None] + [float(r) for r in rewards[1:]]),
  ]
  assert rewards[0] is None and rewards[-1] in (-1.0, 1.0)


def test_main_writes_a_riegeli_dataset(tmp_path):
  out_dir = tmp_path / 'missing' / 'catch'
  result = subprocess.run(
    [
      sys.executable,
      '-m',
      'envlogger.examples.random_agent_catch',
      '--num_episodes=3',
      f'--trajectories_dir={out_dir}',
    ],
    cwd=_REPO_ROOT,
    capture_output=True,
    text=True,
    timeout=120,
    check=True,
  )
  assert 'episodes: 3' in result.stdout and 'steps: 30' in result.stdout
  assert (out_dir / 'metadata.riegeli').exists()
