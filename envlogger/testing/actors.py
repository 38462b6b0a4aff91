"""Many actor processes recording into one root: a harness for tests and benchmarks.

Each actor is a separate Python process recording the Catch environment
(`catch_env.Catch(seed=<actor index>)`, actions cycling 0, 1, 2) with
`EnvLogger(data_directory=root, writer_name=envlogger.unique_writer_name('actor<i>'))`,
flushing at the end of every episode. An actor marked `killed` records
`episodes // 2` episodes and `partial` steps of one more, flushes, reports and
waits to be SIGKILLed mid-episode. `expected_episodes` replays the same
environment without a logger, so tests check what was read against values
computed independently of the writer and reader.
"""

import os
import signal
import subprocess
import sys
import time
from typing import Dict, List, Sequence

import numpy as np

from envlogger.testing import catch_env

_ACTIONS = (0, 1, 2)
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_ACTOR_CODE = """
import sys, time, envlogger
from envlogger.testing import actors, catch_env
index, episodes, partial, killed, pause = (int(a) for a in sys.argv[1:6])
root = sys.argv[6]
name = envlogger.unique_writer_name(f'actor{index}')
force_flush = []
logged = envlogger.EnvLogger(
    catch_env.Catch(seed=index), data_directory=root, writer_name=name,
    flush_scheduler=lambda data: bool(force_flush) or data.timestep.last())
print(name, flush=True)
if killed:
  actors.play(logged, episodes // 2, partial, pause)
  force_flush.append(1)
  logged.step(0)  # Flushes the unfinished episode: it is visible once the actor dies.
  print('ready', flush=True)
  sys.stdin.readline()  # SIGKILLed here.
else:
  actors.play(logged, episodes, 0, pause)
  logged.close()
  print('done', flush=True)
"""


def play(
  env, num_episodes: int, partial_steps: int = 0, pause: float = 0.0
) -> List[List[np.ndarray]]:
  """Plays `num_episodes` episodes then `partial_steps` timesteps of one more.

  Returns the observations of each episode (timesteps of the unfinished one,
  the last step it takes not included: that is the one a killed actor
  flushes with). `pause` seconds pass after each episode.
  """
  episodes = []
  for e in range(num_episodes + (1 if partial_steps else 0)):
    timestep = env.reset()
    observations = [timestep.observation.copy()]
    t = 0
    while not timestep.last():
      if e == num_episodes and len(observations) >= partial_steps:
        break
      timestep = env.step(_ACTIONS[t % len(_ACTIONS)])
      observations.append(timestep.observation.copy())
      t += 1
    episodes.append(observations)
    if pause:
      time.sleep(pause / 1000)
  return episodes


def expected_episodes(
  index: int, episodes: int, partial: int, killed: bool
) -> List[List[np.ndarray]]:
  """The observations actor `index` records, replayed without a logger.

  A killed actor's unfinished episode holds `partial + 1` timesteps: its
  `partial` ones and the step that flushed them.
  """
  env = catch_env.Catch(seed=index)
  if not killed:
    return play(env, episodes)
  recorded = play(env, episodes // 2, partial)
  recorded[-1].append(env.step(0).observation.copy())
  return recorded


class Actors:
  """`num_actors` actor processes recording into `root` at once."""

  def __init__(
    self,
    root: str,
    num_actors: int = 8,
    killed: Sequence[int] = (),
    episodes: int = 20,
    partial: int = 4,
    pause_ms: int = 0,
  ):
    """Starts the actors (all at once; they record concurrently).

    Args:
      root: the root all actors record into.
      num_actors: how many processes.
      killed: indices of the actors that `finish()` SIGKILLs mid-episode.
      episodes: episodes each surviving actor records (killed ones: half, then
        `partial` steps of one more).
      partial: timesteps of the unfinished episode of a killed actor.
      pause_ms: pause after each episode (so that recording takes a while).
    """
    self.root = root
    self.killed = set(killed)
    self.episodes = episodes
    self.partial = partial
    self.names: Dict[int, str] = {}
    self._processes = []
    for i in range(num_actors):
      args = [str(i), str(episodes), str(partial), str(int(i in self.killed)), str(pause_ms), root]
      self._processes.append(
        subprocess.Popen(
          [sys.executable, '-c', _ACTOR_CODE] + args,
          stdin=subprocess.PIPE,
          stdout=subprocess.PIPE,
          text=True,
          cwd=_REPO_ROOT,
        )
      )

  def running(self) -> bool:
    """True while a surviving actor has not finished."""
    return any(p.poll() is None for i, p in enumerate(self._processes) if i not in self.killed)

  def finish(self, timeout: float = 120) -> None:
    """Waits for the survivors; SIGKILLs the killed ones mid-episode.

    Raises:
      RuntimeError: an actor failed (its exit status and output named).
    """
    try:
      for i, process in enumerate(self._processes):
        self.names[i] = process.stdout.readline().strip()
        if i in self.killed:
          if process.stdout.readline().strip() != 'ready':
            raise RuntimeError(f'actor {i} did not reach its unfinished episode')
          os.kill(process.pid, signal.SIGKILL)
          process.wait(timeout)
        else:
          out = process.stdout.read()
          if process.wait(timeout) != 0 or out.strip() != 'done':
            raise RuntimeError(f'actor {i} failed: status {process.returncode}, output {out!r}')
    finally:
      self.close()

  def close(self) -> None:
    """Kills what still runs (after a failure) and closes the pipes."""
    for process in self._processes:
      if process.poll() is None:
        process.kill()
        process.wait()
      for pipe in (process.stdin, process.stdout):
        pipe.close()

  def expected(self) -> Dict[str, List[List[np.ndarray]]]:
    """Writer name -> observations of each episode it recorded (after `finish()`)."""
    return {
      self.names[i]: expected_episodes(i, self.episodes, self.partial, i in self.killed)
      for i in range(len(self._processes))
    }


def record(root: str, **actor_args) -> Dict[str, List[List[np.ndarray]]]:
  """Runs `Actors(root, **actor_args)` to the end; returns their `expected()` observations."""
  actors = Actors(root, **actor_args)
  actors.finish()
  return actors.expected()
