"""Tests of the in-memory backend (and BackendReader's sequence views)."""

import dm_env
import numpy as np
import pytest

from envlogger import step_data
from envlogger.backends import in_memory_backend
from envlogger.backends import schedulers
from envlogger.backends.python import episode_info


def _make_steps(num_episodes: int, episode_length: int):
  """Distinct StepData for consecutive episodes, with is_new_episode flags."""
  steps = []
  for e in range(num_episodes):
    for t in range(episode_length):
      if t == 0:
        timestep = dm_env.restart(np.array([e, t]))
      elif t == episode_length - 1:
        timestep = dm_env.termination(float(t), np.array([e, t]))
      else:
        timestep = dm_env.transition(float(t), np.array([e, t]))
      steps.append((step_data.StepData(timestep, None if t == 0 else t, {'e': e, 't': t}), t == 0))
  return steps


def _write(steps, **kwargs):
  writer = in_memory_backend.InMemoryBackendWriter(**kwargs)
  for data, is_new_episode in steps:
    writer.record_step(data, is_new_episode)
  writer.close()
  return writer


def test_steps_round_trip():
  steps = _make_steps(3, 4)
  reader = in_memory_backend.InMemoryBackendReader(_write(steps))
  assert len(reader.steps) == 12
  for i, (data, _) in enumerate(steps):
    assert reader.steps[i] is data
  assert list(reader.steps) == [d for d, _ in steps]


def test_episodes_round_trip():
  steps = _make_steps(5, 3)
  reader = in_memory_backend.InMemoryBackendReader(_write(steps))
  assert len(reader.episodes) == 5
  for e, episode in enumerate(reader.episodes):
    assert len(episode) == 3
    assert list(episode) == [d for d, _ in steps[3 * e : 3 * e + 3]]


def test_episodes_of_different_lengths():
  writer = in_memory_backend.InMemoryBackendWriter()
  lengths = [1, 4, 2]
  for e, n in enumerate(lengths):
    for t in range(n):
      writer.record_step(step_data.StepData(dm_env.restart(e), t), t == 0)
  reader = in_memory_backend.InMemoryBackendReader(writer)
  assert [len(e) for e in reader.episodes] == lengths
  assert [s.action for s in reader.episodes[1]] == [0, 1, 2, 3]


def test_scheduler():
  steps = _make_steps(2, 4)
  writer = _write(steps, scheduler=schedulers.NStepScheduler(2))
  assert writer.steps == [steps[i][0] for i in (0, 2, 4, 6)]
  assert writer.episode_start_indices == [0, 2]


def test_step_negative_indices():
  steps = _make_steps(2, 3)
  reader = in_memory_backend.InMemoryBackendReader(_write(steps))
  assert reader.steps[-1] is steps[-1][0]
  assert reader.steps[-6] is steps[0][0]


@pytest.mark.parametrize('index', [6, 7, 100, -7, -100])
def test_step_out_of_bounds_indices(index):
  reader = in_memory_backend.InMemoryBackendReader(_write(_make_steps(2, 3)))
  with pytest.raises(IndexError, match=r'is out of the range \[-6, 5\]'):
    reader.steps[index]  # pylint: disable=pointless-statement


def test_episode_negative_indices():
  steps = _make_steps(4, 2)
  reader = in_memory_backend.InMemoryBackendReader(_write(steps))
  assert list(reader.episodes[-1]) == [steps[6][0], steps[7][0]]
  assert list(reader.episodes[-4]) == [steps[0][0], steps[1][0]]


@pytest.mark.parametrize('index', [4, 5, -5])
def test_episode_out_of_bounds_indices(index):
  reader = in_memory_backend.InMemoryBackendReader(_write(_make_steps(4, 2)))
  with pytest.raises(IndexError):
    reader.episodes[index]  # pylint: disable=pointless-statement


def test_episode_step_negative_indices():
  steps = _make_steps(3, 5)
  reader = in_memory_backend.InMemoryBackendReader(_write(steps))
  assert reader.episodes[1][-1] is steps[9][0]
  assert reader.episodes[1][-5] is steps[5][0]


@pytest.mark.parametrize('index', [5, 6, -6])
def test_episode_step_out_of_bounds_indices(index):
  reader = in_memory_backend.InMemoryBackendReader(_write(_make_steps(3, 5)))
  with pytest.raises(IndexError, match=r'is out of the range \[-5, 4\]'):
    reader.episodes[1][index]  # pylint: disable=pointless-statement


def test_slices_return_lists():
  steps = _make_steps(3, 3)
  reader = in_memory_backend.InMemoryBackendReader(_write(steps))
  assert reader.steps[2:5] == [d for d, _ in steps[2:5]]
  assert reader.steps[::-4] == [steps[8][0], steps[4][0], steps[0][0]]
  assert reader.steps[7:100] == [steps[7][0], steps[8][0]]
  assert isinstance(reader.episodes[:2], list)
  assert [list(e) for e in reader.episodes[1:]] == [
    [d for d, _ in steps[3:6]],
    [d for d, _ in steps[6:9]],
  ]


def test_iterations_are_independent():
  steps = [d for d, _ in _make_steps(2, 3)]
  reader = in_memory_backend.InMemoryBackendReader(_write(_make_steps(2, 3)))
  it = iter(reader.steps)
  next(it)
  next(it)
  # A new iteration starts from the beginning even though `it` is mid-way.
  assert [s.custom_data for s in reader.steps] == [s.custom_data for s in steps]
  # Nested iteration over the same sequence.
  pairs = [
    (a.custom_data['t'], b.custom_data['t']) for a in reader.episodes[0] for b in reader.episodes[0]
  ]
  assert pairs == [(a, b) for a in range(3) for b in range(3)]
  assert next(it).custom_data == steps[2].custom_data


def test_episode_metadata_is_zero_based_and_any_value():
  writer = in_memory_backend.InMemoryBackendWriter()
  writer.set_episode_metadata('ignored: no episode yet')
  values = [{'a': 1}, None, object(), [1, 2]]
  for e, value in enumerate(values):
    writer.record_step(step_data.StepData(dm_env.restart(0), None), True)
    writer.record_step(step_data.StepData(dm_env.transition(0.0, 0), 1), False)
    if value is not None:
      writer.set_episode_metadata('first, overwritten')
      writer.set_episode_metadata(value)
  assert sorted(writer.episode_metadata) == [0, 2, 3]
  reader = in_memory_backend.InMemoryBackendReader(writer)
  metadata = reader.episode_metadata()
  assert len(metadata) == 4
  assert list(metadata) == values
  assert metadata[2] is values[2]


def test_episode_info():
  writer = _write(_make_steps(3, 2))
  writer.episode_metadata[1] = 'meta'
  reader = in_memory_backend.InMemoryBackendReader(writer)
  info = reader._get_nth_episode_info(1, include_metadata=True)  # pylint: disable=protected-access
  assert isinstance(info, episode_info.EpisodeInfo)
  assert (info.start, info.num_steps, info.metadata) == (2, 2, 'meta')
  info = reader._get_nth_episode_info(2)  # pylint: disable=protected-access
  assert (info.start, info.num_steps, info.metadata) == (4, 2, None)


def test_counts_are_fixed_at_construction_and_copy_refreshes():
  writer = _write(_make_steps(1, 2))
  reader = in_memory_backend.InMemoryBackendReader(writer)
  writer.record_step(step_data.StepData(dm_env.restart(0), None), True)
  assert len(reader.steps) == 2 and len(reader.episodes) == 1
  copy = reader.copy()
  assert len(copy.steps) == 3 and len(copy.episodes) == 2
  # The copy does not share state with the writer.
  writer.steps.clear()
  assert len(copy.steps) == 3 and copy.steps[2].timestep.first()


def test_metadata_and_context_manager():
  writer = in_memory_backend.InMemoryBackendWriter(metadata={'k': [1]})
  with in_memory_backend.InMemoryBackendReader(writer) as reader:
    assert reader.metadata() == {'k': [1]}
    assert len(reader.steps) == 0
    assert not list(reader.episodes)
