"""TFDSBackendWriter against the real tensorflow-datasets.

Datasets are written through the writer and read back with
`tfds.builder_from_directory(...).as_dataset(...)`; the expected RLDS steps
are computed from what was logged by `tfds_backend_testlib`, independently of
`rlds_utils.to_rlds_step`.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import dm_env
from envlogger import environment_logger
from envlogger import step_data
from envlogger.backends import tfds_backend_testlib as testlib
from envlogger.testing import catch_env
import numpy as np
import pytest

CATCH_PLACEHOLDERS = {'action': np.int64(0), 'reward': np.float64(0), 'discount': np.float64(0)}


@pytest.fixture(name='tfds', scope='module')
def _tfds():
  return testlib.require_tfds()


@pytest.fixture(name='tbw', scope='module')
def _tbw(tfds):
  del tfds
  from envlogger.backends import tfds_backend_writer  # pylint: disable=g-import-not-at-top

  return tfds_backend_writer


def _read_episodes(tfds, data_dir, split='train'):
  builder = tfds.builder_from_directory(data_dir)
  return [
    {**ep, 'steps': list(ep['steps'])} for ep in tfds.as_numpy(builder.as_dataset(split=split))
  ]


def _assert_catch_dataset(tfds, data_dir, logged, split='train', episode_metadata=True):
  episodes = _read_episodes(tfds, data_dir, split)
  expected = testlib.logged_episodes(logged)
  assert len(episodes) == len(expected)
  for e, (got, want) in enumerate(zip(episodes, expected)):
    want_steps = testlib.expected_rlds_steps(want, CATCH_PLACEHOLDERS)
    assert len(got['steps']) == len(want_steps) == 10
    for i, (g, w) in enumerate(zip(got['steps'], want_steps)):
      testlib.assert_step_equal(g, w, f'episode {e} step {i}')
      assert g['observation'].dtype == np.float32
      assert g['observation'].shape == (10, 5)
      assert g['reward'].dtype == np.float64
      assert g['timestamp'].dtype == np.float32
    if episode_metadata:
      assert sorted(got) == ['episode_id', 'steps']
      assert got['episode_id'] == logged.episode_metadata[e]['episode_id']
    else:
      assert list(got) == ['steps']


def test_catch_dataset_loads_and_matches_what_was_logged(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    data_directory=str(tmp_path),
    ds_config=testlib.catch_dataset_config(tfds),
    max_episodes_per_file=500,
  )
  logged, _ = testlib.record_catch(writer, num_episodes=4, seed=3)
  # The random agent really moved, and episodes differ.
  assert len({int(s.action) for s in logged.steps if s.action is not None}) > 1
  _assert_catch_dataset(tfds, str(tmp_path), logged)
  # Episode ids: 1000.. in order, so the metadata is not shifted by one.
  assert [logged.episode_metadata[i]['episode_id'] for i in range(4)] == [1000, 1001, 1002, 1003]
  info = tfds.builder_from_directory(str(tmp_path)).info
  assert info.name == 'catch_example'
  assert str(info.version) == '0.0.1'
  assert info.splits['train'].shard_lengths == [4]


def test_split_name_version_and_shards(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    data_directory=str(tmp_path),
    ds_config=testlib.catch_dataset_config(tfds, with_episode_metadata=False),
    max_episodes_per_file=2,
    split_name='test',
    version='1.2.3',
  )
  logged, _ = testlib.record_catch(writer, num_episodes=5, episode_metadata=False)
  info = tfds.builder_from_directory(str(tmp_path)).info
  assert list(info.splits) == ['test']
  assert info.splits['test'].shard_lengths == [2, 2, 1]
  assert str(info.version) == '1.2.3'
  assert sorted(f for f in os.listdir(tmp_path) if 'tfrecord' in f) == [
    f'catch_example-test.tfrecord-0000{i}' for i in range(3)
  ]
  _assert_catch_dataset(tfds, str(tmp_path), logged, 'test', episode_metadata=False)


def test_dataset_metadata_stored_as_json(tfds, tbw, tmp_path):
  env = catch_env.Catch()
  writer_kwargs = dict(
    data_directory=str(tmp_path),
    ds_config=testlib.catch_dataset_config(tfds, with_episode_metadata=False),
    store_ds_metadata=True,
  )
  with environment_logger.EnvLogger(
    env,
    backend=tbw.TFDSBackendWriter,
    step_fn=lambda *unused: {'timestamp': np.float32(0)},
    metadata={
      'agent': 'random',
      'sizes': np.array([1, 2], np.int32),
      'rate': np.float32(0.5),
      'pair': (1, b'x'),
    },
    **writer_kwargs,
  ) as logger:
    logger.reset()
  metadata = tfds.builder_from_directory(str(tmp_path)).info.metadata
  assert metadata['agent'] == 'random'
  assert metadata['sizes'] == [1, 2]
  assert metadata['rate'] == 0.5
  assert metadata['pair'] == [1, 'x']
  # EnvLogger's encoded specs (numpy arrays inside) are stored too (#6).
  specs = metadata['environment_specs']
  assert specs['observation_spec']['shape'] == [10, 5]
  assert specs['observation_spec']['dtype'] == 'float32'
  assert specs['action_spec']['num_values'] == 3


def test_dataset_metadata_not_stored_by_default(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    data_directory=str(tmp_path),
    ds_config=testlib.catch_dataset_config(tfds),
    metadata={'agent': 'random'},
  )
  writer.close()
  assert not tfds.builder_from_directory(str(tmp_path)).info.metadata
  assert not os.path.exists(tmp_path / 'metadata.json')


def test_metadata_that_json_cannot_hold_is_named(tfds, tbw, tmp_path):
  with pytest.raises(TypeError, match=r"metadata\['a'\]\[1\]: object"):
    tbw.TFDSBackendWriter(
      data_directory=str(tmp_path),
      ds_config=testlib.catch_dataset_config(tfds),
      metadata={'a': [1, object()]},
      store_ds_metadata=True,
    )


def test_sequence_step_features_load(tfds, tbw, tmp_path):
  """Upstream #14: a fixed-length Sequence step feature broke loading."""
  config = tfds.rlds.rlds_base.DatasetConfig(
    name='seq',
    observation_info={
      'frames': tfds.features.Sequence(tfds.features.Image(shape=(3, 3, 3)), length=3),
      'pos': tfds.features.Sequence(tfds.features.Tensor(shape=(2,), dtype=np.float32), length=2),
    },
    action_info=tfds.features.Sequence(np.int64, length=2),
    reward_info=np.float64,
    discount_info=np.float64,
  )
  writer = tbw.TFDSBackendWriter(str(tmp_path), config)
  rng = np.random.default_rng(0)
  obs = [
    {
      'frames': rng.integers(0, 255, (3, 3, 3, 3), dtype=np.uint8),
      'pos': rng.random((2, 2), dtype=np.float32),
    }
    for _ in range(3)
  ]
  writer.record_step(step_data.StepData(dm_env.restart(obs[0]), None), True)
  writer.record_step(step_data.StepData(dm_env.transition(1.0, obs[1]), np.array([1, 2])), False)
  writer.record_step(step_data.StepData(dm_env.termination(2.0, obs[2]), np.array([3, 4])), False)
  writer.close()
  (episode,) = _read_episodes(tfds, str(tmp_path))
  steps = episode['steps']
  assert len(steps) == 3
  for i in range(3):
    np.testing.assert_array_equal(steps[i]['observation']['frames'], obs[i]['frames'])
    np.testing.assert_array_equal(steps[i]['observation']['pos'], obs[i]['pos'])
  np.testing.assert_array_equal(steps[0]['action'], [1, 2])
  np.testing.assert_array_equal(steps[1]['action'], [3, 4])
  # The final step's placeholder action has the declared length.
  np.testing.assert_array_equal(steps[2]['action'], [0, 0])
  assert [s['reward'] for s in steps] == [1.0, 2.0, 0.0]


def test_text_actions_including_last_step(tfds, tbw, tmp_path):
  """Upstream #15: zeros_like of a str action gave a `<U` array."""
  config = tfds.rlds.rlds_base.DatasetConfig(
    name='text',
    observation_info=np.float64,
    action_info=tfds.features.Text(),
    reward_info=np.float64,
    discount_info=np.float64,
  )
  writer = tbw.TFDSBackendWriter(str(tmp_path), config)
  writer.record_step(step_data.StepData(dm_env.restart(0.0), None), True)
  writer.record_step(step_data.StepData(dm_env.transition(0.0, 1.0), 'go left'), False)
  writer.record_step(step_data.StepData(dm_env.truncation(0.0, 2.0), 'stäy'), False)
  writer.close()
  (episode,) = _read_episodes(tfds, str(tmp_path))
  assert [s['action'] for s in episode['steps']] == [b'go left', 'stäy'.encode(), b'']
  # A truncated LAST step (discount 1) is last but not terminal.
  assert [bool(s['is_last']) for s in episode['steps']] == [False, False, True]
  assert not episode['steps'][2]['is_terminal']


def test_episode_written_when_finished_not_at_next_reset(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds, with_episode_metadata=False)
  )
  logger = environment_logger.EnvLogger(
    catch_env.Catch(), backend=writer, step_fn=lambda *unused: {'timestamp': np.float32(0)}
  )
  timestep = logger.reset()
  while not timestep.last():
    assert writer.num_episodes_written == 0
    timestep = logger.step(1)
  assert writer.num_episodes_written == 1
  info = tfds.builder_from_directory(str(tmp_path)).info
  assert info.splits['train'].num_examples == 0  # shard still open
  writer.close()


def test_episode_with_metadata_written_when_its_metadata_arrives(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(str(tmp_path), testlib.catch_dataset_config(tfds))
  logged, logger = testlib.record_catch(writer, num_episodes=2, close=False)
  # EnvLogger sets the metadata right after the LAST step: both written.
  assert writer.num_episodes_written == 2
  logger.close()
  _assert_catch_dataset(tfds, str(tmp_path), logged)


def test_unfinished_episode_written_on_close(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds, with_episode_metadata=False)
  )
  logger = environment_logger.EnvLogger(
    catch_env.Catch(), backend=writer, step_fn=lambda *unused: {'timestamp': np.float32(0)}
  )
  logger.reset()
  logger.step(0)
  logger.step(2)
  logger.close()
  (episode,) = _read_episodes(tfds, str(tmp_path))
  assert len(episode['steps']) == 3
  assert [bool(s['is_last']) for s in episode['steps']] == [False] * 3
  assert [int(s['action']) for s in episode['steps']] == [0, 2, 0]


def test_encoding_error_names_episode_step_and_key(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds, with_episode_metadata=False)
  )
  good = np.zeros((10, 5), np.float32)
  custom = {'timestamp': np.float32(0)}
  writer.record_step(step_data.StepData(dm_env.restart(good), None, custom), True)
  # The episode is written (and fails) as soon as its LAST step arrives.
  with pytest.raises(ValueError, match=r"episode 0 .*step 1, 'observation'.*Shape"):
    writer.record_step(
      step_data.StepData(dm_env.termination(1.0, np.zeros((3,), np.float32)), 1, custom), False
    )
  assert writer.num_episodes_written == 0
  writer.close()


def test_step_metadata_keys_must_be_declared(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds, with_episode_metadata=False)
  )
  obs = np.zeros((10, 5), np.float32)
  custom = {'timestamp': np.float32(0), 'extra': 1}
  writer.record_step(step_data.StepData(dm_env.restart(obs), None, custom), True)
  with pytest.raises(ValueError, match=r"step 0: keys \['extra'\]"):
    writer.record_step(step_data.StepData(dm_env.termination(1.0, obs), 1, custom), False)


def test_episode_metadata_errors(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(str(tmp_path), testlib.catch_dataset_config(tfds))
  with pytest.raises(ValueError, match='no episode is being recorded'):
    writer.set_episode_metadata({'episode_id': 1})
  obs = np.zeros((10, 5), np.float32)
  writer.record_step(
    step_data.StepData(dm_env.restart(obs), None, {'timestamp': np.float32(0)}), True
  )
  with pytest.raises(ValueError, match=r"\['episode_id'\], got \['id'\]"):
    writer.set_episode_metadata({'id': 1})
  with pytest.raises(ValueError, match='got int'):
    writer.set_episode_metadata(5)
  with pytest.raises(ValueError, match='episode 0: .*none was set'):
    writer.close()


def test_episode_metadata_after_the_episode_was_written(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(str(tmp_path), testlib.catch_dataset_config(tfds))
  unused_logged, logger = testlib.record_catch(writer, num_episodes=1, close=False)
  with pytest.raises(ValueError, match='episode 0 was already written'):
    writer.set_episode_metadata({'episode_id': 5})
  logger.close()


def test_empty_episode_metadata_without_declared_features(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds, with_episode_metadata=False)
  )
  logger = environment_logger.EnvLogger(
    catch_env.Catch(),
    backend=writer,
    step_fn=lambda *unused: {'timestamp': np.float32(0)},
    episode_fn=lambda *unused: {},
  )
  testlib.run_catch(logger, 2, seed=0)
  logger.close()
  episodes = _read_episodes(tfds, str(tmp_path))
  assert [list(e) for e in episodes] == [['steps'], ['steps']]


def test_close_is_idempotent_and_final(tfds, tbw, tmp_path):
  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds, with_episode_metadata=False)
  )
  writer.close()
  writer.close()
  with pytest.raises(ValueError, match='closed'):
    writer.record_step(
      step_data.StepData(dm_env.restart(np.zeros((10, 5), np.float32)), None), True
    )
  with pytest.raises(ValueError, match='max_episodes_per_file'):
    tbw.TFDSBackendWriter(
      str(tmp_path), testlib.catch_dataset_config(tfds), max_episodes_per_file=0
    )


def test_zeros_for_feature(tfds, tbw):
  zeros = tbw.zeros_for_feature(
    tfds.features.FeaturesDict(
      {
        'text': tfds.features.Text(),
        'img': tfds.features.Image(shape=(2, 3, 1)),
        'label': tfds.features.ClassLabel(num_classes=3),
        'seq': tfds.features.Sequence(np.float32),
        'scalar': np.float64,
      }
    )
  )
  assert zeros['text'] == b''
  assert zeros['img'].shape == (2, 3, 1) and zeros['img'].dtype == np.uint8
  assert zeros['label'] == 0 and zeros['label'].dtype == np.int64
  assert zeros['seq'].shape == (0,) and zeros['seq'].dtype == np.float32
  assert zeros['scalar'] == 0 and zeros['scalar'].dtype == np.float64


_CRASHING_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from envlogger.backends import tfds_backend_testlib as testlib
    from envlogger.backends import tfds_backend_writer
    import tensorflow_datasets as tfds
    writer = tfds_backend_writer.TFDSBackendWriter(
        sys.argv[1], testlib.catch_dataset_config(tfds),
        max_episodes_per_file=int(sys.argv[3]))
    logged, logger = testlib.record_catch(
        writer, num_episodes=int(sys.argv[2]), seed=7, close=False)
    sys.stdout.write('recorded\\n'); sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit, no __del__
""")


def _crash_while_writing(data_dir, num_episodes, max_episodes_per_file):
  repo = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
  env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL='3')
  result = subprocess.run(
    [
      sys.executable,
      '-c',
      _CRASHING_WRITER,
      data_dir,
      str(num_episodes),
      str(max_episodes_per_file),
    ],
    env=env,
    capture_output=True,
    text=True,
    timeout=120,
    check=False,
  )
  assert result.returncode == -signal.SIGKILL, result.stderr
  assert result.stdout == 'recorded\n'


@pytest.mark.parametrize(
  'num_episodes, per_file, listed, recovered',
  [
    (5, 3, [3], [3, 2]),  # a closed shard, then an open one
    (2, 1000, [], [2]),  # only an open shard: TFDS sees no episode at all
  ],
)
def test_unclosed_writer_keeps_finished_episodes(
  tfds, tmp_path, num_episodes, per_file, listed, recovered
):
  from envlogger.backends import rlds_utils  # pylint: disable=g-import-not-at-top

  data_dir = str(tmp_path)
  _crash_while_writing(data_dir, num_episodes, per_file)
  # TFDS lists only the closed shards...
  before = tfds.builder_from_directory(data_dir)
  assert before.info.splits['train'].shard_lengths == listed
  # ... the recovery registers the open one, with its finished episodes.
  rlds_utils.maybe_recover_last_shard(before)
  assert tfds.builder_from_directory(data_dir).info.splits['train'].shard_lengths == recovered
  logged, _ = testlib.record_catch(testlib.TeeBackendWriter([]), num_episodes=num_episodes, seed=7)
  _assert_catch_dataset(tfds, data_dir, logged)


def test_recovery_cuts_a_torn_episode(tfds, tbw, tmp_path):
  from envlogger.backends import rlds_utils  # pylint: disable=g-import-not-at-top

  data_dir = str(tmp_path)
  writer = tbw.TFDSBackendWriter(data_dir, testlib.catch_dataset_config(tfds))
  logged, logger = testlib.record_catch(writer, num_episodes=2, close=False)
  shard = tmp_path / 'catch_example-train.tfrecord-00000'
  complete_size = shard.stat().st_size
  # A crash in the middle of writing a third episode: a partial record.
  with open(shard, 'ab') as f:
    f.write((5000).to_bytes(8, 'little') + b'\x00' * 100)
  rlds_utils.maybe_recover_last_shard(tfds.builder_from_directory(data_dir))
  assert shard.stat().st_size == complete_size
  info = json.loads((tmp_path / 'dataset_info.json').read_text())
  (split,) = info['splits']
  assert split['shardLengths'] == ['2']
  _assert_catch_dataset(tfds, data_dir, logged)
  del logger  # never closed before the recovery


def test_recovery_changes_nothing_for_a_closed_dataset(tfds, tbw, tmp_path):
  from envlogger.backends import rlds_utils  # pylint: disable=g-import-not-at-top

  writer = tbw.TFDSBackendWriter(
    str(tmp_path), testlib.catch_dataset_config(tfds), max_episodes_per_file=2
  )
  testlib.record_catch(writer, num_episodes=3)
  before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
  builder = rlds_utils.maybe_recover_last_shard(tfds.builder_from_directory(str(tmp_path)))
  assert builder.info.splits['train'].shard_lengths == [2, 1]
  assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_skipping_unchanged_metadata_writes_gives_the_same_files(tfds, tbw, tmp_path, monkeypatch):
  """The writer's SequentialWriter only drops rewrites of unchanged files."""

  def record(data_dir):
    writer = tbw.TFDSBackendWriter(
      data_dir,
      testlib.catch_dataset_config(tfds),
      max_episodes_per_file=2,
      metadata={'a': 1},
      store_ds_metadata=True,
    )
    testlib.record_catch(writer, num_episodes=5, seed=2)
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(data_dir).iterdir())}

  writes = []
  original = tfds.core.SequentialWriter._write_splits_metadata  # pylint: disable=protected-access

  def counting(self):
    writes.append(1)
    original(self)

  monkeypatch.setattr(tfds.core.SequentialWriter, '_write_splits_metadata', counting)
  optimized = record(str(tmp_path / 'a'))
  optimized_writes = len(writes)
  # TFDS's own behaviour: rewrite after every episode.
  monkeypatch.setattr(
    tbw._SequentialWriter,
    '_write_splits_metadata',  # pylint: disable=protected-access
    counting,
  )
  writes.clear()
  plain = record(str(tmp_path / 'b'))
  assert optimized == plain
  assert len(plain) == 6  # 3 shards + dataset_info, features, metadata
  # Written at creation and for each of the 3 shards closed, not per episode.
  assert optimized_writes == 4 and len(writes) == 7
