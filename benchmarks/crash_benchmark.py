"""Crash benchmark: 100 SIGKILLs of a process logging Catch with default settings.

  PYTHONPATH=. python benchmarks/crash_benchmark.py [--kills=100] [--step_seconds=0] [--max_delay=5]

Each kill happens at a random moment (uniform in [0.05, max_delay] s after
the child's first step) while a child process logs Catch through
`envlogger.EnvLogger` with default settings (envlogger/testing/
crash_harness.py). After each kill the dataset is read by the Reader as the
child left it ("direct"), then again after `envlogger recover`. Prints, for
both: kills with merged or misattributed episodes (must be 0), and the share
of kills in which every step handed to step() more than 1 s before the kill
is readable (acceptance: >= 99%), plus the steps lost.
"""

import statistics
import tempfile
import time

from absl import app
from absl import flags

from envlogger.testing import crash_harness
from envlogger.tools import recover

_KILLS = flags.DEFINE_integer('kills', 100, 'Number of kills.')
_STEP_SECONDS = flags.DEFINE_float(
  'step_seconds', 0.0, 'Extra time per environment step (a slow environment).'
)
_MAX_DELAY = flags.DEFINE_float('max_delay', 5.0, 'Latest kill, seconds after the first step.')
_SEED = flags.DEFINE_integer('seed', 0, 'First seed.')


def main(argv):
  del argv
  totals = {'direct': [], 'recovered': []}
  start = time.time()
  for k in range(_KILLS.value):
    seed = _SEED.value + k
    with tempfile.TemporaryDirectory() as data_dir:
      kill = crash_harness.run_and_kill(
        data_dir, seed, 0.05, _MAX_DELAY.value, step_seconds=_STEP_SECONDS.value
      )
      totals['direct'].append(crash_harness.check(data_dir, kill))
      recover.recover(data_dir)
      totals['recovered'].append(crash_harness.check(data_dir, kill))
    d, r = totals['direct'][-1], totals['recovered'][-1]
    print(
      f'kill {k:3d}: handed {d.handed:7d}, readable {d.readable:7d} (after recover '
      f'{r.readable:7d}), due {d.due:7d}, missing due {d.missing_due}/{r.missing_due}, '
      f'errors {len(d.errors)}/{len(r.errors)}',
      flush=True,
    )
  print(
    f'\n{_KILLS.value} kills in {time.time() - start:.0f} s, step_seconds={_STEP_SECONDS.value}'
  )
  for how, results in totals.items():
    merged = [r for r in results if r.errors]
    bounded = [r for r in results if r.bounded_loss_ok]
    lost_tail = [r.handed - r.readable for r in results]
    print(
      f'{how:9s}: kills with merged/misattributed episodes or out-of-order steps: {len(merged)}'
    )
    print(
      f'{how:9s}: kills where every step handed > 1 s before the kill is readable: '
      f'{len(bounded)}/{len(results)} ({100.0 * len(bounded) / len(results):.1f}%)'
    )
    print(
      f'{how:9s}: steps lost per kill (handed but unreadable): median '
      f'{statistics.median(lost_tail):.0f}, max {max(lost_tail)}'
    )
    for r in merged[:3]:
      print(f'  example error: {r.errors[0]}')


if __name__ == '__main__':
  app.run(main)
