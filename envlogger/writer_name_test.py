"""Tests of writer names: claiming, liveness, EnvLogger(writer_name=...)."""

import os
import re
import subprocess
import sys

import pytest

import envlogger
from envlogger import writer_name
from envlogger.backends.python import riegeli_dataset_reader
from envlogger.testing import catch_env


def test_unique_writer_name_has_host_pid_and_random_part():
  names = {writer_name.unique_writer_name() for _ in range(50)}
  assert len(names) == 50
  name = names.pop()
  assert re.fullmatch(r'[A-Za-z0-9_-]+-%d-[0-9a-f]{8}' % os.getpid(), name), name
  assert writer_name.unique_writer_name('actor').startswith('actor-')


@pytest.mark.parametrize('bad', ['', '.', '..', 'a/b'])
def test_names_that_cannot_be_a_subdirectory_are_rejected(tmp_path, bad):
  with pytest.raises(ValueError, match='writer_name'):
    writer_name.WriterClaim(tmp_path, bad)


def test_a_name_held_by_a_live_process_is_taken_and_free_after_it_ends(tmp_path):
  holder = subprocess.Popen(
    [
      sys.executable,
      '-c',
      'import sys, time; from envlogger import writer_name; '
      f'c = writer_name.WriterClaim({str(tmp_path)!r}, "w"); print("ok", flush=True); '
      'sys.stdin.read()',
    ],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
    text=True,
  )
  try:
    assert holder.stdout.readline().strip() == 'ok'
    assert writer_name.is_live(tmp_path / 'w')
    with pytest.raises(
      writer_name.WriterNameTakenError,
      match=re.escape(str(tmp_path / 'w')) + '.*' + str(holder.pid),
    ):
      writer_name.WriterClaim(tmp_path, 'w')
  finally:
    holder.kill()
    holder.wait()
  assert not writer_name.is_live(tmp_path / 'w')
  claim = writer_name.WriterClaim(tmp_path, 'w')  # Free again once the holder died.
  assert writer_name.is_live(tmp_path / 'w')
  claim.release()
  assert not writer_name.is_live(tmp_path / 'w')


def test_env_logger_with_writer_name_writes_an_ordinary_dataset_in_the_subdirectory(tmp_path):
  env = catch_env.Catch(seed=1)
  with envlogger.EnvLogger(env, data_directory=str(tmp_path), writer_name='actor-0') as logged:
    assert writer_name.is_live(tmp_path / 'actor-0')
    with pytest.raises(envlogger.WriterNameTakenError, match='actor-0'):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=str(tmp_path), writer_name='actor-0')
    timestep = logged.reset()
    steps = 1
    while not timestep.last():
      timestep = logged.step(0)
      steps += 1
  assert not writer_name.is_live(tmp_path / 'actor-0')
  assert not (tmp_path / 'metadata.riegeli').exists()
  # The per-writer directory is a dataset the upstream-named reader opens as is.
  reader = riegeli_dataset_reader.RiegeliDatasetReader()
  reader.init(str(tmp_path / 'actor-0'))
  assert (reader.num_steps, reader.num_episodes) == (steps, 1)
  reader.close()


def test_env_logger_writer_name_needs_a_data_directory():
  with pytest.raises(ValueError, match='data_directory'):
    envlogger.EnvLogger(catch_env.Catch(), writer_name='x', backend=envlogger.BackendType.IN_MEMORY)
