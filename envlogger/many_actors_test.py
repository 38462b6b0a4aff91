"""8 actor processes record into one root at once, 2 SIGKILLed mid-episode.

The Reader (opened while they run and refreshed) and a fresh Reader after
they end both show every recorded step exactly once, each episode whole and
attributed to its writer, against trajectories replayed independently
(`envlogger/testing/actors.py`). Beam and Ray read the same kind of root in
envlogger/beam/beam_test.py and envlogger/ray_test.py.
"""

import time

import dm_env
import numpy as np

import envlogger
from envlogger import writer_name
from envlogger.backends import dataset_sources
from envlogger.testing import actors as actors_lib

_KILLED = (2, 5)


def _observations(episode):
  return [step.timestep.observation for step in episode]


def _assert_same_episodes(reader, expected, name_order=True):
  """The reader's episodes are exactly `expected`'s (writer name -> episodes), each once.

  In writer-name order if `name_order` (a fresh reader), else in any order (a
  reader that refresh() grew appends episodes as writers flush them).
  """
  order = [(name, local) for name in sorted(expected) for local in range(len(expected[name]))]
  assert len(reader.episodes) == len(order)
  origins = [reader.episode_origin(i) for i in range(len(order))]
  assert (origins if name_order else sorted(origins)) == order
  for i, (name, local) in enumerate(origins):
    got = _observations(reader.episodes[i])
    want = expected[name][local]
    assert len(got) == len(want), (name, local)
    for g, w in zip(got, want):
      np.testing.assert_array_equal(g, w)
  assert len(reader.steps) == sum(len(e) for episodes in expected.values() for e in episodes)


def test_eight_actors_two_killed_refresh_while_recording(tmp_path):
  root = str(tmp_path)
  actors = actors_lib.Actors(
    root, num_actors=8, killed=_KILLED, episodes=12, partial=4, pause_ms=20
  )
  try:
    # Follow the experiment live: whatever refresh() adds is new, whole steps.
    deadline = time.monotonic() + 60
    while not any(dataset_sources.is_dataset(p) for p in tmp_path.iterdir()):
      assert time.monotonic() < deadline, 'no actor published its metadata'
      time.sleep(0.05)
    live = envlogger.Reader(root)
    seen = []  # Every step shown, in order.
    refreshes = 0
    while actors.running():
      live.refresh()
      refreshes += 1
      for i in range(len(seen), len(live.steps)):
        seen.append(live.steps[i])
      time.sleep(0.05)
    actors.finish()
  finally:
    actors.close()
  live.refresh()
  seen.extend(live.steps[len(seen) :])
  expected = actors.expected()
  assert len(expected) == 8
  # No writer is live any more: every name can be claimed again.
  assert not any(writer_name.is_live(tmp_path / name) for name in expected)

  with envlogger.Reader(root) as fresh:
    _assert_same_episodes(fresh, expected)
    # Killed actors: half their episodes whole, then the flushed unfinished one.
    for i in _KILLED:
      name = actors.names[i]
      mine = [e for e in range(len(fresh.episodes)) if fresh.episode_origin(e)[0] == name]
      assert len(mine) == 12 // 2 + 1
      last = fresh.episodes[mine[-1]]
      assert last[0].timestep.step_type == dm_env.StepType.FIRST
      assert last[-1].timestep.step_type == dm_env.StepType.MID
    # Surviving actors: every episode ends with LAST (none merged, none cut).
    assert sum(s.timestep.first() for s in fresh.steps) == len(fresh.episodes) == 6 * 12 + 2 * 7

    # The live reader showed exactly the same episodes, each once, and what it
    # showed while they recorded is the start of what it shows now.
    assert refreshes >= 1
    _assert_same_episodes(live, expected, name_order=False)
    assert len(seen) == len(fresh.steps) == len(live.steps)
    for a, b in zip(seen, live.steps):
      assert a.timestep.step_type == b.timestep.step_type
      np.testing.assert_array_equal(a.timestep.observation, b.timestep.observation)
  live.close()


def test_a_missing_extra_is_an_import_error_naming_it():
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top

  for module, blocked, extra in (
    ('envlogger.beam', 'apache_beam', 'envlogger[beam]'),
    ('envlogger.ray', 'ray', 'envlogger[ray]'),
  ):
    code = (
      f'import sys; sys.modules[{blocked!r}] = None\n'
      f'try:\n  import {module}\nexcept ImportError as e:\n  print(e)\n'
    )
    out = subprocess.run(
      [sys.executable, '-c', code],
      capture_output=True,
      text=True,
      check=True,
      cwd=actors_lib._REPO_ROOT,
    ).stdout  # pylint: disable=protected-access
    assert f'pip install {extra}' in out, out
