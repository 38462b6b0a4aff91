"""Tests of reading many writers' datasets as one (Reader over roots, globs, lists)."""

import os
import signal
import subprocess
import sys

import dm_env
from dm_env import specs
import numpy as np
import pytest

import envlogger
from envlogger.backends import dataset_sources
from envlogger.backends import multi_reader
from envlogger.testing import catch_env


def _play(logged, num_episodes, partial_steps=0, actions=(0, 1, 2)):
  """Runs episodes (then `partial_steps` of one more); returns the observations per episode."""
  episodes = []
  for e in range(num_episodes + (1 if partial_steps else 0)):
    timestep = logged.reset()
    observations = [timestep.observation.copy()]
    t = 0
    while not timestep.last():
      if e == num_episodes and len(observations) >= partial_steps:
        break
      timestep = logged.step(actions[t % len(actions)])
      observations.append(timestep.observation.copy())
      t += 1
    episodes.append(observations)
  return episodes


def _record(root, name, num_episodes, seed=1, metadata=None):
  with envlogger.EnvLogger(
    catch_env.Catch(seed=seed), data_directory=str(root), writer_name=name, metadata=metadata
  ) as logged:
    return _play(logged, num_episodes)


def _observations(episode):
  return [step.timestep.observation for step in episode]


def _assert_episodes_equal(actual, expected):
  assert len(actual) == len(expected)
  for a, e in zip(actual, expected):
    assert len(a) == len(e)
    for x, y in zip(a, e):
      np.testing.assert_array_equal(x, y)


def test_root_of_writers_reads_as_one_dataset_in_writer_name_order(tmp_path):
  recorded = {
    'b': _record(tmp_path, 'b', 2, seed=2, metadata={'actor': 'b'}),
    'a': _record(tmp_path, 'a', 3, seed=3, metadata={'actor': 'a'}),
    'c': _record(tmp_path, 'c', 1, seed=4, metadata={'actor': 'c'}),
  }
  expected = recorded['a'] + recorded['b'] + recorded['c']
  with envlogger.Reader(str(tmp_path)) as reader:
    assert len(reader.episodes) == 6
    assert len(reader.steps) == sum(len(e) for e in expected)
    _assert_episodes_equal([_observations(e) for e in reader.episodes], expected)
    _assert_episodes_equal([[s.timestep.observation for s in reader.steps]], [sum(expected, [])])
    assert [reader.episode_origin(i) for i in range(6)] == [
      ('a', 0),
      ('a', 1),
      ('a', 2),
      ('b', 0),
      ('b', 1),
      ('c', 0),
    ]
    assert reader.episode_origin(-1) == ('c', 0)
    assert {k: v['actor'] for k, v in reader.writer_metadata().items()} == {
      'a': 'a',
      'b': 'b',
      'c': 'c',
    }
    assert reader.observation_spec() == catch_env.Catch().observation_spec()
    # Random access to an episode's steps in the middle of the root.
    np.testing.assert_array_equal(reader.episodes[4][2].timestep.observation, recorded['b'][1][2])
    assert len(reader.episode_metadata()) == 6
    copy = reader.copy()
    _assert_episodes_equal([_observations(e) for e in copy.episodes], expected)
    copy.close()


def test_glob_and_list_pick_the_same_writers(tmp_path):
  recorded = {name: _record(tmp_path, name, 1, seed=i + 1) for i, name in enumerate('xyz')}
  with envlogger.Reader(str(tmp_path / '[xz]')) as reader:
    _assert_episodes_equal(
      [_observations(e) for e in reader.episodes], recorded['x'] + recorded['z']
    )
  with envlogger.Reader([str(tmp_path / 'z'), str(tmp_path / 'y')]) as reader:
    # Sorted by name (the path), not by list order.
    _assert_episodes_equal(
      [_observations(e) for e in reader.episodes], recorded['y'] + recorded['z']
    )
    assert reader.episode_origin(1) == (str(tmp_path / 'z'), 0)


def test_nothing_readable_is_an_error_naming_the_source(tmp_path):
  (tmp_path / 'empty_root' / 'not_a_dataset').mkdir(parents=True)
  with pytest.raises(RuntimeError, match='No metadata.riegeli in .*empty_root'):
    envlogger.Reader(str(tmp_path / 'empty_root'))
  with pytest.raises(FileNotFoundError, match='No readable envlogger dataset in .*empty_root'):
    multi_reader.MultiBackendReader(str(tmp_path / 'empty_root'))
  with pytest.raises(FileNotFoundError, match=r'nomatch\*'):
    envlogger.Reader(str(tmp_path / 'nomatch*'))
  with pytest.raises(FileNotFoundError, match='missing_dir'):
    envlogger.Reader([str(tmp_path / 'missing_dir')])


class _OtherSpecs(catch_env.Catch):
  def observation_spec(self):
    return specs.Array((3,), np.float64, name='other')


def test_writers_with_different_specs_are_an_error_naming_both(tmp_path):
  _record(tmp_path, 'same', 1)
  with envlogger.EnvLogger(_OtherSpecs(), data_directory=str(tmp_path), writer_name='other'):
    pass
  with pytest.raises(ValueError, match="'other'.*'same'|'same'.*'other'"):
    envlogger.Reader(str(tmp_path))


def test_damage_in_one_writer_is_skipped_with_global_step_indices(tmp_path):
  _record(tmp_path, 'a', 2, seed=5)
  b = _record(tmp_path, 'b', 3, seed=6)
  shard = next(p for p in (tmp_path / 'b').iterdir() if p.is_dir())
  steps_file = shard / 'steps.riegeli'
  data = bytearray(steps_file.read_bytes())
  data[100] ^= 0xFF  # Inside the first (and only) chunk after the signature.
  steps_file.write_bytes(bytes(data))
  with envlogger.Reader(str(tmp_path)) as reader:
    num_a = sum(len(reader.episodes[i]) for i in range(2))
    read = list(reader.steps)
    assert len(read) == num_a  # All of b's steps were in the damaged chunk.
    regions = reader.skipped_regions()
    assert len(regions) == 1
    assert regions[0].path.startswith(str(tmp_path / 'b'))
    assert regions[0].steps == range(num_a, num_a + sum(len(e) for e in b))


def _writer_process(root, name, episodes, partial, kill_file=None):
  """A child recording `episodes` episodes then `partial` steps, flushing, then waiting."""
  code = f"""
import sys, envlogger
from envlogger.testing import catch_env
from envlogger.backends import multi_reader_test as t
flush = []
logged = envlogger.EnvLogger(catch_env.Catch(seed=7), data_directory={str(root)!r},
                             writer_name={name!r}, flush_scheduler=lambda _: bool(flush))
t._play(logged, {episodes}, {partial})
flush.append(1); logged.step(0)
print('flushed', flush=True)
sys.stdin.readline()
"""
  return subprocess.Popen(
    [sys.executable, '-c', code],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
    text=True,
    cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
  )


def test_refresh_follows_live_writers_shows_each_step_once_and_a_killed_writers_tail(tmp_path):
  _record(tmp_path, 'done', 1, seed=1)
  with envlogger.Reader(str(tmp_path)) as reader:
    assert len(reader.episodes) == 1
    seen = list(reader.steps)
    # A live writer: 2 whole episodes and an unfinished one flushed.
    child = _writer_process(tmp_path, 'live', 2, 3)
    try:
      assert child.stdout.readline().strip() == 'flushed'
      new = reader.refresh()
      assert new == range(1, 3)  # The unfinished third episode is held back.
      assert [reader.episode_origin(i) for i in new] == [('live', 0), ('live', 1)]
      seen += list(reader.steps[len(seen) :])
      assert reader.refresh() == range(3, 3)  # Nothing new.
      os.kill(child.pid, signal.SIGKILL)
      child.wait()
    finally:
      if child.poll() is None:
        child.kill()
        child.wait()
    # The writer died: what it flushed of its last episode is final, and shown.
    new = reader.refresh()
    assert new == range(3, 4)
    assert reader.episode_origin(3) == ('live', 2)
    assert reader.episodes[3][0].timestep.step_type == dm_env.StepType.FIRST
    assert reader.episodes[3][-1].timestep.step_type != dm_env.StepType.LAST
    seen += list(reader.steps[len(seen) :])
    # Every step once: the same as a fresh reader of the finished root, and
    # each episode starts with FIRST exactly once.
    with envlogger.Reader(str(tmp_path)) as fresh:
      assert len(fresh.steps) == len(seen) == len(reader.steps)
      assert sum(s.timestep.first() for s in seen) == 4
      assert sorted(fresh.episode_origin(i) for i in range(4)) == sorted(
        reader.episode_origin(i) for i in range(4)
      )


def test_refresh_with_a_new_writer_and_a_single_dataset(tmp_path):
  _record(tmp_path, 'a', 1, seed=1)
  with (
    envlogger.Reader(str(tmp_path)) as root_reader,
    envlogger.Reader(str(tmp_path / 'a')) as single,
  ):
    b = _record(tmp_path, 'b', 2, seed=2)
    assert root_reader.refresh() == range(1, 3)
    _assert_episodes_equal([_observations(root_reader.episodes[i]) for i in (1, 2)], b)
    _record(tmp_path, 'a', 1, seed=9)  # The name is free again: a second shard of 'a'.
    assert root_reader.refresh() == range(3, 4)
    assert root_reader.episode_origin(3) == ('a', 1)
    assert single.refresh() == range(1, 2)
    assert single.episode_origin(1) == (str(tmp_path / 'a'), 1)


def test_source_helpers(tmp_path):
  _record(tmp_path, 'w', 1)
  assert dataset_sources.is_dataset(tmp_path / 'w')
  assert not dataset_sources.needs_multi_reader(str(tmp_path / 'w'))
  assert dataset_sources.needs_multi_reader(str(tmp_path))
  assert dataset_sources.needs_multi_reader([str(tmp_path / 'w')])
  assert dataset_sources.needs_multi_reader(str(tmp_path / '*'))


def test_refresh_finds_a_writer_whose_directory_existed_before_its_metadata(tmp_path):
  _record(tmp_path, 'a', 1, seed=1)
  (tmp_path / 'b').mkdir()  # A writer that has created its directory, nothing more yet.
  with envlogger.Reader(str(tmp_path)) as reader:
    assert reader.refresh() == range(1, 1)
    b = _record(tmp_path, 'b', 2, seed=2)  # Does not change the root's listing.
    assert reader.refresh() == range(1, 3)
    _assert_episodes_equal([_observations(reader.episodes[i]) for i in (1, 2)], b)


def test_arrays_and_sampling_across_a_root(tmp_path):
  recorded = {'a': _record(tmp_path, 'a', 2, seed=1), 'b': _record(tmp_path, 'b', 3, seed=2)}
  expected = recorded['a'] + recorded['b']
  with envlogger.Reader(str(tmp_path)) as reader:
    everything = reader.step_arrays()
    np.testing.assert_array_equal(everything.timestep.observation, np.stack(sum(expected, [])))
    # An episode of the second writer, by global index.
    np.testing.assert_array_equal(
      reader.episode_arrays(3).timestep.observation, np.stack(expected[3])
    )
    # Windows never cross an episode (and so never a writer) boundary.
    windows = reader.sample(16, seq_len=3, seed=0).timestep.observation
    assert windows.shape == (16, 3) + expected[0][0].shape
    flat = [np.stack(e[i : i + 3]) for e in expected for i in range(len(e) - 2)]
    for window in windows:
      assert any(np.array_equal(window, f) for f in flat)
    seen = sum(len(b.timestep.observation) for b in reader.batches(7, seq_len=3, seed=1))
    assert seen == len(flat)


def test_cache_bytes_bounds_each_writers_cache(tmp_path):
  recorded = _record(tmp_path, 'a', 3, seed=3) + _record(tmp_path, 'b', 3, seed=4)
  with envlogger.Reader(str(tmp_path), cache_bytes=1 << 20) as reader:
    assert reader.cache_stats()['max_bytes'] == 2 * (1 << 20)  # One shard per writer.
    _assert_episodes_equal([_observations(e) for e in reader.episodes], recorded)
  with envlogger.Reader(str(tmp_path), cache_bytes=0) as reader:
    assert reader.cache_stats()['max_bytes'] == 0
    _assert_episodes_equal([_observations(e) for e in reader.episodes], recorded)
    assert reader.cache_stats()['chunks'] <= 2  # At most the chunk being read, per writer.
