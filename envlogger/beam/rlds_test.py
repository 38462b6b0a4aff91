"""Beam conversion of a root to RLDS (TFDS's Beam support) and back equals the Reader's values."""

import numpy as np
import pytest

pytest.importorskip('apache_beam')  # The `beam` extra; CI installs it.
tfds = pytest.importorskip('tensorflow_datasets')  # The `tfds` requirements; CI installs them.

import envlogger  # pylint: disable=g-import-not-at-top,g-bad-import-order
from envlogger.beam import pipelines  # pylint: disable=g-import-not-at-top
from envlogger.beam import rlds  # pylint: disable=g-import-not-at-top
from envlogger.testing import actors as actors_lib  # pylint: disable=g-import-not-at-top
from envlogger.tools import convert_tfds_to_riegeli  # pylint: disable=g-import-not-at-top


def test_root_to_rlds_and_back(tmp_path):
  root = str(tmp_path / 'root')
  actors = actors_lib.Actors(root, num_actors=3, killed=(1,), episodes=4, partial=3)
  actors.finish()
  options = pipelines.make_options(['--runner=DirectRunner', '--direct_running_mode=in_memory'])
  data_dir = rlds.write_rlds(root, str(tmp_path / 'tfds'), 'catch', options=options)
  builder = tfds.builder_from_directory(data_dir)
  episodes = list(tfds.as_numpy(builder.as_dataset(split='train')))
  with envlogger.Reader(root) as reader:
    assert len(episodes) == len(reader.episodes) == 2 * 4 + 2 + 1
    # In global order (keys are global episode indices, shuffling disabled).
    for episode, rlds_episode in zip(reader.episodes, episodes):
      rows = list(rlds_episode['steps'])
      steps = {key: np.stack([row[key] for row in rows]) for key in rows[0]}
      np.testing.assert_array_equal(
        steps['observation'], np.stack([s.timestep.observation for s in episode])
      )
      # RLDS step i holds the action and reward that followed observation i.
      np.testing.assert_array_equal(steps['action'][:-1], [s.action for s in episode[1:]])
      np.testing.assert_array_equal(steps['reward'][:-1], [s.timestep.reward for s in episode[1:]])
      assert list(steps['is_first']) == [True] + [False] * (len(episode) - 1)
      assert bool(steps['is_last'][-1]) == episode[-1].timestep.last()
    specs = convert_tfds_to_riegeli.recorded_environment_specs(
      {'environment_specs': reader.metadata()['environment_specs']}
    )
    back = str(tmp_path / 'back')
    convert_tfds_to_riegeli.convert_tf_dataset_to_riegeli(
      builder.as_dataset(split='train'),
      back,
      features=builder.info.features,
      environment_specs=specs,
    )
    with envlogger.Reader(back) as copy:
      assert len(copy.steps) == len(reader.steps)
      for a, b in zip(copy.steps, reader.steps):
        assert a.timestep.step_type == b.timestep.step_type
        np.testing.assert_array_equal(a.timestep.observation, b.timestep.observation)
        assert a.action == b.action
        assert a.timestep.reward == b.timestep.reward
