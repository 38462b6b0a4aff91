"""Tests of RiegeliBackendWriter, read back with RiegeliBackendReader.

Ports upstream's RiegeliBackendTest and adds the error contract of our writer
(directory handling, unencodable values). Expected values are the StepData
written, passed through the pure-Python codec (independent of the native codec
the writer and reader use): that is what a Data proto round trip gives.
"""

import os
import time
from typing import List, Tuple
from unittest import mock

import dm_env
import numpy as np
import pytest

from envlogger import _native
from envlogger import step_data
from envlogger.backends import riegeli_backend_reader
from envlogger.backends import riegeli_backend_writer
from envlogger.backends import schedulers
from envlogger.converters import codec
from envlogger.testing import compare


def _round_trip(value):
  return codec.decode(codec.encode(value))


def _recorded(data: step_data.StepData) -> tuple:
  """`data` as the reader returns it (codec round trip, StepType restored)."""
  timestep = data.timestep
  return (
    dm_env.TimeStep(
      dm_env.StepType(_round_trip(timestep.step_type)),
      _round_trip(timestep.reward),
      _round_trip(timestep.discount),
      _round_trip(timestep.observation),
    ),
    _round_trip(data.action),
    _round_trip(data.custom_data),
  )


def _make_steps(num_episodes: int, episode_length: int) -> List[Tuple[step_data.StepData, bool]]:
  """Distinct StepData for consecutive episodes, with is_new_episode flags."""
  steps = []
  for e in range(num_episodes):
    for t in range(episode_length):
      observation = np.array([e, t], dtype=np.float32)
      if t == 0:
        timestep = dm_env.restart(observation)
      elif t == episode_length - 1:
        timestep = dm_env.termination(float(t), observation)
      else:
        timestep = dm_env.transition(float(t), observation)
      steps.append(
        (
          step_data.StepData(
            timestep, None if t == 0 else np.int32(t), {'e': np.int64(e), 't': np.int64(t)}
          ),
          t == 0,
        )
      )
  return steps


def _write(data_directory, steps, **kwargs) -> None:
  writer = riegeli_backend_writer.RiegeliBackendWriter(str(data_directory), **kwargs)
  for data, is_new_episode in steps:
    writer.record_step(data, is_new_episode)
  writer.close()


def _reader(data_directory) -> riegeli_backend_reader.RiegeliBackendReader:
  return riegeli_backend_reader.RiegeliBackendReader(str(data_directory))


def test_step_roundtrip(tmp_path):
  steps = _make_steps(3, 4)
  _write(tmp_path, steps, metadata={'k': np.int64(1)})
  with _reader(tmp_path) as reader:
    assert len(reader.steps) == 12
    for i, (data, _) in enumerate(steps):
      compare.assert_strictly_equal(tuple(reader.steps[i]), _recorded(data))
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.steps], [_recorded(d) for d, _ in steps]
    )
    compare.assert_strictly_equal(reader.metadata(), {'k': np.int64(1)})


def test_episodes_round_trip(tmp_path):
  steps = _make_steps(5, 3)
  _write(tmp_path, steps, max_episodes_per_file=2)
  with _reader(tmp_path) as reader:
    assert len(reader.episodes) == 5
    for e, episode in enumerate(reader.episodes):
      assert len(episode) == 3
      compare.assert_strictly_equal(
        [tuple(s) for s in episode], [_recorded(d) for d, _ in steps[3 * e : 3 * e + 3]]
      )


def test_scheduler(tmp_path):
  steps = _make_steps(2, 4)
  _write(tmp_path, steps, scheduler=schedulers.NStepScheduler(2))
  with _reader(tmp_path) as reader:
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.steps], [_recorded(steps[i][0]) for i in (0, 2, 4, 6)]
    )
    assert [len(e) for e in reader.episodes] == [2, 2]


# Six episodes of four steps, three episodes per file: two shards.
_NUM_EPISODES, _EPISODE_LENGTH = 6, 4
_NUM_STEPS = _NUM_EPISODES * _EPISODE_LENGTH


@pytest.fixture(name='written')
def _written(tmp_path):
  steps = _make_steps(_NUM_EPISODES, _EPISODE_LENGTH)
  _write(tmp_path, steps, max_episodes_per_file=3)
  assert len([d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d)]) == 2
  with _reader(tmp_path) as reader:
    yield [d for d, _ in steps], reader


def test_step_negative_indices(written):
  steps, reader = written
  for i in range(1, _NUM_STEPS + 1):
    compare.assert_strictly_equal(tuple(reader.steps[-i]), _recorded(steps[-i]))


@pytest.mark.parametrize('index', [_NUM_STEPS, _NUM_STEPS + 1, 1000, -_NUM_STEPS - 1, -1000])
def test_step_out_of_bounds_indices(written, index):
  _, reader = written
  with pytest.raises(IndexError, match=r'is out of the range \[-24, 23\]'):
    reader.steps[index]  # pylint: disable=pointless-statement


def test_episode_negative_indices(written):
  steps, reader = written
  for e in range(1, _NUM_EPISODES + 1):
    start = (_NUM_EPISODES - e) * _EPISODE_LENGTH
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.episodes[-e]],
      [_recorded(d) for d in steps[start : start + _EPISODE_LENGTH]],
    )


@pytest.mark.parametrize('index', [_NUM_EPISODES, _NUM_EPISODES + 1, -_NUM_EPISODES - 1])
def test_episode_out_of_bounds_indices(written, index):
  _, reader = written
  with pytest.raises(IndexError, match=r'is out of the range \[-6, 5\]'):
    reader.episodes[index]  # pylint: disable=pointless-statement


def test_episode_step_negative_indices(written):
  steps, reader = written
  for e in range(_NUM_EPISODES):
    episode = reader.episodes[e]
    for t in range(1, _EPISODE_LENGTH + 1):
      compare.assert_strictly_equal(
        tuple(episode[-t]), _recorded(steps[(e + 1) * _EPISODE_LENGTH - t])
      )


@pytest.mark.parametrize('index', [_EPISODE_LENGTH, _EPISODE_LENGTH + 1, -_EPISODE_LENGTH - 1])
def test_episode_step_out_of_bounds_indices(written, index):
  _, reader = written
  for e in (0, 3, 5):
    with pytest.raises(IndexError, match=r'is out of the range \[-4, 3\]'):
      reader.episodes[e][index]  # pylint: disable=pointless-statement


class _CountingWriter:
  """Forwards to the native writer and counts its flush() calls."""

  def __init__(self, writer):
    self._writer = writer
    self.flushes = 0

  def record_step(self, *args):
    self._writer.record_step(*args)

  def flush(self):
    self.flushes += 1
    self._writer.flush()

  def close(self):
    self._writer.close()


@pytest.mark.parametrize('direct', [False, True])
def test_default_flush_every_ten_minutes(tmp_path, monkeypatch, direct):
  now = [1000.0]
  monkeypatch.setattr(riegeli_backend_writer.time, 'monotonic', lambda: now[0])
  writer = riegeli_backend_writer.RiegeliBackendWriter(str(tmp_path))
  counting = _CountingWriter(writer._writer)  # pylint: disable=protected-access
  writer._writer = counting  # pylint: disable=protected-access
  # record_step, or EnvLogger's path around it: the same schedule.
  record = (
    writer.step_recorder()
    if direct
    else (lambda *fields: writer.record_step(step_data.StepData(*fields[:3]), fields[3]))
  )
  try:
    flushes = []
    for t, (data, is_new_episode) in zip(
      [1000.0, 1599.9, 1600.0, 1600.1, 2199.9, 2200.0, 5000.0, 5000.1], _make_steps(2, 4)
    ):
      now[0] = t
      record(*data, is_new_episode)
      flushes.append(counting.flushes)
  finally:
    writer.close()
  # At 1600 (600 s after construction), then 600 s after that flush, and
  # once after a long pause, counted from then on.
  assert flushes == [0, 0, 1, 1, 1, 2, 3, 3]
  with _reader(tmp_path) as reader:
    assert len(reader.steps) == 8


def test_step_recorder_only_without_schedulers_or_overrides(tmp_path):
  def recorder(**kwargs):
    writer = riegeli_backend_writer.RiegeliBackendWriter(
      str(tmp_path / str(len(os.listdir(tmp_path)))), **kwargs
    )
    writer.close()
    return writer.step_recorder()

  class Overriding(riegeli_backend_writer.RiegeliBackendWriter):
    def _record_step(self, data, is_new_episode):
      super()._record_step(data, is_new_episode)

  assert recorder() is not None
  assert recorder(scheduler=lambda data: True) is None
  assert recorder(flush_scheduler=lambda data: False) is None
  writer = Overriding(str(tmp_path / 'overriding'))
  writer.close()
  assert writer.step_recorder() is None
  assert writer.gym_step_recorder() is None


def test_gym_step_recorder_writes_what_the_step_recorder_writes(tmp_path):
  """A Gymnasium step() result, recorded natively: the bytes of its TimeStep."""
  observation = np.arange(6, dtype=np.uint8).reshape(2, 3)
  results = [
    ((observation, 1.5, False, False, {}), dm_env.StepType.MID, 1.5, 1.0),
    ((observation + 1, np.float32(2), False, True, {}), dm_env.StepType.LAST, 2.0, 1.0),
    ((observation + 2, 3, np.bool_(True), True, {}), dm_env.StepType.LAST, 3.0, 0.0),
  ]
  readers = []
  for name in ('plain', 'gym'):
    writer = riegeli_backend_writer.RiegeliBackendWriter(str(tmp_path / name))
    record, record_gym = writer.step_recorder(), writer.gym_step_recorder()
    try:
      for result, step_type, reward, discount in results:
        record(dm_env.restart(observation), None, None, True)
        if name == 'plain':
          record(dm_env.TimeStep(step_type, reward, discount, result[0]), 7, None, False)
        else:
          assert record_gym(result, 7) == (step_type == dm_env.StepType.LAST)
      if name == 'gym':
        for bad in ([observation, 1.0, False, False, {}], (observation, 1.0)):
          with pytest.raises(TypeError, match='tuple of 5'):
            record_gym(bad, 7)
        with pytest.raises(TypeError, match='Unsupported type'):
          record_gym((object(), 1.0, False, False, {}), 7)
    finally:
      writer.close()
    reader = _native.dataset_io.RiegeliDatasetReader()
    reader.init(str(tmp_path / name))
    readers.append(reader)
  assert readers[0].num_steps == readers[1].num_steps == 6
  for i in range(6):
    assert readers[0].serialized_step(i) == readers[1].serialized_step(i)


def test_step_recorder_writes_what_record_step_writes(tmp_path):
  """Same records, byte for byte, and the same error contract."""
  steps = _make_steps(3, 4)
  bad = step_data.StepData(dm_env.restart(object()), None)
  for name in ('record_step', 'recorder'):
    writer = riegeli_backend_writer.RiegeliBackendWriter(str(tmp_path / name))
    record = writer.step_recorder()
    try:
      for i, (data, is_new_episode) in enumerate(steps):
        if i == 4:  # An unencodable first step of episode 2, then its rest.
          with pytest.raises(TypeError, match=r'Cannot record timestep\.observation'):
            if name == 'record_step':
              writer.record_step(bad, True)
            else:
              record(*bad, True)
          continue
        if name == 'record_step':
          writer.record_step(data, is_new_episode)
        else:
          record(*data, is_new_episode)
    finally:
      writer.close()
    with pytest.raises(RuntimeError, match='is closed'):
      record(*steps[0][0], True)
  readers = [_native.dataset_io.RiegeliDatasetReader() for _ in range(2)]
  for reader, name in zip(readers, ('record_step', 'recorder')):
    reader.init(str(tmp_path / name))
  assert [reader.num_episodes for reader in readers] == [3, 3]
  assert readers[0].num_steps == readers[1].num_steps == len(steps) - 1
  for i in range(len(steps) - 1):
    assert readers[0].serialized_step(i) == readers[1].serialized_step(i)
  for reader in readers:
    reader.close()


def test_flush_scheduler_is_called(tmp_path):
  flush_scheduler = mock.Mock(return_value=False)
  writer = riegeli_backend_writer.RiegeliBackendWriter(
    str(tmp_path), flush_scheduler=flush_scheduler
  )
  data = step_data.StepData(dm_env.restart(np.float32(1.0)), None, None)
  writer.record_step(data, is_new_episode=True)
  flush_scheduler.assert_called_once_with(data)
  writer.close()


def test_flush_scheduler_true_makes_steps_readable_before_close(tmp_path):
  steps = _make_steps(2, 3)
  writer = riegeli_backend_writer.RiegeliBackendWriter(
    str(tmp_path), flush_scheduler=lambda data: True
  )
  try:
    for data, is_new_episode in steps:
      writer.record_step(data, is_new_episode)
    # Flushed after every step: every step is on disk and indexed. Episode
    # rows are only written for finished episodes, but the reader recovers
    # the in-progress episode's start from its FIRST step (upstream merged
    # it into the previous episode), so both episodes are there.
    with _reader(tmp_path) as reader:
      compare.assert_strictly_equal(
        [tuple(s) for s in reader.steps], [_recorded(d) for d, _ in steps]
      )
      assert [len(e) for e in reader.episodes] == [3, 3]
  finally:
    writer.close()


def test_missing_data_directory_is_created(tmp_path):
  data_directory = tmp_path / 'a' / 'b'
  assert not data_directory.exists()
  steps = _make_steps(1, 2)
  _write(data_directory, steps)
  assert data_directory.is_dir()
  with _reader(data_directory) as reader:
    assert len(reader.steps) == 2


def test_data_directory_that_is_a_file_raises(tmp_path):
  path = tmp_path / 'not_a_directory'
  path.write_bytes(b'x')
  with pytest.raises(RuntimeError, match='not_a_directory'):
    riegeli_backend_writer.RiegeliBackendWriter(str(path))


def test_unencodable_value_names_the_field(tmp_path):
  steps = _make_steps(1, 3)
  writer = riegeli_backend_writer.RiegeliBackendWriter(str(tmp_path))
  try:
    for data, is_new_episode in steps[:2]:
      writer.record_step(data, is_new_episode)
    bad = step_data.StepData(dm_env.transition(1.0, {1, 2}), np.int32(0))
    with pytest.raises(TypeError, match=r'timestep\.observation'):
      writer.record_step(bad, False)
    bad_action = step_data.StepData(dm_env.transition(1.0, np.float32(0)), complex(1, 2))
    with pytest.raises(TypeError, match=r'Cannot record action'):
      writer.record_step(bad_action, False)
  finally:
    writer.close()
  # Everything before the failures is still there and readable.
  with _reader(tmp_path) as reader:
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.steps], [_recorded(d) for d, _ in steps[:2]]
    )
    assert len(reader.episodes) == 1


def test_failed_first_step_still_starts_a_new_episode(tmp_path):
  steps = _make_steps(2, 3)
  writer = riegeli_backend_writer.RiegeliBackendWriter(str(tmp_path))
  try:
    for data, is_new_episode in steps[:3]:
      writer.record_step(data, is_new_episode)
    # The first step of episode 2 cannot be encoded...
    bad = step_data.StepData(dm_env.restart(object()), None)
    with pytest.raises(TypeError, match=r'timestep\.observation'):
      writer.record_step(bad, True)
    # ...so the next step, though not flagged new, opens that episode.
    for data, _ in steps[4:]:
      writer.record_step(data, False)
  finally:
    writer.close()
  with _reader(tmp_path) as reader:
    assert [len(e) for e in reader.episodes] == [3, 2]
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.episodes[1]], [_recorded(d) for d, _ in steps[4:]]
    )


@pytest.mark.skipif(not hasattr(os, 'SCHED_BATCH'), reason='Linux only')
def test_writer_thread_does_not_preempt_on_wakeup(tmp_path):
  """The writer thread is SCHED_BATCH; this (the recording) thread is not."""

  def threads():
    return {int(tid) for tid in os.listdir('/proc/self/task')}

  before = threads()
  own_policy = os.sched_getscheduler(0)
  writer = riegeli_backend_writer.RiegeliBackendWriter(str(tmp_path))
  try:
    started = threads() - before
    assert started, 'no writer thread found'
    # The thread sets its policy as it starts: give it a moment.
    deadline = time.monotonic() + 10
    while (
      any(os.sched_getscheduler(t) != os.SCHED_BATCH for t in started)
      and time.monotonic() < deadline
    ):
      time.sleep(0.01)
    assert {os.sched_getscheduler(t) for t in started} == {os.SCHED_BATCH}
    assert os.sched_getscheduler(0) == own_policy
  finally:
    writer.close()
