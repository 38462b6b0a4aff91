"""Tests of envlogger.Reader (with the in-memory backend)."""

import dm_env
import numpy as np
import pytest

import envlogger
from envlogger.backends import backend_reader
from envlogger.backends import in_memory_backend
from envlogger.testing import catch_env


def _recorded_writer(num_episodes=3, metadata=None):
  writer = None

  def factory(**kwargs):
    nonlocal writer
    writer = in_memory_backend.InMemoryBackendWriter(**kwargs)
    return writer

  rng = np.random.default_rng(0)
  with envlogger.EnvLogger(
    catch_env.Catch(),
    metadata=metadata,
    backend=factory,
    episode_fn=lambda ts, a, e: 'm' if ts.last() else None,
  ) as env:
    for _ in range(num_episodes):
      timestep = env.reset()
      while not timestep.last():
        timestep = env.step(int(rng.integers(3)))
  return writer


def _reader(**kwargs):
  return envlogger.Reader(_recorded_writer(**kwargs), backend=envlogger.BackendType.IN_MEMORY)


def test_positional_and_keyword_backend_args():
  writer = _recorded_writer()
  r1 = envlogger.Reader(writer, backend=envlogger.BackendType.IN_MEMORY)
  r2 = envlogger.Reader(in_memory_backend_writer=writer, backend=envlogger.BackendType.IN_MEMORY)
  assert len(r1.steps) == len(r2.steps) == 30


def test_backend_instance():
  backend = in_memory_backend.InMemoryBackendReader(_recorded_writer())
  reader = envlogger.Reader(backend=backend)
  assert len(reader.episodes) == 3
  assert reader.steps is backend.steps


@pytest.mark.parametrize('backend', ['riegeli', 0.5, None, object()])
def test_unsupported_backend(backend):
  with pytest.raises(TypeError, match='Unsupported backend'):
    envlogger.Reader('/tmp', backend=backend)


def test_element_types():
  reader = _reader()
  step = reader.steps[0]
  assert isinstance(step, envlogger.StepData)
  assert isinstance(step.timestep, dm_env.TimeStep)
  assert isinstance(reader.episodes[0], backend_reader._SequenceAdapter)  # pylint: disable=protected-access
  assert isinstance(reader.steps[1:3], list)
  assert len(reader.episodes[2]) == 10


def test_specs():
  reader = _reader()
  env = catch_env.Catch()
  assert reader.observation_spec() == env.observation_spec()
  assert reader.observation_spec().name == 'board'
  assert reader.action_spec() == env.action_spec()
  assert reader.reward_spec() == env.reward_spec()
  assert reader.discount_spec() == env.discount_spec()


def test_specs_absent():
  writer = in_memory_backend.InMemoryBackendWriter(metadata=None)
  reader = envlogger.Reader(writer, backend=envlogger.BackendType.IN_MEMORY)
  assert reader.observation_spec() is None and reader.action_spec() is None
  assert reader.reward_spec() is None and reader.discount_spec() is None
  assert reader.metadata() == {}


def test_metadata_returns_an_independent_copy():
  reader = _reader(metadata={'list': [1, 2], 'd': {'x': 1}})
  metadata = reader.metadata()
  metadata['list'].append(3)
  metadata['d'].clear()
  del metadata['environment_specs']
  fresh = reader.metadata()
  assert fresh['list'] == [1, 2] and fresh['d'] == {'x': 1}
  assert 'environment_specs' in fresh


def test_episode_metadata():
  reader = _reader(num_episodes=4)
  assert list(reader.episode_metadata()) == ['m'] * 4


def test_copy_is_independent_and_keeps_specs():
  reader = _reader()
  copy = reader.copy()
  assert copy is not reader
  assert copy.observation_spec() == reader.observation_spec()
  assert [s.action for s in copy.steps] == [s.action for s in reader.steps]
  reader.close()
  assert len(copy.steps) == 30


def test_context_manager_closes():
  closed = []

  class _Backend(in_memory_backend.InMemoryBackendReader):
    def close(self):
      closed.append(True)

  with envlogger.Reader(backend=_Backend(_recorded_writer())) as reader:
    assert len(reader.steps) == 30
  assert closed


def test_iterating_episodes_and_steps():
  reader = _reader()
  flat = [s.timestep.step_type for e in reader.episodes for s in e]
  assert flat == [s.timestep.step_type for s in reader.steps]
  assert flat.count(dm_env.StepType.FIRST) == 3
