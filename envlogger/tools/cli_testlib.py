"""Helpers of the `envlogger` command's tests: run it, record Catch, snapshot a tree."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from typing import Optional

import numpy as np

import envlogger
from envlogger.testing import catch_env
from envlogger.tools import cli

# Fake clock of the recordings: step i of a recording has this timestamp + i / 10.
START_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def temp_dir(test_case) -> str:
  """A temporary directory removed when `test_case` (a unittest.TestCase) ends."""
  d = tempfile.TemporaryDirectory()
  test_case.addCleanup(d.cleanup)
  return d.name


def class_temp_dir(test_class) -> str:
  """A temporary directory removed when `test_class`'s tests are done."""
  d = tempfile.TemporaryDirectory()
  test_class.addClassCleanup(d.cleanup)
  return d.name


def run(*args: str) -> tuple[int, str, str]:
  """Runs `envlogger ARGS` in this process: (exit status, stdout, stderr)."""
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
      status = cli.main(list(args))
    except SystemExit as e:  # argparse: --help or a usage error.
      status = e.code if isinstance(e.code, int) else 2
  return status, out.getvalue(), err.getvalue()


def record_catch(
  data_dir: str,
  num_episodes: int = 12,
  seed: int = 3,
  max_episodes_per_file: int = 5,
  rows: int = 10,
  writer_options: Optional[str] = None,
) -> None:
  """Records `num_episodes` of Catch with a seeded random agent.

  Custom data is `{'timestamp': START_TIME + i / 10, 'step': i}` for the i-th
  step; episode metadata `{'episode': e, 'ball_x': <column>, 'tag': 'even'|'odd'}`;
  dataset metadata `{'agent': 'random', 'seed': seed}`.
  """
  env = catch_env.Catch(rows=rows, seed=seed)
  rng = np.random.RandomState(seed)
  counter = {'step': 0, 'episode': -1}

  def step_fn(unused_timestep, unused_action, unused_env):
    i = counter['step']
    counter['step'] += 1
    return {'timestamp': START_TIME + i / 10, 'step': i}

  def episode_fn(timestep, unused_action, env_):
    if timestep.first():
      counter['episode'] += 1
      e = counter['episode']
      return {
        'episode': e,
        'ball_x': int(env_._ball_x),  # pylint: disable=protected-access
        'tag': 'even' if e % 2 == 0 else 'odd',
      }
    return None

  kwargs = {'writer_options': writer_options} if writer_options else {}
  with envlogger.EnvLogger(
    env,
    step_fn=step_fn,
    episode_fn=episode_fn,
    metadata={'agent': 'random', 'seed': seed},
    data_directory=data_dir,
    max_episodes_per_file=max_episodes_per_file,
    **kwargs,
  ) as logger:
    for _ in range(num_episodes):
      timestep = logger.reset()
      while not timestep.last():
        timestep = logger.step(int(rng.randint(3)))


def snapshot(path: str) -> dict[str, tuple[int, str]]:
  """Relative path -> (mode, sha256 of the content or '' for a directory) of a tree."""
  found = {}
  for root, dirs, files in os.walk(path):
    for name in dirs + files:
      full = os.path.join(root, name)
      digest = ''
      if os.path.isfile(full):
        with open(full, 'rb') as f:
          digest = hashlib.sha256(f.read()).hexdigest()
      found[os.path.relpath(full, path)] = (os.stat(full).st_mode, digest)
  return found
