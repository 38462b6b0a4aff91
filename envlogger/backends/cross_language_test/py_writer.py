"""Writes the dataset that `cc_reader_main` (C++) reads back and checks.

  python -m envlogger.backends.cross_language_test.py_writer \
      --trajectories_dir=/tmp/cross_language --num_steps=100

One episode of `num_steps` steps, written with `envlogger.RiegeliBackendWriter`
directly (no environment). Step i (0-based) holds:

* timestep: step_type FIRST for i == 0, MID after; reward i / 100; discount
  0.99; observation np.float32 array [i];
* action: np.int32(100 - i + action_offset);
* custom_data: {'bigint': BIGINT * (i + 1) + bigint_offset,
  'negative_bigint': -BIGINT * (i + 1), 'power_of_two': -2 ** (63 + i)},
  Python ints beyond (or, for -2**63, at the edge of) int64.

Dataset metadata: {'my_data': [1, 2, 3], 'bigints': [2**200, -2**200]}.
Episode metadata: {'num_steps': num_steps,
'bigint_sum': BIGINT * num_steps * (num_steps + 1) // 2}.

cc_reader_main.cc computes the same values in C++; the offsets exist so a
test can make the two sides disagree on purpose.
"""

from typing import Any, Dict, Sequence

from absl import app
from absl import flags
import dm_env
import numpy as np

import envlogger

# Must match kBigint in cc_reader_main.cc.
BIGINT = 123456789012345678901234567890

_TRAJECTORIES_DIR = flags.DEFINE_string(
  'trajectories_dir', None, 'Directory to write the dataset to (created if missing).', required=True
)
_NUM_STEPS = flags.DEFINE_integer('num_steps', 100, 'Number of steps to write.', lower_bound=1)
_ACTION_OFFSET = flags.DEFINE_integer(
  'action_offset', 0, 'Added to every action (non-zero only to make cc_reader_main fail).'
)
_BIGINT_OFFSET = flags.DEFINE_integer(
  'bigint_offset',
  0,
  "Added to every custom_data['bigint'] (non-zero only to make cc_reader_main fail).",
)


def step_custom_data(i: int, bigint_offset: int = 0) -> Dict[str, int]:
  """The custom data of step `i`: Python ints that need GMP on the C++ side."""
  return {
    'bigint': BIGINT * (i + 1) + bigint_offset,
    'negative_bigint': -BIGINT * (i + 1),
    'power_of_two': -(2 ** (63 + i)),
  }


def write(
  trajectories_dir: str, num_steps: int, action_offset: int = 0, bigint_offset: int = 0
) -> None:
  """Writes the dataset described in the module docstring to `trajectories_dir`."""
  metadata: Dict[str, Any] = {'my_data': [1, 2, 3], 'bigints': [2**200, -(2**200)]}
  writer = envlogger.RiegeliBackendWriter(data_directory=trajectories_dir, metadata=metadata)
  try:
    for i in range(num_steps):
      timestep = dm_env.TimeStep(
        step_type=dm_env.StepType.FIRST if i == 0 else dm_env.StepType.MID,
        reward=i / 100,
        discount=0.99,
        observation=np.array([i], dtype=np.float32),
      )
      writer.record_step(
        envlogger.StepData(
          timestep=timestep,
          action=np.int32(100 - i + action_offset),
          custom_data=step_custom_data(i, bigint_offset),
        ),
        is_new_episode=(i == 0),
      )
    writer.set_episode_metadata(
      {
        'num_steps': num_steps,
        'bigint_sum': BIGINT * num_steps * (num_steps + 1) // 2,
      }
    )
  finally:
    writer.close()


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  write(_TRAJECTORIES_DIR.value, _NUM_STEPS.value, _ACTION_OFFSET.value, _BIGINT_OFFSET.value)
  print(f'py_writer: wrote {_NUM_STEPS.value} steps to {_TRAJECTORIES_DIR.value}')


if __name__ == '__main__':
  app.run(main)
