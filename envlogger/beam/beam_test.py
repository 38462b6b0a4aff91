"""envlogger.beam on real Beam DirectRunner pipelines over a root of 8 actors (2 SIGKILLed)."""

import json
import os
import re

import numpy as np
import pytest

beam = pytest.importorskip('apache_beam')  # The `beam` extra; CI installs it.

from apache_beam.testing import util as beam_util  # pylint: disable=g-import-not-at-top,g-bad-import-order

import envlogger  # pylint: disable=g-import-not-at-top
from envlogger import beam as envlogger_beam  # pylint: disable=g-import-not-at-top
from envlogger.beam import pipelines  # pylint: disable=g-import-not-at-top
from envlogger.beam import write  # pylint: disable=g-import-not-at-top
from envlogger.testing import actors as actors_lib  # pylint: disable=g-import-not-at-top

_IN_MEMORY = ['--runner=DirectRunner', '--direct_running_mode=in_memory']


@pytest.fixture(scope='module')
def root(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('root'))
  return path, actors_lib.record(path, num_actors=8, killed=(2, 5), episodes=6, partial=4)


def _summaries(episodes):
  """(writer, episode_in_writer, episode, first_step, observations) of each episode element."""
  return sorted(
    (
      e['writer'],
      e['episode_in_writer'],
      e['episode'],
      e['first_step'],
      e['steps']['observation'].tobytes(),
    )
    for e in episodes
  )


def test_read_episodes_equal_the_reader_and_the_recorded_trajectories(root, tmp_path):
  path, expected = root
  with envlogger.Reader(path) as reader:
    want = []
    for i, episode in enumerate(reader.episodes):
      writer, local = reader.episode_origin(i)
      observations = np.stack([s.timestep.observation for s in episode])
      np.testing.assert_array_equal(observations, np.stack(expected[writer][local]))
      want.append(
        (
          writer,
          local,
          i,
          reader._backend._get_nth_episode_info(i).start,  # pylint: disable=protected-access
          observations.tobytes(),
        )
      )
  with beam.Pipeline(options=pipelines.make_options(_IN_MEMORY)) as p:
    episodes = p | envlogger_beam.ReadEpisodes(path, max_episodes_per_unit=2)
    beam_util.assert_that(
      episodes | beam.combiners.ToList() | beam.Map(_summaries), beam_util.equal_to([sorted(want)])
    )
    # None merged: one FIRST step per episode element, lengths as recorded.
    beam_util.assert_that(
      episodes | 'Firsts' >> beam.Map(lambda e: int((e['steps']['step_type'] == 0).sum())),
      beam_util.equal_to([1] * len(want)),
      label='one_first',
    )


def test_merge_writes_a_root_that_reads_back_equal(root, tmp_path):
  path, expected = root
  out = str(tmp_path / 'merged')
  pipelines.convert_to_riegeli(
    path, out, max_episodes_per_file=3, options=pipelines.make_options(_IN_MEMORY)
  )
  writers = sorted(os.listdir(out))
  assert writers and all(re.fullmatch(r'beam-\d{12}-.+', w) for w in writers), writers
  with envlogger.Reader(path) as source, envlogger.Reader(out) as merged:
    assert len(merged.steps) == len(source.steps)
    assert merged.observation_spec() == source.observation_spec()

    def contents(reader):
      return sorted(
        b''.join(
          s.timestep.observation.tobytes()
          + bytes([s.timestep.step_type])
          + np.asarray(s.action if s.action is not None else -1).tobytes()
          for s in episode
        )
        for episode in reader.episodes
      )

    assert contents(merged) == contents(source)
  # Each writer directory is an ordinary dataset, opened alone.
  with envlogger.Reader(os.path.join(out, writers[0])) as one:
    assert len(one.episodes) > 0


def test_write_dataset_from_arrays_round_trips(root, tmp_path):
  path, _ = root
  out = str(tmp_path / 'from_arrays')
  with envlogger.Reader(path) as reader:
    metadata = reader.metadata()
  with beam.Pipeline(options=pipelines.make_options(_IN_MEMORY)) as p:
    written = p | envlogger_beam.ReadEpisodes(path) | envlogger_beam.WriteDataset(out, metadata)
    beam_util.assert_that(written | beam.Map(os.path.isdir), beam_util.is_not_empty())
  assert not [d for d in os.listdir(out) if d.startswith('.')]  # No unfinished directory left.
  with envlogger.Reader(path) as source, envlogger.Reader(out) as copy:

    def rows(reader):
      return sorted(
        (
          s.timestep.observation.tobytes(),
          int(s.timestep.step_type),
          None if s.action is None else int(s.action),
          None if s.timestep.reward is None else float(s.timestep.reward),
        )
        for s in reader.steps
      )

    assert rows(copy) == rows(source)


def test_stats_over_a_multi_process_direct_runner(root, tmp_path):
  path, expected = root
  result = pipelines.compute_stats(
    path,
    str(tmp_path / 'stats.json'),
    options=pipelines.make_options(
      ['--runner=DirectRunner', '--direct_running_mode=multi_processing', '--direct_num_workers=2']
    ),
  )
  assert json.loads((tmp_path / 'stats.json').read_text()) == result
  # Independently: from the replayed observations and Catch's rules.
  episodes = [e for name in expected for e in expected[name]]
  observations = np.concatenate([np.stack(e) for e in episodes])
  assert result['observation']['count'] == observations.size
  assert result['observation']['mean'] == pytest.approx(observations.mean())
  assert result['observation']['std'] == pytest.approx(observations.std())
  assert (result['observation']['min'], result['observation']['max']) == (0.0, 1.0)
  lengths = np.array([len(e) for e in episodes])
  assert result['episode_length']['count'] == len(episodes)
  assert result['episode_length']['mean'] == pytest.approx(lengths.mean())
  assert (result['episode_length']['min'], result['episode_length']['max']) == (5, 10)
  # A Catch reward is +-1 on the LAST step only; unfinished episodes have none.
  assert result['reward']['count'] == lengths.sum() - len(episodes)
  assert set(result['episode_return']) >= {'mean', 'std', 'min', 'max', 'count'}
  assert result['episode_return']['min'] >= -1 and result['episode_return']['max'] <= 1
  with envlogger.Reader(path) as reader:
    returns = [sum(s.timestep.reward or 0 for s in e) for e in reader.episodes]
  assert result['episode_return']['mean'] == pytest.approx(np.mean(returns))


def test_steps_of_arrays_restore_nesting_and_first_step_nones():
  columns = {
    'step_type': np.array([0, 1]),
    'reward': np.array([0.0, 2.0]),
    'discount': np.array([0.0, 1.0]),
    'action': np.array([0, 3]),
    'observation/a/x': np.array([1, 2]),
    'observation/b': np.array([5, 6]),
  }
  steps = write.steps_of({'steps': columns})
  assert steps[0].action is None and steps[0].timestep.reward is None
  assert steps[1].action == 3 and steps[1].timestep.reward == 2.0
  assert steps[1].timestep.observation == {'a': {'x': 2}, 'b': 6}


def test_bad_input_names_it(tmp_path):
  with pytest.raises(ValueError, match='max_episodes_per_unit'):
    envlogger_beam.ReadEpisodes(str(tmp_path), max_episodes_per_unit=0)
  (tmp_path / 'file').write_text('x')
  with pytest.raises(NotADirectoryError, match='file'):
    envlogger_beam.WriteDataset(str(tmp_path / 'file'))
  with pytest.raises(FileNotFoundError, match='nothing_here'):
    pipelines.convert_to_riegeli(str(tmp_path / 'nothing_here*'), str(tmp_path / 'out'))


def test_command_line(root, tmp_path, capsys):
  path, expected = root
  out = str(tmp_path / 'converted')
  assert (
    pipelines.main(
      ['convert', path, out, '--to', 'riegeli', '--max_episodes_per_file', '2'] + _IN_MEMORY
    )
    == 0
  )
  with envlogger.Reader(out) as converted:
    num_episodes = len(converted.episodes)
  assert num_episodes == sum(len(e) for e in expected.values())
  assert pipelines.main(['stats', out, '--output', str(tmp_path / 's.json')] + _IN_MEMORY) == 0
  printed = json.loads(capsys.readouterr().out)
  assert printed['episode_length']['count'] == num_episodes
  assert printed == json.loads((tmp_path / 's.json').read_text())
  with pytest.raises(SystemExit):
    pipelines.main(['convert', path, out, '--to', 'parquet'])


def test_episode_summary_counts_values_of_changing_shape():
  import dm_env  # pylint: disable=g-import-not-at-top
  from envlogger import step_data  # pylint: disable=g-import-not-at-top
  from envlogger.beam import stats  # pylint: disable=g-import-not-at-top

  steps = [
    step_data.StepData(dm_env.restart(np.array([1.0, 3.0])), None),
    step_data.StepData(dm_env.transition(2.0, np.array([5.0])), np.int64(4)),
  ]
  summary = stats.episode_summary({'steps': steps})
  assert summary['observation'] == [3, 9.0, 35.0, 1.0, 5.0]
  assert summary['action'] == [1, 4.0, 16.0, 4.0, 4.0]
  assert summary['episode_return'] == [1, 2.0, 4.0, 2.0, 2.0]
  assert summary['episode_length'] == [1, 2.0, 4.0, 2.0, 2.0]
