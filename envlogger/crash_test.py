"""Crash test: SIGKILL a process logging Catch with default settings, 20 times.

Each kill happens at a random moment while the child logs (see
envlogger/testing/crash_harness.py for the child and the checks). After each
kill the dataset must read, through the Reader alone and again after
`envlogger recover`, with every step in recording order, no episode merged
with or split from another, and every step handed to `step()` more than 1 s
before the kill readable. Half the kills use a slow environment (1 ms per
step), where chunks never fill up by size, so only the writer's time bound
keeps the loss small. benchmarks/crash_benchmark.py runs 100 kills.
"""

import concurrent.futures
import tempfile

from absl.testing import absltest

from envlogger.testing import crash_harness
from envlogger.tools import recover

_KILLS = 20


def _one_kill(seed: int) -> tuple:
  step_seconds = 0.001 if seed % 2 else 0.0
  with tempfile.TemporaryDirectory() as data_dir:
    kill = crash_harness.run_and_kill(data_dir, seed, 0.05, 2.5, step_seconds=step_seconds)
    direct = crash_harness.check(data_dir, kill)
    recover.recover(data_dir)
    recovered = crash_harness.check(data_dir, kill)
  return seed, direct, recovered


class CrashTest(absltest.TestCase):
  def test_sigkill_at_random_moments(self):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
      results = list(pool.map(_one_kill, range(_KILLS)))
    for seed, direct, recovered in results:
      for how, result in (('read directly', direct), ('after recover', recovered)):
        self.assertEqual(result.errors, [], f'kill {seed}, {how}: {result}')
        self.assertTrue(result.bounded_loss_ok, f'kill {seed}, {how}: {result}')
      self.assertEqual(recovered.readable, direct.readable, f'kill {seed}')
    self.assertGreater(sum(d.due for _, d, _ in results), 0, 'no kill came late enough to test')


if __name__ == '__main__':
  absltest.main()
