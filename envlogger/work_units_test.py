"""Tests of cutting a root into work units and of episode columns."""

import dm_env
import numpy as np
import pytest

import envlogger
from envlogger import step_data
from envlogger import work_units
from envlogger.testing import actors as actors_lib
from envlogger.testing import catch_env


def _record(root, name, episodes, seed):
  with envlogger.EnvLogger(
    catch_env.Catch(seed=seed), data_directory=str(root), writer_name=name
  ) as logged:
    return actors_lib.play(logged, episodes)


def test_units_cover_the_root_in_global_order(tmp_path):
  recorded = {'a': _record(tmp_path, 'a', 5, 1), 'b': _record(tmp_path, 'b', 2, 2)}
  # Catch episodes have 10 steps: at most 3 episodes (max_episodes) or 25 steps.
  units = work_units.plan(str(tmp_path), max_episodes=3, max_steps=25)
  assert [
    (u.writer, u.episode_start, u.episode_stop, u.global_episode, u.global_step, u.num_steps)
    for u in units
  ] == [
    ('a', 0, 2, 0, 0, 20),
    ('a', 2, 4, 2, 20, 20),
    ('a', 4, 5, 4, 40, 10),
    ('b', 0, 2, 5, 50, 20),
  ]
  assert units[0].path == str(tmp_path / 'a')
  episodes = [e for u in units for e in work_units.read_unit(u)]
  assert [e['episode'] for e in episodes] == list(range(7))
  assert [e['first_step'] for e in episodes] == list(range(0, 70, 10))
  for e in episodes:
    want = np.stack(recorded[e['writer']][e['episode_in_writer']])
    np.testing.assert_array_equal(e['steps']['observation'], want)


def test_a_single_dataset_is_one_writer(tmp_path):
  _record(tmp_path, 'a', 2, 1)
  units = work_units.plan(str(tmp_path / 'a'))
  assert [(u.path, u.episode_start, u.episode_stop) for u in units] == [(str(tmp_path / 'a'), 0, 2)]


def test_bad_sizes_and_sources(tmp_path):
  with pytest.raises(ValueError, match='max_episodes'):
    work_units.plan(str(tmp_path), max_episodes=0)
  with pytest.raises(FileNotFoundError, match='nothing'):
    work_units.plan(str(tmp_path / 'nothing*'))


def test_episode_columns_flatten_nested_fields_and_fill_missing_actions():
  steps = [
    step_data.StepData(dm_env.restart({'pos': np.array([1.0, 2.0]), 'id': np.int32(7)}), None),
    step_data.StepData(
      dm_env.transition(0.5, {'pos': np.array([3.0, 4.0]), 'id': np.int32(8)}),
      np.array([1, 2], np.int64),
      custom_data={'note': 3},
    ),
  ]
  columns = work_units.episode_columns(steps)
  assert sorted(columns) == [
    'action',
    'custom_data/note',
    'discount',
    'observation/id',
    'observation/pos',
    'reward',
    'step_type',
  ]
  np.testing.assert_array_equal(columns['observation/pos'], [[1.0, 2.0], [3.0, 4.0]])
  np.testing.assert_array_equal(columns['action'], [[0, 0], [1, 2]])
  np.testing.assert_array_equal(columns['step_type'], [0, 1])
  np.testing.assert_array_equal(columns['reward'], [0.0, 0.5])
  np.testing.assert_array_equal(columns['custom_data/note'], [0, 3])


def test_units_never_span_two_shards(tmp_path):
  # 5 episodes, 2 per shard: shards hold episodes [0, 2), [2, 4), [4, 5).
  with envlogger.EnvLogger(
    catch_env.Catch(seed=3), data_directory=str(tmp_path), writer_name='w', max_episodes_per_file=2
  ) as logged:
    recorded = actors_lib.play(logged, 5)
  with envlogger.Reader(str(tmp_path / 'w')) as reader:
    assert reader._backend.shard_episode_starts() == [0, 2, 4]  # pylint: disable=protected-access
  units = work_units.plan(str(tmp_path), max_episodes=100)
  assert [(u.episode_start, u.episode_stop, u.global_step) for u in units] == [
    (0, 2, 0),
    (2, 4, 20),
    (4, 5, 40),
  ]
  # A large shard is still cut by episode range.
  assert [(u.episode_start, u.episode_stop) for u in work_units.plan(str(tmp_path / 'w'), 1)] == [
    (i, i + 1) for i in range(5)
  ]
  episodes = [e for u in units for e in work_units.read_unit(u)]
  for e, want in zip(episodes, recorded):
    np.testing.assert_array_equal(e['steps']['observation'], np.stack(want))
