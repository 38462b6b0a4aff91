"""envlogger.ray on a real local Ray: read_envlogger over a root of 8 actors, 2 of them killed."""

import numpy as np
import pytest

ray = pytest.importorskip('ray')  # The `ray` extra; CI installs it.

import envlogger  # pylint: disable=g-import-not-at-top,g-bad-import-order
import envlogger.ray as envlogger_ray  # pylint: disable=g-import-not-at-top
from envlogger import work_units  # pylint: disable=g-import-not-at-top
from envlogger.testing import actors as actors_lib  # pylint: disable=g-import-not-at-top


@pytest.fixture(scope='module')
def local_ray():
  ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
  yield
  ray.shutdown()


@pytest.fixture(scope='module')
def root(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('root'))
  return path, actors_lib.record(path, num_actors=8, killed=(2, 5), episodes=6, partial=4)


def test_steps_match_the_reader_and_the_recorded_trajectories(local_ray, root):
  path, expected = root
  # Small tasks so that writers are split into several episode ranges.
  ds = envlogger_ray.read_envlogger(path, max_episodes_per_task=2)
  assert ds.count() == sum(len(e) for episodes in expected.values() for e in episodes)
  rows = sorted(ds.iter_rows(), key=lambda row: row['step'])
  with envlogger.Reader(path) as reader:
    assert len(rows) == len(reader.steps)
    for i, (row, step) in enumerate(zip(rows, reader.steps)):
      assert row['step'] == i
      np.testing.assert_array_equal(row['observation'], step.timestep.observation)
      assert row['step_type'] == int(step.timestep.step_type)
      episode = (
        int(
          np.searchsorted(
            [
              reader._backend._get_nth_episode_info(e).start  # pylint: disable=protected-access
              for e in range(len(reader.episodes))
            ],
            i,
            side='right',
          )
        )
        - 1
      )
      assert row['episode'] == episode
      assert (row['writer'], row['episode_in_writer']) == reader.episode_origin(episode)
  # Against the independently replayed trajectories: writer, episode, step.
  for row in rows:
    want = expected[row['writer']][row['episode_in_writer']][row['step_in_episode']]
    np.testing.assert_array_equal(row['observation'], want)
  # None merged: one FIRST per episode, as many episodes as were recorded.
  assert sum(row['step_type'] == 0 for row in rows) == sum(len(e) for e in expected.values())


def test_episodes(local_ray, root):
  path, expected = root
  ds = envlogger_ray.read_envlogger(path, unit='episodes', max_episodes_per_task=3)
  rows = sorted(ds.iter_rows(), key=lambda row: row['episode'])
  order = [(name, local) for name in sorted(expected) for local in range(len(expected[name]))]
  assert [(row['writer'], row['episode_in_writer']) for row in rows] == order
  for row in rows:
    want = np.stack(expected[row['writer']][row['episode_in_writer']])
    np.testing.assert_array_equal(row['steps/observation'], want)
    assert row['num_steps'] == len(want)


def test_read_tasks_follow_the_plan(local_ray, root):
  path, expected = root
  units = work_units.plan(path, max_episodes=4)
  # 6 surviving writers of 6 episodes (2 units each), 2 killed of 4 episodes (1 each).
  assert len(units) == 6 * 2 + 2
  source = envlogger_ray.EnvloggerDatasource(path, max_episodes_per_task=4)
  tasks = source.get_read_tasks(1)
  assert len(tasks) == len(units)
  assert sum(t.metadata.num_rows for t in tasks) == sum(
    len(e) for episodes in expected.values() for e in episodes
  )


def test_bad_input_names_it(local_ray, tmp_path):
  with pytest.raises((FileNotFoundError, RuntimeError), match='nothing_here'):
    envlogger_ray.read_envlogger(str(tmp_path / 'nothing_here*'))
  with pytest.raises(ValueError, match='frames'):
    envlogger_ray.read_envlogger(str(tmp_path), unit='frames')


def test_an_episode_of_one_step_gets_zeros_for_its_missing_fields():
  one = {
    'steps': {'step_type': np.array([0], np.uint8), 'observation': np.array([[1.0]])},
    'episode': 0,
    'writer': 'w',
    'episode_in_writer': 0,
    'first_step': 0,
  }
  two = {
    'steps': {
      'step_type': np.array([0, 2], np.uint8),
      'observation': np.array([[2.0], [3.0]]),
      'action': np.array([0, 4], np.int64),
    },
    'episode': 1,
    'writer': 'w',
    'episode_in_writer': 1,
    'first_step': 1,
  }
  block = envlogger_ray._steps_block([one, two])  # pylint: disable=protected-access
  np.testing.assert_array_equal(block['action'], [0, 0, 4])
  assert block['action'].dtype == np.int64
  np.testing.assert_array_equal(block['observation'], [[1.0], [2.0], [3.0]])
  np.testing.assert_array_equal(block['step'], [0, 1, 2])
  np.testing.assert_array_equal(block['step_in_episode'], [0, 0, 1])
