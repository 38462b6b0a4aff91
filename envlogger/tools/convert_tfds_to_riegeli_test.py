"""convert_tfds_to_riegeli against real TFDS and the Riegeli backend.

Includes the Riegeli -> TFDS -> Riegeli round trip of a recorded dataset.
"""

import time

from absl import flags
from absl.testing import flagsaver
import dm_env
import envlogger
from envlogger import step_data
from envlogger.backends import in_memory_backend
from envlogger.backends import tfds_backend_testlib as testlib
from envlogger.testing import catch_env
from envlogger.testing import compare
import numpy as np
import pytest


@pytest.fixture(name='tfds', scope='module')
def _tfds():
  return testlib.require_tfds()


@pytest.fixture(name='t2r', scope='module')
def _t2r(tfds):
  del tfds
  from envlogger.tools import convert_tfds_to_riegeli  # pylint: disable=g-import-not-at-top

  return convert_tfds_to_riegeli


@pytest.fixture(name='r2t', scope='module')
def _r2t(tfds):
  del tfds
  from envlogger.tools import convert_riegeli_to_tfds  # pylint: disable=g-import-not-at-top

  return convert_riegeli_to_tfds


@pytest.fixture(name='tbw', scope='module')
def _tbw(tfds):
  del tfds
  from envlogger.backends import tfds_backend_writer  # pylint: disable=g-import-not-at-top

  return tfds_backend_writer


def _record_riegeli_catch(data_dir, num_episodes, truncate_last=False):
  episode = {'n': -1}

  def episode_fn(timestep, unused_action, unused_env):
    if timestep.first():
      episode['n'] += 1
    return {'episode_id': np.int64(episode['n'])}

  with envlogger.EnvLogger(
    catch_env.Catch(seed=5),
    data_directory=data_dir,
    metadata={'agent_type': 'random', 'num_episodes': num_episodes},
    step_fn=lambda *unused: {'timestamp': time.time()},
    episode_fn=episode_fn,
  ) as env:
    testlib.run_catch(env, num_episodes, seed=5)
    if truncate_last:  # an episode cut off before its LAST step
      env.reset()
      env.step(np.int64(0))
      env.step(np.int64(2))


def _assert_same_dataset(actual_dir, expected_dir):
  with envlogger.Reader(actual_dir) as actual, envlogger.Reader(expected_dir) as expected:
    assert len(actual.steps) == len(expected.steps)
    assert [len(e) for e in actual.episodes] == [len(e) for e in expected.episodes]
    for e, (got, want) in enumerate(zip(actual.episodes, expected.episodes)):
      for i, (g, w) in enumerate(zip(got, want)):
        compare.assert_strictly_equal(tuple(g), tuple(w), f'episode {e} {i}')
    compare.assert_strictly_equal(
      list(actual.episode_metadata()), list(expected.episode_metadata())
    )
    compare.assert_strictly_equal(actual.metadata(), expected.metadata())
    compare.assert_strictly_equal(actual.observation_spec(), expected.observation_spec())
    compare.assert_strictly_equal(actual.action_spec(), expected.action_spec())


def test_riegeli_tfds_riegeli_round_trip(tfds, r2t, t2r, tmp_path):
  source, tfds_dir, back = (str(tmp_path / d) for d in ('a', 'tfds', 'b'))
  _record_riegeli_catch(source, num_episodes=4, truncate_last=True)
  with envlogger.Reader(source) as reader:
    assert r2t.convert_reader_to_tfds(reader, tfds_dir, 'catch') == 5
  builder = tfds.builder_from_directory(tfds_dir)
  metadata = dict(builder.info.metadata)
  count = t2r.convert_tf_dataset_to_riegeli(
    builder.as_dataset(split='train'),
    back,
    features=builder.info.features,
    metadata=metadata,
    environment_specs=t2r.recorded_environment_specs(metadata),
  )
  assert count == 5
  _assert_same_dataset(back, source)
  with envlogger.Reader(back) as reader:
    # The truncated episode stays truncated (no LAST step).
    assert [s.timestep.step_type for s in reader.episodes[4]] == [
      dm_env.StepType.FIRST,
      dm_env.StepType.MID,
      dm_env.StepType.MID,
    ]


def test_main_cli_round_trip(tfds, r2t, t2r, tmp_path):
  del tfds
  source, tfds_dir, back = (str(tmp_path / d) for d in ('a', 'tfds', 'b'))
  _record_riegeli_catch(source, num_episodes=3)
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver(riegeli_dir=source, tfds_output_dir=tfds_dir):
    r2t.main(['convert_riegeli_to_tfds'])
  with flagsaver.flagsaver(tfds_dir=tfds_dir, output_dir=back, max_episode_steps=3):
    t2r.main(['convert_tfds_to_riegeli'])
  _assert_same_dataset(back, source)


def test_main_cli_requires_input_and_output(t2r, tmp_path):
  from absl import app  # pylint: disable=g-import-not-at-top

  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver(tfds_dir=str(tmp_path), output_dir=None):
    with pytest.raises(app.UsageError, match='--output_dir'):
      t2r.main(['convert_tfds_to_riegeli'])
  with flagsaver.flagsaver(tfds_dir=None, tfds_name=None, output_dir=str(tmp_path)):
    with pytest.raises(app.UsageError, match='--tfds_dir or --tfds_name'):
      t2r.main(['convert_tfds_to_riegeli'])


def _nested_config(tfds):
  return tfds.rlds.rlds_base.DatasetConfig(
    name='nested',
    observation_info={
      'pixels': tfds.features.Tensor(shape=(2, 2), dtype=np.uint8),
      'state': {
        'pos': tfds.features.Tensor(shape=(3,), dtype=np.float32),
        'label': tfds.features.Text(),
      },
    },
    action_info={'move': np.int32, 'say': tfds.features.Text()},
    reward_info=np.float32,
    discount_info=np.float32,
    step_metadata_info={'note': tfds.features.Text()},
    episode_metadata_info={'seed': np.int64},
  )


def _nested_steps(episode, length):
  """StepData of a nested-observation episode (LAST at the end)."""
  out = []
  for t in range(length):
    obs = {
      'pixels': np.full((2, 2), 10 * episode + t, np.uint8),
      'state': {'pos': np.array([t, 0.5, -t], np.float32), 'label': f'e{episode} t{t}'},
    }
    if t == 0:
      timestep = dm_env.restart(obs)
      action = None
    elif t == length - 1:
      timestep = dm_env.termination(np.float32(t), obs)
      action = {'move': np.int32(t), 'say': f'go {t}'}
    else:
      timestep = dm_env.transition(np.float32(t), obs, np.float32(0.5))
      action = {'move': np.int32(t), 'say': f'go {t}'}
    out.append(step_data.StepData(timestep, action, {'note': f'n{t}'}))
  return out


def _write_nested_tfds(tbw, tfds, data_dir, lengths):
  writer = tbw.TFDSBackendWriter(data_dir, _nested_config(tfds))
  episodes = []
  for e, length in enumerate(lengths):
    steps = _nested_steps(e, length)
    for t, step in enumerate(steps):
      writer.record_step(step, is_new_episode=(t == 0))
    writer.set_episode_metadata({'seed': np.int64(100 + e)})
    episodes.append(steps)
  writer.close()
  return episodes


def test_nested_observations_to_riegeli(tfds, tbw, t2r, tmp_path):
  tfds_dir, out = str(tmp_path / 'tfds'), str(tmp_path / 'riegeli')
  written = _write_nested_tfds(tbw, tfds, tfds_dir, lengths=[4, 2, 3])
  builder = tfds.builder_from_directory(tfds_dir)
  assert (
    t2r.convert_tf_dataset_to_riegeli(
      builder.as_dataset(split='train'), out, features=builder.info.features
    )
    == 3
  )
  with envlogger.Reader(out) as reader:
    assert [len(e) for e in reader.episodes] == [4, 2, 3]
    assert [m['seed'] for m in reader.episode_metadata()] == [100, 101, 102]
    spec = reader.observation_spec()
    assert spec['pixels'].shape == (2, 2) and spec['pixels'].dtype == np.uint8
    assert spec['state']['pos'].shape == (3,)
    for e, (got, want) in enumerate(zip(reader.episodes, written)):
      for t, (g, w) in enumerate(zip(got, want)):
        where = f'episode {e} step {t}'
        assert g.timestep.step_type == w.timestep.step_type, where
        np.testing.assert_array_equal(
          g.timestep.observation['pixels'], w.timestep.observation['pixels']
        )
        np.testing.assert_array_equal(
          g.timestep.observation['state']['pos'], w.timestep.observation['state']['pos']
        )
        assert (
          g.timestep.observation['state']['label'] == (w.timestep.observation['state']['label'])
        ), where
        assert g.custom_data == w.custom_data, where
        if t == 0:
          assert g.action is None and g.timestep.reward is None, where
        else:
          assert g.action == w.action, where
          assert g.timestep.reward == w.timestep.reward, where
          assert g.timestep.discount == w.timestep.discount, where


def test_long_episodes_are_read_in_batches_without_loss(tfds, tbw, t2r, tmp_path):
  """Upstream kept only the last batch of an episode longer than the batch."""
  tfds_dir = str(tmp_path / 'tfds')
  written = _write_nested_tfds(tbw, tfds, tfds_dir, lengths=[11, 3])
  builder = tfds.builder_from_directory(tfds_dir)
  holder = []

  def make_backend(**kwargs):
    holder.append(in_memory_backend.InMemoryBackendWriter(**kwargs))
    return holder[-1]

  t2r.convert_tf_dataset_to_riegeli(
    builder.as_dataset(split='train'),
    max_episode_steps=4,
    features=builder.info.features,
    backend=make_backend,
  )
  (memory,) = holder
  assert memory.episode_start_indices == [0, 11]
  assert [s.timestep.observation['state']['label'] for s in memory.steps] == [
    s.timestep.observation['state']['label'] for e in written for s in e
  ]


def _episodes_dataset(tf, episodes):
  """A tf.data dataset of RLDS episodes built directly (no TFDS writer)."""

  def gen():
    for steps in episodes:
      yield {'steps': steps}

  step_signature = {
    'observation': tf.TensorSpec((), tf.float32),
    'action': tf.TensorSpec((), tf.int64),
    'reward': tf.TensorSpec((), tf.float32),
    'discount': tf.TensorSpec((), tf.float32),
    'is_first': tf.TensorSpec((), tf.bool),
    'is_last': tf.TensorSpec((), tf.bool),
    'is_terminal': tf.TensorSpec((), tf.bool),
  }
  base = tf.data.Dataset.from_generator(
    gen,
    output_signature={
      'steps': {k: tf.TensorSpec((None,), v.dtype) for k, v in step_signature.items()}
    },
  )
  return base.map(lambda ep: {'steps': tf.data.Dataset.from_tensor_slices(ep['steps'])})


def _rlds_columns(n, last, terminal, discount=0.9):
  return {
    'observation': np.arange(n, dtype=np.float32),
    'action': np.arange(n, dtype=np.int64) + 10,
    'reward': np.full(n, 0.5, np.float32),
    'discount': np.full(n, discount, np.float32),
    'is_first': np.arange(n) == 0,
    'is_last': (np.arange(n) == n - 1) & last,
    'is_terminal': (np.arange(n) == n - 1) & terminal,
  }


def _convert_to_memory(t2r, dataset):
  holder = []

  def make_backend(**kwargs):
    holder.append(in_memory_backend.InMemoryBackendWriter(**kwargs))
    return holder[-1]

  t2r.convert_tf_dataset_to_riegeli(dataset, backend=make_backend)
  return holder[0]


def test_terminal_and_truncated_last_steps(tfds, t2r):
  del tfds
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  memory = _convert_to_memory(
    t2r,
    _episodes_dataset(
      tf,
      [
        _rlds_columns(3, last=True, terminal=True),
        _rlds_columns(2, last=True, terminal=False),
      ],
    ),
  )
  terminal, truncated = memory.steps[2], memory.steps[4]
  assert terminal.timestep.step_type == dm_env.StepType.LAST
  assert terminal.timestep.discount == 0 and isinstance(terminal.timestep.discount, np.float32)
  assert truncated.timestep.step_type == dm_env.StepType.LAST
  assert truncated.timestep.discount == np.float32(0.9)
  assert [s.action for s in memory.steps] == [None, 10, 11, None, 10]
  assert [s.custom_data for s in memory.steps] == [None] * 5


def test_step_after_is_last_is_an_error(tfds, t2r):
  del tfds
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  columns = _rlds_columns(3, last=False, terminal=False)
  columns['is_last'] = np.array([False, True, False])
  with pytest.raises(ValueError, match='episode 0, step 2: a step follows the step marked'):
    _convert_to_memory(t2r, _episodes_dataset(tf, [columns]))


def test_empty_dataset_raises(tfds, t2r):
  del tfds
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  with pytest.raises(ValueError, match='no episode with steps'):
    _convert_to_memory(t2r, _episodes_dataset(tf, []))
  with pytest.raises(ValueError, match='no episode with steps'):
    _convert_to_memory(t2r, _episodes_dataset(tf, [_rlds_columns(0, last=False, terminal=False)]))


def test_replay_environment(tfds, t2r):
  del tfds
  env = t2r.ReplayEnvironment('obs', 'act', 'rew', 'disc')
  assert (env.observation_spec(), env.action_spec(), env.reward_spec(), env.discount_spec()) == (
    'obs',
    'act',
    'rew',
    'disc',
  )
  with pytest.raises(ValueError, match='no timestep queued'):
    env.reset()
  first = dm_env.restart(1)
  env.queue(first, {'k': 1})
  assert env.reset() is first
  assert env.current_custom_data() == {'k': 1}
  with pytest.raises(ValueError, match='no timestep queued'):
    env.step(0)


def test_max_episode_steps_must_be_positive(tfds, t2r):
  del tfds
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  dataset = _episodes_dataset(tf, [_rlds_columns(2, last=True, terminal=True)])
  with pytest.raises(ValueError, match='max_episode_steps must be positive'):
    t2r.convert_tf_dataset_to_riegeli(
      dataset,
      max_episode_steps=0,
      backend=lambda **kw: in_memory_backend.InMemoryBackendWriter(**kw),
    )
