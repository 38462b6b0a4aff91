"""Access to the datasets written by upstream envlogger 1.3 (testdata/upstream-1.3).

See that directory's README: each dataset `D` has `D.expected.pkl` (what
upstream's Reader returned) and `D.records/**/<file>.records.pkl` (the raw
records of each .riegeli file as (numeric position, bytes) pairs).
"""

import glob
import os
import pickle
from typing import Any

import dm_env

DIRECTORY = os.path.join(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'testdata', 'upstream-1.3'
)

# Names of the datasets that have expected values, sorted.
DATASETS = sorted(
  os.path.basename(p)[: -len('.expected.pkl')]
  for p in glob.glob(os.path.join(DIRECTORY, '*.expected.pkl'))
)


def load_pickle(path: str) -> Any:
  with open(path, 'rb') as f:
    return pickle.load(f)


def expected(dataset: str) -> dict[str, Any]:
  """What upstream's Reader returned for `dataset` (see the README's keys)."""
  return load_pickle(os.path.join(DIRECTORY, f'{dataset}.expected.pkl'))


def records(dataset: str, file_name: str) -> list[tuple[int, bytes]]:
  """All (position, bytes) of `file_name` ('steps', ...) over the shards, in order."""
  found = []
  for path in sorted(
    glob.glob(os.path.join(DIRECTORY, f'{dataset}.records', '*', f'{file_name}.records.pkl'))
  ):
    found.extend(load_pickle(path))
  return found


def as_step(value: Any) -> tuple[dm_env.TimeStep, Any, Any]:
  """A decoded step tuple as upstream's Reader returns it, in the fixtures' form."""
  timestep, action, custom_data = value
  step_type, reward, discount, observation = timestep
  return (
    dm_env.TimeStep(dm_env.StepType(step_type), reward, discount, observation),
    action,
    custom_data,
  )
