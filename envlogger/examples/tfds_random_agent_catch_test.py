"""Tests of the tfds_random_agent_catch example (real TFDS)."""

from absl import flags
from absl.testing import flagsaver
from envlogger.backends import tfds_backend_testlib as testlib
import numpy as np
import pytest


@pytest.fixture(name='tfds', scope='module')
def _tfds():
  return testlib.require_tfds()


@pytest.fixture(name='example', scope='module')
def _example(tfds):
  del tfds
  from envlogger.examples import tfds_random_agent_catch  # pylint: disable=g-import-not-at-top

  return tfds_random_agent_catch


def test_records_a_loadable_catch_dataset(tfds, example, tmp_path):
  example.record_to_tfds(3, str(tmp_path), np.random.default_rng(0))
  builder = tfds.builder_from_directory(str(tmp_path))
  assert builder.info.name == 'catch_example'
  assert builder.info.metadata['agent_type'] == 'random'
  assert builder.info.metadata['num_episodes'] == 3
  episodes = [list(e['steps']) for e in tfds.as_numpy(builder.as_dataset(split='train'))]
  assert [len(e) for e in episodes] == [10, 10, 10]
  stamps = [s['timestamp'] for e in episodes for s in e]
  assert all(s.dtype == np.float64 for s in stamps)
  assert stamps == sorted(stamps)
  # Kept as float64: a float32 would round them to multiples of 128 s.
  assert any(s != np.float64(np.float32(s)) for s in stamps)
  for steps in episodes:
    assert steps[0]['is_first'] and steps[-1]['is_last']
    assert steps[-1]['is_terminal']
    assert steps[-2]['reward'] in (-1.0, 1.0)
    assert all(0 <= s['action'] <= 2 for s in steps)


def test_main(tfds, example, tmp_path, capsys):
  out = tmp_path / 'new' / 'dir'
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver(num_episodes=2, trajectories_dir=str(out)):
    example.main(['tfds_random_agent_catch'])
  assert capsys.readouterr().out == 'episodes: 2\n'
  builder = tfds.builder_from_directory(str(out))
  assert builder.info.splits['train'].shard_lengths == [2]
