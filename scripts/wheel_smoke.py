"""Checks an installed envlogger: records Catch, reads it back, compares.

  python scripts/wheel_smoke.py DATA_DIR

Run by scripts/test_wheels.sh with the interpreter of a venv into which only
the wheel (and its dependencies) was installed, from a directory outside the
source tree. Exits non-zero, naming the difference, if what is read back is
not what was recorded. `envlogger verify DATA_DIR` is run after it.
"""

import os
import sys

import numpy as np

import envlogger
from envlogger import _native  # pylint: disable=protected-access
from envlogger.testing import catch_env


def main(data_dir: str) -> None:
  if 'site-packages' not in envlogger.__file__:
    sys.exit(f'envlogger imported from {envlogger.__file__}, not from the installed wheel')
  rng = np.random.default_rng(7)
  recorded = []  # (action, reward) of every step after the first of an episode
  episodes = 5
  with envlogger.EnvLogger(
    catch_env.Catch(), data_directory=data_dir, metadata={'check': 'wheel'}
  ) as env:
    for _ in range(episodes):
      timestep = env.reset()
      while not timestep.last():
        action = int(rng.integers(0, 3))
        timestep = env.step(action)
        recorded.append((action, float(timestep.reward)))
  with envlogger.Reader(data_dir) as reader:
    read = [
      (int(step.action), float(step.timestep.reward))
      for episode in reader.episodes
      for step in list(episode)[1:]
    ]
    if len(reader.episodes) != episodes:
      sys.exit(f'read {len(reader.episodes)} episodes, recorded {episodes}')
    if read != recorded:
      sys.exit(f'steps read back differ from the recorded ones: {read[:5]} vs {recorded[:5]}')
    if reader.metadata().get('check') != 'wheel':
      sys.exit(f'metadata read back: {reader.metadata()}')
  print(
    f'ok: Python {sys.version.split()[0]}, {episodes} episodes, {len(recorded)} steps '
    f'recorded and read back; {os.path.basename(_native.__file__)}'
  )


if __name__ == '__main__':
  main(sys.argv[1])
