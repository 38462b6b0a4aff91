"""envlogger.Reader on datasets written by upstream envlogger 1.3.

Each dataset in testdata/upstream-1.3/ was written by the real envlogger 1.3
and read back with upstream's own Reader; `<dataset>.expected.pkl` holds what
that Reader returned. Ours must return exactly the same: Python and numpy
types, dtypes, shapes, episode boundaries, episode metadata, dataset
metadata and specs (see the fixtures' README for the comparison rules).
"""

import glob
import os

import pytest

import envlogger
from envlogger.testing import compare
from envlogger.testing import upstream_fixtures

_FIXTURES = upstream_fixtures.DIRECTORY


@pytest.fixture(name='expected', params=upstream_fixtures.DATASETS)
def _expected(request):
  return request.param, upstream_fixtures.expected(request.param)


def test_every_fixture_is_covered():
  datasets = sorted(
    os.path.basename(os.path.dirname(p))
    for p in glob.glob(os.path.join(_FIXTURES, '*', 'metadata.riegeli'))
  )
  assert datasets == upstream_fixtures.DATASETS and len(datasets) >= 14


def test_reader_returns_what_upstream_returned(expected):
  dataset, want = expected
  with envlogger.Reader(os.path.join(_FIXTURES, dataset)) as reader:
    assert len(reader.steps) == want['num_steps']
    assert len(reader.episodes) == want['num_episodes']
    compare.assert_strictly_equal(reader.metadata(), want['metadata'], path='metadata')
    compare.assert_strictly_equal(
      (
        reader.observation_spec(),
        reader.action_spec(),
        reader.reward_spec(),
        reader.discount_spec(),
      ),
      want['specs'],
      path='specs',
    )
    steps = [tuple(step) for step in reader.steps]
    compare.assert_strictly_equal(steps, want['steps'], path='steps')
    for i, (start, num_steps) in enumerate(want['episodes']):
      episode = [tuple(step) for step in reader.episodes[i]]
      compare.assert_strictly_equal(
        episode, want['steps'][start : start + num_steps], path=f'episode {i}'
      )
    compare.assert_strictly_equal(
      list(reader.episode_metadata()), want['episode_metadata'], path='episode_metadata'
    )


def test_random_access_matches_sequential_reading(expected):
  dataset, want = expected
  with envlogger.Reader(os.path.join(_FIXTURES, dataset)) as reader:
    n = len(reader.steps)
    for i in reversed(range(0, n, max(1, n // 37))):
      compare.assert_strictly_equal(tuple(reader.steps[i]), want['steps'][i], path=f'steps[{i}]')
      compare.assert_strictly_equal(
        tuple(reader.steps[i - n]), want['steps'][i], path=f'steps[{i - n}]'
      )
