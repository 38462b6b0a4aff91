"""Kills a logging process with SIGKILL and checks what survives.

Used by envlogger/crash_test.py (a few kills) and
benchmarks/crash_benchmark.py (100 kills). The child
(`python -m envlogger.testing.crash_harness CHILD DIR SEED STEP_SECONDS`) logs Catch
through `EnvLogger` with default settings; before handing each step to the
logger it reports `(episode, t, time)` on stdout, where `time` is
`time.monotonic()` (one clock for all processes of the machine). The parent
reads those reports, kills the child at a random moment, then reads the
dataset and checks:

* order: the readable steps are a prefix of the reported ones (each step's
  custom data is its `(episode, t)`);
* attribution: every episode the reader returns holds the steps of exactly
  one recorded episode, starting at t=0 with consecutive t (none merged,
  none split), and only the last one may be incomplete;
* bounded loss: every step handed to `step()` more than `loss_window`
  seconds before the kill is readable.
"""

import dataclasses
import os
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

import envlogger
from envlogger.testing import catch_env


def child_main(data_dir: str, seed: int, step_seconds: float) -> None:
  """Logs Catch until killed, reporting each step before handing it over.

  `step_seconds` > 0 makes every environment step take that long (a slow
  environment), so that chunks do not fill up by size within a second.
  """
  out = sys.stdout
  counter = {'episode': -1, 't': -1}

  def step_fn(timestep, unused_action, unused_env):
    if timestep.first():
      counter['episode'] += 1
      counter['t'] = -1
    counter['t'] += 1
    return (counter['episode'], counter['t'])

  rng = random.Random(seed)
  with envlogger.EnvLogger(
    catch_env.Catch(seed=seed), data_directory=data_dir, step_fn=step_fn
  ) as env:
    episode = 0
    while True:
      out.write(f'{episode} 0 {time.monotonic()!r}\n')
      out.flush()
      timestep = env.reset()
      t = 0
      while not timestep.last():
        t += 1
        out.write(f'{episode} {t} {time.monotonic()!r}\n')
        out.flush()
        if step_seconds > 0:
          time.sleep(step_seconds)
        timestep = env.step(rng.randrange(3))
      episode += 1


@dataclasses.dataclass
class Kill:
  """What the child reported before it was killed, and when it was killed."""

  handed: list  # (episode, t, monotonic time before handing it to the logger)
  kill_time: float


@dataclasses.dataclass
class KillResult:
  """What one kill left behind."""

  handed: int  # Steps reported as handed to the logger.
  readable: int  # Steps the reader returned.
  due: int  # Steps handed more than loss_window before the kill.
  missing_due: int  # Of those, how many are not readable.
  episodes: int
  errors: list  # Broken invariants (order, attribution); empty if none.

  @property
  def bounded_loss_ok(self) -> bool:
    return self.missing_due == 0


def check(
  data_dir: str,
  kill: Kill,
  loss_window: float = 1.0,
  open_reader: Callable[[str], envlogger.Reader] = envlogger.Reader,
) -> KillResult:
  """Reads the dataset the killed child left and checks the invariants."""
  handed, kill_time = kill.handed, kill.kill_time
  errors = []
  ids = []
  episodes = []
  if os.path.exists(os.path.join(data_dir, 'metadata.riegeli')):
    with open_reader(data_dir) as reader:
      ids = [tuple(step.custom_data) for step in reader.steps]
      episodes = [[tuple(step.custom_data) for step in episode] for episode in reader.episodes]
  expected = [(e, t) for e, t, _ in handed]
  if ids != expected[: len(ids)]:
    first = next(i for i, (a, b) in enumerate(zip(ids + [None], expected + [None])) if a != b)
    errors.append(
      f'step {first} is {ids[first] if first < len(ids) else None}, '
      f'expected {expected[first] if first < len(expected) else None}'
    )
  flat = [step for episode in episodes for step in episode]
  if flat != ids:
    errors.append('episodes do not partition the steps in order')
  for k, episode in enumerate(episodes):
    numbers = {e for e, _ in episode}
    if len(numbers) != 1:
      errors.append(f'episode {k} merges recorded episodes {sorted(numbers)}')
    elif [t for _, t in episode] != list(range(len(episode))):
      errors.append(f'episode {k} is not one recorded episode from its start: {episode[:3]}...')
    elif next(iter(numbers)) != k:
      errors.append(f'episode {k} holds recorded episode {next(iter(numbers))}')
  due = [i for i, (_, _, t) in enumerate(handed) if t < kill_time - loss_window]
  missing_due = sum(1 for i in due if i >= len(ids))
  return KillResult(
    handed=len(handed),
    readable=len(ids),
    due=len(due),
    missing_due=missing_due,
    episodes=len(episodes),
    errors=errors,
  )


def run_and_kill(
  data_dir: str, seed: int, min_delay: float, max_delay: float, step_seconds: float = 0.0
) -> Kill:
  """Runs a logging child into `data_dir` and SIGKILLs it after a random delay.

  The delay (uniform in [min_delay, max_delay] seconds, drawn from `seed`)
  counts from the child's first reported step, so every kill happens while
  it is logging. `step_seconds`: see child_main.
  """
  child = subprocess.Popen(
    [
      sys.executable,
      '-m',
      'envlogger.testing.crash_harness',
      'CHILD',
      data_dir,
      str(seed),
      repr(step_seconds),
    ],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    bufsize=1 << 16,
  )
  handed = []
  started = threading.Event()

  def read_reports():
    for line in child.stdout:
      e, t, when = line.split()
      handed.append((int(e), int(t), float(when)))
      started.set()
    started.set()

  reader_thread = threading.Thread(target=read_reports, daemon=True)
  reader_thread.start()
  try:
    if not started.wait(60):
      raise RuntimeError('the logging child did not start: ' + child.stderr.read())
    time.sleep(random.Random(seed).uniform(min_delay, max_delay))
    kill_time = time.monotonic()
    child.send_signal(signal.SIGKILL)
  finally:
    child.kill()
    child.wait()
    reader_thread.join()
    child.stdout.close()
    stderr = child.stderr.read()
    child.stderr.close()
  if child.returncode != -signal.SIGKILL:
    raise RuntimeError(f'the logging child exited by itself ({child.returncode}): {stderr}')
  return Kill(handed=handed, kill_time=kill_time)


if __name__ == '__main__':
  if len(sys.argv) == 5 and sys.argv[1] == 'CHILD':
    child_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
  else:
    sys.exit('usage: python -m envlogger.testing.crash_harness CHILD DATA_DIR SEED STEP_SECONDS')
