"""`envlogger convert --to riegeli` and `envlogger stats --beam` on real Beam DirectRunner pipelines."""

import contextlib
import io
import json
import os

import numpy as np
import pytest

pytest.importorskip('apache_beam')  # The `beam` extra; CI installs it.

import envlogger  # pylint: disable=g-import-not-at-top
from envlogger.testing import catch_env  # pylint: disable=g-import-not-at-top
from envlogger.tools import cli  # pylint: disable=g-import-not-at-top

_IN_MEMORY = '--beam_args=--runner=DirectRunner --direct_running_mode=in_memory'


def _episode(writer: int, index: int):
  """The actions of episode `index` of writer `writer`: varied, so episodes differ."""
  return [(writer + index + t) % 3 for t in range(20)]


@pytest.fixture(scope='module')
def root(tmp_path_factory):
  """A root of 2 writers with 3 Catch episodes each; returns (path, observations by episode)."""
  path = str(tmp_path_factory.mktemp('root'))
  recorded = []
  for writer in range(2):
    with envlogger.EnvLogger(
      catch_env.Catch(seed=writer), data_directory=path, writer_name=f'w{writer}'
    ) as env:
      for index in range(3):
        timestep = env.reset()
        observations = [timestep.observation]
        for action in _episode(writer, index):
          if timestep.last():
            break
          timestep = env.step(action)
          observations.append(timestep.observation)
        recorded.append(np.stack(observations))
  return path, recorded


def _run(*argv):
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = cli.main(list(argv))
  return status, out.getvalue(), err.getvalue()


def test_convert_to_riegeli_reshards_and_reads_back_equal(root, tmp_path):
  path, recorded = root
  target = str(tmp_path / 'resharded')
  status, _, err = _run(
    'convert', path, target, '--to', 'riegeli', '--max_episodes_per_file', '2', _IN_MEMORY
  )
  assert status == 0, err
  with envlogger.Reader(target) as reader:
    got = [np.stack([s.timestep.observation for s in e]) for e in reader.episodes]
  key = lambda a: a.tobytes()  # Episodes as a multiset: bundles may reorder them.
  assert sorted(map(key, got)) == sorted(map(key, recorded))


def test_stats_beam_prints_the_pipelines_statistics(root):
  path, recorded = root
  status, out, err = _run('stats', path, '--beam', _IN_MEMORY)
  assert status == 0, err
  stats = json.loads(out)
  observations = np.concatenate(recorded)
  assert stats['observation']['count'] == observations.size
  assert stats['observation']['mean'] == pytest.approx(observations.mean())
  assert stats['episode_length']['count'] == len(recorded)
  assert stats['episode_length']['mean'] == pytest.approx(np.mean([len(e) for e in recorded]))


def test_convert_of_a_missing_source_exits_2_and_writes_nothing(tmp_path):
  target = str(tmp_path / 'out')
  status, _, err = _run('convert', str(tmp_path / 'missing'), target, '--to', 'riegeli', _IN_MEMORY)
  assert status == 2
  assert 'missing' in err
  assert not os.path.exists(target)


def test_beam_args_are_split_never_evaluated(root, tmp_path):
  path, _ = root
  status, _, err = _run('stats', path, '--beam', '--beam_args=--runner=__import__("os")')
  assert status == 2
  assert '__import__' in err
